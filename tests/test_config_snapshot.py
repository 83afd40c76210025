"""The config snapshot: an unchanged config starts without pydantic-settings; any change validates again."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tgtriage.core.system.config import ConfigError, load_config

from tests.cli_harness import ROOT, cli_env

# The desk's start path up to its config and keymap, as `tgtriage` runs it (tgtriage/cli).
START = """
import json, sys
from tgtriage import cli
paths = cli.Paths.default()
try:
    config = cli._load_config(None, paths)
    cli._keymap(config, paths.config_file)
except cli.ConfigError as exc:
    print(json.dumps({"error": str(exc)}))
    raise SystemExit(2)
print(json.dumps({
    "settings_imported": any(m.split(".")[0] == "pydantic_settings" for m in sys.modules),
    "due": config.levels.due,
    "ids": config.staff.ids,
    "paths": [str(p) for p in config.templates.paths],
    "targets": {k: list(v) for k, v in config.targets.items()},
    "tuple": all(isinstance(v, tuple) for v in config.targets.values()),
    "next_waiting": config.keys.get("next_waiting"),
}))
"""

GOOD = """[levels]
due = 3
[staff]
ids = [42, "@bob"]
[templates]
paths = ["/srv/templates"]
[targets]
"Initech" = [2, 5, 15]
[keys]
next_waiting = "ctrl+n,f2"
"""


def start(home: Path, **env: str) -> dict[str, object]:
    """Run the start path in a process of its own; what it loaded (or its error)."""
    result = subprocess.run(
        [sys.executable, "-c", START],
        cwd=ROOT,
        env=cli_env(home) | env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout, result.stderr
    loaded: dict[str, object] = json.loads(result.stdout)
    return loaded


def write_config(home: Path, text: str) -> Path:
    """The config file under `home`'s config dir, with `text`."""
    path = home / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_an_unchanged_config_starts_from_its_snapshot_without_pydantic_settings(
    tmp_path: Path,
) -> None:
    write_config(tmp_path, GOOD)
    (tmp_path / "data").mkdir()
    first = start(tmp_path)
    assert first["settings_imported"] is True  # validated, then kept
    assert (tmp_path / "data" / "config-snapshot.json").exists()
    second = start(tmp_path)
    assert second["settings_imported"] is False
    assert second == first | {"settings_imported": False}
    assert second["due"] == 3.0 and second["ids"] == [42, "@bob"]
    assert second["paths"] == ["/srv/templates"] and second["tuple"] is True
    assert second["next_waiting"] == "ctrl+n,f2"


def test_an_edited_config_is_validated_again_and_a_bad_edit_is_one_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, GOOD)
    (tmp_path / "data").mkdir()
    start(tmp_path)
    write_config(tmp_path, GOOD.replace("due = 3", "due = 4"))
    edited = start(tmp_path)
    assert edited["settings_imported"] is True and edited["due"] == 4.0
    write_config(tmp_path, GOOD.replace("due = 3", 'due = "soon"'))
    error = str(start(tmp_path)["error"])
    assert "\n" not in error
    assert error.startswith(f"{path}:2: levels.due")
    # The bad file never became the snapshot: it fails again, and the good one comes back.
    assert "levels.due" in str(start(tmp_path)["error"])
    write_config(tmp_path, GOOD)
    assert start(tmp_path)["due"] == 3.0


def test_a_bad_key_binding_fails_even_from_a_snapshot(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[keys]\nnext_waiting = 'ctrl+n'\n")
    (tmp_path / "data").mkdir()
    start(tmp_path)
    write_config(tmp_path, "[keys]\nno_such_action = 'ctrl+n'\n")
    error = str(start(tmp_path)["error"])
    assert error.startswith(f"{path}:2: keys.no_such_action")


def test_a_changed_environment_is_validated_again(tmp_path: Path) -> None:
    write_config(tmp_path, GOOD)
    (tmp_path / "data").mkdir()
    start(tmp_path)
    changed = start(tmp_path, TGTRIAGE_LEVELS__DUE="2")
    assert changed["settings_imported"] is True and changed["due"] == 2.0
    error = str(start(tmp_path, TGTRIAGE_LEVELS__DUE="soon")["error"])
    assert "levels.due" in error and "\n" not in error
    assert start(tmp_path)["due"] == 3.0


def test_a_snapshot_made_for_other_contents_is_ignored(data_dirs: tuple[Path, Path]) -> None:
    config_dir, data_dir = data_dirs
    data_dir.mkdir()
    path = config_dir / "config.toml"
    config_dir.mkdir()
    path.write_text("[levels]\ndue = 3\n", encoding="utf-8")
    snapshot = data_dir / "config-snapshot.json"
    load_config(path, snapshot=snapshot)
    kept = json.loads(snapshot.read_text(encoding="utf-8"))
    kept["config"]["levels"]["due"] = 1.0  # a snapshot edited by hand, or from another file
    kept["key"] = "0" * 64
    snapshot.write_text(json.dumps(kept), encoding="utf-8")
    assert load_config(path, snapshot=snapshot).levels.due == 3.0
    snapshot.write_text("{not json", encoding="utf-8")
    assert load_config(path, snapshot=snapshot).levels.due == 3.0
    path.write_text("[levels]\ndue = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config\.toml:2: levels\.due"):
        load_config(path, snapshot=snapshot)


def test_no_snapshot_is_written_before_the_data_dir_exists(data_dirs: tuple[Path, Path]) -> None:
    _, data_dir = data_dirs
    load_config(None, snapshot=data_dir / "config-snapshot.json")
    assert not data_dir.exists()
