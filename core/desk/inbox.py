"""The Inbox owns the desk's live state: it applies source events and the engineer's actions.

It is a façade over a few parts: `applier.EventApplier` (source events in),
`order.OrderIndex` (the kept triage order), `outbox.Outbox` (replies out), `writer.StoreWriter`
(the one path to the store) and `windows.MessageWindows` (each chat's newest messages in
memory). Every action changes the live state at once and queues its store write, so no key
waits for the store; `await inbox.flushed()` waits until every write has been made.

Events are drained in slices sized to a budget of the loop's own work (core/desk/slices.py);
their changes are delivered at most once a frame, and while a backlog is still queued every
BACKLOG_FRAME, so a burst shows as it lands without repainting after every slice. Only the chats an event touches are recomputed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine

from ..rules import triage, views
from ..sources.base import ChatSource
from ..storage.store import Note, Store
from ..system.config import Config
from . import events as ev
from .actions import SLOTS, InboxActions
from .applier import RECOMPUTE_WINDOW, EventApplier
from .catch_up import CatchUp
from .changes import Changes, Listener
from .damage import DamagedStore
from .events import Connection
from .kept import KeptReplies
from .message_edits import InboxMessageEdits
from .models import Chat, ChatTriage, Message, OutboxState, User
from .order import OrderIndex, Tracked
from .outbox import Outbox, is_queued
from .reads import InboxReads
from .slices import MAX_SLICE, SliceSizer
from .staff import InboxStaff
from .team import TeamDesk
from .unread_marks import InboxUnreadMarks
from .unsent import InboxUnsent
from .windows import MessageWindows
from .writer import StoreWriter

__all__ = ["BATCH", "RECOMPUTE_WINDOW", "SLOTS", "Changes", "Inbox", "Listener", "is_queued"]

log = logging.getLogger(__name__)

BATCH = MAX_SLICE  # the most events one slice applies
BACKLOG_FRAME = 0.1  # seconds between deliveries while a backlog is still being applied


class Inbox(InboxActions, InboxUnreadMarks, InboxUnsent, InboxStaff, InboxReads, InboxMessageEdits):
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
        self.changing_messages: set[tuple[int, int]] = set()  # core/desk/message_edits.py
        self.config = config
        self.clock = clock
        self.story_clock = story_clock or clock
        self.frame = frame
        self.elapsed: triage.ElapsedFn = elapsed or _elapsed_for(config)
        self.thresholds = config.levels.seconds()
        self.me: User | None = None
        self.tracked_chats: Tracked[int, Chat] = Tracked()
        self.tracked_triage: Tracked[int, ChatTriage] = Tracked()
        self.order_index = OrderIndex(self)
        self.damaged = DamagedStore(self)  # the store found damaged while the desk runs
        self.writer = StoreWriter(self._write_failed, self.damaged.found, self.damaged.changed)
        self.windows = MessageWindows()
        self.applier = EventApplier(self)
        self.outgoing = Outbox(self)
        self.team = TeamDesk(self)
        self.users: dict[int, User] = {}
        self.slots: dict[int, int] = {}
        self.slot_used: dict[int, int] = {}
        self.walk_passed: dict[int, int] = {}
        self.drafts: dict[int, str] = {}
        self.note_drafts: dict[int, str] = {}  # half-written internal notes by chat
        self.kept = KeptReplies(self.store_kept, lambda: self.emit(Changes(status=True)))
        self.typing: dict[int, dict[int, int]] = {}
        self.tags: dict[int, set[str]] = {}
        self.notes: dict[int, list[Note]] = {}
        self._next_note_id = 1
        self.view: views.View = views.ALL
        self._config_targets: dict[int, triage.Targets | None] = {}
        self.connection = Connection.CONNECTING
        self.connection_detail = ""
        self.connection_retry_at: float | None = None  # when an offline source tries again
        self.flood_until: int | None = None
        self.sync: ev.SyncProgress | None = None
        self.catch_up = CatchUp()  # what a source's catch-up touched (core/desk/catch_up.py)
        self.open_chat_id: int | None = None
        self._rule = triage.StaffRule(me_id=0)
        self._listeners: list[Listener] = []
        self._queue: deque[ev.Event] = deque()
        self.slices = SliceSizer()
        self._wake = asyncio.Event()
        self._pending = Changes()
        self._last_emit = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        self.running = False
        self.batches = 0
        self.chats_loaded = False  # until start() has the source's chat list
        self.held: list[ev.Event] = []  # events for chats not known before that
        self._retriage_due = False
        self._users_read: asyncio.Task[None] | None = None

    # ----------------------------------------------------------------- lifecycle

    def subscribe(self, listener: Listener) -> None:
        """Call `listener` with the changes of each batch (at most once per frame)."""
        self._listeners.append(listener)

    async def load_cached(self) -> None:
        """Fill the live state from the store alone (the fast path to the first paint).

        The newest messages of the chats first in line are read next, in the background
        (working set first, then the triage order, as many as core/desk/windows.py keeps);
        any other chat's are read when it is shown. The stored users (names of senders and
        teammates: tens of thousands on a big desk, none of them in the chat list) are read
        after the first frame, before the source starts or an event is applied (`users_read`).
        """
        store = self.store
        self.tracked_chats = Tracked({chat.id: chat for chat in await store.all_chats()})
        self.tracked_triage = Tracked(await store.load_triage())
        for chat_id in self.chats:
            if chat_id not in self.triage:  # a summary is made only where none is stored
                self.triage[chat_id] = ChatTriage(chat_id=chat_id)
        self.slots = await store.slots()
        self.drafts = await store.drafts()
        self.note_drafts = await store.note_drafts()
        self.tags = await store.tags()
        self.notes = await store.all_notes()
        self._next_note_id = await store.next_note_id()
        unsent = await store.outbox_items(
            states={OutboxState.PENDING, OutboxState.SENDING, OutboxState.FAILED}
        )
        self.outgoing.load(unsent, await store.next_outbox_id())
        self.team.roster.load(await store.get_meta(self.team.cache_key()))
        me_id = await store.get_meta("me_id")
        if me_id:
            self._set_rule(int(me_id))
        pinned = [c for c in self.slots.values() if c in self.chats]
        rest = set(self.chats) - set(pinned)
        first = [*pinned, *(c for c in self.order() if c in rest)]
        self.read_windows(first[: self.windows.chats], ahead=True)

    async def start(self) -> None:
        """Start the source, load its chats, resume unsent replies, then follow its events.

        A source whose traits say `events_before_start` is followed from the first moment
        (its connecting, offline and flood-wait states show while it connects, logs in and
        pages its chat list); message events for chats not known yet are held until the chat
        list is in. A complete chat list vouches for itself: cached chats missing from it
        (left, or no longer selected by the config) are removed.
        """
        await self.users_read()
        self.running = True
        self.spawn(self._flush_loop())
        traits = self.source.traits
        if traits.events_before_start:
            self.spawn(self._pump())
        self.me = await self.source.start()
        self._set_rule(self.me.id)
        self.users[self.me.id] = self.me
        me, store = self.me, self.store
        self.writer.enqueue(lambda: store.upsert_users([me]))
        self.writer.enqueue(lambda: store.set_meta("me_id", str(me.id)))
        # Teammates the source knows (demo, replay --staff) are staff for `tgtriage report` too.
        teammates = ",".join(str(i) for i in sorted(self._rule.staff_ids))
        self.writer.enqueue(lambda: store.set_meta("staff_ids", teammates))
        chats = self.team.pick_room(await self.source.dialogs())
        changes = Changes(order=True, status=True)
        cached = set(self.chats)
        for chat in chats:
            self.chats[chat.id] = chat
            self.triage.setdefault(chat.id, ChatTriage(chat_id=chat.id))
            changes.chats.add(chat.id)
        listed = list(chats)
        self.writer.enqueue(lambda: store.upsert_chats(listed))
        self.read_windows([chat.id for chat in listed if chat.id not in cached])
        self.chats_loaded = True
        held, self.held = self.held, []
        for event in held:
            self.submit(event)
        if chats.complete:
            known = {chat.id for chat in chats}
            for chat_id in [c for c in self.chats if c not in known]:
                self.submit(ev.ChatRemoved(chat_id))
        self.emit(changes)
        if not traits.backfills_itself:
            await self._backfill(listed)
        if not traits.events_before_start:
            self.spawn(self._pump())
        self.spawn(self.outgoing.resume())
        self.spawn(self.team.catch_up())

    async def start_before_paint(self) -> None:
        """Start the source and apply the backlog it brings at once (a simulated source over an
        empty store: the desk's first frame then shows its chats and timers, not an empty list
        painted twice over while they arrive)."""
        await self.start()
        queue = self._queue
        while queue:
            batch = [queue.popleft() for _ in range(min(len(queue), BATCH))]
            self.emit(await self._apply_slice(batch))  # stored behind the first frame

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
        self.running = False
        await self.outgoing.send_held()
        await self.kept.stop()
        with contextlib.suppress(Exception):
            await self.source.stop()
        await self.flushed()
        self.damaged.stop()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def flushed(self) -> None:
        """Wait until every queued store write (and window read) has been made."""
        await self.writer.flushed()

    @property
    def rule(self) -> triage.StaffRule:
        """Who counts as staff right now."""
        return self._rule

    def spawn(self, coro: Coroutine[object, object, object]) -> None:
        """Run a coroutine as a task the Inbox cancels on stop."""
        task: asyncio.Task[None] = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _write_failed(self, exc: Exception) -> None:
        """A store write failed: say so (the live state keeps the change)."""
        self.emit(Changes(notices=[f"Could not save to the store: {exc}"]))

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
        """Queue one event for the next batch (the team room's events go to the team state)."""
        if self.team.takes(event):
            return
        self._queue.append(event)
        self._wake.set()

    async def _flush_loop(self) -> None:
        """Drain the queue slice by slice; changes go to the screen at most once a frame (every
        BACKLOG_FRAME while more events wait)."""
        queue = self._queue
        while self.running:
            await self._wake.wait()
            self._wake.clear()
            while queue:
                count = min(len(queue), self.slices.size)
                batch = [queue.popleft() for _ in range(count)]
                began = self.slices.started()
                try:
                    changes = await self._apply_slice(batch)  # stored behind the screen
                except Exception:
                    log.exception("could not apply %d events", len(batch))
                    continue
                finally:
                    del batch  # not kept alive (with its messages) until the next burst
                self.slices.applied(count, began)
                self.emit(changes)
                del changes
                await asyncio.sleep(0)  # the screen's turn (a slice's tail and a delivery
                if queue and self.clock() >= self._last_emit + BACKLOG_FRAME:  # never share one)
                    self._deliver()  # show what landed so far, a few times a second
                    await asyncio.sleep(0)
            await self.drain()

    async def apply(self, batch: list[ev.Event]) -> Changes:
        """Apply a batch of events to the live state and the store; return what changed once
        the store has it too (the flush loop does not wait for the store: core/desk/applier.py)."""
        changes = await self._apply_slice(batch)
        await self.flushed()
        return changes

    async def _apply_slice(self, batch: list[ev.Event]) -> Changes:
        """Apply events to the live state; their store writes are queued."""
        await self.users_read()  # a sender is known when the store knows it
        return await self.applier.apply(batch)

    async def users_read(self) -> None:
        """Wait until the stored users are in `users` (read once; what is known meanwhile stays)."""
        if self._users_read is None:
            task = self._users_read = asyncio.ensure_future(self._read_users())
            self._tasks.add(task)
            task.add_done_callback(self._task_done)
        await asyncio.shield(self._users_read)

    async def _read_users(self) -> None:
        """Add every stored user to `users`; one learned since (me, a new sender) stays."""
        users = self.users
        for user_id, user in (await self.store.users()).items():
            users.setdefault(user_id, user)

    @property
    def unshown(self) -> int:
        """Events that could not be applied (each logged), for the status line."""
        return self.applier.failed

    async def drain(self) -> None:
        """Deliver pending changes, no sooner than one frame after the previous delivery."""
        if not self._pending:
            return
        delay = self._last_emit + self.frame - self.clock()
        if delay > 0:
            await asyncio.sleep(delay)
        self._deliver()

    def _deliver(self) -> None:
        """Hand the pending changes to every listener now."""
        changes, self._pending = self._pending, Changes()
        if not changes:
            return
        self._last_emit = self.clock()
        self.batches += 1
        for listener in list(self._listeners):
            try:
                listener(changes)
            except Exception:  # a broken listener must not stop the desk from following events
                log.exception("change listener failed")

    def emit(self, changes: Changes) -> None:
        """Queue changes for the next (frame-limited) delivery."""
        if changes:
            self._pending.merge(changes)
            self._wake.set()

    def painted(self, changes: Changes) -> None:
        """The screen has drawn `changes` itself: the next notification leaves them out."""
        self._pending.forget_painted(changes)

    def forget_targets(self, chat_id: int) -> None:
        """A chat's title changed: its configured targets are looked up again."""
        self._config_targets.pop(chat_id, None)

    def forget_chat(self, chat_id: int, changes: Changes) -> None:
        """A chat is gone: drop it from the live state (the store dropped its rows)."""
        self.chats.pop(chat_id, None)
        self.triage.pop(chat_id, None)
        self.drafts.pop(chat_id, None)
        self.outgoing.forget_chat(chat_id)
        self.windows.forget(chat_id)
        slot = self.slot_of(chat_id)
        if slot is not None:
            del self.slots[slot]
            changes.slots = True
        changes.order = True
        changes.chats.add(chat_id)

    def drop_typing(self, message: Message) -> None:
        """Whoever just sent a message has stopped typing."""
        typing = self.typing.get(message.chat_id)
        if typing and message.sender_id in typing:
            del typing[message.sender_id]


def _elapsed_for(config: Config) -> triage.ElapsedFn:
    """Wall-clock waits, or business-time waits when business hours are enabled."""
    if not config.business_hours.enabled:
        return triage.wall_elapsed
    from ..rules.business_hours import business_seconds

    hours = config.business_hours

    def elapsed(start: int, end: int) -> int:
        return business_seconds(start, end, hours) if end > start else 0

    return elapsed
