"""The replay ChatSource: plays a Telegram Desktop export as live traffic on the export's clock.

How time works. The replay has its own clock (`clock()`): the export's time, running `speed`
times faster than the real one (export seconds per real second, default 60: an hour of history
plays in a minute). Messages keep their export dates and edits their export edit dates, so
waits, levels, alerts, business hours and reports all see the original log; the desk reads
"now" from this clock (tgtriage/cli/__init__.py hands it to the Inbox). A silence longer than
`max_gap` real seconds (default 10 s) is skipped: the clock jumps to the next message, so a
replay never sits idle through a night or a holiday. The first `start_fraction` of the messages
(default half) are the backlog, there when the desk opens (served by `dialogs()` /
`history()`), and the clock starts at the newest of them; the rest arrive as `NewMessage` /
`MessageEdited` events when the clock reaches them. After each, a `SyncProgress` says the
replay's date and time and how far it is ("Thu 05 Sep 14:03 523/1040" after the source's
name), and at the end that it has finished.

Who is staff. The exporting account (`personal_information.user_id`) is the engineer, so its
messages are `out=True`; `staff` adds teammates. A single-chat export names no account: the
engineer is then a stand-in "You" account that only sends what the engineer types.

Message ids. Telegram numbers a chat's messages in the order they arrive, and the desk relies
on it. The replay keeps the export's ids while it can; a reply the engineer sends takes the next
id in its chat, and a later export message that would collide is renumbered upward (its replies
and edits follow). A retried send with the same `random_id` returns the first message.
Sends, marks as read and reactions are not echoed on the event stream (as with Telethon, the
caller gets the result from the call itself).

Going on later. `resume(stored)` (before `start()`) takes what the desk's store already holds
of an earlier run of the same replay: those messages are the history as they are, the clock
starts where they end, and only what had not arrived yet is played.
"""

from __future__ import annotations

import asyncio
import math
import time
from bisect import bisect_left
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..desk.events import (
    Connection,
    ConnectionState,
    Event,
    MessageEdited,
    NewMessage,
    SyncProgress,
)
from ..desk.models import Message, User
from .base import Dialogs, SendError, SourceTraits
from .export import Export, load_export

DEFAULT_SPEED = 60.0
DEFAULT_START_FRACTION = 0.5
DEFAULT_MAX_GAP = 10.0
TICK = 1.0
"""Real seconds between looks at the clock while waiting, so the status line's time moves."""
STAND_IN_ME_ID = 999_999_999_999
"""The engineer's id when the export does not say whose account it is (single-chat exports)."""

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class _Scheduled:
    """One future event on the replay's timeline: a message arriving or being edited."""

    due: float
    order: int
    edit: bool
    index: int


class ReplayClock:
    """The export's time, running `speed` times as fast as the real clock once started.

    It never passes `limit` (the next message not delivered yet): replay time waits for the
    desk rather than run ahead of what it has been shown.
    """

    def __init__(self, real: Clock, speed: float, export_time: float) -> None:
        """Stand at `export_time` until `start()`."""
        self._real = real
        self.speed = speed
        self._export_at = export_time
        self._real_at: float | None = None
        self.limit: float | None = None

    def __call__(self) -> float:
        """The replay's now, in export Unix seconds."""
        if self._real_at is None:
            return self._export_at
        now = self._export_at + (self._real() - self._real_at) * self.speed
        return now if self.limit is None else min(now, max(self.limit, self._export_at))

    def start(self) -> None:
        """Start running from where it stands."""
        self._real_at = self._real()

    def jump(self, export_time: float) -> None:
        """Go on from `export_time` now (a skipped silence, or a resumed replay)."""
        self._export_at = max(export_time, self())
        if self._real_at is not None:
            self._real_at = self._real()

    def stop(self) -> None:
        """Stand still from now on (the export has ended: nothing happens after it)."""
        self._export_at = self()
        self._real_at = None

    def real_seconds_until(self, export_time: float) -> float:
        """Real seconds until the replay's clock reaches `export_time` (0 if it has)."""
        if self._real_at is None or self.speed <= 0:
            return 0.0
        unlimited = self._export_at + (self._real() - self._real_at) * self.speed
        return max(0.0, (export_time - unlimited) / self.speed)


def when(moment: float) -> str:
    """'Thu 05 Sep 14:03' in local time, as the status line shows the replay's clock."""
    return time.strftime("%a %d %b %H:%M", time.localtime(moment))


class ReplaySource:
    """A ChatSource that replays a Telegram Desktop export on the export's own, faster clock."""

    name = "replay"
    traits = SourceTraits()

    def __init__(
        self,
        export: Export | Path,
        speed: float = DEFAULT_SPEED,
        staff: Iterable[int] = (),
        clock: Clock = time.time,
        sleep: Sleep = asyncio.sleep,
        start_fraction: float = DEFAULT_START_FRACTION,
        max_gap: float = DEFAULT_MAX_GAP,
        me_id: int | None = None,
    ) -> None:
        """Load the export (raising ExportError at once if it is bad) and check the settings."""
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a positive number, not {speed!r}")
        if not 0.0 <= start_fraction <= 1.0:
            raise ValueError(f"start_fraction must be between 0 and 1, not {start_fraction!r}")
        if not (math.isfinite(max_gap) and max_gap > 0):
            raise ValueError(f"max_gap must be a positive number of seconds, not {max_gap!r}")
        self.export = export if isinstance(export, Export) else load_export(export)
        self.speed = speed
        self.start_fraction = start_fraction
        self.max_gap = max_gap
        self._sleep = sleep
        self._me = pick_me(self.export, me_id)
        self._staff = frozenset({self._me.id, *staff})
        self._started = False
        self._stop = asyncio.Event()
        self._stopped = False
        position = {chat.id: n for n, chat in enumerate(self.export.chats)}
        ranked = sorted(
            enumerate(self.export.messages),
            key=lambda pair: (pair[1].date, position.get(pair[1].chat_id, 0), pair[0]),
        )
        self._ordered: list[Message] = [message for _, message in ranked]
        count = len(self._ordered)
        self._split = min(count, int(count * start_fraction))
        self._stored: dict[tuple[int, int, int | None, str], Message] = {}
        self.clock = ReplayClock(clock, speed, self._start_time())
        self._schedule: list[_Scheduled] = []
        self._cursor = 0
        self._total = count + sum(1 for m in self._ordered if m.edit_date is not None)
        self._before = 0
        self._visible: dict[int, list[Message]] = {chat.id: [] for chat in self.export.chats}
        self._visible_ids: dict[int, list[int]] = {chat.id: [] for chat in self.export.chats}
        self._renumbered: dict[tuple[int, int], int] = {}
        self._sent: dict[int, Message] = {}
        self.read_upto: dict[int, int] = {}
        self.reactions: dict[tuple[int, int], str] = {}

    def _start_time(self) -> float:
        """Where the replay's clock starts: the newest backlog message (or the first message)."""
        if not self._ordered:
            return time.time()
        return float(self._ordered[max(0, self._split - 1)].date)

    @property
    def me(self) -> User:
        """The engineer's own account in this replay."""
        return self._me

    @property
    def progress(self) -> tuple[int, int]:
        """How many of the export's messages and edits have arrived, out of how many."""
        return self._before + self._cursor, self._total

    @property
    def finished(self) -> bool:
        """True once every message and edit of the export has been played."""
        return self._started and self._cursor >= len(self._schedule)

    def resume(self, stored: Mapping[int, Sequence[Message]]) -> None:
        """Go on from an earlier run whose messages the desk's store holds (before `start`)."""
        if self._started:
            raise RuntimeError("resume() must come before start()")
        for messages in stored.values():
            for message in messages:
                self._stored[_signature(message)] = message
        if self._stored:
            self.clock.jump(max(m.date for m in self._stored.values()))

    async def start(self) -> User:
        """Lay out the timeline from the clock's start; return the engineer's account."""
        if not self._started:
            self._started = True
            self._build()
            self.clock.start()
            self._hold_at_next()
        return self._me

    async def stop(self) -> None:
        """End the replay; the event stream finishes."""
        self._stopped = True
        self._stop.set()

    async def dialogs(self) -> Dialogs:
        """Every chat in the export, in export order."""
        return Dialogs(self.export.chats)

    async def history(self, chat_id: int, before: int | None, limit: int) -> list[Message]:
        """Up to `limit` already-arrived messages older than id `before`, oldest first."""
        messages = self._visible.get(chat_id)
        if not messages or limit <= 0:
            return []
        ids = self._visible_ids[chat_id]
        end = len(ids) if before is None else bisect_left(ids, before)
        return messages[max(0, end - limit) : end]

    async def send(self, chat_id: int, text: str, reply_to: int | None, random_id: int) -> Message:
        """Deliver the engineer's reply into the replayed chat (once per random_id)."""
        if random_id in self._sent:
            return self._sent[random_id]
        if chat_id not in self._visible:
            raise SendError(f"the replayed export has no chat {chat_id}", permanent=True)
        if self._stopped:
            raise SendError("the replay has stopped")
        await self.start()
        message = Message(
            chat_id=chat_id,
            id=self._next_id(chat_id),
            date=int(self.clock()),
            sender_id=self._me.id,
            sender_name=self._me.name,
            text=text,
            out=True,
            reply_to=reply_to,
        )
        self._append(message)
        self._sent[random_id] = message
        return message

    async def mark_read(self, chat_id: int, upto: int) -> None:
        """Remember how far the engineer has read a chat."""
        self.read_upto[chat_id] = max(upto, self.read_upto.get(chat_id, 0))

    async def react(self, chat_id: int, message_id: int, emoji: str) -> None:
        """Remember the engineer's reaction on a message."""
        if chat_id not in self._visible:
            raise SendError(f"the replayed export has no chat {chat_id}", permanent=True)
        self.reactions[(chat_id, message_id)] = emoji

    def staff_ids(self) -> frozenset[int]:
        """The exporting account plus the teammates given as `staff`."""
        return self._staff

    async def events(self) -> AsyncIterator[Event]:
        """CONNECTED, then each export message and edit when the clock reaches it, until stop()."""
        await self.start()
        yield ConnectionState(
            Connection.CONNECTED,
            detail=f"replay of {self.export.path.name} at {self.speed:g}×",
        )
        yield self._progress()
        while self._cursor < len(self._schedule) and not self._stopped:
            item = self._schedule[self._cursor]
            wait = self.clock.real_seconds_until(item.due)
            left = min(wait, self.max_gap)
            while left > 0:  # the status line's clock ticks on while nothing arrives
                shown = when(self.clock())
                if not await self._pause(min(left, TICK)):
                    return
                left -= TICK
                if left > 0 and when(self.clock()) != shown:
                    yield self._progress()
            if self._stopped:
                return
            if wait > self.max_gap:
                self.clock.jump(item.due)  # a long silence is skipped
            self._cursor += 1
            event = self._deliver(item)
            self._hold_at_next()
            yield event
            if not self._due_now():
                yield self._progress()
        if not self._stopped:
            await self._stop.wait()

    def _hold_at_next(self) -> None:
        """Keep the clock from passing the next message; stop it for good at the log's end."""
        if self.finished:
            self.clock.limit = self._schedule[-1].due if self._schedule else None
            self.clock.stop()  # the log ends here; its last moment stays the replay's now
        else:
            self.clock.limit = self._schedule[self._cursor].due

    def _due_now(self) -> bool:
        """Whether the next scheduled item is due already (its progress line can wait)."""
        return self._cursor < len(self._schedule) and (
            self._schedule[self._cursor].due <= self.clock()
        )

    def _progress(self) -> SyncProgress:
        """The status line's replay part: its date and time, and how far it is (or finished)."""
        done, total = self.progress
        if self.finished:
            return SyncProgress(f"finished · {when(self.clock())}", done, total)
        return SyncProgress(when(self.clock()), done, total)

    async def _pause(self, seconds: float) -> bool:
        """Sleep, waking early if the replay is stopped; False when stopped."""
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        stopper = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, stopper):
                if not task.done():
                    task.cancel()
        return not self._stopped

    def _build(self) -> None:
        """Split the export into what has arrived (backlog or stored) and the schedule."""
        for kept in sorted(self._stored.values(), key=lambda m: (m.chat_id, m.id)):
            self._append(kept)
        start = self.clock()
        schedule: list[_Scheduled] = []
        for index, message in enumerate(self._ordered):
            edit_at = None if message.edit_date is None else max(message.edit_date, message.date)
            stored = self._stored.get(_signature(message))
            arrived = stored is not None or (
                index < self._split if not self._stored else message.date < start
            )
            if arrived:
                if stored is not None:
                    if stored.id != message.id:
                        self._renumbered[(message.chat_id, message.id)] = stored.id
                elif not self._stored:
                    edited = edit_at if edit_at is not None and edit_at <= start else None
                    self._append(self._replayed(message, edit_date=edited))
                was_edited = (stored.edit_date if stored else None) is not None
                if edit_at is not None and edit_at > start and not was_edited:
                    schedule.append(_Scheduled(edit_at, index * 2 + 1, True, index))
            else:
                schedule.append(_Scheduled(message.date, index * 2, False, index))
                if edit_at is not None:
                    schedule.append(_Scheduled(edit_at, index * 2 + 1, True, index))
        schedule.sort(key=lambda item: (item.due, item.order))
        self._schedule = schedule
        self._before = self._total - len(schedule)

    def _replayed(self, message: Message, edit_date: int | None) -> Message:
        """The export message as the replay shows it: its id in the replay, the out flag."""
        chat_id = message.chat_id
        new_id = self._next_id(chat_id, wanted=message.id)
        if new_id != message.id:
            self._renumbered[(chat_id, message.id)] = new_id
        reply_to = message.reply_to
        if reply_to is not None:
            reply_to = self._renumbered.get((chat_id, reply_to), reply_to)
        return message.model_copy(
            update={
                "id": new_id,
                "edit_date": edit_date,
                "reply_to": reply_to,
                "out": message.sender_id is not None and message.sender_id == self._me.id,
            }
        )

    def _deliver(self, item: _Scheduled) -> Event:
        """Make the scheduled item happen (at its export time) and return its event."""
        original = self._ordered[item.index]
        if not item.edit:
            message = self._replayed(original, edit_date=None)
            self._append(message)
            return NewMessage(message, sender=self._sender(message))
        chat_id = original.chat_id
        replay_id = self._renumbered.get((chat_id, original.id), original.id)
        ids = self._visible_ids[chat_id]
        at = bisect_left(ids, replay_id)
        current = self._visible[chat_id][at]
        edited = current.model_copy(update={"edit_date": max(int(item.due), current.date)})
        self._visible[chat_id][at] = edited
        return MessageEdited(edited)

    def _sender(self, message: Message) -> User | None:
        """The sender's User record, if the export knows them."""
        if message.sender_id is None:
            return None
        if message.sender_id == self._me.id:
            return self._me
        return self.export.users.get(message.sender_id)

    def _next_id(self, chat_id: int, wanted: int | None = None) -> int:
        """The id the next message in this chat gets: `wanted` if still free, else one more."""
        ids = self._visible_ids.setdefault(chat_id, [])
        last = ids[-1] if ids else 0
        if wanted is not None and wanted > last:
            return wanted
        return last + 1

    def _append(self, message: Message) -> None:
        """Add an arrived message to its chat's visible history."""
        self._visible.setdefault(message.chat_id, []).append(message)
        self._visible_ids.setdefault(message.chat_id, []).append(message.id)


def pick_me(export: Export, me_id: int | None) -> User:
    """The engineer's account: the given id, the exporting account, or a stand-in."""
    chosen = me_id if me_id is not None else export.me_id
    if chosen is None:
        return User(id=STAND_IN_ME_ID, first_name="You")
    return export.users.get(chosen) or User(id=chosen, first_name="You")


def _signature(message: Message) -> tuple[int, int, int | None, str]:
    """What identifies an export message again in the store: chat, date, sender and text."""
    return (message.chat_id, message.date, message.sender_id, message.text)
