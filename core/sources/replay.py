"""The replay ChatSource: plays a Telegram Desktop export as live, time-compressed traffic.

How time works. All messages of the export, across chats, are put on one timeline in export
order (date, then id). Every gap between two consecutive messages is divided by `speed` (export
seconds per real second, default 60: an hour of history plays in a minute) and capped at
`max_gap` real seconds (default 10 s), so a replay never sits idle through a night or a
holiday. The first `start_fraction` of the messages (default half) are the backlog: they are
already there when the desk opens (served by `dialogs()` / `history()`, dated in the recent
past on the same compressed scale, the newest one "just now"); the rest arrive as `NewMessage`
events at their compressed times, dated when they arrive. Edits (`edited_unixtime`) are placed on
the same timeline: an edit that falls in the backlog is already applied, a later one arrives as
`MessageEdited`. Service messages arrive with `service=True`.

Who is staff. The exporting account (`personal_information.user_id`) is the engineer, so its
messages are `out=True`; `staff` adds teammates. A single-chat export names no account: the
engineer is then a stand-in "You" account that only sends what the engineer types.

Message ids. Telegram numbers a chat's messages in the order they arrive, and the desk relies
on it. The replay keeps the export's ids while it can; a reply the engineer sends takes the next
id in its chat, and a later export message that would collide is renumbered upward (its replies
and edits follow). A retried send with the same `random_id` returns the first message.
Sends, marks as read and reactions are not echoed on the event stream (as with Telethon, the
caller gets the result from the call itself).
"""

from __future__ import annotations

import asyncio
import math
import time
from bisect import bisect_left, bisect_right
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..desk.events import Connection, ConnectionState, Event, MessageEdited, NewMessage
from ..desk.models import Message, User
from .base import Dialogs, SendError, SourceTraits
from .export import Export, load_export

DEFAULT_SPEED = 60.0
DEFAULT_START_FRACTION = 0.5
DEFAULT_MAX_GAP = 10.0
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


def compressed_offsets(dates: list[int], speed: float, max_gap: float) -> list[float]:
    """Real-time offsets of sorted export dates: each gap divided by speed, capped at max_gap."""
    offsets: list[float] = []
    position = 0.0
    previous: int | None = None
    for date in dates:
        if previous is not None:
            position += min(max(date - previous, 0) / speed, max_gap)
        offsets.append(position)
        previous = date
    return offsets


class ReplaySource:
    """A ChatSource that replays a Telegram Desktop export as if it were happening now."""

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
        self._clock = clock
        self._sleep = sleep
        self._me = self._pick_me(me_id)
        self._staff = frozenset({self._me.id, *staff})
        self._started = False
        self._stop = asyncio.Event()
        self._stopped = False
        self._ordered: list[Message] = []
        self._schedule: list[_Scheduled] = []
        self._cursor = 0
        self._visible: dict[int, list[Message]] = {chat.id: [] for chat in self.export.chats}
        self._visible_ids: dict[int, list[int]] = {chat.id: [] for chat in self.export.chats}
        self._renumbered: dict[tuple[int, int], int] = {}
        self._sent: dict[int, Message] = {}
        self.read_upto: dict[int, int] = {}
        self.reactions: dict[tuple[int, int], str] = {}

    def _pick_me(self, me_id: int | None) -> User:
        """The engineer's account: the given id, the exporting account, or a stand-in."""
        chosen = me_id if me_id is not None else self.export.me_id
        if chosen is None:
            return User(id=STAND_IN_ME_ID, first_name="You")
        return self.export.users.get(chosen) or User(id=chosen, first_name="You")

    @property
    def me(self) -> User:
        """The engineer's own account in this replay."""
        return self._me

    @property
    def progress(self) -> tuple[int, int]:
        """How many scheduled events have been delivered, out of how many."""
        return self._cursor, len(self._schedule)

    @property
    def finished(self) -> bool:
        """True once every message and edit of the export has been played."""
        return self._started and self._cursor >= len(self._schedule)

    async def start(self) -> User:
        """Lay out the timeline with the replay starting now; return the engineer's account."""
        if not self._started:
            self._started = True
            self._build(self._clock())
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
            date=int(self._clock()),
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
        """CONNECTED, then each export message and edit at its compressed time, until stop()."""
        await self.start()
        yield ConnectionState(
            Connection.CONNECTED,
            detail=f"replay of {self.export.path.name} at {self.speed:g}×",
        )
        while self._cursor < len(self._schedule) and not self._stopped:
            item = self._schedule[self._cursor]
            wait = item.due - self._clock()
            if wait > 0 and not await self._pause(wait):
                return
            if self._stopped:
                return
            self._cursor += 1
            yield self._deliver(item)
        if not self._stopped:
            await self._stop.wait()

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

    def _build(self, now: float) -> None:
        """Split the export into backlog and schedule, with the backlog ending at `now`."""
        position = {chat.id: n for n, chat in enumerate(self.export.chats)}
        ranked = sorted(
            enumerate(self.export.messages),
            key=lambda pair: (pair[1].date, position.get(pair[1].chat_id, 0), pair[0]),
        )
        self._ordered = [message for _, message in ranked]
        dates = [message.date for message in self._ordered]
        offsets = compressed_offsets(dates, self.speed, self.max_gap)
        count = len(self._ordered)
        split = min(count, int(count * self.start_fraction))
        anchor = offsets[split - 1] if split > 0 else (offsets[0] if offsets else 0.0)

        def real_time(moment: int) -> tuple[float, int]:
            """Real due time of an export moment, and the index of the message at or before it."""
            j = max(0, bisect_right(dates, moment) - 1)  # moment is never before dates[0]
            delta = min((moment - dates[j]) / self.speed, self.max_gap)
            return now + offsets[j] + delta - anchor, j

        schedule: list[_Scheduled] = []
        for index, message in enumerate(self._ordered):
            due = now + offsets[index] - anchor
            edit_due: float | None = None
            edit_rank = index
            if message.edit_date is not None:
                edit_due, edit_rank = real_time(max(message.edit_date, message.date))
                edit_rank = max(edit_rank, index)
            if index < split:
                edited = edit_due is not None and edit_due <= now
                self._append(
                    self._replayed(
                        message,
                        date=math.floor(due),
                        edit_date=math.floor(edit_due) if edited and edit_due is not None else None,
                    )
                )
                if edit_due is not None and not edited:
                    schedule.append(_Scheduled(edit_due, edit_rank * 2 + 1, True, index))
            else:
                schedule.append(_Scheduled(due, index * 2, False, index))
                if edit_due is not None:
                    schedule.append(_Scheduled(max(edit_due, due), edit_rank * 2 + 1, True, index))
        schedule.sort(key=lambda item: (item.due, item.order))
        self._schedule = schedule

    def _replayed(self, message: Message, date: int, edit_date: int | None) -> Message:
        """The export message as the replay shows it: its id in the replay, new dates, out flag."""
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
                "date": date,
                "edit_date": edit_date,
                "reply_to": reply_to,
                "out": message.sender_id is not None and message.sender_id == self._me.id,
            }
        )

    def _deliver(self, item: _Scheduled) -> Event:
        """Make the scheduled item happen now and return its event."""
        original = self._ordered[item.index]
        now = int(self._clock())
        if not item.edit:
            message = self._replayed(original, date=now, edit_date=None)
            self._append(message)
            return NewMessage(message, sender=self._sender(message))
        chat_id = original.chat_id
        replay_id = self._renumbered.get((chat_id, original.id), original.id)
        ids = self._visible_ids[chat_id]
        at = bisect_left(ids, replay_id)
        current = self._visible[chat_id][at]
        edited = current.model_copy(update={"edit_date": max(now, current.date)})
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
