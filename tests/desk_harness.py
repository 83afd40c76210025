"""Helpers that build the real desk (DeskApp over a Store in a temp dir) on a seeded demo source.

Time is virtual: one fixed clock feeds the demo source, the Inbox and the Store, and the demo's
`sleep` only returns when a test moves that clock on (`DeskClock.advance`). So nothing live
happens unless a test asks for it, and every screen the tests see is the same on every run.
Short sleeps (the demo's simulated send delay, under a second) return at once, so replies are
delivered without moving the clock.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.command import CommandList
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widgets import OptionList
from tgtriage.core.desk.inbox import Inbox
from tgtriage.core.rules import triage
from tgtriage.core.sources.demo import DemoSource
from tgtriage.core.storage.store import Store
from tgtriage.core.system.config import Config
from tgtriage.core.system.paths import Paths
from tgtriage.tui.app import DeskApp
from tgtriage.tui.chat_list import ChatList
from tgtriage.tui.composer import Composer
from tgtriage.tui.conversation import Conversation

# Tuesday 2024-03-05 10:30:00 UTC: the desk's "now" in every test and snapshot.
FIXED_NOW = 1_709_634_600.0
INSTANT_BELOW = 1.0

# The console the drawing tests lay text out on, and the style of an unstyled character.
CONSOLE = Console(width=120, color_system="truecolor", force_terminal=True)
NULL = Style.null()


@contextmanager
def utc() -> Iterator[None]:
    """Draw local times in UTC for the duration (message times, postpone notices)."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


@dataclass
class DeskClock:
    """A clock that stands still until `advance`; its `sleep` waits for the clock, not the wall."""

    now: float = FIXED_NOW
    hold_short: bool = False
    _sleepers: list[tuple[float, asyncio.Future[None]]] = field(default_factory=list)
    _held: list[asyncio.Future[None]] = field(default_factory=list)

    def __call__(self) -> float:
        """The current (virtual) time."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Return when the clock has moved `seconds` on; short sleeps return at once."""
        if seconds < INSTANT_BELOW:
            if self.hold_short:  # e.g. keep a reply "sending" until release_short()
                held: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self._held.append(held)
                await held
            await asyncio.sleep(0.001)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + seconds, future))
        try:
            await future
        finally:
            self._sleepers = [(t, f) for t, f in self._sleepers if f is not future]

    def release_short(self) -> None:
        """Stop holding short sleeps and let the held ones finish."""
        self.hold_short = False
        for held in self._held:
            if not held.done():
                held.set_result(None)
        self._held.clear()

    def advance(self, seconds: float) -> None:
        """Move time on and wake whoever slept until then (live demo events follow)."""
        self.now += seconds
        for deadline, future in list(self._sleepers):
            if deadline <= self.now and not future.done():
                future.set_result(None)


@dataclass
class Desk:
    """One desk under test: the app, its clock and source, and the store's path."""

    app: DeskApp
    clock: DeskClock
    source: DemoSource
    db_path: Path
    stores: list[Store]

    @property
    def inbox(self) -> Inbox:
        """The app's live state."""
        return self.app.inbox

    async def close(self) -> None:
        """Close any store the app left open (it normally closes when the app exits)."""
        while self.stores:
            await self.stores.pop().close()


def make_desk(
    tmp_path: Path,
    *,
    seed: int = 3,
    fail_rate: float = 0.0,
    keymap: dict[str, str] | None = None,
    clock: DeskClock | None = None,
    db_name: str = "desk.sqlite3",
    config: Config | None = None,
    source_factory: Callable[[DeskClock], DemoSource] | None = None,
) -> Desk:
    """A DeskApp over a Store at tmp_path/db_name and a seeded DemoSource on a fixed clock."""
    clock = clock or DeskClock()
    if source_factory is not None:
        source = source_factory(clock)
    else:
        source = DemoSource(
            seed=seed, speed=1.0, clock=clock, sleep=clock.sleep, fail_rate=fail_rate
        )
    db_path = tmp_path / db_name
    stores: list[Store] = []
    # Replies leave at once: the undo window has tests of its own (tests/test_undo_send.py).
    cfg = config or Config(undo_send_seconds=0)

    async def factory() -> Inbox:
        store = await Store.open(db_path, clock=clock)
        stores.append(store)
        inbox = Inbox(store, source, cfg, clock=clock)
        await inbox.load_cached()
        stop = inbox.stop

        async def stop_then_close() -> None:
            # The app stops the inbox when it unmounts; the store closes in that same event
            # loop (snapshot tests run the app in a loop of their own).
            await stop()
            if store in stores:
                stores.remove(store)
                await store.close()

        inbox.stop = stop_then_close  # type: ignore[method-assign]
        return inbox

    paths = Paths(config_dir=tmp_path / "config", data_dir=tmp_path / "data")
    app = DeskApp(factory, source_label="demo", keymap=keymap, tick=3600.0, paths=paths)
    return Desk(app, clock, source, db_path, stores)


async def settle(pilot: Pilot[int], rounds: int = 3) -> None:
    """Let queued events land and the screen catch up (no clock movement)."""
    app = pilot.app
    assert isinstance(app, DeskApp)
    for _ in range(200):
        await pilot.pause()
        inbox = app._inbox
        if inbox is not None and inbox.chats and not inbox._queue and not inbox._pending:
            rounds -= 1
            if rounds <= 0:
                break
        await asyncio.sleep(0.005)
    await pilot.pause()


async def wait_for(
    pilot: Pilot[int], predicate: Callable[[], bool], what: str, tries: int = 300
) -> None:
    """Pump the app until `predicate()` holds; fail naming `what` if it never does."""
    for _ in range(tries):
        if predicate():
            await pilot.pause()
            return
        await pilot.pause()
        await asyncio.sleep(0.005)
    raise AssertionError(f"timed out waiting for: {what}")


async def ready(pilot: Pilot[int]) -> None:
    """Wait until the demo's chats and backlog are on screen."""
    app = pilot.app
    assert isinstance(app, DeskApp)
    await wait_for(
        pilot, lambda: app.ready and len(app._inbox.chats if app._inbox else ()) >= 12, "demo chats"
    )
    await wait_for(pilot, lambda: sum(app.inbox.level_counts()) > 0, "waiting chats")
    await settle(pilot)


def list_text(app: DeskApp) -> list[str]:
    """The chat list's visible rows as plain text."""
    chat_list = app.query_one(ChatList)
    rows = []
    for y in range(chat_list.size.height):
        rows.append("".join(seg.text for seg in chat_list.render_line(y)).rstrip())
    return rows


def row_text(app: DeskApp, chat_id: int) -> str:
    """One chat's row as plain text (as the list would draw it now)."""
    chat_list = app.query_one(ChatList)
    width = chat_list.size.width
    return "".join(s.text for s in chat_list._draw(app._row(chat_id), width, False, False)).rstrip()


def conversation_text(app: DeskApp) -> str:
    """Every wrapped line of the open conversation as plain text."""
    conversation = app.query_one(Conversation)
    return "\n".join(conversation.plain_lines())


def composer(app: DeskApp) -> Composer:
    """The reply composer."""
    return app.query_one(Composer)


def chat_id_by_title(app: DeskApp, part: str) -> int:
    """The id of the first chat whose title contains `part`."""
    for chat_id, chat in app.inbox.chats.items():
        if part in chat.title:
            return chat_id
    raise AssertionError(f"no chat titled like {part!r}")


def screen_text(app: DeskApp) -> str:
    """What the terminal shows right now (the active screen), as plain text lines."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips)


@asynccontextmanager
async def run_desk(
    desk: Desk, size: tuple[int, int] = (120, 35), *, notifications: bool = False
) -> AsyncIterator[Pilot[int]]:
    """Run the desk headless until its demo backlog is on screen; close its store afterwards."""
    try:
        async with desk.app.run_test(size=size, notifications=notifications) as pilot:
            await ready(pilot)
            yield pilot
    finally:
        await desk.close()


async def type_text(pilot: Pilot[int], text: str) -> None:
    """Type `text` as a terminal delivers it: one key event per character, in order."""
    for char in text:
        key = char if char.isalnum() else _character_to_key(char)
        pilot.app.post_message(events.Key(key, char))
    await settle(pilot, rounds=2)


def waiting_ids(app: DeskApp) -> set[int]:
    """Chats that currently wait for a reply."""
    inbox = app.inbox
    now = inbox.now()
    return {c for c, state in inbox.triage.items() if triage.is_awaiting(state, now)}


def slot_strip(app: DeskApp) -> str:
    """The working-set strip (the screen's top line)."""
    return screen_text(app).splitlines()[0]


def status_line(app: DeskApp) -> str:
    """The status line (second line from the bottom, above the footer)."""
    return screen_text(app).splitlines()[-2]


def switcher_rows(app: DeskApp) -> list[str]:
    """The chats the open switcher (Ctrl+K) lists, top first, as plain text."""
    options = app.screen.query_one("#switcher-list", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


def row_of(app: DeskApp, chat_id: int) -> str:
    """The visible list row of a chat (by title), as plain text."""
    title = app.inbox.chats[chat_id].title
    rows = [r for r in list_text(app) if title in r]
    assert rows, f"{title!r} is not visible in the list"
    return rows[0]


def palette_rows(app: DeskApp) -> list[str]:
    """What the open command palette lists, as plain text."""
    options = app.screen.query_one(CommandList)
    return [str(o.prompt) for o in options.options]


def header(app: DeskApp) -> str:
    """The conversation header's two lines (second and third screen lines, with the list)."""
    return "\n".join(screen_text(app).splitlines()[1:3])


def cells(lines: list[list[Segment]] | list[Strip]) -> list[list[tuple[str, Style]]]:
    """Each line as (character, style) per character: what the terminal shows."""
    return [[(ch, seg.style or NULL) for seg in line for ch in seg.text] for line in lines]


async def open_next_waiting(pilot: Pilot[int]) -> int:
    """Press Ctrl+N and return the id of the chat it opened (the test fails if none opened)."""
    app = pilot.app
    assert isinstance(app, DeskApp)
    await pilot.press("ctrl+n")
    chat_id = app.inbox.open_chat_id
    assert chat_id is not None
    return chat_id


async def fail_a_reply(pilot: Pilot[int], text: str) -> int:
    """On a desk whose sends all fail: open the next waiting chat, send `text`, wait for the
    failure; return the chat's id."""
    app = pilot.app
    assert isinstance(app, DeskApp)
    chat_id = await open_next_waiting(pilot)
    await type_text(pilot, text)
    await pilot.press("enter")
    await wait_for(pilot, lambda: bool(app.inbox.failed_items()), "the send to fail")
    return chat_id


def details(app: DeskApp) -> str:
    """The header's second line (due date, tags, targets, notes), right of the list."""
    line = screen_text(app).splitlines()[2]
    return line.split("▕", 1)[1] if "▕" in line else line


def notices(app: DeskApp) -> list[str]:
    """The toasts shown so far."""
    return [n.message for n in app._notifications]
