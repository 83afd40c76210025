"""`tgtriage login` / `logout` / `tgtriage` as commands, and a full login that leaks nothing.

The secrets test drives the real login screen over a real `telethon.TelegramClient` whose only
fake part is the network (tests/scripted_server.ScriptedServer), with every logger at DEBUG into
the desk's own log file, and then searches the log, everything printed and the final screen
for the phone number, the code, the password and the api_hash.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from tgtriage.core.sources.telegram.client import session_path
from tgtriage.core.sources.telegram.login import TelegramLogin
from tgtriage.core.system.config import Config
from tgtriage.core.system.paths import Paths
from tgtriage.tui.login import Connecting, LoginApp

from tests.fake_tl import user
from tests.scripted_server import ScriptedServer, scripted_telethon
from tgtriage.cli import main
from tgtriage.cli.telegram import report_login

PHONE = "+44 7700 900123"
CODE = "31337"
PASSWORD = "tr0ub4dor&3 horse"
API_HASH = "fedcba9876543210fedcba9876543210"


def run(argv: list[str]) -> int:
    """The command as the shell runs it."""
    return main(argv)


# --------------------------------------------------------------------------- the commands


def test_login_without_credentials_says_in_one_line_how_to_get_them(
    data_dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir, data_dir = data_dirs
    for command in (["login"], []):
        assert run(command) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1
        assert "my.telegram.org" in err and "TGTRIAGE_API_ID" in err
        assert str(config_dir / "config.toml") in err
    assert not session_path(Paths(config_dir, data_dir)).exists(), "nothing was created"


def test_a_non_numeric_api_id_is_named(
    data_dirs: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TGTRIAGE_API_ID", "abc")
    monkeypatch.setenv("TGTRIAGE_API_HASH", API_HASH)
    assert run(["login"]) == 2
    err = capsys.readouterr().err
    assert "TGTRIAGE_API_ID must be a number" in err and API_HASH not in err


def test_logout_without_a_session(
    data_dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["logout"]) == 0
    assert capsys.readouterr().out == "Not logged in: there is no saved Telegram session.\n"


def test_logout_without_credentials_still_deletes_the_session(
    data_dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir, data_dir = data_dirs
    session = session_path(Paths(config_dir, data_dir))
    session.parent.mkdir(parents=True)
    session.write_bytes(b"SQLite format 3\x00")
    (data_dir / "telegram.sqlite3").write_bytes(b"")
    assert run(["logout"]) == 0
    out = capsys.readouterr().out
    assert not session.exists()
    assert "deleted" in out and "Settings → Devices" in out
    assert f"cache of your chats is kept in {data_dir / 'telegram.sqlite3'}" in out


def test_help_lists_the_account_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run(["--help"])
    out = capsys.readouterr().out
    assert "log in to your Telegram account" in out and "not available" not in out


# --------------------------------------------------------------------------- no secrets, anywhere


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[Path]:
    """Every logger (Telethon's included) at DEBUG into a log file, like the desk's own."""
    path = tmp_path / "tgtriage.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    telethon_logger = logging.getLogger("telethon")
    old = (root.level, telethon_logger.level)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    telethon_logger.setLevel(logging.DEBUG)
    yield path
    root.removeHandler(handler)
    handler.close()
    root.setLevel(old[0])
    telethon_logger.setLevel(old[1])


async def keys(pilot: Pilot[object], text: str) -> None:
    """Type like a terminal, then Enter."""
    for char in text:
        key = char if char.isalnum() else _character_to_key(char)
        pilot.app.post_message(events.Key(key, char))
    await pilot.pause()
    await pilot.press("enter")


async def until_text(pilot: Pilot[object], app: LoginApp, words: str) -> str:
    """Wait until `words` are on screen; return the screen."""
    for _ in range(600):
        screen = "\n".join(s.text for s in app.screen._compositor.render_strips())
        if words in screen:
            return screen
        await pilot.pause()
        await asyncio.sleep(0.005)
    raise AssertionError(f"never showed {words!r}")


async def test_a_full_login_on_screen_logs_and_prints_no_secret(
    tmp_path: Path, debug_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = Paths(config_dir=tmp_path / "config", data_dir=tmp_path / "data")
    paths.data_dir.mkdir(mode=0o700)
    server = ScriptedServer(user(1000, "Erin", "Engineer", is_self=True), code=CODE, hint="dog")
    client = scripted_telethon(str(paths.session_file), 12345, API_HASH, server)
    config = Config(telegram={"api_id": 12345, "api_hash": API_HASH})
    app = LoginApp(TelegramLogin(config, paths, lambda: client))
    screens: list[str] = []
    async with app.run_test(size=(100, 32)) as pilot:
        for _ in range(400):
            if app.login_screen and not isinstance(app.login_screen.state, Connecting):
                break
            await pilot.pause()
        await keys(pilot, PHONE)
        screens.append(await until_text(pilot, app, "Login code"))
        await keys(pilot, "00000")
        screens.append(await until_text(pilot, app, "not right"))
        await keys(pilot, CODE)
        screens.append(await until_text(pilot, app, "Two-step verification"))
        await keys(pilot, "wrong " + PASSWORD)
        screens.append(await until_text(pilot, app, "Wrong password"))
        await keys(pilot, PASSWORD)
        for _ in range(400):
            if app.return_value is not None:
                break
            await pilot.pause()
            await asyncio.sleep(0.005)
        svg = app.export_screenshot()
    assert report_login(app) == 0
    assert "CheckPasswordRequest" in server.seen
    assert oct(session_path(paths).stat().st_mode & 0o777) == "0o600"
    assert oct(paths.data_dir.stat().st_mode & 0o777) == "0o700"
    out, err = capsys.readouterr()
    assert out == "Logged in as Erin Engineer. Run `tgtriage` to open the desk.\n"
    log_text = debug_log.read_text(encoding="utf-8")
    assert "login state: NeedPassword" in log_text, "the login did write its log"
    session_bytes = session_path(paths).read_bytes()
    for where, blob in [("log", log_text), ("stdout/err", out + err), ("svg", svg)] + [
        (f"screen {n}", s) for n, s in enumerate(screens)
    ]:
        for secret in (
            PHONE,
            PHONE.replace(" ", ""),
            "7700900123",
            CODE,
            PASSWORD,
            PASSWORD[:8],
            API_HASH,
        ):
            assert secret not in blob, f"{where} shows a secret ({secret[:3]}…)"
    auth_key = client.session.auth_key
    if auth_key is not None:
        assert auth_key.key.hex() not in log_text, "the session's key never reaches the log"
    assert session_bytes, "the session file was written"
