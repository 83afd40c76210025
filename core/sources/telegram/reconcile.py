"""The reconciler: makes what the desk holds converge to what Telegram holds, whatever was lost.

One round, for the chats it is given (the open chat, the working set, every waiting chat):

1. `messages.GetPeerDialogs` in batches of at most 100 peers gives each chat's top message,
   read marks, unread count and (for channels) pts; one `updates.GetState` gives the account
   pts that counts the events of private chats and basic groups.
2. A chat whose top message is newer than the newest the desk holds gets what is missing
   (`messages.GetHistory` since that id) as `NewMessage` events.
3. A chat whose pts moved since it was last verified (a channel's own pts, or the account's
   for the others) gets a deep check: its newest window (`GetHistory`) is compared with what
   the desk holds — missing ids become `NewMessage`, a different `edit_date` `MessageEdited`,
   held ids absent from the window's range `MessagesDeleted` — and held messages older than
   the window go to `GetMessages` by id (`channels.GetMessages` for channels), where
   `MessageEmpty` means deleted. Live updates that arrive without a gap advance the verified
   pts (`note_pts`), so in a calm desk no deep check is needed.
4. Read marks and the unread count that differ become `ReadUpTo` events (with the dialog's
   unread count, which is the truth even when the desk only fetched part of the history); a
   dialog's unread mark that differs becomes `UnreadMarked`.

A FloodWait is emitted, waited out and the same request sent again; a round that a network
error interrupts keeps its remaining chats and the next round starts with them, so a round is
never restarted from the beginning. Telethon is imported only inside the methods.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...desk.events import (
    Event,
    FloodWait,
    MessageEdited,
    MessagesDeleted,
    NewMessage,
    ReadUpTo,
    UnreadMarked,
)
from ...desk.models import Message, User

log = logging.getLogger(__name__)

PEERS_PER_REQUEST = 100
IDS_PER_REQUEST = 100
WINDOW = 50
"""How many of each chat's newest messages a deep check compares (the desk keeps 50 in memory)."""
HISTORY_PAGES = 10
WORKERS = 3
"""How many chats a round checks at once."""
CHANNEL_FLOOR = -1_000_000_000_000

Call = Callable[[Any, str], Awaitable[Any]]
"""Send one raw request (`what` names it for the log and a FloodWait countdown)."""
PeerOf = Callable[[int], Awaitable[Any]]
"""The InputPeer of a chat, or None when it cannot be resolved."""
Convert = Callable[[int, Any, Mapping[int, Any]], tuple[Message, User | None]]
"""A raw TL message of a chat (with the response's entities) as a desk Message and its sender."""


@dataclass(frozen=True, slots=True)
class Held:
    """What the desk holds of one chat: its newest messages' edit dates and its read state."""

    messages: Mapping[int, int | None] = field(default_factory=dict)
    read_inbox_max: int = 0
    read_outbox_max: int = 0
    unread: int = 0
    unread_mark: bool = False


HeldOf = Callable[[int], Held]


@dataclass(slots=True)
class RoundReport:
    """What one round did."""

    chats: int = 0
    requests: int = 0
    new: int = 0
    edited: int = 0
    deleted: int = 0
    reads: int = 0
    deep_checks: int = 0
    complete: bool = False


@dataclass(slots=True)
class _Dialog:
    """The parts of a Telegram dialog the reconciler compares."""

    top: int
    read_inbox: int
    read_outbox: int
    unread: int
    pts: int | None
    unread_mark: bool = False


class Reconciler:
    """Compares the desk with Telegram for a set of chats and emits what differs (see module)."""

    def __init__(
        self,
        *,
        call: Call,
        peer_of: PeerOf,
        convert: Convert,
        held: HeldOf,
        emit: Callable[[Event], None],
        sleep: Callable[[float], Awaitable[None]],
        clock: Callable[[], float] = time.time,
        window: int = WINDOW,
        workers: int = WORKERS,
    ) -> None:
        """A reconciler over these functions of the source and the desk."""
        self._call = call
        self._peer_of = peer_of
        self._convert = convert
        self._held = held
        self._emit = emit
        self._sleep = sleep
        self._clock = clock
        self._window = window
        self._workers = max(1, workers)
        self._pending: dict[int, None] = {}
        self._dialogs: dict[int, _Dialog] = {}
        self._round_account_pts: int | None = None
        self.verified_pts: dict[int, int] = {}
        """Per channel, the pts up to which the desk is known to match Telegram."""
        self.verified_account_pts: int | None = None
        self.requests = 0
        self.rounds = 0

    # ------------------------------------------------------------------ live updates

    def note_pts(self, chat_id: int | None, pts: int | None, pts_count: int | None) -> None:
        """A live update was applied: advance the verified pts when it follows without a gap."""
        if pts is None:
            return
        count = pts_count or 0
        if chat_id is not None and chat_id < CHANNEL_FLOOR:
            if self.verified_pts.get(chat_id) == pts - count:
                self.verified_pts[chat_id] = pts
        elif self.verified_account_pts == pts - count:
            self.verified_account_pts = pts

    # ------------------------------------------------------------------ a round

    @property
    def pending(self) -> list[int]:
        """Chats of an interrupted round still to check, in order."""
        return list(self._pending)

    async def run(self, chat_ids: Iterable[int]) -> RoundReport:
        """One round over the pending chats, then `chat_ids`; raises what interrupts it."""
        for chat_id in chat_ids:
            self._pending.setdefault(chat_id, None)
        report = RoundReport(chats=len(self._pending))
        before = self.requests
        try:
            await self._load_dialogs(report)
            await self._check_pending(report)
            if self._round_account_pts is not None:
                self.verified_account_pts = self._round_account_pts
                self._round_account_pts = None
            report.complete = True
            self.rounds += 1
        except BaseException:
            # The chat states fetched for this round grow stale while it waits to resume: the
            # next round asks for them again rather than judging the chats by old ones.
            self._dialogs.clear()
            self._round_account_pts = None
            raise
        finally:
            report.requests = self.requests - before
        return report

    async def _check_pending(self, report: RoundReport) -> None:
        """Check the pending chats in order, `workers` at once; a failure stops them all and
        leaves the unchecked chats pending."""
        queue = list(self._pending)

        async def work() -> None:
            while queue:
                chat_id = queue.pop(0)
                dialog = self._dialogs.get(chat_id)
                if dialog is not None:
                    await self._check(chat_id, dialog, report)
                self._pending.pop(chat_id, None)
                self._dialogs.pop(chat_id, None)

        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self._workers, len(queue))):
                    group.create_task(work())
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None

    def vouch(self, chat_id: int, pts: int) -> None:
        """The desk was just handed a channel's newest messages as of `pts` (a catch-up's
        shortcut, core/sources/telegram/channel_catch_up.py): no deep check at that pts."""
        self.verified_pts[chat_id] = pts

    async def _request(self, request: Any, what: str) -> Any:
        """Send a request; a FloodWait is shown, waited out and the same request sent again."""
        from telethon import errors

        while True:
            self.requests += 1
            try:
                return await self._call(request, what)
            except (errors.FloodWaitError, errors.FloodPremiumWaitError) as exc:
                seconds = max(1, int(exc.seconds))
                self._emit(FloodWait(seconds, int(self._clock()) + seconds, what))
                log.info("reconcile: flood wait of %d s during %s", seconds, what)
                await self._sleep(seconds)

    async def _load_dialogs(self, report: RoundReport) -> None:
        """Fetch the dialogs of pending chats not fetched yet (batches of 100) and the state."""
        from telethon.tl import functions, types

        from .convert import marked_id

        wanted = [c for c in self._pending if c not in self._dialogs]
        peers: list[tuple[int, Any]] = []
        for chat_id in wanted:
            peer = await self._peer_of(chat_id)
            if peer is None:
                self._pending.pop(chat_id, None)
            else:
                peers.append((chat_id, peer))
        for start in range(0, len(peers), PEERS_PER_REQUEST):
            batch = peers[start : start + PEERS_PER_REQUEST]
            request = functions.messages.GetPeerDialogsRequest(
                peers=[types.InputDialogPeer(peer=peer) for _, peer in batch]
            )
            result = await self._request(request, "reconcile: chat states")
            for dialog in result.dialogs:
                if isinstance(dialog, types.Dialog):
                    self._dialogs[marked_id(dialog.peer)] = _Dialog(
                        top=dialog.top_message,
                        read_inbox=dialog.read_inbox_max_id,
                        read_outbox=dialog.read_outbox_max_id,
                        unread=dialog.unread_count,
                        pts=dialog.pts,
                        unread_mark=bool(dialog.unread_mark),
                    )
            if start == 0 and self._round_account_pts is None:
                self._round_account_pts = result.state.pts

    def _needs_deep_check(self, chat_id: int, dialog: _Dialog, newest: int) -> bool:
        """Whether edits or deletions may have been missed in this chat."""
        if dialog.top < newest:
            return True  # the desk's newest message is gone
        if chat_id < CHANNEL_FLOOR:
            return dialog.pts is None or self.verified_pts.get(chat_id) != dialog.pts
        return self.verified_account_pts != self._round_account_pts

    async def _check(self, chat_id: int, dialog: _Dialog, report: RoundReport) -> None:
        """Bring one chat in line with its dialog."""
        held = self._held(chat_id)
        newest = max(held.messages, default=0)
        if self._needs_deep_check(chat_id, dialog, newest):
            report.deep_checks += 1
            await self._compare_window(chat_id, held.messages, newest, report)
            if dialog.pts is not None:
                self.verified_pts[chat_id] = dialog.pts
        elif dialog.top > newest:
            await self._fetch_newer(chat_id, newest, report)
        if dialog.read_inbox > held.read_inbox_max or dialog.unread != held.unread:
            report.reads += 1
            self._emit(
                ReadUpTo(
                    chat_id,
                    max(dialog.read_inbox, held.read_inbox_max),
                    unread=dialog.unread,
                    as_of=dialog.top,
                )
            )
        if dialog.read_outbox > held.read_outbox_max:
            report.reads += 1
            self._emit(ReadUpTo(chat_id, dialog.read_outbox, outbox=True))
        if dialog.unread_mark != held.unread_mark:  # marked or cleared on another device
            report.reads += 1
            self._emit(UnreadMarked(chat_id, dialog.unread_mark))

    async def _compare_window(
        self, chat_id: int, held: Mapping[int, int | None], newest: int, report: RoundReport
    ) -> None:
        """Compare the chat's newest window with what the desk holds: holes, edits, deletions.

        Held messages older than the window are asked for by id (`MessageEmpty` = deleted).
        """
        from telethon.tl import functions

        from .convert import entity_map, unix

        request = functions.messages.GetHistoryRequest(
            peer=await self._peer_of(chat_id),
            offset_id=0,
            offset_date=None,
            add_offset=0,
            limit=self._window,
            max_id=0,
            min_id=0,
            hash=0,
        )
        result = await self._request(request, "reconcile: latest messages")
        entities = entity_map(result.users, result.chats)
        fetched = {m.id: m for m in result.messages if hasattr(m, "peer_id")}
        whole = len(result.messages) < self._window
        low = 0 if whole or not fetched else min(fetched)
        if low > newest and newest:
            await self._fetch_newer(chat_id, newest, report, below=low)
        for message_id in sorted(fetched):
            msg = fetched[message_id]
            if message_id not in held:
                message, sender = self._convert(chat_id, msg, entities)
                report.new += 1
                self._emit(NewMessage(message, sender))
            elif unix(getattr(msg, "edit_date", None)) != held[message_id]:
                message, _ = self._convert(chat_id, msg, entities)
                report.edited += 1
                self._emit(MessageEdited(message))
        gone = tuple(sorted(i for i in held if i >= low and i not in fetched))
        if gone:
            report.deleted += len(gone)
            self._emit(MessagesDeleted(chat_id, gone))
        older = sorted(i for i in held if i < low)
        if older:
            await self._verify(chat_id, older, held, report)

    async def _fetch_newer(
        self, chat_id: int, newest: int, report: RoundReport, *, below: int = 0
    ) -> set[int]:
        """Emit the chat's messages newer than `newest` (and older than `below`, when given).

        A chat the desk held nothing of gets its newest window.
        """
        from telethon.tl import functions

        from .convert import entity_map

        peer = await self._peer_of(chat_id)
        pairs: dict[int, tuple[Message, User | None]] = {}
        offset = 0
        for page in range(HISTORY_PAGES):
            request = functions.messages.GetHistoryRequest(
                peer=peer,
                offset_id=offset or below,
                offset_date=None,
                add_offset=0,
                limit=100,
                max_id=0,
                min_id=newest,
                hash=0,
            )
            result = await self._request(request, f"reconcile: history page {page + 1}")
            entities = entity_map(result.users, result.chats)
            batch = [m for m in result.messages if hasattr(m, "peer_id") and m.id > newest]
            for msg in batch:
                pairs[msg.id] = self._convert(chat_id, msg, entities)
            if len(result.messages) < 100 or not batch or (newest == 0 and len(pairs) >= 100):
                break
            offset = min(m.id for m in batch)
        for message_id in sorted(pairs):
            message, sender = pairs[message_id]
            self._emit(NewMessage(message, sender))
        report.new += len(pairs)
        return set(pairs)

    async def _verify(
        self,
        chat_id: int,
        ids: list[int],
        held: Mapping[int, int | None],
        report: RoundReport,
    ) -> None:
        """Ask for held messages by id: deleted ones and changed edit dates become events."""
        from telethon import utils
        from telethon.tl import functions, types

        from .convert import entity_map, unix

        peer = await self._peer_of(chat_id)
        for start in range(0, len(ids), IDS_PER_REQUEST):
            chunk = ids[start : start + IDS_PER_REQUEST]
            wanted = [types.InputMessageID(id=i) for i in chunk]
            request: Any
            if chat_id < CHANNEL_FLOOR:
                request = functions.channels.GetMessagesRequest(
                    channel=utils.get_input_channel(peer), id=wanted
                )
            else:
                request = functions.messages.GetMessagesRequest(id=wanted)
            result = await self._request(request, "reconcile: messages by id")
            entities = entity_map(result.users, result.chats)
            answered = {m.id: m for m in result.messages}
            gone = tuple(
                i
                for i in chunk
                if answered.get(i) is None or isinstance(answered[i], types.MessageEmpty)
            )
            if gone:
                report.deleted += len(gone)
                self._emit(MessagesDeleted(chat_id, gone))
            for message_id in chunk:
                msg = answered.get(message_id)
                if msg is None or isinstance(msg, types.MessageEmpty):
                    continue
                if unix(getattr(msg, "edit_date", None)) != held.get(message_id):
                    message, _ = self._convert(chat_id, msg, entities)
                    report.edited += 1
                    self._emit(MessageEdited(message))
