"""The whole desk (TelegramDesk = DeskApp + Inbox + Store + TelegramSource) on the fake client.

What an engineer sees on their own account: support chats with the right waiting state, a
reply sent from the composer (once, with its random id), a teammate's reply clearing a wait,
the login screen over the desk when the session needs it, forum topics, media downloads,
per-message send errors with retry, and the status line while Telegram makes the desk wait.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from telethon import errors
from telethon.tl import types
from textual.pilot import Pilot
from tgtriage.core.desk.models import OutboxState
from tgtriage.core.sources.telegram import chats as telegram_chats
from tgtriage.core.sources.telegram.source import TelegramSource
from tgtriage.core.storage.store import Store
from tgtriage.core.system.config import Config
from tgtriage.core.system.paths import Paths
from tgtriage.tui.login import LoginScreen

from tests.desk_harness import (
    conversation_text,
    row_text,
    screen_text,
    status_line,
    utc,
)
from tests.fake_telethon import FakeClient
from tests.fake_tl import flood, photo
from tests.telegram_world import (
    ACME_ID,
    ALICE,
    FORUM_ID,
    INITECH_ID,
    NOW,
    TESS,
    Sleeper,
    config,
    world,
)
from tests.test_telegram_login_screen import type_text
from tgtriage.cli.telegram import TelegramDesk, build_desk


@dataclass(frozen=True)
class TmpPaths(Paths):
    """Paths whose downloads folder is inside the test's tmp dir."""

    downloads: Path = Path()

    @property
    def downloads_dir(self) -> Path:
        """tmp/downloads."""
        return self.downloads


@pytest.fixture
def paths(tmp_path: Path) -> TmpPaths:
    """Private data and downloads folders in tmp."""
    return TmpPaths(
        config_dir=tmp_path / "config", data_dir=tmp_path / "data", downloads=tmp_path / "dl"
    )


@pytest.fixture(autouse=True)
def _utc() -> Any:
    """Message times in UTC."""
    with utc():
        yield


class Gate(Sleeper):
    """Instant short sleeps; long ones (flood waits) wait until `open()`."""

    def __init__(self) -> None:
        super().__init__()
        self.event = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if seconds >= 1:
            await self.event.wait()
        await asyncio.sleep(0)

    def open(self) -> None:
        """Let long sleeps end."""
        self.event.set()


@asynccontextmanager
async def telegram_desk(
    fake: FakeClient,
    paths: Paths,
    tmp_path: Path,
    cfg: Config | None = None,
    *,
    sleep: Any = None,
    size: tuple[int, int] = (120, 35),
    wait_for_chats: bool = True,
) -> AsyncIterator[tuple[Pilot[int], TelegramDesk, TelegramSource]]:
    """The Telegram desk on the fake client, headless, with a fixed clock."""
    cfg = cfg or config()
    source = TelegramSource(
        cfg, paths, lambda: fake, sleep=sleep or Sleeper(), clock=lambda: NOW, history_interval=0
    )
    store = await Store.open(tmp_path / "telegram.sqlite3", clock=lambda: NOW)
    app = build_desk(cfg, paths, {}, store, source, tick=3600.0, clock=lambda: NOW)
    try:
        async with app.run_test(size=size) as pilot:
            if wait_for_chats:
                await until(pilot, lambda: app.ready and len(app.inbox.chats) == 3, "chats")
                await until(pilot, lambda: app.inbox.triage[ACME_ID].last_msg_id >= 2, "history")
            yield pilot, app, source
    finally:
        await store.close()


async def until(pilot: Pilot[int], check: Any, what: str, tries: int = 600) -> None:
    """Pump the app until `check()` holds."""
    for _ in range(tries):
        try:
            if check():
                await pilot.pause()
                return
        except (KeyError, AssertionError, AttributeError):
            pass
        await pilot.pause()
        await asyncio.sleep(0.005)
    raise AssertionError(f"timed out waiting for: {what}")


def notified(app: Any, words: str) -> bool:
    """Whether a notification on screen now says `words`."""
    return any(words in n.message for n in app._notifications)


async def open_chat(pilot: Pilot[int], app: TelegramDesk, chat_id: int) -> None:
    """Open a chat the way the list does."""
    await app.open_chat(chat_id)
    await pilot.pause()


# --------------------------------------------------------------------------- the day's work


async def test_support_chats_wait_a_reply_sends_once_and_a_teammate_clears_a_wait(
    paths: Paths, tmp_path: Path
) -> None:
    fake = world()
    async with telegram_desk(fake, paths, tmp_path) as (pilot, app, _source):
        # the support chats, customers waiting since their first message
        assert "Acme · Support" in row_text(app, ACME_ID) and "1h21m" in row_text(app, ACME_ID)
        assert "1h18m" in row_text(app, INITECH_ID)
        assert "Cat pictures" not in screen_text(app), "not a support chat"
        assert "telegram" in status_line(app) and "connected" in status_line(app)
        # reply from the composer: Enter sends it through the outbox, exactly once
        await open_chat(pilot, app, ACME_ID)
        await type_text(pilot, "Hi Alice, looking into it")  # type: ignore[arg-type]
        await pilot.press("enter")
        await until(pilot, lambda: app.inbox.triage[ACME_ID].waiting_since is None, "sent")
        posted = [m for m in fake.history[ACME_ID] if m.message == "Hi Alice, looking into it"]
        assert len(posted) == 1
        (request,) = fake.requests_named("SendMessageRequest")
        assert request.random_id != 0 and not app.inbox.outbox.get(ACME_ID)
        await until(pilot, lambda: "Hi Alice, looking into it" in conversation_text(app), "drawn")
        assert "1h21m" not in row_text(app, ACME_ID)
        # a teammate answers Initech from their own Telegram: the wait clears here too
        assert app.inbox.wait(INITECH_ID) is not None
        reply = fake.message(INITECH_ID, "Printer fixed, restart it", sender=TESS)
        await fake.deliver(fake.new_message_update(reply))
        await until(pilot, lambda: app.inbox.wait(INITECH_ID) is None, "teammate's reply")
        assert "1h18m" not in row_text(app, INITECH_ID)
        assert "nobody waiting" not in status_line(app), "the forum still waits"


async def test_a_send_error_shows_on_the_message_and_alt_r_retries(
    paths: Paths, tmp_path: Path
) -> None:
    fake = world()
    async with telegram_desk(fake, paths, tmp_path) as (pilot, app, _source):
        await open_chat(pilot, app, ACME_ID)
        fake.fail_next("SendMessageRequest", errors.SlowModeWaitError(request=None, capture=30))
        await type_text(pilot, "One moment please")  # type: ignore[arg-type]
        await pilot.press("enter")
        await until(pilot, lambda: app.inbox.failed_items(), "the failure")
        await until(pilot, lambda: "✗ not sent" in conversation_text(app), "drawn")
        shown = conversation_text(app)
        assert "Slow mode is on in this chat: wait 30 s" in shown and "Alt+R retry" in shown
        assert "1 unsent" in status_line(app)
        await pilot.press("alt+r")
        await until(pilot, lambda: not app.inbox.outbox.get(ACME_ID), "the retry")
        assert len([m for m in fake.history[ACME_ID] if m.message == "One moment please"]) == 1


async def test_a_chat_you_cannot_write_in_says_so(paths: Paths, tmp_path: Path) -> None:
    fake = world()
    async with telegram_desk(fake, paths, tmp_path) as (pilot, app, _source):
        await open_chat(pilot, app, INITECH_ID)
        fake.fail_next("SendMessageRequest", errors.ChatWriteForbiddenError(request=None))
        await type_text(pilot, "hello?")  # type: ignore[arg-type]
        await pilot.press("enter")
        await until(pilot, lambda: "You cannot write in this chat" in conversation_text(app), "!")
        item = app.inbox.failed_items()[0]
        assert item.state is OutboxState.FAILED


# --------------------------------------------------------------------------- logging in


async def test_the_login_screen_comes_up_over_the_desk_and_the_desk_goes_on(
    paths: Paths, tmp_path: Path
) -> None:
    fake = world()
    fake.authorized = False
    async with telegram_desk(fake, paths, tmp_path, wait_for_chats=False) as (pilot, app, _s):
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), "the login screen")
        await until(pilot, lambda: "Phone number" in screen_text(app), "the phone step")
        await pilot.press("ctrl+n", "ctrl+k", "f1")
        assert isinstance(app.screen, LoginScreen), "desk keys rest while logging in"
        await type_text(pilot, "+1 555 867 5309")  # type: ignore[arg-type]
        await pilot.press("enter")
        await until(pilot, lambda: "Login code" in screen_text(app), "the code step")
        await type_text(pilot, "24680")  # type: ignore[arg-type]
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, LoginScreen), "the desk")
        await until(pilot, lambda: len(app.inbox.chats) == 3, "the chats")
        assert fake.connects == 1, "the login used the desk's own connection"
        assert app.inbox.me is not None and app.inbox.me.id == 1000


async def test_skipping_the_login_leaves_the_cached_desk_with_a_clear_notice(
    paths: Paths, tmp_path: Path
) -> None:
    fake = world()
    fake.authorized = False
    async with telegram_desk(fake, paths, tmp_path, wait_for_chats=False) as (pilot, app, _s):
        await until(pilot, lambda: "Phone number" in screen_text(app), "the phone step")
        assert "Esc: skip: the desk without Telegram" in screen_text(app)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, LoginScreen), "the desk")
        await until(pilot, lambda: notified(app, "run `tgtriage login`"), "the notice")
        assert "offline" in status_line(app) and "not logged in" in status_line(app)


# --------------------------------------------------------------------------- connection


async def test_the_status_line_counts_down_a_flood_wait_while_chats_load(
    paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telegram_chats, "DIALOG_PAGE", 2)
    fake = world()
    fake.fail_next(
        "GetDialogsRequest",
        flood(90),
        lambda r: not isinstance(r.offset_peer, types.InputPeerEmpty),
    )
    gate = Gate()
    async with telegram_desk(fake, paths, tmp_path, sleep=gate, wait_for_chats=False) as (
        pilot,
        app,
        _source,
    ):
        await until(pilot, lambda: "waiting for Telegram 90 s" in status_line(app), "the countdown")
        assert "syncing 2/5 chats · waiting for Telegram 90 s" in status_line(app)
        gate.open()
        await until(pilot, lambda: len(app.inbox.chats) == 3, "the chats after the wait")
        await until(pilot, lambda: "history" not in status_line(app), "the backfill")


async def test_the_first_page_of_chats_shows_and_opens_while_the_chat_list_waits(
    paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telegram_chats, "DIALOG_PAGE", 2)
    fake = world()  # pages: [cats, Initech], [Globex forum, Acme], [Alice]
    fake.fail_next(
        "GetDialogsRequest",
        flood(90),
        lambda r: not isinstance(r.offset_peer, types.InputPeerEmpty),
    )
    gate = Gate()
    async with telegram_desk(fake, paths, tmp_path, sleep=gate, wait_for_chats=False) as (
        pilot,
        app,
        _source,
    ):
        await until(pilot, lambda: "waiting for Telegram 90 s" in status_line(app), "the wait")
        await until(pilot, lambda: "Initech Support" in row_text(app, INITECH_ID), "page 1")
        await pilot.press("ctrl+n")  # the keys work: the waiting chat opens
        await until(pilot, lambda: "printer broken" in conversation_text(app), "the chat")
        assert ACME_ID not in app.inbox.chats  # page 2 is still to come
        gate.open()
        await until(pilot, lambda: len(app.inbox.chats) == 3, "the chats after the wait")
    pages = [r for r in fake.requests_named("GetDialogsRequest")]
    assert len(pages) == 4  # three pages, the one that met the wait asked again


# --------------------------------------------------------------------------- forums and media


async def test_forum_messages_show_their_topic_and_a_reply_goes_there(
    paths: Paths, tmp_path: Path
) -> None:
    fake = world()
    async with telegram_desk(fake, paths, tmp_path) as (pilot, app, _source):
        await open_chat(pilot, app, FORUM_ID)
        await until(pilot, lambda: "# Billing" in conversation_text(app), "the topic name")
        await type_text(pilot, "Refund issued")  # type: ignore[arg-type]
        await pilot.press("enter")
        await until(pilot, lambda: app.inbox.wait(FORUM_ID) is None, "the reply")
        request = fake.requests_named("SendMessageRequest")[-1]
        assert request.reply_to.top_msg_id == 200
        await until(
            pilot,
            lambda: conversation_text(app).count("# Billing") == 2,
            "the reply drawn in the topic",
        )


def write_fake_opener(folder: Path, log: Path) -> None:
    """An `xdg-open` that records what it was asked to open."""
    folder.mkdir()
    opener = folder / "xdg-open"
    opener.write_text(f'#!/bin/sh\necho "$1" >> {log}\n')
    opener.chmod(opener.stat().st_mode | stat.S_IXUSR)


async def test_alt_d_downloads_the_file_and_shows_where_it_is(
    paths: TmpPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    fake = world()
    fake.message(ACME_ID, "", sender=ALICE, media=photo(1_234_567))
    async with telegram_desk(fake, paths, tmp_path) as (pilot, app, _source):
        await until(pilot, lambda: app.inbox.triage[ACME_ID].last_msg_id == 3, "the photo")
        await open_chat(pilot, app, ACME_ID)
        assert "[photo 1.2 MB]" in conversation_text(app)
        await pilot.press("alt+m")
        saved = paths.downloads / "photo-1000000000077-3.jpg"
        await until(pilot, lambda: saved.exists(), "the download")
        assert saved.read_bytes() == b"fake media bytes"
        assert oct(paths.downloads.stat().st_mode & 0o777) == "0o700"
        await until(pilot, lambda: notified(app, f"Saved (no display here): {saved}"), "notice")


async def test_with_a_display_a_picture_opens_with_xdg_open_and_digits_pick_the_file(
    paths: TmpPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from telethon.tl.types import DocumentAttributeFilename

    from tests.fake_tl import document

    log = tmp_path / "opened.txt"
    write_fake_opener(tmp_path / "bin", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DISPLAY", ":0")
    fake = world()
    fake.message(ACME_ID, "screenshot", sender=ALICE, media=photo())
    fake.message(
        ACME_ID,
        "and the script",
        sender=ALICE,
        media=document([DocumentAttributeFilename("fix.desktop")], mime="application/x-desktop"),
    )
    async with telegram_desk(fake, paths, tmp_path) as (pilot, app, _source):
        await until(pilot, lambda: app.inbox.triage[ACME_ID].last_msg_id == 4, "the files")
        await open_chat(pilot, app, ACME_ID)
        await pilot.press("alt+m")
        await until(pilot, lambda: "Download which file?" in screen_text(app), "the chooser")
        await pilot.press("2")  # newest first: 1 = fix.desktop, 2 = the photo
        await until(pilot, lambda: log.exists(), "xdg-open to run")
        assert log.read_text().strip().endswith("photo-1000000000077-3.jpg")
        await pilot.press("alt+m", "1")
        target = paths.downloads / "fix.desktop"
        await until(pilot, lambda: target.exists(), "the second download")
        await until(pilot, lambda: notified(app, "not opened automatically"), "the notice")
        assert len(log.read_text().splitlines()) == 1, "a .desktop file is never opened"


async def test_files_of_the_demo_cannot_be_downloaded(tmp_path: Path) -> None:
    from tests.desk_harness import make_desk, ready

    desk = make_desk(tmp_path)
    async with desk.app.run_test(size=(120, 35)) as pilot:
        await ready(pilot)
        await pilot.press("ctrl+n")
        await pilot.pause()
        await desk.app.run_action("download_media")
        await until(pilot, lambda: notified(desk.app, "only be downloaded from Telegram"), "!")  # type: ignore[arg-type]
    await desk.close()


# --------------------------------------------------------------------------- reconnects


async def test_after_a_reconnect_the_open_chat_is_checked_so_nothing_is_missed(
    paths: Paths, tmp_path: Path
) -> None:
    fake = world()
    gate = Gate()
    async with telegram_desk(fake, paths, tmp_path, sleep=gate) as (pilot, app, _source):
        await open_chat(pilot, app, INITECH_ID)
        fake.connect_failures = 1
        fake.drop()
        await until(pilot, lambda: "offline" in status_line(app), "offline in the status line")
        assert re.search(r"cannot reach Telegram; retrying (in 1 s|now)", status_line(app))
        # while offline: a customer message the update catch-up does not deliver
        fake.message(INITECH_ID, "still broken, any news?", sender=ALICE)
        gate.open()
        await until(pilot, lambda: "● connected" in status_line(app), "connected again")
        await until(
            pilot,
            lambda: "still broken, any news?" in conversation_text(app),
            "the missed message in the open chat",
        )
        assert fake.difference_runs == 2 and fake.max_update_loops == 1
        text = conversation_text(app)
        assert text.count("still broken, any news?") == 1 and text.count("printer broken") == 1


def test_the_desk_command_path_does_not_import_telethon() -> None:
    """`tgtriage` paints from the cache before Telethon (≈0.5 s to import) is loaded."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from tgtriage import cli\n"
        "from tgtriage.cli import telegram as telegram_main\n"
        "from tgtriage.core.sources.telegram.source import TelegramSource\n"
        "from tgtriage.core.system.config import Config\n"
        "from tgtriage.core.system.paths import Paths\n"
        "from pathlib import Path\n"
        "source = TelegramSource(Config(), Paths(Path('/tmp/x'), Path('/tmp/x')))\n"
        "sys.exit(1 if any(m.startswith('telethon') for m in sys.modules) else 0)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
