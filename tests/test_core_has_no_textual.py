"""`core` is the product without a screen: no module in it imports Textual (DESIGN §2), and the
cold-start path (inbox, store, triage) stays off Telethon (DESIGN §8)."""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import tgtriage.core

ROOT = Path(__file__).resolve().parents[1]
CORE_MODULES = sorted(
    ["tgtriage.core"]
    + [m.name for m in pkgutil.walk_packages(tgtriage.core.__path__, "tgtriage.core.")]
)
COLD_START = [
    "tgtriage.core.desk.inbox",
    "tgtriage.core.storage.store",
    "tgtriage.core.rules.triage",
]

# Imports the modules in a fresh interpreter; a finder on sys.meta_path notes which tgtriage
# module was being imported when a banned package was first pulled in, so a failure names it.
CHECK = """
import importlib, json, sys, traceback

banned = set(sys.argv[1].split(","))
blame = {}

class Watch:
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in banned and top not in blame:
            frames = [f.filename for f in traceback.extract_stack()]
            blame[top] = [f for f in frames if "/core/" in f or "/tui/" in f][-3:]
        return None

sys.meta_path.insert(0, Watch())
failed = {}
for module in sys.argv[2:]:
    try:
        importlib.import_module(module)
    except Exception as exc:
        failed[module] = f"{type(exc).__name__}: {exc}"
loaded = sorted({m.split(".")[0] for m in sys.modules} & banned)
print(json.dumps({"loaded": loaded, "blame": blame, "failed": failed}))
"""


def import_in_fresh_python(modules: list[str], banned: set[str]) -> dict[str, object]:
    """Import `modules` in a new interpreter; report banned packages loaded and by whom."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TGTRIAGE_")}
    result = subprocess.run(
        [sys.executable, "-c", CHECK, ",".join(sorted(banned)), *modules],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def test_core_modules_were_found() -> None:
    assert {
        "tgtriage.core.desk.inbox",
        "tgtriage.core.rules.triage",
        "tgtriage.core.rules.sanitize",
    } <= set(CORE_MODULES)
    assert any(m.startswith("tgtriage.core.sources.") for m in CORE_MODULES)


def test_no_core_module_imports_textual() -> None:
    report = import_in_fresh_python(CORE_MODULES, {"textual"})
    assert report["failed"] == {}, f"core modules that do not import: {report['failed']}"
    assert report["loaded"] == [], f"textual imported via {report['blame']}"


def test_the_cold_start_path_does_not_import_telethon() -> None:
    report = import_in_fresh_python(COLD_START, {"telethon", "textual"})
    assert report["failed"] == {}
    assert report["loaded"] == [], f"imported via {report['blame']}"


def test_the_check_would_catch_an_import_and_name_the_module() -> None:
    """The watcher really sees a banned import (so the tests above can fail)."""
    report = import_in_fresh_python(["tgtriage.core.sources.telegram.convert"], {"telethon"})
    assert report["loaded"] == ["telethon"]
    blame = report["blame"]
    assert isinstance(blame, dict)
    assert any("telegram/convert" in frame for frame in blame["telethon"])
