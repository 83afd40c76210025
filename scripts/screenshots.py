"""Regenerate screenshots/*.svg: every screen of the desk on the seeded demo.

Run from anywhere: `.venv/bin/python scripts/screenshots.py` (or with `--out DIR`, and the
names of the shots to take, e.g. `search help`).
The demo runs headless on a clock fixed at 10:30 UTC today, so the screens are the same on
every run of the same day (older messages show their date).
"""

from __future__ import annotations

import argparse
import asyncio
import calendar
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from textual.pilot import Pilot  # noqa: E402

from tests.desk_harness import (  # noqa: E402
    DeskClock,
    composer,
    make_desk,
    ready,
    settle,
    type_text,
    utc,
    wait_for,
)

Steps = Callable[[Pilot[int]], Awaitable[None]]


@dataclass(frozen=True)
class Shot:
    """One screenshot: file name, terminal size, demo settings and what to do before it."""

    name: str
    size: tuple[int, int]
    steps: Steps
    fail_rate: float = 0.0
    description: str = ""


async def open_longest(pilot: Pilot[int]) -> None:
    """Ctrl+N: open the most urgent waiting chat (nothing is open yet)."""
    await pilot.press("ctrl+n")
    await settle(pilot)


def then(*keys: str, typed: str = "") -> Steps:
    """Open the longest-waiting chat, press `keys`, then type `typed`."""

    async def steps(pilot: Pilot[int]) -> None:
        await open_longest(pilot)
        if keys:
            await pilot.press(*keys)
        if typed:
            await type_text(pilot, typed)
        await settle(pilot)

    return steps


async def failed_send(pilot: Pilot[int]) -> None:
    """Send a reply that the demo refuses, so it stays as 'not sent' with retry."""
    await open_longest(pilot)
    await type_text(pilot, "Restoring the 02:30 backup into db-restore now.")
    await pilot.press("enter")
    app = pilot.app
    await wait_for(pilot, lambda: bool(app.inbox.failed_items()), "the send to fail")  # type: ignore[attr-defined]
    await settle(pilot)


def stats(*keys: str) -> Steps:
    """F4: the reply-time stats of the demo's store, then `keys` (1/2/3 pick the range)."""

    async def steps(pilot: Pilot[int]) -> None:
        app = pilot.app
        await pilot.press("f4")
        await wait_for(pilot, lambda: getattr(app.screen, "loads", 0) > 0, "the stats")
        if keys:
            await pilot.press(*keys)
        await settle(pilot)

    return steps


async def note_mode(pilot: Pilot[int]) -> None:
    """Alt+N: a note saved after the last message, a second one being typed."""
    await open_longest(pilot)
    await pilot.press("alt+n")
    await type_text(pilot, "Called Lena: restore must not touch db-main. Ticket OPS-4711.")
    await pilot.press("enter")
    await type_text(pilot, "She is on the legacy plan")
    await settle(pilot)


async def in_development(pilot: Pilot[int]) -> None:
    """A chat in development with a due date, tags, VIP targets and a note; the form open."""
    await open_longest(pilot)
    app = pilot.app
    inbox = app.inbox  # type: ignore[attr-defined]
    chat_id = inbox.open_chat_id
    await inbox.set_tags(chat_id, {"vip", "backups"})
    await inbox.set_levels(chat_id, (120, 300, 900))
    await pilot.press("alt+n")
    await type_text(pilot, "Restore runs on db-main-restore; see OPS-4711")
    await pilot.press("enter", "alt+n")
    await pilot.press("alt+d")
    await type_text(pilot, "OPS-4711")
    await pilot.press("enter")
    await type_text(pilot, "fri")
    await settle(pilot)


async def view_chooser(pilot: Pilot[int]) -> None:
    """Alt+V after a postponement and a tag: every view with its count."""
    await open_longest(pilot)
    inbox = pilot.app.inbox  # type: ignore[attr-defined]
    await inbox.set_tags(inbox.order()[1], {"vip"})
    await pilot.press("alt+p", "2")
    await settle(pilot)
    await pilot.press("alt+v")
    await settle(pilot)


async def reminder(pilot: Pilot[int]) -> None:
    """A quiet chat postponed for 15 minutes, 15 minutes later: back with ◷ and an alert."""
    await open_longest(pilot)
    app = pilot.app
    inbox = app.inbox  # type: ignore[attr-defined]
    soylent = next(c for c, chat in inbox.chats.items() if "Soylent" in chat.title)
    await app.open_chat(soylent)  # type: ignore[attr-defined]
    await pilot.press("alt+p", "1")
    await settle(pilot)
    inbox.clock.advance(15 * 60)
    await settle(pilot)
    app._tick()  # type: ignore[attr-defined]
    app.check_alerts()  # type: ignore[attr-defined]
    await settle(pilot)


async def search(pilot: Pilot[int]) -> None:
    """Ctrl+F and a typed word: every stored message that has it, newest first, highlighted."""
    await open_longest(pilot)
    await pilot.press("ctrl+f")
    await type_text(pilot, "backup")
    screen = pilot.app.screen
    await wait_for(pilot, lambda: getattr(screen, "painted", 0) > 0, "the results")
    await settle(pilot)


async def customer_history(pilot: Pilot[int]) -> None:
    """Alt+U: everything the open chat's customer wrote, with their waits."""
    await open_longest(pilot)
    await pilot.app.inbox.flushed()  # type: ignore[attr-defined]
    await pilot.press("alt+u")
    await wait_for(pilot, lambda: getattr(pilot.app.screen, "painted", 0) > 0, "the history")


async def team_room(pilot: Pilot[int]) -> None:
    """Two and a half minutes of the team room: claims, Tom's note, Northwind handed to you."""
    app = pilot.app
    inbox = app.inbox  # type: ignore[attr-defined]
    for _ in range(30):
        inbox.clock.advance(5)
        await settle(pilot)
    acme = next(c for c, chat in inbox.chats.items() if "Acme" in chat.title)
    await app.open_chat(acme)  # type: ignore[attr-defined]
    await settle(pilot)


async def message_mode(pilot: Pilot[int]) -> None:
    """↑ on the empty composer, ↑ once more, R: the message quoted above the composer; then
    Ctrl+↑ ↑ to show the cursor on a message."""
    await open_longest(pilot)
    await pilot.press("up", "up", "r")
    await type_text(pilot, "About this one: ")
    await pilot.press("ctrl+up", "up")
    await settle(pilot)


SHOTS = (
    Shot("desk-120x35", (120, 35), then(), description="main screen, a chat open"),
    Shot("desk-80x24", (80, 24), then(), description="main screen at 80×24"),
    Shot("help", (120, 35), then("f1"), description="F1 help"),
    Shot("switcher", (120, 35), then("ctrl+k", typed="sup"), description="Ctrl+K switcher"),
    Shot("postpone", (120, 35), then("alt+p"), description="Alt+P postpone chooser"),
    Shot("failed-send", (120, 35), failed_send, 1.0, "a reply that was not sent"),
    Shot("template-popup", (120, 35), then(typed="/gre"), description="/word popup"),
    Shot("template-picker", (120, 35), then("ctrl+t"), description="Ctrl+T picker"),
    Shot("stats-120x35", (120, 35), stats(), description="F4 stats, 7 days"),
    Shot("stats-80x24", (80, 24), stats(), description="F4 stats at 80×24"),
    Shot("stats-today", (120, 35), stats("1"), description="F4 stats, today by hour"),
    Shot("view-waiting", (120, 35), then("f3"), description="F3: the Waiting view"),
    Shot("note-mode", (120, 35), note_mode, description="Alt+N: internal notes"),
    Shot("in-development", (120, 35), in_development, description="Alt+D: ticket and due"),
    Shot("tags", (120, 35), then("alt+g", typed="vip, back"), description="Alt+G: tags"),
    Shot("view-chooser", (120, 35), view_chooser, description="Alt+V: views with counts"),
    Shot("reminder", (120, 35), reminder, description="a postponement that ran out"),
    Shot("search", (120, 35), search, description="Ctrl+F: search every message"),
    Shot("search-80x24", (80, 24), search, description="Ctrl+F search at 80×24"),
    Shot("history", (120, 35), customer_history, description="Alt+U: customer history"),
    Shot("team-room", (120, 35), team_room, description="the team room: claims and a handoff"),
    Shot("message-mode", (120, 35), message_mode, description="message mode: cursor and reply"),
)


@dataclass(frozen=True)
class LoginShot:
    """One screenshot of the login screen over the fake Telegram client."""

    name: str
    size: tuple[int, int]
    steps: Callable[[Pilot[object], object], Awaitable[None]]
    description: str = ""


async def login_phone(pilot: Pilot[object], fake: object) -> None:
    """The first step: the phone number."""


async def login_code(pilot: Pilot[object], fake: object) -> None:
    """A number typed and sent: the code step."""
    from tests.test_telegram_login_screen import enter

    await enter(pilot, "+1 555 867 5309")
    await login_wait(pilot, "Login code")


async def login_password(pilot: Pilot[object], fake: object) -> None:
    """Code accepted, the account has 2FA: the masked password step after a wrong try."""
    from tests.test_telegram_login_screen import enter

    await login_code(pilot, fake)
    await enter(pilot, "24680")
    await login_wait(pilot, "Two-step verification")
    await enter(pilot, "not the password")
    await login_wait(pilot, "Wrong password")


async def login_flood(pilot: Pilot[object], fake: object) -> None:
    """Too many attempts: Telegram's wait, counted down, the field locked."""
    from telethon import errors

    from tests.test_telegram_login_screen import enter

    await login_code(pilot, fake)
    fake.fail_next("sign_in", errors.FloodWaitError(request=None, capture=754))  # type: ignore[attr-defined]
    await enter(pilot, "24680")
    await login_wait(pilot, "You can try again in")


async def login_qr(pilot: Pilot[object], fake: object) -> None:
    """F2: the QR code to scan with the phone."""
    await pilot.press("f2")
    await login_wait(pilot, "Scan to log in")


async def login_offline(pilot: Pilot[object], fake: object) -> None:
    """Telegram out of reach (the client could not connect)."""


async def login_wait(pilot: Pilot[object], words: str) -> None:
    """Wait until `words` are on the screen."""
    from tests.test_telegram_login_screen import shows

    await shows(pilot, pilot.app, words)  # type: ignore[arg-type]


LOGIN_SHOTS = (
    LoginShot("login-phone", (100, 30), login_phone, "login: phone number"),
    LoginShot("login-code", (100, 30), login_code, "login: the code Telegram sent"),
    LoginShot("login-password", (100, 30), login_password, "login: 2FA password (masked)"),
    LoginShot("login-flood-wait", (100, 30), login_flood, "login: flood wait countdown"),
    LoginShot("login-qr", (100, 40), login_qr, "login: QR code"),
    LoginShot("login-qr-80x24", (80, 24), login_qr, "login: QR code at 80×24"),
    LoginShot("login-offline", (100, 30), login_offline, "login: cannot reach Telegram"),
)


async def take_login(shot: LoginShot, out: Path) -> Path:
    """Run the login screen over the fake client for one shot and save its SVG."""
    from textual.widgets import Input
    from tgtriage.core.sources.telegram.login import TelegramLogin
    from tgtriage.core.system.config import Config
    from tgtriage.core.system.paths import Paths
    from tgtriage.tui.login import LoginApp

    from tests.fake_telethon import FakeClient
    from tests.test_telegram_login_screen import Clock

    fake = FakeClient()
    fake.authorized = False
    fake.password = "correct horse battery staple"
    fake.qr.gated = True
    if shot.steps is login_offline:
        fake.connect_failures = 99
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        paths = Paths(config_dir=Path(tmp) / "config", data_dir=Path(tmp) / "data")
        app = LoginApp(TelegramLogin(Config(), paths, lambda: fake, clock=clock), clock=clock)
        async with app.run_test(size=shot.size) as pilot:
            if shot.steps is login_offline:
                await login_wait(pilot, "Cannot reach Telegram")
            else:
                await login_wait(pilot, "Phone number")
            assert app.login_screen is not None
            app.login_screen.query_one("#login-input", Input).cursor_blink = False
            await shot.steps(pilot, fake)
            await pilot.pause()
            path = app.save_screenshot(filename=f"{shot.name}.svg", path=str(out))
    return Path(path)


async def take_search_telegram(out: Path) -> Path:
    """Ctrl+F on the Telegram desk over the fake client (tests/telegram_search_pane.py): the
    store's results, Telegram's marked below them and the "more" row."""
    from tgtriage.tui.search_screen import SearchScreen

    from tests.telegram_search_pane import searchable_desk

    with tempfile.TemporaryDirectory() as tmp:
        app, store = await searchable_desk(Path(tmp) / "data")
        try:
            async with app.run_test(size=(120, 35)) as pilot:
                await wait_for(pilot, lambda: len(app.inbox.chats) == 3, "the chats")
                await app.inbox.flushed()
                await pilot.press("ctrl+f")
                await type_text(pilot, "printer")
                screen = app.screen
                assert isinstance(screen, SearchScreen)
                await wait_for(pilot, lambda: len(screen.hits) > screen.local_count, "Telegram")
                await settle(pilot)
                path = app.save_screenshot(filename="search-telegram.svg", path=str(out))
        finally:
            await store.close()
    return Path(path)


def ten_thirty_today() -> float:
    """10:30 UTC today (so message times read as times, not dates)."""
    today = time.gmtime()
    return float(calendar.timegm((today.tm_year, today.tm_mon, today.tm_mday, 10, 30, 0)))


async def take(shot: Shot, out: Path, now: float) -> Path:
    """Run the desk for one shot and save its SVG."""
    with tempfile.TemporaryDirectory() as tmp:
        desk = make_desk(Path(tmp), fail_rate=shot.fail_rate, clock=DeskClock(now))
        async with desk.app.run_test(size=shot.size) as pilot:
            await ready(pilot)
            composer(desk.app).cursor_blink = False
            await shot.steps(pilot)
            path = desk.app.save_screenshot(filename=f"{shot.name}.svg", path=str(out))
        await desk.close()
    return Path(path)


async def main(out: Path, only: set[str]) -> None:
    """Take every shot (or those named in `only`)."""
    out.mkdir(parents=True, exist_ok=True)
    now = ten_thirty_today()
    with utc():
        for shot in SHOTS:
            if only and shot.name not in only:
                continue
            path = await take(shot, out, now)
            print(
                f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  {shot.description}"
            )
        if not only or "search-telegram" in only:
            path = await take_search_telegram(out)
            print(
                f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  "
                "Ctrl+F on the Telegram desk: results from Telegram below the store's"
            )
        for login_shot in LOGIN_SHOTS:
            if only and login_shot.name not in only:
                continue
            path = await take_login(login_shot, out)
            print(
                f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  "
                f"{login_shot.description}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots", help="output folder")
    parser.add_argument("only", nargs="*", help="names of the shots to take (default: all)")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.out, set(arguments.only)))
