"""When the Telegram source is catching up: `CatchingUp` marks around what was missed while away.

Telethon fetches what was missed by itself (getDifference, in slices, and getChannelDifference
per channel) and hands it to the update handler like live updates; it never says when that is
over. A new message dated well before it arrived can only come from such a catch-up, so the
first one opens the catch-up (`CatchingUp(active=True)`). The repairs that follow a reconnect
(gap fill and the reconcile round, which also fetch what a `channelDifferenceTooLong` left out)
open it too when they bring a late message, and hold it open while they run, as the start-up
sync does (whose backfill alone never opens one: a first sync is no catch-up); so does
Telethon's MessageBox while it still fetches a difference (channels can take a while to come
up with nothing new). It ends (`CatchingUp(active=False)`) once none of these runs and no late
message arrived for `QUIET_SECONDS` of the event loop's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from telethon.tl import types

from ...desk.events import CatchingUp, Event, NewMessage
from .state import SourceState

LATE_SECONDS = 120
"""A new message this much older than its arrival was missed while away (clocks may differ)."""
QUIET_SECONDS = 2.0
"""A catch-up is over when no late message arrived for this long and no repair runs."""
LONGEST_SECONDS = 600.0
"""A catch-up that has not ended after this long is ended anyway (something is stuck)."""

YIELD_EVERY = 50
"""Updates handled between two returns to the event loop while catching up."""

_NEW = types.UpdateNewMessage | types.UpdateNewChannelMessage
_SHORT = types.UpdateShortMessage | types.UpdateShortChatMessage


def message_date(update: Any) -> int | None:
    """The Unix date of the new message an update carries, or None."""
    if isinstance(update, _NEW):
        date = getattr(update.message, "date", None)
        return int(date.timestamp()) if date is not None else None
    if isinstance(update, _SHORT):
        return int(update.date.timestamp())
    return None


class CatchUpMarks:
    """Emits the `CatchingUp` marks of the source (see the module docstring)."""

    def __init__(self, state: SourceState) -> None:
        """Marks for the source's shared state; nothing is open yet."""
        self.state = state
        self.active = False
        self.opened = 0
        """How many catch-ups were opened since start."""
        self._repairs = 0
        self._handled = 0
        self._opening_repairs = 0
        self._last_late = float("-inf")
        self._opened_at = 0.0
        self._closer: asyncio.Task[Any] | None = None
        state.before_emit = self.note_event

    async def on_update(self, update: Any) -> None:
        """Telethon's raw update handler (registered before the one that turns updates into events).

        Telethon hands a whole difference slice to the handlers without returning to the event
        loop; during a catch-up this yields to it every `YIELD_EVERY` updates, so the screen
        paints while thousands of updates are converted."""
        self.note_update(update)
        self._handled += 1
        if self.active and self._handled % YIELD_EVERY == 0:
            await asyncio.sleep(0)

    def note_update(self, update: Any) -> None:
        """A raw update arrived: a late new message opens (or prolongs) the catch-up."""
        date = message_date(update)
        if date is not None and self.state.now() - date >= LATE_SECONDS:
            self._late()

    def note_event(self, event: Event) -> None:
        """An event goes to the desk: a late message a reconnect's repair found opens a catch-up."""
        if (
            self._opening_repairs
            and isinstance(event, NewMessage)
            and self.state.now() - event.message.date >= LATE_SECONDS
        ):
            self._late()

    def _late(self) -> None:
        """A late message arrived: open the catch-up (marked before the message) or prolong it."""
        self._last_late = asyncio.get_running_loop().time()
        if not self.active:
            self.active = True
            self.opened += 1
            self._opened_at = self._last_late
            self.state.emit(CatchingUp(active=True))
        if self._closer is None or self._closer.done():
            self._closer = self.state.spawn(self._close_when_quiet(), "catch-up")

    def _telethon_fetching(self) -> bool:
        """Whether Telethon's MessageBox still fetches a difference (its `getting_diff_for`; a
        client without one, or a Telethon that renamed it, answers no: the quiet time decides)."""
        box = getattr(self.state.client, "_message_box", None)
        return bool(getattr(box, "getting_diff_for", None))

    async def telethon_done(self, longest: float = LONGEST_SECONDS) -> None:
        """Wait (on the event loop's clock, at most `longest`) until Telethon's catch-up is
        over: its MessageBox fetches no difference and no late message came for `QUIET_SECONDS`
        (counted from the call: Telethon may not have begun yet), so a repair does not ask
        again for what that catch-up brings."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        while loop.time() - start < longest:
            quiet = loop.time() - max(start, self._last_late) >= QUIET_SECONDS
            if quiet and not self._telethon_fetching():
                return
            await asyncio.sleep(QUIET_SECONDS / 8)

    @contextlib.asynccontextmanager
    async def repairing(self, *, opens: bool = False) -> AsyncIterator[None]:
        """Hold a catch-up open while a repair fetches what the updates did not bring; with
        `opens`, a late message the repair finds opens one."""
        self._repairs += 1
        self._opening_repairs += opens
        try:
            yield
        finally:
            self._repairs -= 1
            self._opening_repairs -= opens

    async def _close_when_quiet(self) -> None:
        """End the catch-up once no repair runs and no late message came for a while."""
        loop = asyncio.get_running_loop()
        while self.active:
            wait = self._last_late + QUIET_SECONDS - loop.time()
            busy = self._repairs or self._telethon_fetching()
            if (wait > 0 or busy) and loop.time() - self._opened_at < LONGEST_SECONDS:
                await asyncio.sleep(max(wait, QUIET_SECONDS / 4))
                continue
            self.active = False
            self.state.emit(CatchingUp(active=False))
