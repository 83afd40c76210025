"""The login screen (tui/login.py) driven with Pilot over the fake client: every step and error.

The fake client raises Telethon's own error classes; the clock is virtual so that flood-wait
and QR countdowns can be moved on without waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from telethon import errors
from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widgets import Input
from tgtriage.core.sources.telegram.login import (
    NeedCode,
    NeedPassword,
    NeedPhone,
    QrWaiting,
    TelegramLogin,
)
from tgtriage.core.sources.telegram.qr import qr_lines
from tgtriage.core.system.config import Config
from tgtriage.core.system.paths import Paths
from tgtriage.tui.login import Connecting, LoginApp, LoginScreen, countdown
from tgtriage.tui.login_qr import QrCode

from tests.fake_telethon import FakeClient
from tests.fake_tl import T0, flood

PHONE = "+1 555 867 5309"
CODE = "24680"
PASSWORD = "correct horse battery staple"


class Clock:
    """A clock that moves only when told."""

    def __init__(self) -> None:
        self.now = float(T0)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    """A private data dir in tmp."""
    return Paths(config_dir=tmp_path / "config", data_dir=tmp_path / "data")


def logged_out(**kw: object) -> FakeClient:
    """A fresh session: not logged in yet."""
    fake = FakeClient()
    fake.authorized = False
    for name, value in kw.items():
        setattr(fake, name, value)
    return fake


@asynccontextmanager
async def login_screen(
    fake: FakeClient, paths: Paths, clock: Clock | None = None, size: tuple[int, int] = (100, 40)
) -> AsyncIterator[tuple[Pilot[object], LoginApp]]:
    """`tgtriage login`'s app over the fake client, once the first step is on screen."""
    clock = clock or Clock()
    login = TelegramLogin(Config(), paths, lambda: fake, clock=clock)
    app = LoginApp(login, clock=clock)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: not isinstance(screen(app).state, Connecting), "connected")
        yield pilot, app


def screen(app: LoginApp) -> LoginScreen:
    """The login screen."""
    assert app.login_screen is not None
    return app.login_screen


def text(app: LoginApp) -> str:
    """What the terminal shows (the active screen) as plain text."""
    return "\n".join(s.text.rstrip() for s in app.screen._compositor.render_strips())


def field(app: LoginApp) -> Input:
    """The login screen's input field."""
    return screen(app).query_one("#login-input", Input)


async def until(
    pilot: Pilot[object], check: Callable[[], bool], what: str, tries: int = 400
) -> None:
    """Pump the app until `check()` holds."""
    for _ in range(tries):
        if check():
            await pilot.pause()
            return
        await pilot.pause()
        await asyncio.sleep(0.005)
    raise AssertionError(f"timed out waiting for: {what}")


async def type_text(pilot: Pilot[object], value: str) -> None:
    """Type `value` as a terminal delivers it: one key event per character."""
    for char in value:
        key = char if char.isalnum() else _character_to_key(char)
        pilot.app.post_message(events.Key(key, char))
    await pilot.pause()
    await pilot.pause()


async def enter(pilot: Pilot[object], value: str) -> None:
    """Type `value` into the focused field as keys, then press Enter."""
    await type_text(pilot, value)
    await pilot.press("enter")


async def shows(pilot: Pilot[object], app: LoginApp, words: str) -> None:
    """Wait until `words` are on screen."""
    await until(pilot, lambda: words in text(app), repr(words))


# --------------------------------------------------------------------------- the happy paths


async def test_phone_then_code_logs_in(paths: Paths) -> None:
    fake = logged_out()
    async with login_screen(fake, paths) as (pilot, app):
        assert "Log in to Telegram" in text(app) and "Phone number" in text(app)
        assert "F2" in text(app) and "QR code" in text(app)
        await enter(pilot, PHONE)
        await shows(pilot, app, "Telegram sent the 5-digit code to your Telegram app")
        assert field(app).value == "" and not field(app).password
        await enter(pilot, CODE)
        await until(pilot, lambda: app.return_value is not None, "the app to finish")
    assert app.return_value is not None and app.return_value.name == "Erin Engineer"
    assert not screen(app).already_logged_in


async def test_already_logged_in_finishes_at_once(paths: Paths) -> None:
    async with login_screen(FakeClient(), paths) as (pilot, app):
        await until(pilot, lambda: app.return_value is not None, "the app to finish")
    assert screen(app).already_logged_in


async def test_two_step_password_is_masked_and_a_wrong_one_can_be_retyped(paths: Paths) -> None:
    fake = logged_out(password=PASSWORD)
    async with login_screen(fake, paths) as (pilot, app):
        await enter(pilot, PHONE)
        await shows(pilot, app, "Login code")
        await enter(pilot, CODE)
        await shows(pilot, app, "Two-step verification")
        assert "Your hint: the usual" in text(app)
        assert field(app).password, "the password is masked"
        await type_text(pilot, "hunter2")
        assert "hunter2" not in text(app) and "•" in text(app)
        await pilot.press("enter")
        await shows(pilot, app, "Wrong password")
        assert isinstance(screen(app).state, NeedPassword) and field(app).value == ""
        await enter(pilot, PASSWORD)
        await until(pilot, lambda: app.return_value is not None, "the app to finish")
        assert PASSWORD not in text(app)


# --------------------------------------------------------------------------- every error


async def test_invalid_phone_number_keeps_what_was_typed(paths: Paths) -> None:
    fake = logged_out()
    fake.fail_next("send_code_request", errors.PhoneNumberInvalidError(request=None))
    async with login_screen(fake, paths) as (pilot, app):
        await enter(pilot, "+1 555 000")
        await shows(pilot, app, "That phone number is not valid")
        assert isinstance(screen(app).state, NeedPhone)
        assert field(app).value == "+1 555 000", "fix the number, not retype it"
        await pilot.press("ctrl+a", *["backspace"] * 20)
        field(app).value = ""
        await enter(pilot, PHONE)
        await shows(pilot, app, "Login code")
        assert "not valid" not in text(app)


async def test_not_a_phone_number_is_refused_on_the_spot(paths: Paths) -> None:
    fake = logged_out()
    async with login_screen(fake, paths) as (pilot, app):
        await enter(pilot, "call me")
        await shows(pilot, app, "does not look like a phone number")
        assert not [c for c in fake.calls if c[0] == "send_code_request"]


async def test_wrong_code_is_retyped(paths: Paths) -> None:
    fake = logged_out()
    async with login_screen(fake, paths) as (pilot, app):
        await enter(pilot, PHONE)
        await shows(pilot, app, "Login code")
        await enter(pilot, "11111")
        await shows(pilot, app, "That code is not right")
        assert isinstance(screen(app).state, NeedCode) and field(app).value == ""
        await enter(pilot, CODE)
        await until(pilot, lambda: app.return_value is not None, "the app to finish")


async def test_expired_code_goes_back_to_the_phone_and_f3_resends(paths: Paths) -> None:
    fake = logged_out()
    async with login_screen(fake, paths) as (pilot, app):
        await enter(pilot, PHONE)
        await shows(pilot, app, "Login code")
        await pilot.press("f3")
        await until(
            pilot,
            lambda: len([c for c in fake.calls if c[0] == "send_code_request"]) == 2,
            "resend",
        )
        await shows(pilot, app, "Login code")
        fake.fail_next("sign_in", errors.PhoneCodeExpiredError(request=None))
        await enter(pilot, CODE)
        await shows(pilot, app, "That code has expired")
        assert isinstance(screen(app).state, NeedPhone)
        assert field(app).value == PHONE, "the number is back, the code is gone"
        await pilot.press("enter")  # Enter asks for a new code
        await shows(pilot, app, "Login code")
        await enter(pilot, CODE)
        await until(pilot, lambda: app.return_value is not None, "the app to finish")


async def test_flood_wait_counts_down_and_locks_the_field_until_then(paths: Paths) -> None:
    fake = logged_out()
    clock = Clock()
    fake.fail_next("send_code_request", flood(600))
    async with login_screen(fake, paths, clock) as (pilot, app):
        await enter(pilot, PHONE)
        await shows(pilot, app, "Telegram asks to wait 10 min")
        assert "You can try again in 10:00" in text(app)
        assert field(app).disabled
        clock.now += 61
        screen(app).tick()
        await shows(pilot, app, "You can try again in 8:59")
        await pilot.press("enter")
        assert [c for c in fake.calls if c[0] == "send_code_request"] == [
            ("send_code_request", None)
        ], "nothing is sent while Telegram asked to wait"
        clock.now += 540
        screen(app).tick()
        await shows(pilot, app, "You can try again now")
        assert not field(app).disabled
        await pilot.press("f5")
        await shows(pilot, app, "Login code")


async def test_network_loss_during_the_code_says_so_and_f5_retries(paths: Paths) -> None:
    fake = logged_out()
    async with login_screen(fake, paths) as (pilot, app):
        await enter(pilot, PHONE)
        await shows(pilot, app, "Login code")
        fake.fail_next("sign_in", ConnectionError("reset"))
        await enter(pilot, CODE)
        await shows(pilot, app, "Cannot reach Telegram")
        assert isinstance(screen(app).state, NeedCode)
        await type_text(pilot, CODE)
        await pilot.press("f5")
        await until(pilot, lambda: app.return_value is not None, "the app to finish")


async def test_telegram_out_of_reach_at_first_then_tries_again_by_itself(paths: Paths) -> None:
    fake = logged_out(connect_failures=2)
    clock = Clock()
    login = TelegramLogin(Config(), paths, lambda: fake, clock=clock)
    app = LoginApp(login, clock=clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await shows(pilot, app, "Cannot reach Telegram")
        assert "Trying again in 5 s" in text(app) and "Enter or F5: now" in text(app)
        assert not field(app).display
        clock.now += 5
        screen(app).tick()
        await shows(pilot, app, "Trying again in 10 s")
        await pilot.press("enter")
        await shows(pilot, app, "Phone number")
        assert fake.connects == 1


async def test_missing_credentials_are_explained_not_retried(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TGTRIAGE_API_ID", raising=False)
    monkeypatch.delenv("TGTRIAGE_API_HASH", raising=False)
    app = LoginApp(TelegramLogin(Config(), paths))
    async with app.run_test(size=(100, 30)) as pilot:
        await shows(pilot, app, "Cannot log in")
        assert "my.telegram.org" in text(app) and "Trying again" not in text(app)


async def test_escape_goes_back_a_step_then_cancels(paths: Paths) -> None:
    fake = logged_out()
    async with login_screen(fake, paths) as (pilot, app):
        await enter(pilot, PHONE)
        await shows(pilot, app, "Login code")
        await pilot.press("escape")
        await shows(pilot, app, "Phone number")
        assert field(app).value == PHONE
        await pilot.press("escape")
        await until(pilot, lambda: not app.is_running, "the app to end")
    assert app.return_value is None


# --------------------------------------------------------------------------- QR code


def drawn_code(app: LoginApp) -> list[str]:
    """The QR code's lines as the widget draws them now."""
    return list(screen(app).query_one(QrCode).lines())


async def test_qr_code_is_drawn_renewed_when_it_expires_then_logs_in(paths: Paths) -> None:
    fake = logged_out()
    fake.qr.gated = True
    fake.qr.outcomes = ["timeout", "ok"]
    clock = Clock()
    async with login_screen(fake, paths, clock) as (pilot, app):
        await pilot.press("f2")
        await shows(pilot, app, "Scan to log in")
        first = drawn_code(app)
        assert first == qr_lines("tg://login?token=FAKETOKEN0")
        assert first[5].strip() in text(app), "the code itself is on screen"
        assert "This code renews in 30 s" in text(app)
        clock.now += 12
        screen(app).tick()
        await shows(pilot, app, "renews in 18 s")
        fake.qr.release()  # the token expires: a new one is drawn
        await until(pilot, lambda: drawn_code(app) != first, "a new QR code")
        assert drawn_code(app) == qr_lines("tg://login?token=FAKETOKEN1")
        assert isinstance(screen(app).state, QrWaiting)
        fake.qr.release()  # scanned
        await until(pilot, lambda: app.return_value is not None, "the app to finish")


async def test_qr_code_on_a_short_terminal_uses_a_smaller_quiet_zone(paths: Paths) -> None:
    fake = logged_out()
    fake.qr.gated = True
    async with login_screen(fake, paths, size=(80, 24)) as (pilot, app):
        await pilot.press("f2")
        await shows(pilot, app, "Scan to log in")
        assert drawn_code(app) == qr_lines("tg://login?token=FAKETOKEN0", border=2)
        assert len(drawn_code(app)) <= 24 - 4


async def test_qr_then_two_step_password(paths: Paths) -> None:
    fake = logged_out(password=PASSWORD)
    fake.qr.outcomes = ["password"]
    async with login_screen(fake, paths) as (pilot, app):
        await pilot.press("f2")
        await shows(pilot, app, "Two-step verification")
        await enter(pilot, PASSWORD)
        await until(pilot, lambda: app.return_value is not None, "the app to finish")


async def test_qr_network_loss_then_f5_draws_a_new_code(paths: Paths) -> None:
    fake = logged_out()
    fake.qr.gated = True
    fake.qr.outcomes = ["network"]
    async with login_screen(fake, paths) as (pilot, app):
        await pilot.press("f2")
        await shows(pilot, app, "Scan to log in")
        fake.qr.release()
        await shows(pilot, app, "Cannot reach Telegram")
        await pilot.press("f5")
        await until(pilot, lambda: fake.qr.waits == 2, "a second QR wait")
        assert "Cannot reach Telegram" not in text(app)


async def test_f2_switches_back_from_the_qr_code_to_the_phone(paths: Paths) -> None:
    fake = logged_out()
    fake.qr.gated = True
    async with login_screen(fake, paths) as (pilot, app):
        await pilot.press("f2")
        await shows(pilot, app, "Scan to log in")
        await pilot.press("f2")
        await shows(pilot, app, "Phone number")
        assert not screen(app).query_one(QrCode).display
        await enter(pilot, PHONE)
        await shows(pilot, app, "Login code")


def test_countdown_reads_naturally() -> None:
    assert [countdown(s) for s in (0, 0.2, 45, 60, 599.5, 3723)] == [
        "0 s",
        "1 s",
        "45 s",
        "1:00",
        "10:00",
        "1:02:03",
    ]


async def test_login_keys_can_be_remapped_in_config(paths: Paths) -> None:
    from tgtriage.tui.keymap import keymap_from_config

    keymap, problems = keymap_from_config({"login_qr": "f6"})
    assert problems == []
    fake = logged_out()
    fake.qr.gated = True
    login = TelegramLogin(Config(), paths, lambda: fake)
    app = LoginApp(login, keymap=keymap)
    async with app.run_test(size=(100, 40)) as pilot:
        await until(pilot, lambda: not isinstance(screen(app).state, Connecting), "connected")
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(screen(app).state, NeedPhone), "F2 is not the QR key any more"
        await pilot.press("f6")
        await shows(pilot, app, "Scan to log in")
