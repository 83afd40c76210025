"""Configuration (DESIGN §7): defaults, one-line errors naming file:line and key, env overrides, CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from tgtriage.core.system.config import Config, ConfigError, load_config

from tests.cli_harness import cli_env, run_tgtriage


def write(path: Path, text: str) -> Path:
    """Write a config file and return its path."""
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    """The ConfigError message loading `path` gives (the test fails if it loads)."""
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message, message
    return message


def test_defaults_load_with_no_file(data_dirs: tuple[Path, Path], tmp_path: Path) -> None:
    for path in (None, tmp_path / "nowhere" / "config.toml"):
        config = load_config(path)
        assert config.levels.seconds() == (300, 900, 3600)
        assert config.staff.ids == []
        assert config.business_hours.enabled is False
        assert config.telegram.mark_read == "on_open"
        assert config.postpone.tomorrow_at == "09:00"
    assert not (tmp_path / "nowhere").exists()


def test_an_empty_file_is_all_defaults(data_dirs: tuple[Path, Path], tmp_path: Path) -> None:
    assert load_config(write(tmp_path / "c.toml", "")) == Config()


def test_values_from_the_file(data_dirs: tuple[Path, Path], tmp_path: Path) -> None:
    path = write(
        tmp_path / "c.toml",
        '[levels]\ndue = 2\nlate = 10\nbreached = 30\n\n[staff]\nids = [42, "@mate"]\n'
        '[keys]\nnext_waiting = "ctrl+n,f2"\n',
    )
    config = load_config(path)
    assert config.levels.seconds() == (120, 600, 1800)
    assert config.staff.ids == [42, "@mate"]
    assert config.keys == {"next_waiting": "ctrl+n,f2"}


def test_bad_value_names_file_line_and_key(data_dirs: tuple[Path, Path], tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", '# my desk\n[levels]\ndue = 5\nlate = "soon"\n')
    message = error_of(path)
    assert message.startswith(f"{path}:4: levels.late: ")
    assert "number" in message


@pytest.mark.parametrize(
    ("text", "line", "key", "hint"),
    [
        ("[levels]\ndue = -1\n", 2, "levels.due", "greater than 0"),
        (
            '[business_hours]\nenabled = true\ntimezone = "Mars/Base"\n',
            3,
            "business_hours.timezone",
            "Europe/Berlin",
        ),
        ('[business_hours]\nstart = "9am"\n', 2, "business_hours.start", "09:00"),
        ('[telegram]\nmark_read = "sometimes"\n', 2, "telegram.mark_read", "on_open"),
        ('[postpone]\ntomorrow_at = "25:00"\n', 2, "postpone.tomorrow_at", "09:00"),
    ],
)
def test_bad_values_say_what_to_write_instead(
    data_dirs: tuple[Path, Path], tmp_path: Path, text: str, line: int, key: str, hint: str
) -> None:
    path = write(tmp_path / "c.toml", text)
    message = error_of(path)
    assert message.startswith(f"{path}:{line}: {key}: "), message
    assert hint in message


def test_unknown_key_is_an_error_not_ignored(data_dirs: tuple[Path, Path], tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[levels]\ndue = 5\ndeu = 7\n")
    message = error_of(path)
    assert message.startswith(f"{path}:3: levels.deu: unknown key")
    assert "spelling" in message
    top = error_of(write(tmp_path / "t.toml", 'colour = "red"\n'))
    assert "colour: unknown key" in top


def test_bad_toml_is_one_line_naming_the_file_and_line(
    data_dirs: tuple[Path, Path], tmp_path: Path
) -> None:
    path = write(tmp_path / "c.toml", "[levels]\ndue = 5 5\n")
    message = error_of(path)
    assert message.startswith(f"{path}: not valid TOML")
    assert "line 2" in message


def test_unreadable_file_is_a_config_error(data_dirs: tuple[Path, Path], tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(b"agent_name = '\xff\xfe'\n")
    assert "cannot read" in error_of(path)


def test_environment_overrides_the_file(
    data_dirs: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "c.toml", "[levels]\ndue = 10\nlate = 20\n")
    monkeypatch.setenv("TGTRIAGE_LEVELS__DUE", "3")
    config = load_config(path)
    assert config.levels.due == 3
    assert config.levels.late == 20  # the rest of the section still comes from the file


def test_flags_override_environment_and_file(
    data_dirs: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "c.toml", 'agent_name = "File"\n')
    monkeypatch.setenv("TGTRIAGE_AGENT_NAME", "Env")
    assert load_config(path).agent_name == "Env"
    assert load_config(path, {"agent_name": "Flag"}).agent_name == "Flag"


def test_bad_environment_value_names_the_key(
    data_dirs: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TGTRIAGE_LEVELS__DUE", "soon")
    with pytest.raises(ConfigError, match=r"levels\.due"):
        load_config(tmp_path / "missing.toml")


def test_cli_with_a_bad_config_exits_2_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.toml", '[levels]\ndue = 5\nlate = "soon"\n')
    config_dir, data_dir = tmp_path / "config", tmp_path / "data"
    result = run_tgtriage("--config", str(bad), "demo", env=cli_env(tmp_path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{bad}:3" in lines[0] and "levels.late" in lines[0]
    assert result.stdout == ""
    assert not data_dir.exists()
    assert not config_dir.exists()


def test_cli_reads_the_config_dirs_file_by_default(tmp_path: Path) -> None:
    config_dir, data_dir = tmp_path / "config", tmp_path / "data"
    config_dir.mkdir()
    write(config_dir / "config.toml", "[levels]\nbreached = 0\n")
    result = run_tgtriage("demo", env=cli_env(tmp_path))
    assert result.returncode == 2
    assert "config.toml:2: levels.breached" in result.stderr
    assert not data_dir.exists()


def test_levels_that_do_not_increase_name_the_line_and_the_fix(
    data_dirs: tuple[Path, Path], tmp_path: Path
) -> None:
    path = write(tmp_path / "c.toml", "[levels]\ndue = 30\nlate = 15\n")
    message = error_of(path)
    assert message.startswith(f"{path}:3: levels.late: "), message
    assert "due = 30" in message and "due = 5, late = 15, breached = 60" in message
    breached = error_of(write(tmp_path / "b.toml", "[levels]\nlate = 20\nbreached = 20\n"))
    assert ":3: levels.breached: " in breached


def test_an_unknown_section_names_its_line_and_the_nearest_section(
    data_dirs: tuple[Path, Path], tmp_path: Path
) -> None:
    path = write(tmp_path / "c.toml", "[levels]\ndue = 5\n\n[bussiness_hours]\nenabled = true\n")
    message = error_of(path)
    assert message.startswith(f"{path}:4: bussiness_hours: unknown section"), message
    assert "did you mean [business_hours]?" in message


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ('next_waiting = "ctrl+nn"', "keys.next_waiting: 'ctrl+nn' is not a key ('nn' is unknown)"),
        (
            'next_waiting = "ctrl+k"',
            "keys.next_waiting: 'ctrl+k' is already the key of 'switcher'; pick another key",
        ),
        ('next_wating = "f2"', "keys.next_wating: unknown action 'next_wating'; did you mean"),
        ('next_waiting = "crtl+n"', "unknown modifier 'crtl'; did you mean ctrl+?"),
    ],
)
def test_a_bad_key_stops_the_desk_with_one_line_naming_file_and_line(
    tmp_path: Path, keys: str, expected: str
) -> None:
    bad = write(tmp_path / "bad.toml", f"[levels]\ndue = 5\n\n[keys]\nhelp = 'f1'\n{keys}\n")
    data_dir = tmp_path / "data"
    result = run_tgtriage("--config", str(bad), "demo", env=cli_env(tmp_path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"tgtriage: {bad}:6: "), lines[0]
    assert expected in lines[0]
    assert not data_dir.exists()


def test_remapped_keys_that_do_not_clash_are_accepted() -> None:
    from tgtriage.core.system.keys import key_problems
    from tgtriage.tui.keymap import action_groups, keymap_from_config

    swapped = {"next_waiting": "ctrl+k", "switcher": "ctrl+n", "login_qr": "f6"}
    assert key_problems({}, action_groups()) == []
    assert key_problems(swapped, action_groups()) == []
    assert keymap_from_config({"help": "f1,question_mark"}) == (
        {"help": "f1,question_mark"},
        [],
    )
