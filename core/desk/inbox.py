"""The Inbox owns the desk's live state: it applies source events and the engineer's actions.

Events are drained in batches: one store transaction and one change notification per batch,
and notifications are spaced at least one frame apart however fast events arrive. Only the
chats an event touches are recomputed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from bisect import bisect_left
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..reports.report import ReportStaff
from ..rules import forum, triage, views
from ..rules.targets import config_targets
from ..sources.base import ChatSource, SendError
from ..storage.search import MessageSearch
from ..storage.store import Note, Store
from ..system.config import Config
from . import events as ev
from .events import Connection
from .models import (
    Chat,
    ChatTriage,
    Message,
    OutboxItem,
    OutboxState,
    Status,
    User,
)

log = logging.getLogger(__name__)

SLOTS = 10
RECOMPUTE_WINDOW = 500
BATCH = 1000


@dataclass
class Changes:
    """What one batch changed, so the screen repaints only that."""

    chats: set[int] = field(default_factory=set)
    messages: dict[int, list[Message]] = field(default_factory=dict)
    deleted: dict[int, set[int]] = field(default_factory=dict)
    outbox: set[int] = field(default_factory=set)
    order: bool = False
    status: bool = False
    slots: bool = False
    notices: list[str] = field(default_factory=list)

    def merge(self, other: Changes) -> None:
        """Fold `other` into this one."""
        self.chats |= other.chats
        for chat_id, msgs in other.messages.items():
            self.messages.setdefault(chat_id, []).extend(msgs)
        for chat_id, ids in other.deleted.items():
            self.deleted.setdefault(chat_id, set()).update(ids)
        self.outbox |= other.outbox
        self.order |= other.order
        self.status |= other.status
        self.slots |= other.slots
        self.notices.extend(other.notices)

    def __bool__(self) -> bool:
        return bool(
            self.chats
            or self.messages
            or self.deleted
            or self.outbox
            or self.order
            or self.status
            or self.slots
            or self.notices
        )


Listener = Callable[[Changes], None]
Write = Callable[[], Awaitable[object]]
_K = TypeVar("_K")
_V = TypeVar("_V")


_PATCH_AT_MOST = 16  # changed summaries re-placed one by one; more, and the order is sorted anew
_MANY = object()  # in a _Tracked change log: a change of more than one key at once
_LOG_KEEP = 256  # changes a _Tracked remembers by key


class _Tracked(dict[_K, _V]):
    """A dict that counts its changes, so a result computed from it can be reused until then,
    and remembers which keys its recent changes touched, so that result can be patched."""

    version = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """A tracked dict with an empty change log."""
        super().__init__(*args, **kwargs)
        self._log: list[object] = []  # the key changed at each version after _log_base
        self._log_base = 0

    def changed_since(self, version: int) -> set[_K] | None:
        """The keys changed after `version`, or None when that is not known any more."""
        if version < self._log_base or version > self.version:
            return None
        changes = self._log[version - self._log_base :]
        if _MANY in changes:
            return None
        return set(changes)  # type: ignore[arg-type]

    def _count(self, key: object) -> None:
        """Count a change of `key` (or of many, `_MANY`)."""
        self.version += 1
        log = self._log
        log.append(key)
        if len(log) > 2 * _LOG_KEEP:
            del log[:_LOG_KEEP]
            self._log_base += _LOG_KEEP

    def __setitem__(self, key: _K, value: _V) -> None:
        """Set, and count the change."""
        self._count(key)
        super().__setitem__(key, value)

    def __delitem__(self, key: _K) -> None:
        """Delete, and count the change."""
        self._count(key)
        super().__delitem__(key)

    def pop(self, key: _K, *default: Any) -> Any:
        """Pop, and count the change."""
        self._count(key)
        return super().pop(key, *default)

    def popitem(self) -> tuple[_K, _V]:
        """Pop an item, and count the change."""
        self._count(_MANY)
        return super().popitem()

    def setdefault(self, key: _K, default: Any = None) -> Any:
        """Setdefault, and count the change."""
        self._count(key)
        return super().setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Update, and count the change."""
        self._count(_MANY)
        super().update(*args, **kwargs)

    def clear(self) -> None:
        """Clear, and count the change."""
        self._count(_MANY)
        super().clear()


class Inbox:
    """Live state of the desk over one source and one store."""

    def __init__(
        self,
        store: Store,
        source: ChatSource,
        config: Config,
        *,
        clock: Callable[[], float] = time.time,
        frame: float = 1 / 60,
        elapsed: triage.ElapsedFn | None = None,
        story_clock: Callable[[], float] | None = None,
    ) -> None:
        # `clock` paces frames; `story_clock` (a source's own time, e.g. a replay's: see
        # SourceClock in core/sources/base.py) is the desk's "now" for waits, levels and alerts.
        self.store = store
        self.source = source
        self.config = config
        self.clock = clock
        self.story_clock = story_clock or clock
        self.frame = frame
        self.elapsed: triage.ElapsedFn = elapsed or _elapsed_for(config)
        self.thresholds = config.levels.seconds()
        self.me: User | None = None
        self.chats: dict[int, Chat] = _Tracked()
        self.triage: dict[int, ChatTriage] = _Tracked()
        self._order: tuple[tuple[Any, ...], tuple[tuple[int, Any], ...], list[int]] | None = None
        self._order_checked_at = 0
        self._order_keys: list[tuple[int, int, int, int]] = []
        self._order_valid_until = 0
        self._writes: deque[tuple[Hashable, Write]] = deque()
        self._writer: asyncio.Future[None] | None = None
        self.users: dict[int, User] = {}
        self.slots: dict[int, int] = {}
        self.drafts: dict[int, str] = {}
        self.outbox: dict[int, list[OutboxItem]] = {}
        self.typing: dict[int, dict[int, int]] = {}
        self.tags: dict[int, set[str]] = {}
        self.notes: dict[int, list[Note]] = {}
        self.view: views.View = views.ALL
        self._config_targets: dict[int, triage.Targets | None] = {}
        self.connection = Connection.CONNECTING
        self.connection_detail = ""
        self.connection_retry_at: float | None = None  # when an offline source tries again
        self.flood_until: int | None = None
        self.sync: ev.SyncProgress | None = None
        self.open_chat_id: int | None = None
        self._rule = triage.StaffRule(me_id=0)
        self._listeners: list[Listener] = []
        self._queue: list[ev.Event] = []
        self._wake = asyncio.Event()
        self._pending = Changes()
        self._last_emit = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight: set[int] = set()  # outbox local ids being sent right now
        self._running = False
        self.batches = 0
        self._chats_loaded = False  # until start() has the source's chat list
        self._held: list[ev.Event] = []  # events for chats not known before that

    # ----------------------------------------------------------------- lifecycle

    def subscribe(self, listener: Listener) -> None:
        """Call `listener` with the changes of each batch (at most once per frame)."""
        self._listeners.append(listener)

    async def load_cached(self) -> None:
        """Fill the live state from the store alone (the fast path to the first paint)."""
        self.chats = _Tracked({chat.id: chat for chat in await self.store.all_chats()})
        self.triage = _Tracked(await self.store.load_triage())
        for chat_id in self.chats:
            self.triage.setdefault(chat_id, ChatTriage(chat_id=chat_id))
        self.users = await self.store.users()
        self.slots = await self.store.slots()
        self.drafts = await self.store.drafts()
        self.tags = await self.store.tags()
        self.notes = await self.store.all_notes()
        self.outbox = {}
        for item in await self.store.outbox_items(
            states={OutboxState.PENDING, OutboxState.SENDING, OutboxState.FAILED}
        ):
            self.outbox.setdefault(item.chat_id, []).append(item)
        me_id = await self.store.get_meta("me_id")
        if me_id:
            self._set_rule(int(me_id))

    async def start(self) -> None:
        """Start the source, load its chats, resume unsent replies, then follow its events.

        A source with `events_before_start` is followed from the first moment (its connecting,
        offline and flood-wait states show while it connects, logs in and pages its chat
        list); message events for chats not known yet are held until the chat list is in.
        A source with `dialogs_complete` set vouches for its list: cached chats missing from
        it (left, or no longer selected by the config) are removed.
        """
        self._running = True
        self._spawn(self._flush_loop())
        early = bool(getattr(self.source, "events_before_start", False))
        if early:
            self._spawn(self._pump())
        self.me = await self.source.start()
        self._set_rule(self.me.id)
        self.users[self.me.id] = self.me
        await self.store.upsert_users([self.me])
        await self.store.set_meta("me_id", str(self.me.id))
        # Teammates the source knows (demo, replay --staff) are staff for `tgtriage report` too.
        await self._store_staff()
        chats = await self.source.dialogs()
        changes = Changes(order=True, status=True)
        for chat in chats:
            self.chats[chat.id] = chat
            self.triage.setdefault(chat.id, ChatTriage(chat_id=chat.id))
            changes.chats.add(chat.id)
        await self.store.upsert_chats(chats)
        self._chats_loaded = True
        held, self._held = self._held, []
        for event in held:
            self.submit(event)
        if getattr(self.source, "dialogs_complete", False):
            listed = {chat.id for chat in chats}
            for chat_id in [c for c in self.chats if c not in listed]:
                self.submit(ev.ChatRemoved(chat_id))
        self._emit(changes)
        if not getattr(self.source, "backfills_itself", False):
            await self._backfill(chats)
        if not early:
            self._spawn(self._pump())
        for items in list(self.outbox.values()):
            for item in items:
                if item.state in (OutboxState.PENDING, OutboxState.SENDING):
                    self._spawn(self._deliver(item))

    async def _backfill(self, chats: list[Chat]) -> None:
        """Queue each chat's recent history (sources that do not push their backlog as events)."""
        limit = max(1, self.config.telegram.history_limit)
        for chat in chats:
            try:
                messages = await self.source.history(chat.id, None, limit)
            except Exception as exc:
                log.warning("history of %s unavailable: %s", chat.id, exc)
                continue
            for message in messages:
                self.submit(ev.NewMessage(message))

    async def stop(self) -> None:
        """Stop following events and close the source (drafts are stored as they are typed)."""
        self._running = False
        with contextlib.suppress(Exception):
            await self.source.stop()
        await self.flush_writes()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _set_rule(self, me_id: int) -> None:
        """Rebuild the staff rule from the account, the source's teammates and the config."""
        staff = {int(x) for x in self.config.staff.ids if isinstance(x, int) or str(x).isdigit()}
        ignore = {
            int(x) for x in self.config.staff.ignore if isinstance(x, int) or str(x).isdigit()
        }
        with contextlib.suppress(Exception):
            staff |= set(self.source.staff_ids())
        self._rule = triage.StaffRule(
            me_id=me_id, staff_ids=frozenset(staff), ignore_ids=frozenset(ignore)
        )

    async def _store_staff(self) -> None:
        """Record who counts as staff, so `tgtriage report` over the store credits teammates."""
        teammates = ",".join(str(i) for i in sorted(self._rule.staff_ids))
        await self.store.set_meta("staff_ids", teammates)

    @property
    def rule(self) -> triage.StaffRule:
        """Who counts as staff right now."""
        return self._rule

    def _spawn(self, coro: Coroutine[object, object, None]) -> None:
        """Run a coroutine as a task the Inbox cancels on stop."""
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _write_behind(self, write: Write, key: Hashable = None) -> None:
        """Queue a store write to run after the current frame, in order with the others.

        The live state is already changed, so the screen can paint at once; the store follows
        a moment later. A queued write with the same `key` (a draft being typed) is replaced.
        """
        if key is not None:
            for index, (queued, _) in enumerate(self._writes):
                if queued == key:
                    self._writes[index] = (key, write)
                    return
        self._writes.append((key, write))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._write_loop())

    async def _write_loop(self) -> None:
        """Run the queued store writes one after another; a failure is shown, not raised."""
        while self._writes:
            _, write = self._writes.popleft()
            try:
                await write()
            except Exception as exc:
                log.exception("store write failed")
                self._emit(Changes(notices=[f"Could not save to the store: {exc}"]))

    async def flush_writes(self) -> None:
        """Wait until every queued store write has been made."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        """Forget a finished task and log its failure."""
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("inbox task failed", exc_info=task.exception())

    # ----------------------------------------------------------------- events in

    async def _pump(self) -> None:
        """Move events from the source into the queue, waking the flush loop."""
        async for event in self.source.events():
            self.submit(event)
        self.submit(ev.ConnectionState(Connection.OFFLINE, "source ended"))

    def submit(self, event: ev.Event) -> None:
        """Queue one event for the next batch."""
        self._queue.append(event)
        self._wake.set()

    async def _flush_loop(self) -> None:
        """Drain the queue in batches, one store transaction and one notification each."""
        while self._running:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._queue[:BATCH], self._queue[BATCH:]
                try:
                    changes = await self.apply(batch)
                except Exception:
                    log.exception("could not apply %d events", len(batch))
                    continue
                finally:
                    del batch  # not kept alive (with its messages) until the next burst
                self._emit(changes)
                del changes
                await asyncio.sleep(0)
            await self.drain()

    async def drain(self) -> None:
        """Deliver pending changes, no sooner than one frame after the previous delivery."""
        if not self._pending:
            return
        delay = self._last_emit + self.frame - self.clock()
        if delay > 0:
            await asyncio.sleep(delay)
        changes, self._pending = self._pending, Changes()
        self._last_emit = self.clock()
        self.batches += 1
        for listener in list(self._listeners):
            try:
                listener(changes)
            except Exception:  # a broken listener must not stop the desk from following events
                log.exception("change listener failed")

    def _emit(self, changes: Changes) -> None:
        """Queue changes for the next (frame-limited) delivery."""
        if changes:
            self._pending.merge(changes)
            self._wake.set()

    async def apply(self, batch: list[ev.Event]) -> Changes:
        """Apply a batch of events to the store and the live state; return what changed."""
        changes = Changes()
        new_msgs: list[Message] = []
        edits: list[Message] = []
        users: dict[int, User] = {}
        recompute: set[int] = set()
        for event in batch:
            match event:
                case ev.NewMessage(message=message, sender=sender):
                    if message.chat_id not in self.chats and not self._chats_loaded:
                        self._held.append(event)
                    elif message.chat_id in self.chats:
                        new_msgs.append(message)
                        if sender is not None:
                            users[sender.id] = sender
                        elif _unknown_sender(message, self.users, users):
                            users[message.sender_id] = _user_from_name(message)  # type: ignore[index]
                case ev.MessageEdited(message=message):
                    if message.chat_id not in self.chats and not self._chats_loaded:
                        self._held.append(event)
                    elif message.chat_id in self.chats:
                        edits.append(message)
                case ev.MessagesDeleted(chat_id=chat_id, ids=ids):
                    # Store what arrived earlier in this batch first, or it would outlive its deletion.
                    await self._commit(new_msgs, edits, users, changes, recompute)
                    for cid, mid in await self.store.delete_messages(chat_id, list(ids)):
                        changes.deleted.setdefault(cid, set()).add(mid)
                        recompute.add(cid)
                case ev.ReadUpTo(chat_id=chat_id, max_id=max_id, outbox=outbox):
                    state = self.triage.get(chat_id)
                    if state is None:
                        if not self._chats_loaded:
                            self._held.append(event)
                        continue
                    if outbox:
                        if max_id > state.read_outbox_max:
                            self.triage[chat_id] = state.model_copy(
                                update={"read_outbox_max": max_id}
                            )
                            changes.chats.add(chat_id)
                    elif max_id > state.read_inbox_max:
                        unread = 0 if max_id >= state.last_msg_id else state.unread
                        self.triage[chat_id] = triage.read_upto(state, max_id, unread)
                        changes.chats.add(chat_id)
                        if unread:
                            recompute.add(chat_id)
                case ev.ChatUpdated(chat=chat):
                    await self.store.upsert_chats([chat])
                    self.chats[chat.id] = chat
                    self._config_targets.pop(chat.id, None)  # the title may match other targets
                    self.triage.setdefault(chat.id, ChatTriage(chat_id=chat.id))
                    changes.chats.add(chat.id)
                    changes.order = True
                case ev.ChatRemoved(chat_id=chat_id):
                    await self._commit(new_msgs, edits, users, changes, recompute)
                    await self.store.remove_chat(chat_id)
                    self.chats.pop(chat_id, None)
                    self.triage.pop(chat_id, None)
                    # The store dropped its slot, draft and outbox rows; so does the live state.
                    self.drafts.pop(chat_id, None)
                    self.outbox.pop(chat_id, None)
                    slot = self.slot_of(chat_id)
                    if slot is not None:
                        del self.slots[slot]
                        changes.slots = True
                    changes.order = True
                    changes.chats.add(chat_id)
                case ev.Typing(chat_id=chat_id, user_id=user_id, until=until):
                    self.typing.setdefault(chat_id, {})[user_id] = until
                    changes.chats.add(chat_id)
                case ev.ReactionChanged(chat_id=chat_id, message_id=message_id):
                    if self._reaction_handles(event):
                        # The reacted message may have arrived earlier in this very batch.
                        await self._commit(new_msgs, edits, users, changes, recompute)
                        state = self.triage[chat_id]
                        self.triage[chat_id] = triage.handled_through(state, message_id)
                        recompute.add(chat_id)
                case ev.ConnectionState(state=state, detail=detail, retry_in=retry_in):
                    self.connection, self.connection_detail = state, detail
                    self.connection_retry_at = None if retry_in is None else self.clock() + retry_in
                    if state is Connection.CONNECTED:
                        self.flood_until = None
                    changes.status = True
                case ev.FloodWait(until=until):
                    self.flood_until = until
                    changes.status = True
                case ev.SyncProgress():
                    self.sync = None if event.done else event
                    changes.status = True
        await self._commit(new_msgs, edits, users, changes, recompute)
        for chat_id in recompute:
            if chat_id in self.triage:
                await self._recompute(chat_id)
                changes.chats.add(chat_id)
                changes.order = True
        if self.open_chat_id in changes.chats and self.config.telegram.mark_read == "on_open":
            self._read_open_chat()
        touched = [self.triage[c] for c in changes.chats if c in self.triage]
        if touched:
            await self.store.save_triage(touched)
        return changes

    async def _commit(
        self,
        new_msgs: list[Message],
        edits: list[Message],
        users: dict[int, User],
        changes: Changes,
        recompute: set[int],
    ) -> None:
        """Store and apply the new messages, edits and senders collected so far, then forget them."""
        if users:
            await self.store.upsert_users(users.values())
            self.users.update(users)
        if new_msgs:
            fresh = await self.store.add_messages(new_msgs)
            fresh.sort(key=lambda m: (m.chat_id, m.id))
            for message in fresh:
                state = self.triage[message.chat_id]
                if message.id > state.last_msg_id:
                    self.triage[message.chat_id] = triage.apply_message(
                        state, message, self._rule.role(message)
                    )
                else:
                    recompute.add(message.chat_id)
                self._drop_typing(message)
                changes.messages.setdefault(message.chat_id, []).append(message)
                changes.chats.add(message.chat_id)
            if fresh:
                changes.order = True
        if edits:
            await self.store.update_messages(edits)
            for message in edits:
                changes.messages.setdefault(message.chat_id, []).append(message)
                state = self.triage[message.chat_id]
                if message.id == state.last_msg_id:
                    self.triage[message.chat_id] = state.model_copy(
                        update={"last_preview": triage.preview_of(message)}
                    )
                    changes.chats.add(message.chat_id)
        new_msgs.clear()
        edits.clear()
        users.clear()

    def _reaction_handles(self, event: ev.ReactionChanged) -> bool:
        """A staff emoji reaction that counts as 'handled' (when the config says so)."""
        if not self.config.staff.reaction_handled or not event.emoji:
            return False
        state = self.triage.get(event.chat_id)
        if state is None or event.message_id <= state.handled_upto:
            return False
        rule = self._rule
        return event.user_id == rule.me_id or event.user_id in rule.staff_ids

    def _drop_typing(self, message: Message) -> None:
        """Whoever just sent a message has stopped typing."""
        typing = self.typing.get(message.chat_id)
        if typing and message.sender_id in typing:
            del typing[message.sender_id]

    async def _recompute(self, chat_id: int) -> None:
        """Re-derive one chat's summary from its recent messages in the store."""
        messages = await self.store.messages(chat_id, limit=RECOMPUTE_WINDOW)
        self.triage[chat_id] = triage.derive(self.triage[chat_id], messages, self._rule)

    # ----------------------------------------------------------------- queries

    def now(self) -> int:
        """The desk's current time in whole seconds (the source's own clock, if it has one)."""
        return int(self.story_clock())

    def thresholds_for(self, chat_id: int) -> tuple[int, int, int]:
        """The response thresholds of a chat (its own override wins, then the config's)."""
        state = self.triage.get(chat_id)
        return (state.levels_override if state else None) or self.configured_targets(chat_id)

    def configured_targets(self, chat_id: int) -> triage.Targets:
        """The targets config gives a chat: its `[targets]` entry, else the `[levels]`."""
        if not self.config.targets:
            return self.thresholds
        if chat_id not in self._config_targets:
            chat = self.chats.get(chat_id)
            self._config_targets[chat_id] = config_targets(chat, self.config) if chat else None
        return self._config_targets[chat_id] or self.thresholds

    def order(self, now: int | None = None, view: views.View | None = None) -> list[int]:
        """Chat ids of a view (the current one unless given) in its order; All is triage order.

        Sorting 1,000 chats every second is most of an idle desk's work, yet time alone moves
        a chat only when its level changes, its postponement runs out or a reminder comes due.
        So the All order is kept until a chat or summary changes, or one of those facts does.
        """
        now = self.now() if now is None else now
        view = self.view if view is None else view
        if view.kind is views.ViewKind.ALL:
            return list(self._ordered(now)[2])
        states = [self.triage[c] for c in self.chats if c in self.triage]
        return views.order(view, states, self.view_facts(now))

    def _ordered(self, now: int) -> tuple[tuple[Any, ...], tuple[tuple[int, Any], ...], list[int]]:
        """The cached order with the time-dependent facts it rests on, brought up to date."""
        chats, states_by_id = self.chats, self.triage
        basis = (
            chats,
            getattr(chats, "version", None),
            states_by_id,
            getattr(states_by_id, "version", None),
            self.thresholds,
            self.elapsed,
        )
        cached = self._order
        if cached is not None and not _same_basis(cached[0], basis):
            patched = self._patched_order(cached, basis, now)
            if patched is not None:
                return patched
        if cached is not None and _same_basis(cached[0], basis):
            if self._order_checked_at <= now < self._order_valid_until:
                return cached
            facts = tuple((chat_id, self._time_fact(chat_id, now)) for chat_id, _ in cached[1])
            if facts != cached[1]:
                moved = [new[0] for old, new in zip(cached[1], facts, strict=True) if old != new]
                self._order = cached = (basis, facts, self._reorder(cached[2], moved, now))
            self._order_checked_at = now
            self._order_valid_until = self._next_fact_change(facts, now)
            return cached
        states = [self.triage[c] for c in self.chats if c in self.triage]
        # triage.ordered sorts by triage.order_key, which ends with the chat id: keep the keys
        # so that a later move in time re-places only the chats it moved.
        self._order_keys = sorted(
            triage.order_key(s, now, self.configured_targets, self.elapsed) for s in states
        )
        ordered = [key[3] for key in self._order_keys]
        facts = tuple(
            (s.chat_id, self._time_fact(s.chat_id, now))
            for s in states
            if s.waiting_since is not None or triage.reminder_at(s) is not None
        )
        self._order = (basis, facts, ordered)
        self._order_checked_at = now
        self._order_valid_until = self._next_fact_change(facts, now)
        return self._order

    def _patched_order(
        self,
        cached: tuple[tuple[Any, ...], tuple[tuple[int, Any], ...], list[int]],
        basis: tuple[Any, ...],
        now: int,
    ) -> tuple[tuple[Any, ...], tuple[tuple[int, Any], ...], list[int]] | None:
        """The cached order with only the few summaries changed since re-placed, or None
        when a full sort is needed (chats or settings changed, many summaries, time moved).

        Opening a chat or marking it handled changes one summary; sorting all 1,000 chats
        again for it was a few milliseconds of the key's frame.
        """
        old = cached[0]
        states = self.triage
        if (
            old[0] is not basis[0]
            or old[1] != basis[1]
            or old[1] is None
            or old[2] is not states
            or old[4:] != basis[4:]
            or not isinstance(states, _Tracked)
            or not (self._order_checked_at <= now < self._order_valid_until)
        ):
            return None
        changed = states.changed_since(old[3])
        if changed is None or len(changed) > _PATCH_AT_MOST:
            return None
        ids, keys = list(cached[2]), list(self._order_keys)
        for chat_id in changed:
            if chat_id in ids:
                index = ids.index(chat_id)
                del ids[index], keys[index]
        for chat_id in changed:
            if chat_id in states and chat_id in self.chats:
                key = self._order_key(chat_id, now)
                index = bisect_left(keys, key)
                ids.insert(index, chat_id)
                keys.insert(index, key)
        facts = tuple(fact for fact in cached[1] if fact[0] not in changed) + tuple(
            (chat_id, self._time_fact(chat_id, now))
            for chat_id in sorted(changed)
            if chat_id in states
            and chat_id in self.chats
            and (
                states[chat_id].waiting_since is not None
                or triage.reminder_at(states[chat_id]) is not None
            )
        )
        self._order_keys = keys
        self._order = (basis, facts, ids)
        self._order_valid_until = min(self._order_valid_until, self._next_fact_change(facts, now))
        return self._order

    def _order_key(self, chat_id: int, now: int) -> tuple[int, int, int, int]:
        """A chat's sort key in the triage order (unique: it ends with the chat id)."""
        state = self.triage[chat_id]
        return triage.order_key(state, now, self.configured_targets, self.elapsed)

    def _reorder(self, ordered: list[int], moved: list[int], now: int) -> list[int]:
        """The order after time moved some chats' keys (every other key is unchanged)."""
        ids, keys = list(ordered), list(self._order_keys)
        for chat_id in moved:
            index = ids.index(chat_id)
            del ids[index], keys[index]
        for chat_id in moved:
            key = self._order_key(chat_id, now)
            index = bisect_left(keys, key)
            ids.insert(index, chat_id)
            keys.insert(index, key)
        self._order_keys = keys
        return ids

    def _next_fact_change(self, facts: tuple[tuple[int, Any], ...], now: int) -> int:
        """The first second at which a time fact may change (now + 1 when unknown).

        On the wall clock a level changes when a wait reaches the next threshold, and a
        postponement or a due date ends at its time; business hours bend time, so they are
        checked anew every second.
        """
        if self.elapsed is not triage.wall_elapsed:
            return now + 1
        soonest = now + 3600
        for chat_id, _ in facts:
            change = triage.next_time_change(self.triage[chat_id], now, self.configured_targets)
            if change is not None:
                soonest = min(soonest, change)
        return max(now + 1, soonest)

    def changes_with_time(self) -> set[int]:
        """Chats whose row can change with time alone: someone waits, a reminder, typing."""
        facts = self._ordered(self.now())[1]
        return {chat_id for chat_id, _ in facts} | set(self.typing)

    def _time_fact(self, chat_id: int, now: int) -> tuple[bool, bool, triage.Level | None]:
        """What of a chat's place in the order can change with time alone: parked, reminder
        due, level."""
        state = self.triage[chat_id]
        parked = triage.is_parked(state, now)
        level = None if parked else self.level(chat_id, now)
        return parked, triage.reminder_due(state, now), level

    def view_facts(self, now: int | None = None) -> views.Facts:
        """What the views need to know besides the triage summaries."""
        return views.Facts(
            now=self.now() if now is None else now,
            thresholds=self.configured_targets,
            elapsed=self.elapsed,
            slots=self.slots,
            tags=self.tags,
        )

    def view_counts(self, now: int | None = None) -> dict[views.View, int]:
        """How many chats each available view shows."""
        states = [self.triage[c] for c in self.chats if c in self.triage]
        return views.counts(self.available_views(), states, self.view_facts(now))

    def available_views(self) -> list[views.View]:
        """Every view in cycling order (the fixed ones, then one per tag in use)."""
        return views.available(self.all_tags())

    def all_tags(self) -> set[str]:
        """Every tag on some chat."""
        return {tag for chat_id, tags in self.tags.items() if chat_id in self.chats for tag in tags}

    def level(self, chat_id: int, now: int | None = None) -> triage.Level | None:
        """The chat's response level, or None when nobody waits."""
        state = self.triage.get(chat_id)
        if state is None:
            return None
        now = self.now() if now is None else now
        return triage.chat_level(state, now, self.configured_targets, self.elapsed)

    def wait(self, chat_id: int, now: int | None = None) -> int | None:
        """How long the chat's customer has waited (clock time), or None."""
        state = self.triage.get(chat_id)
        if state is None:
            return None
        return triage.wait_seconds(state, self.now() if now is None else now, self.elapsed)

    def level_counts(self, now: int | None = None) -> tuple[int, int, int, int]:
        """Awaiting chats by level, for the status line (from the order's time facts)."""
        counts = [0, 0, 0, 0]
        for _, (parked, _due, level) in self._ordered(self.now() if now is None else now)[1]:
            if level is not None and not parked:
                counts[level] += 1
        return (counts[0], counts[1], counts[2], counts[3])

    def next_waiting(self, exclude: int | None = None) -> int | None:
        """The chat that has waited longest (highest level first), other than `exclude`.

        The first awaiting chat of the kept order (awaiting chats sort first, by level and
        age: the same rule as triage.longest_waiting), not a walk over every chat.
        """
        now = self.now()
        for chat_id in self._ordered(now)[2]:
            state = self.triage[chat_id]
            if not triage.is_awaiting(state, now):
                return None
            if chat_id != exclude:
                return chat_id
        return None

    def neighbour(self, chat_id: int | None, step: int) -> int | None:
        """The chat `step` places away from `chat_id` in list order (wrapping)."""
        order = self.order()
        if not order:
            return None
        if chat_id not in order:
            return order[0] if step > 0 else order[-1]
        return order[(order.index(chat_id) + step) % len(order)]

    def slot_of(self, chat_id: int) -> int | None:
        """The working-set slot (1..10) holding `chat_id`, if any."""
        for slot, cid in self.slots.items():
            if cid == chat_id:
                return slot
        return None

    def typing_in(self, chat_id: int) -> list[User | int]:
        """Who is typing in the chat right now."""
        now = self.now()
        people = self.typing.get(chat_id, {})
        return [self.users.get(uid, uid) for uid, until in people.items() if until > now]

    def sender_name(self, message: Message) -> str:
        """A display name for a message's author."""
        if message.sender_id is not None and message.sender_id in self.users:
            return self.users[message.sender_id].name
        if message.sender_name:
            return message.sender_name
        if message.out and self.me is not None:
            return self.me.name
        return "unknown"

    def role(self, message: Message) -> triage.Role:
        """Staff, customer or ignored, for drawing."""
        return self._rule.role(message)

    async def history(
        self, chat_id: int, before_id: int | None = None, limit: int = 100
    ) -> list[Message]:
        """Messages of a chat from the store, older ones fetched from the source when missing."""
        messages = await self.store.messages(chat_id, before_id=before_id, limit=limit)
        if len(messages) < limit and before_id is not None:
            oldest = messages[0].id if messages else before_id
            try:
                older = await self.source.history(chat_id, oldest, limit - len(messages))
            except Exception:
                log.warning("history of %s unavailable from the source", chat_id)
                older = []
            if older:
                await self.store.add_messages(older)
                messages = sorted(
                    {m.id: m for m in [*older, *messages]}.values(), key=lambda m: m.id
                )
        return messages

    # ----------------------------------------------------------------- actions

    async def open(self, chat_id: int) -> None:
        """Open a chat: it takes the first free working-set slot and is marked read."""
        if self.open_now(chat_id):
            await self.flush_writes()

    def open_now(self, chat_id: int) -> bool:
        """`open()` without waiting for the store: the live state changes now, the store next.

        The screen calls this so that a key paints the chat it opens in one frame. Returns
        False for an unknown chat.
        """
        if chat_id not in self.chats:
            return False
        self.open_chat_id = chat_id
        changes = Changes(chats={chat_id})
        if self.slot_of(chat_id) is None:
            free = next((s for s in range(1, SLOTS + 1) if s not in self.slots), None)
            if free is not None:
                self._set_slot_now(free, chat_id)
                changes.slots = True
        if self.config.telegram.mark_read == "on_open":
            self._read_open_chat()
        self._write_behind(lambda: self._save_states([chat_id]))
        self._emit(changes)
        return True

    async def _save_states(self, chat_ids: Iterable[int]) -> None:
        """Store the current summaries of these chats (those still known)."""
        await self.store.save_triage([self.triage[c] for c in chat_ids if c in self.triage])

    def message_search(self) -> MessageSearch:
        """A read-only search over this desk's store, for one screen's lifetime (close it)."""
        return MessageSearch(self.store.path)

    def report_staff(self) -> ReportStaff:
        """Who counts as staff for reply times, from the desk's staff rule."""
        rule = self._rule
        ids = frozenset({rule.me_id, *rule.staff_ids})
        return ReportStaff(ids=ids, out_is_staff=True, ignore=rule.ignore_ids - ids)

    def recent(self, chat_id: int, limit: int = 50) -> list[Message]:
        """The chat's newest `limit` messages, oldest first, read from the store at once.

        For painting a switch in one frame; older pages come from `history()`.
        """
        return self.store.messages_now(chat_id, limit=limit)

    def _read_open_chat(self, chat_id: int | None = None) -> None:
        """Mark the open chat (or `chat_id`) read here and (in the background) at the source."""
        chat_id = self.open_chat_id if chat_id is None else chat_id
        if chat_id is None or chat_id not in self.triage:
            return
        state = self.triage[chat_id]
        if state.unread == 0 and state.read_inbox_max >= state.last_msg_id:
            return
        self.triage[chat_id] = state.model_copy(
            update={"unread": 0, "read_inbox_max": max(state.read_inbox_max, state.last_msg_id)}
        )
        self._spawn(self._mark_read_remote(chat_id, state.last_msg_id))

    async def _mark_read_remote(self, chat_id: int, upto: int) -> None:
        """Tell the source that the chat was read."""
        try:
            await self.source.mark_read(chat_id, upto)
        except Exception as exc:
            log.warning("mark read failed: %s", exc)

    async def _set_slot(self, slot: int, chat_id: int | None) -> None:
        """Put a chat into a slot (freeing its old one), or empty the slot."""
        self._set_slot_now(slot, chat_id)
        await self.flush_writes()

    def _set_slot_now(self, slot: int, chat_id: int | None) -> None:
        """`_set_slot()` in the live state now, in the store next (in order with other writes)."""
        if chat_id is not None:
            old = self.slot_of(chat_id)
            if old is not None:
                del self.slots[old]
            self.slots[slot] = chat_id
        else:
            self.slots.pop(slot, None)
        self._write_behind(lambda: self.store.set_slot(slot, chat_id))

    async def pin(self, chat_id: int, slot: int) -> None:
        """Pin a chat to a working-set slot, replacing whatever was there."""
        await self._set_slot(slot, chat_id)
        self._emit(Changes(slots=True, chats={chat_id}))

    async def unpin(self, chat_id: int) -> int | None:
        """Take a chat out of the working set; return the slot it had."""
        slot = self.slot_of(chat_id)
        if slot is not None:
            await self._set_slot(slot, None)
            self._emit(Changes(slots=True, chats={chat_id}))
        return slot

    async def _update(self, chat_id: int, state: ChatTriage, notice: str | None = None) -> None:
        """Store a chat's new summary and announce it."""
        self.triage[chat_id] = state
        await self.store.save_triage([state])
        self._emit(Changes(chats={chat_id}, order=True, notices=[notice] if notice else []))

    async def mark_handled(self, chat_id: int) -> None:
        """No reply needed: the chat stops waiting until the customer writes again.

        It also acknowledges a reminder that came due. With `[staff] reaction_handled`, the
        customer's last message gets the handled reaction, so the team sees it in Telegram.
        """
        if chat_id not in self.triage:
            return
        await self._update(chat_id, triage.mark_handled(self.triage[chat_id], self.now()))
        if self.config.staff.reaction_handled and self.config.staff.handled_reaction:
            self._spawn(self._react_handled(chat_id))

    async def _react_handled(self, chat_id: int) -> None:
        """Put the handled reaction on the customer's last message; a failure is only noted."""
        emoji = self.config.staff.handled_reaction
        recent = await self.store.messages(chat_id, limit=50)
        customer = [m for m in recent if self._rule.role(m) is triage.Role.CUSTOMER]
        if not customer:
            return
        try:
            await self.source.react(chat_id, customer[-1].id, emoji)
        except Exception as exc:
            log.warning("could not react in %s: %s", chat_id, exc)
            self._emit(Changes(notices=[f"Handled here, but the {emoji} reaction failed: {exc}"]))

    async def set_levels(self, chat_id: int, targets: triage.Targets | None) -> None:
        """Give a chat its own response targets in seconds (None: the configured ones)."""
        if chat_id in self.triage:
            await self._update(chat_id, triage.set_levels(self.triage[chat_id], targets))

    async def set_tags(self, chat_id: int, tags: set[str]) -> None:
        """Replace a chat's tags (already normalised, see core/rules/tags.py)."""
        if chat_id not in self.chats:
            return
        await self.store.set_tags(chat_id, tags)
        if tags:
            self.tags[chat_id] = set(tags)
        else:
            self.tags.pop(chat_id, None)
        self._emit(Changes(chats={chat_id}, order=True, status=True))

    async def add_note(self, chat_id: int, text: str) -> Note | None:
        """Keep an internal note on a chat, after its last message; it never goes to Telegram."""
        text = text.strip()
        if not text or chat_id not in self.chats:
            return None
        author = self.config.agent_name or (self.me.name if self.me else "me")
        state = self.triage.get(chat_id)
        after = state.last_msg_id if state and state.last_msg_id else None
        now = self.now()
        note_id = await self.store.add_note(chat_id, author, text, now, after)
        note = Note(note_id, chat_id, now, author, text, after)
        self.notes.setdefault(chat_id, []).append(note)
        self._emit(Changes(chats={chat_id}))
        return note

    async def delete_note(self, note: Note) -> None:
        """Remove a note."""
        await self.store.delete_note(note.id)
        kept = [n for n in self.notes.get(note.chat_id, []) if n.id != note.id]
        if kept:
            self.notes[note.chat_id] = kept
        else:
            self.notes.pop(note.chat_id, None)
        self._emit(Changes(chats={note.chat_id}))

    def set_view(self, view: views.View) -> None:
        """Show another view of the list."""
        self.view = view
        self._emit(Changes(order=True, status=True))

    async def postpone(self, chat_id: int, until: int) -> None:
        """Hide the chat from the top until `until`."""
        if chat_id in self.triage:
            await self._update(chat_id, triage.postpone(self.triage[chat_id], until))

    async def close(self, chat_id: int) -> None:
        """Close the chat until the customer writes again."""
        if chat_id in self.triage:
            await self._update(chat_id, triage.close(self.triage[chat_id]))

    async def reopen(self, chat_id: int) -> None:
        """Undo postponed/closed/in-development."""
        if chat_id in self.triage:
            await self._update(chat_id, triage.reopen(self.triage[chat_id]))

    async def set_in_development(self, chat_id: int, ticket: str, due: int | None = None) -> None:
        """Park the chat under a ticket reference with an optional due date."""
        if chat_id in self.triage:
            await self._update(
                chat_id, triage.set_in_development(self.triage[chat_id], ticket, due)
            )

    async def set_draft(self, chat_id: int, text: str) -> None:
        """Keep the composer's text for a chat (empty deletes the draft)."""
        self.set_draft_now(chat_id, text)
        await self.flush_writes()

    def set_draft_now(self, chat_id: int, text: str) -> None:
        """`set_draft()` without waiting: the store write follows (a newer draft replaces it)."""
        if self.drafts.get(chat_id, "") == text:
            return
        if text:
            self.drafts[chat_id] = text
        else:
            self.drafts.pop(chat_id, None)
        self._write_behind(lambda: self.store.set_draft(chat_id, text), key=("draft", chat_id))

    async def send(self, chat_id: int, text: str, reply_to: int | None = None) -> OutboxItem | None:
        """Put a reply in the outbox (persisted first), then deliver it in the background."""
        text = text.strip()
        if not text or chat_id not in self.chats:
            return None
        if reply_to is None:
            reply_to = forum.reply_anchor(self.chats[chat_id], self.triage.get(chat_id))
        item = await self.store.outbox_add(chat_id, text, reply_to)
        self.outbox.setdefault(chat_id, []).append(item)
        await self.set_draft(chat_id, "")
        self._emit(Changes(outbox={chat_id}))
        self._spawn(self._deliver(item))
        return item

    async def retry(self, local_id: int) -> None:
        """Send a failed reply again with the same random id (never posts twice)."""
        for items in self.outbox.values():
            for item in items:
                if item.local_id == local_id and item.state is OutboxState.FAILED:
                    self._spawn(self._deliver(item))
                    return

    async def discard(self, local_id: int) -> str | None:
        """Drop a failed reply from the outbox; return its text so it can go back to the composer."""
        for chat_id, items in self.outbox.items():
            for item in items:
                if item.local_id == local_id and item.state is OutboxState.FAILED:
                    items.remove(item)
                    await self.store.outbox_remove(local_id)
                    self._emit(Changes(outbox={chat_id}))
                    return item.text
        return None

    def failed_items(self) -> list[OutboxItem]:
        """Replies that could not be sent."""
        return [i for items in self.outbox.values() for i in items if i.state is OutboxState.FAILED]

    async def _replace_item(self, item: OutboxItem) -> None:
        """Swap an outbox item for its updated version in the live state."""
        items = self.outbox.setdefault(item.chat_id, [])
        for index, old in enumerate(items):
            if old.local_id == item.local_id:
                items[index] = item
                break
        else:
            items.append(item)
        self._emit(Changes(outbox={item.chat_id}))

    async def _deliver(self, item: OutboxItem) -> None:
        """Send one outbox item (once at a time, however often retry is pressed)."""
        if item.local_id in self._in_flight:
            return
        self._in_flight.add(item.local_id)
        try:
            await self._deliver_once(item)
        finally:
            self._in_flight.discard(item.local_id)

    async def _deliver_once(self, item: OutboxItem) -> None:
        """Send one outbox item; keep it with its error if Telegram refuses."""
        item = await self.store.outbox_update(item.local_id, state=OutboxState.SENDING)
        await self._replace_item(item)
        try:
            message = await self.source.send(item.chat_id, item.text, item.reply_to, item.random_id)
        except SendError as exc:
            item = await self.store.outbox_update(
                item.local_id, state=OutboxState.FAILED, error=str(exc)
            )
            await self._replace_item(item)
            return
        except (TimeoutError, OSError, ConnectionError) as exc:
            item = await self.store.outbox_update(
                item.local_id,
                state=OutboxState.FAILED,
                error=f"network: {exc or type(exc).__name__}",
            )
            await self._replace_item(item)
            return
        if self.config.telegram.mark_read == "on_reply":
            self._read_open_chat(item.chat_id)
        await self.store.outbox_update(item.local_id, state=OutboxState.SENT, sent_id=message.id)
        await self.store.outbox_remove(item.local_id)
        items = self.outbox.get(item.chat_id, [])
        items[:] = [i for i in items if i.local_id != item.local_id]
        self._emit(Changes(outbox={item.chat_id}))
        self.submit(ev.NewMessage(message, self.me))

    def status_of(self, chat_id: int) -> Status:
        """The chat's status, with a run-out postponement shown as open."""
        state = self.triage[chat_id]
        if triage.postpone_due(state, self.now()):
            return Status.OPEN
        return state.status


def _same_basis(old: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
    """Whether a cached order rests on the same (tracked, unchanged) dicts and settings."""
    chats, chats_version, states, states_version, thresholds, elapsed = old
    return (
        chats is new[0]
        and states is new[2]
        and chats_version is not None
        and states_version is not None
        and (chats_version, states_version, thresholds, elapsed) == (new[1], new[3], *new[4:])
    )


def _elapsed_for(config: Config) -> triage.ElapsedFn:
    """Wall-clock waits, or business-time waits when business hours are enabled."""
    if not config.business_hours.enabled:
        return triage.wall_elapsed
    from ..rules.business_hours import business_seconds

    hours = config.business_hours

    def elapsed(start: int, end: int) -> int:
        return business_seconds(start, end, hours) if end > start else 0

    return elapsed


def _unknown_sender(message: Message, known: dict[int, User], pending: dict[int, User]) -> bool:
    """A named sender the desk has no account record for yet."""
    sid = message.sender_id
    return sid is not None and bool(message.sender_name) and sid not in known and sid not in pending


def _user_from_name(message: Message) -> User:
    """An account record from the name a message carries (sources without user objects)."""
    first, _, last = message.sender_name.strip().partition(" ")
    return User(id=message.sender_id or 0, first_name=first, last_name=last)
