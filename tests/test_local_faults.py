"""Local faults around the desk: symlinks where private files belong, a second desk, crashes.

The desk runs for real here: `tgtriage` in-process through `main`, or as separate processes
(the profile lock, whose holder must be another process) and inside tmux (a crash as a user sees
it in a real terminal).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tgtriage.core.storage.store import Store, StoreError

from tests.cli_harness import ROOT, cli_env, run_tgtriage
from tests.test_tmux_e2e import Terminal
from tgtriage.cli import main

TARGET_TEXT = b"not tgtriage's file\n"


def _target(tmp_path: Path) -> Path:
    """A file of the user's elsewhere (mode 0644) that a planted link points at."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o755)
    os.chmod(elsewhere, 0o755)
    target = elsewhere / "precious.txt"
    target.write_bytes(TARGET_TEXT)
    os.chmod(target, 0o644)
    return target


def _assert_untouched(target: Path) -> None:
    """The link's target keeps its bytes and its mode."""
    assert target.read_bytes() == TARGET_TEXT
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def _one_line(err: str) -> str:
    """The single line a refusal printed (no traceback)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_symlink_at_the_log_is_refused_and_its_target_untouched(
    data_dirs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, data = data_dirs
    target = _target(tmp_path)
    data.mkdir(mode=0o700)
    (data / "tgtriage.log").symlink_to(target)

    assert main(["demo", "--headless-seconds", "0.1"]) == 2

    line = _one_line(capsys.readouterr().err)
    assert str(data / "tgtriage.log") in line and "symbolic link" in line
    _assert_untouched(target)


def test_symlinked_data_dir_is_refused_and_its_target_keeps_its_mode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "real-data"
    real.mkdir()
    os.chmod(real, 0o755)
    link = tmp_path / "data"
    link.symlink_to(real)
    monkeypatch.setenv("TGTRIAGE_DATA_DIR", str(link))
    monkeypatch.setenv("TGTRIAGE_CONFIG_DIR", str(tmp_path / "config"))

    assert main(["demo", "--headless-seconds", "0.1"]) == 2

    line = _one_line(capsys.readouterr().err)
    assert str(link) in line and "symbolic link" in line
    assert stat.S_IMODE(real.stat().st_mode) == 0o755
    assert list(real.iterdir()) == []


@pytest.mark.parametrize("suffix", ["", "-wal", "-shm"])
async def test_symlink_at_the_store_or_its_side_files_is_refused(
    tmp_path: Path, suffix: str
) -> None:
    target = _target(tmp_path)
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    store = data / "telegram.sqlite3"
    Path(f"{store}{suffix}").symlink_to(target)

    with pytest.raises(StoreError) as info:
        await Store.open(store)

    message = str(info.value)
    assert f"{store}{suffix}" in message and "symbolic link" in message and "\n" not in message
    _assert_untouched(target)


def test_report_on_a_symlinked_store_is_one_line_exit_2(
    data_dirs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, data = data_dirs
    target = _target(tmp_path)
    data.mkdir(mode=0o700)
    (data / "telegram.sqlite3").symlink_to(target)

    assert main(["report"]) == 2

    assert "symbolic link" in _one_line(capsys.readouterr().err)
    _assert_untouched(target)


def test_data_dir_that_cannot_be_created_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    monkeypatch.setenv("TGTRIAGE_DATA_DIR", str(blocker / "data"))
    monkeypatch.setenv("TGTRIAGE_CONFIG_DIR", str(tmp_path / "config"))

    assert main(["demo", "--headless-seconds", "0.1"]) == 2

    line = _one_line(capsys.readouterr().err)
    assert str(blocker) in line and "cannot create" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_data_dir_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parent = tmp_path / "ro"
    parent.mkdir()
    os.chmod(parent, 0o500)
    monkeypatch.setenv("TGTRIAGE_DATA_DIR", str(parent / "data"))
    monkeypatch.setenv("TGTRIAGE_CONFIG_DIR", str(tmp_path / "config"))
    try:
        assert main(["demo", "--headless-seconds", "0.1"]) == 2
    finally:
        os.chmod(parent, 0o700)
    assert "cannot create" in _one_line(capsys.readouterr().err)


# --- one desk per profile -------------------------------------------------------------------


def test_second_desk_on_a_profile_stops_naming_the_first_and_touches_nothing(
    tmp_path: Path,
) -> None:
    env = cli_env(tmp_path)
    data = tmp_path / "data"
    first = subprocess.Popen(
        [sys.executable, "-m", "tgtriage", "demo", "--seed", "3", "--headless-seconds", "6"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        store = data / "demo.sqlite3"
        deadline = time.monotonic() + 60
        while not (store.exists() and (data / "demo.lock").read_text().strip()):
            assert time.monotonic() < deadline, "the first desk never opened its store"
            assert first.poll() is None, first.communicate()
            time.sleep(0.05)
        inode = store.stat().st_ino

        second = run_tgtriage("demo", "--seed", "3", "--headless-seconds", "0.1", env=env)
        assert second.returncode == 2
        line = _one_line(second.stderr)
        assert f"PID {first.pid}" in line and "demo profile" in line
        assert store.stat().st_ino == inode  # the first desk's store was not deleted under it

        report = run_tgtriage("report", "--profile", "demo", "--format", "csv", env=env)
        assert report.returncode == 0, report.stderr
        assert report.stdout.startswith("chat_id,chat,")
        assert first.poll() is None, "the report ran beside a desk that was still running"

        out, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, err
    assert "tgtriage demo: 17 chats" in out
    assert store.stat().st_ino == inode

    third = run_tgtriage("demo", "--seed", "3", "--headless-seconds", "0.1", env=env)
    assert third.returncode == 0, third.stderr  # the lock went with the first desk


# --- crashes --------------------------------------------------------------------------------

_CRASHING_DESK = """
import sys
from tgtriage.tui.app import DeskApp
from tgtriage.cli import main

def next_waiting(self):
    reply_text = "SECRET-REPLY-TEXT"
    random_id = 8675309123
    raise RuntimeError("the next chat could not be chosen")

DeskApp.action_next_waiting = next_waiting
sys.exit(main(["demo", "--seed", "3"]))
"""


@pytest.mark.tmux
def test_crash_in_the_desk_goes_to_the_log_and_the_screen_shows_one_line(
    tmp_path: Path,
) -> None:
    script = tmp_path / "crashing_desk.py"
    script.write_text(_CRASHING_DESK)
    env = {k: v for k, v in cli_env(tmp_path).items() if not k.startswith(("TMUX", "COLUMNS"))}
    env.update(LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="xterm-256color")
    log = tmp_path / "data" / "tgtriage.log"
    term = Terminal(f"cd {ROOT} && {sys.executable} {script}; echo EXITED:$?; sleep 30", env, log)
    try:
        term.wait_for(lambda s: "Acme · Support" in s, "the desk")
        term.keys("C-n")
        screen = term.wait_for(lambda s: "EXITED:" in s, "the desk to exit")
    finally:
        term.close()
    assert "EXITED:1" in screen
    text = " ".join(screen.split())
    assert "unexpected error (RuntimeError)" in text and f"details are in {log}" in text
    assert "SECRET-REPLY-TEXT" not in screen and "8675309123" not in screen
    assert "Traceback" not in screen
    written = log.read_text()
    assert "Traceback" in written and "the next chat could not be chosen" in written
    assert "in next_waiting" in written


def test_crash_outside_the_desk_is_logged_with_secrets_scrubbed(
    data_dirs: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config, data = data_dirs
    config.mkdir()
    secret = "0123456789abcdef0123456789abcdef"
    (config / "config.toml").write_text(f'[telegram]\napi_id = 12345\napi_hash = "{secret}"\n')
    from tgtriage.cli import telegram as telegram_cli

    def broken(*_args: object) -> int:
        raise ValueError(f"could not talk to Telegram with {secret}")

    monkeypatch.setattr(telegram_cli, "run_telegram", broken)

    assert main([]) == 1

    err = capsys.readouterr().err
    line = _one_line(err)
    assert "unexpected error (ValueError)" in line and str(data / "tgtriage.log") in line
    assert secret not in err
    written = (data / "tgtriage.log").read_text()
    assert "Traceback" in written and "could not talk to Telegram with [redacted]" in written
    assert secret not in written


def test_a_template_file_over_the_limit_is_refused_in_one_line_and_the_others_load(
    tmp_path: Path,
) -> None:
    from tgtriage.core.templates.library import load_library
    from tgtriage.core.templates.toml_file import MAX_FILE_BYTES

    fine = (
        '[[template]]\nkey = "thanks"\ntitle = "Thanks"\ncategory = "Closing"\nbody = "Thanks!"\n'
    )
    (tmp_path / "a.toml").write_text(fine, encoding="utf-8")
    huge = tmp_path / "huge.toml"
    padding = "# " + "x" * 98 + "\n"
    huge.write_text(fine.replace("thanks", "big") + padding * (MAX_FILE_BYTES // 100 + 1))
    library = load_library([tmp_path])
    assert [t.key for t in library.templates] == ["thanks"]
    (error,) = library.errors
    assert error.startswith(f"{huge}:1: larger than 1 MB, not read;")
    assert "split it" in error
