"""Source events into the desk: the store first, then the live state, one batch at a time.

One event that cannot be applied (an id beyond SQLite's range, a broken record) is logged
and counted; every other event of its batch lands.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from ..rules import triage
from ..system.gc_policy import settle_bulk
from . import events as ev
from .changes import Changes
from .events import Connection
from .models import ChatTriage, Message, User
from .writer import StoreDamaged

if TYPE_CHECKING:
    from ..storage.store import Store
    from .inbox import Inbox

log = logging.getLogger(__name__)

RECOMPUTE_WINDOW = 500
YIELD_EVERY = 250
"""New messages folded into the live state between two returns to the event loop."""
_T = TypeVar("_T")


class _Batch:
    """The new messages, edits and senders of a batch collected until they are stored."""

    def __init__(self) -> None:
        """Nothing collected yet."""
        self.new: list[Message] = []
        self.edits: list[Message] = []
        self.users: dict[int, User] = {}
        self.changes = Changes()
        self.recompute: set[int] = set()


class EventApplier:
    """Applies batches of source events to the store and the live state of one Inbox."""

    def __init__(self, inbox: Inbox) -> None:
        """An applier for `inbox`."""
        self._inbox = inbox
        self.failed = 0  # events that could not be applied since start
        self._unsaved: list[Message] = []  # shown, not yet queued for the store

    async def apply(self, events: list[ev.Event]) -> Changes:
        """Apply a batch of events; return what changed.

        Messages surely new (`_surely_new`) are shown without waiting for the store, and
        written with the summaries they changed in one transaction at the end of the batch
        (sooner when a store operation of the batch must see them)."""
        batch = _Batch()
        for event in events:
            try:
                await self._apply_one(event, batch)
            except Exception:
                log.exception("could not apply %r", event)
                self._failed(batch.changes)
        await self._commit(batch)
        inbox = self._inbox
        changes = batch.changes
        for chat_id in batch.recompute:
            if chat_id in inbox.triage:
                await self._recompute(chat_id)
                changes.chats.add(chat_id)
                changes.order = True
        if inbox.open_chat_id in changes.chats and inbox.config.telegram.mark_read == "on_open":
            inbox.read_chat()
        touched = [inbox.triage[c] for c in changes.chats if c in inbox.triage]
        unsaved, self._unsaved = self._unsaved, []
        if touched or unsaved:
            store, windows = inbox.store, inbox.windows

            async def save() -> None:
                try:
                    await store.save_slice(unsaved, touched)
                finally:
                    windows.stored(unsaved)

            inbox.writer.enqueue(save)
        return changes

    def _failed(self, changes: Changes, count: int = 1) -> None:
        """Count events that could not be shown (the status line says how many)."""
        self.failed += count
        changes.status = True

    def _hold(self, event: ev.Event, chat_id: int) -> bool:
        """Keep an event for a chat not known before the chat list is in; True when held."""
        inbox = self._inbox
        if chat_id not in inbox.chats and not inbox.chats_loaded:
            inbox.held.append(event)
            return True
        return False

    async def _apply_one(self, event: ev.Event, batch: _Batch) -> None:
        """Apply one event (messages are collected and stored together)."""
        inbox = self._inbox
        changes = batch.changes
        store = inbox.store
        match event:
            case ev.NewMessage(message=message, sender=sender):
                if self._hold(event, message.chat_id) or message.chat_id not in inbox.chats:
                    return
                batch.new.append(message)
                if sender is not None:
                    batch.users[sender.id] = sender
                elif _unknown_sender(message, inbox.users, batch.users):
                    batch.users[message.sender_id] = _user_from_name(message)  # type: ignore[index]
            case ev.MessageEdited(message=message):
                if self._hold(event, message.chat_id) or message.chat_id not in inbox.chats:
                    return
                batch.edits.append(message)
            case ev.MessagesDeleted(chat_id=chat_id, ids=ids):
                # Store what arrived earlier in this batch first, or it would outlive its deletion.
                await self._commit(batch)
                held: list[tuple[int, int]] = (
                    []  # a deletion naming no chat: what the damaged store held is unknown
                    if chat_id is None
                    else [(chat_id, i) for i in ids if inbox.windows.find(chat_id, i) is not None]
                )
                gone = await self._call(lambda: store.delete_messages(chat_id, list(ids)), held)
                for cid, mid in gone:
                    changes.deleted.setdefault(cid, set()).add(mid)
                    batch.recompute.add(cid)
                for cid, mids in changes.deleted.items():
                    inbox.windows.delete(cid, mids)
            case ev.ReadUpTo(
                chat_id=chat_id, max_id=max_id, outbox=outbox, unread=told, as_of=as_of
            ):
                state = inbox.triage.get(chat_id)
                if state is None:
                    self._hold(event, chat_id)
                    return
                if outbox:
                    if max_id > state.read_outbox_max:
                        inbox.triage[chat_id] = state.model_copy(update={"read_outbox_max": max_id})
                        changes.chats.add(chat_id)
                elif told is not None and await self._counted_by_telegram(chat_id, as_of, batch):
                    state = inbox.triage[chat_id]
                    mark = max(max_id, state.read_inbox_max)
                    inbox.triage[chat_id] = state.model_copy(
                        update={"read_inbox_max": mark, "unread": told}
                    )
                    changes.chats.add(chat_id)
                elif max_id > (state := inbox.triage[chat_id]).read_inbox_max:
                    unread = 0 if max_id >= state.last_msg_id else state.unread
                    inbox.triage[chat_id] = triage.read_upto(state, max_id, unread)
                    changes.chats.add(chat_id)
                    if unread:
                        batch.recompute.add(chat_id)
            case ev.UnreadMarked(chat_id=chat_id, unread=unread):
                state = inbox.triage.get(chat_id)
                if state is None:
                    self._hold(event, chat_id)
                    return
                if state.unread_mark != unread:
                    inbox.triage[chat_id] = state.model_copy(update={"unread_mark": unread})
                    changes.chats.add(chat_id)
            case ev.HistoryCut(chat_id=chat_id, before_id=before_id):
                await self._commit(batch)
                state = inbox.triage.get(chat_id)
                if state is None:
                    self._hold(event, chat_id)
                    return
                inbox.triage[chat_id] = triage.cut_history(state, before_id)
                changes.chats.add(chat_id)
            case ev.ChatUpdated(chat=chat):
                await self._call(lambda: store.upsert_chats([chat]), None)
                if chat.id not in inbox.chats:
                    inbox.read_windows([chat.id])  # before this batch's messages are stored
                inbox.chats[chat.id] = chat
                inbox.forget_targets(chat.id)  # the title may match other targets
                inbox.triage.setdefault(chat.id, ChatTriage(chat_id=chat.id))
                changes.chats.add(chat.id)
                changes.order = True
            case ev.ChatRemoved(chat_id=removed):
                await self._commit(batch)
                await self._call(lambda: store.remove_chat(removed), None)
                inbox.forget_chat(removed, changes)
            case ev.Typing(chat_id=chat_id, user_id=user_id, until=until):
                inbox.typing.setdefault(chat_id, {})[user_id] = until
                changes.chats.add(chat_id)
            case ev.ReactionChanged(chat_id=chat_id, message_id=message_id):
                if self._reaction_handles(event):
                    # The reacted message may have arrived earlier in this very batch.
                    await self._commit(batch)
                    state = inbox.triage[chat_id]
                    inbox.triage[chat_id] = triage.handled_through(state, message_id)
                    batch.recompute.add(chat_id)
            case ev.ConnectionState(state=state, detail=detail, retry_in=retry_in):
                inbox.connection, inbox.connection_detail = state, detail
                inbox.connection_retry_at = None if retry_in is None else inbox.clock() + retry_in
                if state is Connection.CONNECTED:
                    inbox.flood_until = None
                    if inbox.running:
                        inbox.spawn(inbox.outgoing.resume())
                        inbox.spawn(inbox.team.refresh_members())
                        inbox.spawn(inbox.team.line.flush())
                changes.status = True
            case ev.FloodWait(until=until):
                inbox.flood_until = until
                changes.status = True
            case ev.SyncProgress():
                inbox.sync = None if event.done else event
                changes.status = True
            case ev.CatchingUp(active=active):
                await self._commit(batch)  # what arrived before the mark belongs before it
                if active:
                    inbox.catch_up.begin(inbox.now())
                else:
                    inbox.catch_up.end()

    async def _store_new(self, messages: list[Message], changes: Changes) -> list[Message]:
        """Store new messages; return those not stored before. When the batch cannot be
        stored, each message is tried alone and the ones that fail are counted."""
        store, windows = self._inbox.store, self._inbox.windows
        try:
            return await self._stored(lambda: store.add_messages(messages))
        except StoreDamaged:  # the desk goes on from memory: new are those its windows lack
            return [m for m in messages if windows.find(m.chat_id, m.id) is None]
        except Exception:
            log.exception("could not store %d messages; storing them one by one", len(messages))
        fresh: list[Message] = []
        for message in messages:
            try:
                fresh += await self._stored(_adding(store, message))
            except StoreDamaged:
                fresh.append(message)
            except Exception:
                log.exception("could not store message %s of chat %s", message.id, message.chat_id)
                self._failed(changes)
        return fresh

    async def _counted_by_telegram(self, chat_id: int, as_of: int | None, batch: _Batch) -> bool:
        """Store the batch so far; whether Telegram's unread count is as new as what the desk holds.

        A count taken before a message the desk already shows (`as_of` below the chat's newest)
        would hide that message's unread mark until the next reconcile round corrects it.
        """
        await self._commit(batch)  # the count covers the messages earlier in this batch
        return as_of is None or self._inbox.triage[chat_id].last_msg_id <= as_of

    async def _commit(self, batch: _Batch) -> None:
        """Store and apply the new messages, edits and senders collected so far, then forget them."""
        inbox = self._inbox
        store = inbox.store
        changes = batch.changes
        new, edits, users = list(batch.new), list(batch.edits), dict(batch.users)
        batch.new.clear()
        batch.edits.clear()
        batch.users.clear()
        if users:
            senders = list(users.values())
            inbox.writer.enqueue(lambda: store.upsert_users(senders))
            inbox.users.update(users)
        if new:
            fresh, unsure = self._surely_new(new)
            self._unsaved += fresh
            inbox.windows.unstored(fresh)
            if unsure:
                fresh += await self._store_new(unsure, changes)
            fresh.sort(key=lambda m: (m.chat_id, m.id))
            inbox.windows.add(fresh)
            catch_up = inbox.catch_up
            for count, message in enumerate(fresh, 1):
                if count % YIELD_EVERY == 0:
                    if catch_up.active:
                        settle_bulk()
                    await asyncio.sleep(0)  # a frame may paint: thousands land in a catch-up
                state = inbox.triage[message.chat_id]
                if catch_up.active:
                    catch_up.note(state)
                if message.id > state.last_msg_id:
                    inbox.triage[message.chat_id] = triage.apply_message(
                        state, message, inbox.rule.role(message)
                    )
                else:
                    batch.recompute.add(message.chat_id)
                inbox.drop_typing(message)
                changes.messages.setdefault(message.chat_id, []).append(message)
                changes.chats.add(message.chat_id)
            if fresh:
                changes.order = True
        if edits:
            try:
                await self._call(lambda: store.update_messages(edits), None)
            except Exception:
                log.exception("could not store %d edits", len(edits))
                self._failed(changes, len(edits))
                return
            inbox.windows.edit(edits)
            for message in edits:
                changes.messages.setdefault(message.chat_id, []).append(message)
                state = inbox.triage[message.chat_id]
                if message.id == state.last_msg_id:
                    inbox.triage[message.chat_id] = state.model_copy(
                        update={"last_preview": triage.preview_of(message)}
                    )
                    changes.chats.add(message.chat_id)

    def _reaction_handles(self, event: ev.ReactionChanged) -> bool:
        """A staff emoji reaction that counts as 'handled' (when the config says so)."""
        inbox = self._inbox
        if not inbox.config.staff.reaction_handled or not event.emoji:
            return False
        state = inbox.triage.get(event.chat_id)
        if state is None or event.message_id <= state.handled_upto:
            return False
        rule = inbox.rule
        return event.user_id == rule.me_id or event.user_id in rule.staff_ids

    async def older_history_loaded(
        self, chat_id: int, older: list[Message], *, complete: bool
    ) -> None:
        """Older messages arrived: lower the chat's history cut and recompute its wait."""
        inbox = self._inbox
        state = inbox.triage.get(chat_id)
        if state is None or (not older and not complete):
            return
        cut = 0 if complete or not state.history_cut else min(state.history_cut, older[0].id)
        inbox.triage[chat_id] = triage.cut_history(state, cut)
        await self._recompute(chat_id)
        touched = inbox.triage[chat_id]
        store = inbox.store
        inbox.writer.enqueue(lambda: store.save_triage([touched]))
        inbox.emit(Changes(chats={chat_id}, order=True))

    async def recompute(self, chat_id: int) -> None:
        """Re-derive one chat's summary (the staff rule changed), and store it next."""
        inbox = self._inbox
        if chat_id not in inbox.triage:
            return
        await self._recompute(chat_id)
        state, store = inbox.triage[chat_id], inbox.store
        inbox.writer.enqueue(lambda: store.save_triage([state]))

    async def _call(self, operation: Callable[[], Awaitable[_T]], memory: _T) -> _T:
        """The store operation's result in turn with the queued writes, or what memory holds
        (`memory`) once the store is damaged (core/desk/damage.py)."""
        try:
            return await self._stored(operation)
        except StoreDamaged:
            return memory

    async def _stored(self, operation: Callable[[], Awaitable[_T]]) -> _T:
        """The store operation's result in turn with the queued writes (the wait for it is not
        counted as this slice's work: core/desk/slices.py)."""
        self._queue_unsaved()  # what the batch showed so far is stored before it runs
        return await self._inbox.slices.waiting(self._inbox.writer.call(operation))

    def _queue_unsaved(self) -> None:
        """Queue the store write of the messages shown but not yet queued."""
        unsaved, self._unsaved = self._unsaved, []
        if unsaved:
            store, windows = self._inbox.store, self._inbox.windows

            async def add() -> None:
                try:
                    await store.add_messages(unsaved)
                finally:
                    windows.stored(unsaved)

            self._inbox.writer.enqueue(add)

    def _surely_new(self, messages: list[Message]) -> tuple[list[Message], list[Message]]:
        """Split messages into those the store cannot hold yet (newer than everything their
        chat's summary counted, each once, ids SQLite can store) and the rest, which the
        store must judge (a reconnect's repeats, older history)."""
        summaries = self._inbox.triage
        newest: dict[int, int] = {}
        seen: set[tuple[int, int]] = set()
        sure: list[Message] = []
        unsure: list[Message] = []
        for message in messages:
            key = (message.chat_id, message.id)
            if key in seen:
                continue
            seen.add(key)
            top = newest.get(message.chat_id)
            if top is None:
                top = summaries[message.chat_id].last_msg_id
            if message.id > top and _storable(message):
                sure.append(message)
                newest[message.chat_id] = message.id
            else:
                unsure.append(message)
        return sure, unsure

    async def _recompute(self, chat_id: int) -> None:
        """Re-derive one chat's summary from its recent messages in the store."""
        inbox = self._inbox
        store = inbox.store
        messages = await self._call(
            lambda: store.messages(chat_id, limit=RECOMPUTE_WINDOW),
            inbox.windows.recent(chat_id, RECOMPUTE_WINDOW),
        )
        # Messages this desk showed meanwhile may not be written yet (a slice is stored behind
        # the screen): the summary is derived from what the store will hold.
        messages = inbox.windows.with_unstored(chat_id, messages)
        inbox.triage[chat_id] = triage.derive(inbox.triage[chat_id], messages, inbox.rule)


_SQLITE_INT = range(-(2**63), 2**63)


def _storable(message: Message) -> bool:
    """Whether every number of a message fits SQLite's 64-bit integers."""
    numbers = (
        message.chat_id,
        message.id,
        message.date,
        message.sender_id,
        message.reply_to,
        message.edit_date,
        message.topic_id,
    )
    return all(n is None or n in _SQLITE_INT for n in numbers)


def _adding(store: Store, message: Message) -> Callable[[], Awaitable[list[Message]]]:
    """The store write of one message alone."""
    return lambda: store.add_messages([message])


def _unknown_sender(message: Message, known: dict[int, User], pending: dict[int, User]) -> bool:
    """A named sender the desk has no account record for yet."""
    sid = message.sender_id
    return sid is not None and bool(message.sender_name) and sid not in known and sid not in pending


def _user_from_name(message: Message) -> User:
    """An account record from the name a message carries (sources without user objects)."""
    first, _, last = message.sender_name.strip().partition(" ")
    return User(id=message.sender_id or 0, first_name=first, last_name=last)
