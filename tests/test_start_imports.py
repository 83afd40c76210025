"""What the desk's start imports before its first frame: never Telethon, the QR code library or
(with the config unchanged since it was last validated) pydantic-settings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.cli_harness import ROOT, cli_env

# Everything `tgtriage` imports on its way to the desk's first frame (tgtriage/cli).
START = """
import json, sys
from tgtriage import cli
paths = cli.Paths.default()
config = cli._load_config(None, paths)
cli._keymap(config, paths.config_file)
cli.desk_modules()
from tgtriage.cli import telegram
from tgtriage.core.sources import demo
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def started_with(home: Path) -> set[str]:
    """The top-level packages imported by the start path, in a process of its own."""
    result = subprocess.run(
        [sys.executable, "-c", START],
        cwd=ROOT,
        env=cli_env(home),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout))


def test_the_start_path_leaves_the_heavy_libraries_for_later(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.toml").write_text("[levels]\ndue = 4\n", encoding="utf-8")
    (tmp_path / "data").mkdir()
    first = started_with(tmp_path)
    assert "pydantic_settings" in first  # the config was validated (then kept)
    again = started_with(tmp_path)
    assert {"textual", "pydantic", "aiosqlite"} <= again
    assert not again & {"pydantic_settings", "dotenv", "telethon", "segno"}
