"""The Inbox on a real Store and a scripted ChatSource: events in, actions out, state persisted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from tgtriage.core.desk import events as ev
from tgtriage.core.desk import outbox as outbox_module
from tgtriage.core.desk.events import Connection
from tgtriage.core.desk.inbox import Changes, Inbox
from tgtriage.core.desk.models import Chat, Message, OutboxState, Status, User
from tgtriage.core.desk.outbox import is_queued
from tgtriage.core.sources.base import ChatSource, Dialogs, SendError, SourceTraits
from tgtriage.core.storage.store import Store
from tgtriage.core.system.config import Config

T0 = 1_700_000_000
ME = User(id=1, first_name="Erin", last_name="Engineer")
MATE = User(id=2, first_name="Tom", last_name="Teammate")
SOURCE_MATE = User(id=3, first_name="Sam", last_name="Source-staff")
ALICE = User(id=100, first_name="Alice")
BOB = User(id=101, first_name="Bob")
ACME = Chat(id=-1001000000001, title="Acme · Support")
GLOBEX = Chat(id=-1001000000002, title="Globex · Support")
INITECH = Chat(id=-1001000000003, title="Initech · Support")
UMBRELLA = Chat(id=-1001000000004, title="Umbrella · Support")
PRIVATE = Chat(id=ALICE.id, title="Alice", kind="private")
CHATS = [ACME, GLOBEX, INITECH, UMBRELLA, PRIVATE]


class FakeClock:
    """A clock the test moves by hand (Unix seconds)."""

    def __init__(self, now: float = T0) -> None:
        """Start at `now`."""
        self.now = now

    def __call__(self) -> float:
        """The current time."""
        return self.now


class ScriptedSource:
    """A ChatSource driven by the test: events come from a list and `emit`, sends are recorded.

    Like Telegram, a send repeated with the same random_id returns the first message instead of
    posting again.
    """

    name = "scripted"
    traits = SourceTraits()

    def __init__(
        self,
        chats: Iterable[Chat] = CHATS,
        events: Iterable[ev.Event] = (),
        *,
        staff: Iterable[int] = (),
        clock: Callable[[], float] = lambda: T0,
    ) -> None:
        """Serve `chats`, then `events`, then whatever the test emits."""
        self._chats = list(chats)
        self._queue: asyncio.Queue[ev.Event | None] = asyncio.Queue()
        for event in events:
            self._queue.put_nowait(event)
        self._staff = frozenset(staff)
        self._clock = clock
        self._delivered: dict[int, Message] = {}
        self._next_id = 10_000
        self.sends: list[tuple[int, str, int | None, int]] = []
        self.failures: list[Exception] = []
        self.gate: asyncio.Event | None = None
        self.read: list[tuple[int, int]] = []
        self.archive: dict[int, list[Message]] = {}
        self.stopped = False

    def emit(self, *events: ev.Event) -> None:
        """Make events arrive now."""
        for event in events:
            self._queue.put_nowait(event)

    async def start(self) -> User:
        """The engineer's account."""
        return ME

    async def stop(self) -> None:
        """End the event stream."""
        self.stopped = True
        self._queue.put_nowait(None)

    async def dialogs(self) -> Dialogs:
        """The support chats."""
        return Dialogs(self._chats)

    async def history(self, chat_id: int, before: int | None, limit: int) -> list[Message]:
        """Older messages from the archive, oldest first."""
        older = [m for m in self.archive.get(chat_id, []) if before is None or m.id < before]
        return older[-limit:]

    async def send(self, chat_id: int, text: str, reply_to: int | None, random_id: int) -> Message:
        """Record the send; wait for the gate; fail if told to; never post a random_id twice."""
        self.sends.append((chat_id, text, reply_to, random_id))
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            raise self.failures.pop(0)
        if random_id not in self._delivered:
            self._next_id += 1
            self._delivered[random_id] = Message(
                chat_id=chat_id,
                id=self._next_id,
                date=int(self._clock()),
                sender_id=ME.id,
                text=text,
                out=True,
                reply_to=reply_to,
            )
        return self._delivered[random_id]

    async def mark_read(self, chat_id: int, upto: int) -> None:
        """Record the read mark."""
        self.read.append((chat_id, upto))

    async def react(self, chat_id: int, message_id: int, emoji: str) -> None:
        """Reactions are not scripted."""

    def staff_ids(self) -> frozenset[int]:
        """Teammates the source knows about."""
        return self._staff

    async def events(self) -> AsyncIterator[ev.Event]:
        """Scripted events, then emitted ones, until stop()."""
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event


class Recorder:
    """A listener that keeps every Changes it is given, with the sync marker seen at the time."""

    def __init__(self, inbox: Inbox) -> None:
        """Subscribe to `inbox`."""
        self.inbox = inbox
        self.calls: list[tuple[Changes, str | None]] = []
        inbox.subscribe(self)

    def __call__(self, changes: Changes) -> None:
        """Record one delivery."""
        sync = self.inbox.sync.what if self.inbox.sync else None
        self.calls.append((changes, sync))

    def since(self, index: int) -> Changes:
        """Everything delivered after call number `index`, merged."""
        merged = Changes()
        for changes, _ in self.calls[index:]:
            merged.merge(changes)
        return merged


class Desk:
    """An Inbox with its store, source, clock and recorder, plus helpers to let it settle."""

    def __init__(
        self, inbox: Inbox, store: Store, source: ScriptedSource, clock: FakeClock
    ) -> None:
        """Bundle the parts."""
        self.inbox = inbox
        self.store = store
        self.source = source
        self.clock = clock
        self.recorder = Recorder(inbox)
        self._barriers = 0

    async def settle(self) -> None:
        """Wait until every event emitted so far is applied and its changes delivered."""
        self._barriers += 1
        token = f"barrier {self._barriers}"
        self.source.emit(ev.SyncProgress(token, 0, 1))
        await until(lambda: any(sync == token for _, sync in self.recorder.calls))

    async def feed(self, *events: ev.Event) -> Changes:
        """Emit events, let them land, and return the changes they caused."""
        start = len(self.recorder.calls)
        self.source.emit(*events)
        await self.settle()
        return self.recorder.since(start)


async def until(condition: Callable[[], bool], what: str = "condition") -> None:
    """Yield to the event loop until `condition` holds (a generous cap turns hangs into failures)."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"timed out waiting for {what}")


def msg(
    chat: Chat, id: int, sender: User | None, at: int, text: str = "hi", **kw: object
) -> Message:
    """A message in `chat` at T0 + `at` seconds."""
    return Message.model_validate(
        {
            "chat_id": chat.id,
            "id": id,
            "date": T0 + at,
            "sender_id": sender.id if sender else None,
            "sender_name": sender.name if sender else "",
            "text": text,
            "out": sender is ME,
            **kw,
        }
    )


def new(chat: Chat, id: int, sender: User, at: int, text: str = "hi") -> ev.NewMessage:
    """A NewMessage event."""
    return ev.NewMessage(msg(chat, id, sender, at, text), sender)


def config(**kw: object) -> Config:
    """Defaults plus overrides, independent of the environment and config file."""
    # Replies leave at once: the undo window has tests of its own (tests/test_undo_send.py).
    return Config.model_validate({"staff": {"ids": [MATE.id]}, "undo_send_seconds": 0, **kw})


DeskFactory = Callable[..., Awaitable[Desk]]


@asynccontextmanager
async def running_desk(
    path: Path,
    source: ScriptedSource | None = None,
    cfg: Config | None = None,
    clock: FakeClock | None = None,
    *,
    cached: bool = False,
) -> AsyncIterator[Desk]:
    """Open the store, start an Inbox on it and stop/close both afterwards."""
    clock = clock or FakeClock()
    source = source or ScriptedSource(clock=clock)
    store = await Store.open(path, clock=clock)
    inbox = Inbox(store, source, cfg or config(), clock=clock)
    desk = Desk(inbox, store, source, clock)
    try:
        if cached:
            await inbox.load_cached()
        await inbox.start()
        await desk.settle()
        yield desk
    finally:
        await inbox.stop()
        await store.close()


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    """A started desk on a fresh store with the five support chats."""
    async with running_desk(tmp_path / "desk.sqlite3") as started:
        yield started


def test_the_scripted_source_implements_the_protocol() -> None:
    assert isinstance(ScriptedSource(), ChatSource)


# ------------------------------------------------------------------ events in


async def test_start_loads_the_chats_and_remembers_who_i_am(desk: Desk) -> None:
    assert set(desk.inbox.chats) == {c.id for c in CHATS}
    await desk.inbox.flushed()
    assert {c.id for c in await desk.store.all_chats()} == {c.id for c in CHATS}
    await desk.inbox.flushed()
    assert await desk.store.get_meta("me_id") == str(ME.id)
    assert desk.inbox.level_counts() == (0, 0, 0, 0)


async def test_new_messages_are_applied_and_persisted(desk: Desk) -> None:
    changes = await desk.feed(
        new(ACME, 1, ALICE, 0, "Hello"), new(ACME, 2, ALICE, 30, "anyone there?")
    )
    state = desk.inbox.triage[ACME.id]
    assert state.waiting_since == T0
    assert state.unread == 2
    assert state.last_preview == "anyone there?"
    assert [m.id for m in changes.messages[ACME.id]] == [1, 2]
    assert [m.text for m in await desk.store.messages(ACME.id)] == ["Hello", "anyone there?"]
    await desk.inbox.flushed()
    assert (await desk.store.load_triage())[ACME.id] == state
    await desk.inbox.flushed()
    assert (await desk.store.users())[ALICE.id].name == "Alice"
    desk.clock.now = T0 + 400
    assert desk.inbox.wait(ACME.id) == 400
    assert desk.inbox.level(ACME.id) == 1
    assert desk.inbox.level_counts() == (0, 1, 0, 0)


async def test_duplicate_new_message_is_counted_once(desk: Desk) -> None:
    hello = new(ACME, 1, ALICE, 0, "Hello")
    changes = await desk.feed(hello, hello)
    changes.merge(await desk.feed(hello))  # again after a reconnect's catch-up
    assert desk.inbox.triage[ACME.id].unread == 1
    assert await desk.store.message_count() == 1
    assert [m.id for m in changes.messages[ACME.id]] == [1]


@pytest.mark.parametrize("who", [MATE, SOURCE_MATE], ids=["config-teammate", "source-teammate"])
async def test_a_teammates_message_clears_the_wait(tmp_path: Path, who: User) -> None:
    clock = FakeClock()
    source = ScriptedSource(staff=[SOURCE_MATE.id], clock=clock)
    async with running_desk(tmp_path / "d.sqlite3", source, clock=clock) as desk:
        await desk.feed(new(ACME, 1, ALICE, 0, "Hello"))
        assert desk.inbox.triage[ACME.id].waiting_since == T0
        await desk.feed(new(ACME, 2, who, 60, "Looking into it"))
        state = desk.inbox.triage[ACME.id]
        assert state.waiting_since is None
        assert state.last_staff_sender == who.id
        assert state.status is Status.WAITING_ON_CUSTOMER
        assert desk.inbox.next_waiting() is None


async def test_messages_of_unknown_chats_are_ignored(desk: Desk) -> None:
    stranger = Chat(id=-1009999, title="Not support")
    await desk.feed(new(stranger, 1, ALICE, 0))
    assert stranger.id not in desk.inbox.triage
    assert await desk.store.message_count() == 0


async def test_a_chat_that_appears_later_is_followed(desk: Desk) -> None:
    hooli = Chat(id=-1001000000099, title="Hooli · Support")
    changes = await desk.feed(ev.ChatUpdated(hooli), new(hooli, 1, BOB, 5, "hi"))
    assert hooli.id in changes.chats and changes.order
    assert desk.inbox.triage[hooli.id].waiting_since == T0 + 5


async def test_a_burst_of_5000_events_is_coalesced_into_a_few_notifications(desk: Desk) -> None:
    chats = [ACME, GLOBEX, INITECH, UMBRELLA]
    burst = [
        new(chats[i % 4], i // 4 + 1, ALICE if i % 3 else BOB, i // 4, f"message {i}")
        for i in range(5000)
    ]
    before = len(desk.recorder.calls)
    changes = await desk.feed(*burst)
    notifications = len(desk.recorder.calls) - before
    assert 1 <= notifications <= 10, notifications
    assert await desk.store.message_count() == 5000
    for chat in chats:
        assert len(changes.messages[chat.id]) == 1250
        state = desk.inbox.triage[chat.id]
        assert state.last_msg_id == 1250
        assert state.unread == 1250
        assert state.waiting_since == T0
    assert changes.chats == {c.id for c in chats}


async def test_only_touched_chats_are_reported(desk: Desk) -> None:
    changes = await desk.feed(new(ACME, 1, ALICE, 0), new(GLOBEX, 1, BOB, 1))
    assert changes.chats == {ACME.id, GLOBEX.id}
    assert set(changes.messages) == {ACME.id, GLOBEX.id}
    changes = await desk.feed(ev.ReadUpTo(GLOBEX.id, 1))
    assert changes.chats == {GLOBEX.id}
    assert not changes.messages


async def test_an_edit_updates_the_preview_but_not_the_wait(desk: Desk) -> None:
    await desk.feed(new(ACME, 1, ALICE, 0, "Helo"))
    edited = msg(ACME, 1, ALICE, 0, "Hello, my order is stuck", edit_date=T0 + 99)
    changes = await desk.feed(ev.MessageEdited(edited))
    state = desk.inbox.triage[ACME.id]
    assert state.last_preview == "Hello, my order is stuck"
    assert state.waiting_since == T0
    assert changes.messages[ACME.id] == [edited]
    stored = await desk.store.message(ACME.id, 1)
    assert stored is not None and stored.text == "Hello, my order is stuck"


async def test_deleting_the_waiting_message_without_a_chat_id_recomputes_the_wait(
    desk: Desk,
) -> None:
    await desk.feed(
        new(PRIVATE, 1, ME, 0, "Hi Alice"),
        new(PRIVATE, 2, ALICE, 60, "oops wrong chat"),
        new(PRIVATE, 3, ALICE, 90, "my invoice is wrong"),
    )
    assert desk.inbox.triage[PRIVATE.id].waiting_since == T0 + 60
    changes = await desk.feed(ev.MessagesDeleted(None, (2,)))
    assert changes.deleted == {PRIVATE.id: {2}}
    assert PRIVATE.id in changes.chats
    state = desk.inbox.triage[PRIVATE.id]
    assert state.waiting_since == T0 + 90
    assert state.waiting_msg_id == 3
    await desk.inbox.flushed()
    assert (await desk.store.load_triage())[PRIVATE.id].waiting_since == T0 + 90
    await desk.feed(ev.MessagesDeleted(None, (3,)))
    assert desk.inbox.triage[PRIVATE.id].waiting_since is None


async def test_a_message_deleted_in_the_same_batch_it_arrived_in_stays_deleted(
    desk: Desk,
) -> None:
    # Catch-up after a reconnect delivers "new message" and "deleted" back to back.
    changes = await desk.inbox.apply(
        [new(ACME, 1, ALICE, 0, "wrong chat, sorry"), ev.MessagesDeleted(ACME.id, (1,))]
    )
    assert await desk.store.message(ACME.id, 1) is None
    assert desk.inbox.triage[ACME.id].waiting_since is None
    assert desk.inbox.next_waiting() is None
    assert changes.deleted == {ACME.id: {1}}


async def test_read_up_to_clears_unread(desk: Desk) -> None:
    await desk.feed(*(new(ACME, i, ALICE, i) for i in range(1, 4)))
    assert desk.inbox.triage[ACME.id].unread == 3
    await desk.feed(ev.ReadUpTo(ACME.id, 2))
    assert desk.inbox.triage[ACME.id].unread == 1
    await desk.feed(ev.ReadUpTo(ACME.id, 3))
    state = desk.inbox.triage[ACME.id]
    assert state.unread == 0
    assert state.waiting_since == T0 + 1  # read is not answered
    await desk.feed(ev.ReadUpTo(ACME.id, 9, outbox=True))
    assert desk.inbox.triage[ACME.id].read_outbox_max == 9
    await desk.inbox.flushed()
    assert (await desk.store.load_triage())[ACME.id].unread == 0


async def test_connection_flood_wait_and_typing_are_shown(desk: Desk) -> None:
    changes = await desk.feed(ev.FloodWait(30, T0 + 30, "history"))
    assert changes.status and desk.inbox.flood_until == T0 + 30
    await desk.feed(ev.ConnectionState(ev.Connection.CONNECTED, "ok"))
    assert desk.inbox.connection is ev.Connection.CONNECTED
    assert desk.inbox.flood_until is None
    changes = await desk.feed(ev.Typing(ACME.id, MATE.id, T0 + 5))
    assert changes.chats == {ACME.id}
    assert desk.inbox.typing_in(ACME.id) == [MATE.id]  # an unknown user shows as an id
    await desk.feed(new(ACME, 1, MATE, 1, "done"))
    assert desk.inbox.typing_in(ACME.id) == []


async def test_chat_removed_frees_its_slot(desk: Desk) -> None:
    desk.inbox.open(GLOBEX.id)
    assert desk.inbox.slot_of(GLOBEX.id) == 1
    changes = await desk.feed(ev.ChatRemoved(GLOBEX.id))
    assert GLOBEX.id not in desk.inbox.chats
    assert GLOBEX.id not in desk.inbox.order()
    assert desk.inbox.slots == {}
    assert changes.slots
    await desk.inbox.flushed()
    assert await desk.store.slots() == {}
    desk.inbox.open(ACME.id)
    assert desk.inbox.slot_of(ACME.id) == 1


# ------------------------------------------------------------------ sending


async def test_send_goes_through_the_outbox_and_clears_the_wait(desk: Desk) -> None:
    await desk.feed(new(ACME, 1, ALICE, 0, "Hello"))
    desk.inbox.set_draft(ACME.id, "On it")
    desk.source.gate = asyncio.Event()
    item = await desk.inbox.send(ACME.id, "  On it  ", reply_to=1)
    assert item is not None
    assert item.state is OutboxState.PENDING
    assert item.text == "On it"
    await desk.inbox.flushed()
    assert [i.local_id for i in await desk.store.outbox_items()] == [item.local_id]
    assert ACME.id not in desk.inbox.drafts
    await desk.inbox.flushed()
    assert await desk.store.drafts() == {}
    await until(lambda: len(desk.source.sends) == 1, "the send")
    await desk.inbox.flushed()
    [stored] = await desk.store.outbox_items()
    assert stored.state is OutboxState.SENDING
    assert desk.inbox.outbox[ACME.id][0].state is OutboxState.SENDING
    assert desk.inbox.triage[ACME.id].waiting_since == T0  # not sent yet
    desk.source.gate.set()
    await until(lambda: desk.inbox.triage[ACME.id].waiting_since is None, "the reply")
    await desk.settle()
    await desk.inbox.flushed()
    assert await desk.store.outbox_items() == []
    assert desk.inbox.outbox[ACME.id] == []
    [(chat_id, text, reply_to, _)] = desk.source.sends
    assert (chat_id, text, reply_to) == (ACME.id, "On it", 1)
    sent = (await desk.store.messages(ACME.id))[-1]
    assert (sent.text, sent.out, sent.reply_to) == ("On it", True, 1)
    state = desk.inbox.triage[ACME.id]
    assert state.status is Status.WAITING_ON_CUSTOMER
    assert state.last_staff_sender == ME.id


async def test_blank_reply_is_not_sent(desk: Desk) -> None:
    assert await desk.inbox.send(ACME.id, "  \n ") is None
    await desk.inbox.flushed()
    assert await desk.store.outbox_items() == []


async def test_failed_send_stays_failed_and_retry_reuses_the_random_id(desk: Desk) -> None:
    await desk.feed(new(ACME, 1, ALICE, 0, "Hello"))
    desk.source.failures.append(SendError("CHAT_WRITE_FORBIDDEN", permanent=True))
    item = await desk.inbox.send(ACME.id, "Hi!")
    assert item is not None
    await until(lambda: bool(desk.inbox.failed_items()), "the failure")
    [failed] = desk.inbox.failed_items()
    assert failed.local_id == item.local_id
    assert failed.error == "CHAT_WRITE_FORBIDDEN"
    await desk.inbox.flushed()
    [stored] = await desk.store.outbox_items()
    assert (stored.state, stored.error) == (OutboxState.FAILED, "CHAT_WRITE_FORBIDDEN")
    assert desk.inbox.triage[ACME.id].waiting_since == T0  # still waiting: nothing was sent
    await desk.inbox.retry(item.local_id)
    await until(lambda: desk.inbox.triage[ACME.id].waiting_since is None, "the retry")
    await desk.settle()
    assert [s[3] for s in desk.source.sends] == [item.random_id, item.random_id]
    await desk.inbox.flushed()
    assert await desk.store.outbox_items() == []
    assert [m.text for m in await desk.store.messages(ACME.id)] == ["Hello", "Hi!"]


async def test_a_network_error_queues_the_reply_until_the_connection_is_back(desk: Desk) -> None:
    desk.source.failures.append(ConnectionError("connection reset"))
    item = await desk.inbox.send(GLOBEX.id, "Hi")
    assert item is not None
    await until(lambda: is_queued(desk.inbox.outbox[GLOBEX.id][0]), "the queue")
    assert desk.inbox.failed_items() == []
    await desk.feed(ev.ConnectionState(Connection.CONNECTED))
    await until(lambda: not desk.inbox.outbox[GLOBEX.id], "delivery")
    assert [s[3] for s in desk.source.sends] == [item.random_id, item.random_id]


async def test_replies_written_offline_go_by_themselves_in_order_and_once(desk: Desk) -> None:
    """Issue 12 item 4: offline, replies stay queued; back online, they go oldest first, each
    once with its own random id, and a second 'connected' sends nothing again."""
    await desk.feed(ev.ConnectionState(Connection.OFFLINE, "no network"))
    first = await desk.inbox.send(ACME.id, "first")
    second = await desk.inbox.send(GLOBEX.id, "second")
    third = await desk.inbox.send(ACME.id, "third")
    assert first and second and third
    await desk.settle()
    await desk.inbox.flushed()
    assert desk.source.sends == []
    assert all(is_queued(i) for items in desk.inbox.outbox.values() for i in items)
    await desk.inbox.flushed()
    assert {i.error for i in await desk.store.outbox_items()} == {"offline"}
    await desk.feed(ev.ConnectionState(Connection.CONNECTED))
    await until(lambda: len(desk.source.sends) == 3, "the queued replies")
    await desk.feed(ev.ConnectionState(Connection.CONNECTED))
    await desk.settle()
    await desk.inbox.flushed()
    assert [(s[1], s[3]) for s in desk.source.sends] == [
        ("first", first.random_id),
        ("second", second.random_id),
        ("third", third.random_id),
    ]
    await desk.inbox.flushed()
    assert await desk.store.outbox_items() == []
    assert [m.text for m in await desk.store.messages(ACME.id)] == ["first", "third"]


async def test_a_send_that_fails_while_the_connection_comes_back_is_sent_by_itself(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fault suite's race (seed 208): the network failed the send, but the connection was
    back before the failure returned, so no later 'connected' comes to resume the reply; it must
    still go, once."""
    monkeypatch.setattr(outbox_module, "RESUME_AGAIN_SECONDS", 0.01)
    await desk.feed(ev.ConnectionState(Connection.CONNECTED))
    desk.source.failures.append(SendError("Connection lost"))
    item = await desk.inbox.send(ACME.id, "Hi")
    assert item is not None
    await until(lambda: not desk.inbox.outbox[ACME.id], "the reply to go without a reconnect")
    assert [s[1] for s in desk.source.sends] == ["Hi", "Hi"]
    assert len({s[3] for s in desk.source.sends}) == 1  # the same random id: never twice


async def test_a_refused_reply_is_not_queued_and_waits_for_retry(desk: Desk) -> None:
    await desk.feed(ev.ConnectionState(Connection.CONNECTED))
    desk.source.failures.append(SendError("CHAT_WRITE_FORBIDDEN", permanent=True))
    item = await desk.inbox.send(ACME.id, "Hi")
    assert item is not None
    await until(lambda: bool(desk.inbox.failed_items()), "the failure")
    await desk.feed(ev.ConnectionState(Connection.CONNECTED))
    await desk.settle()
    assert len(desk.source.sends) == 1  # a reconnect does not retry a refused reply


async def test_retry_pressed_twice_sends_once(desk: Desk) -> None:
    desk.source.failures.append(SendError("SLOWMODE_WAIT_30", retry_after=30))
    item = await desk.inbox.send(ACME.id, "Hi")
    assert item is not None
    await until(lambda: bool(desk.inbox.failed_items()), "the failure")
    desk.source.gate = asyncio.Event()
    await desk.inbox.retry(item.local_id)
    await desk.inbox.retry(item.local_id)
    await until(lambda: len(desk.source.sends) >= 2, "the retry")
    desk.source.gate.set()
    await until(lambda: not desk.inbox.outbox[ACME.id], "delivery")
    await desk.settle()
    assert len(desk.source.sends) == 2  # the failed try and one retry
    assert await desk.store.message_count() == 1


async def test_discard_returns_the_text_of_a_failed_reply(desk: Desk) -> None:
    desk.source.failures.append(SendError("USER_BANNED_IN_CHANNEL", permanent=True))
    item = await desk.inbox.send(ACME.id, "Long careful answer")
    assert item is not None
    await until(lambda: bool(desk.inbox.failed_items()), "the failure")
    assert await desk.inbox.discard(item.local_id) == "Long careful answer"
    await desk.inbox.flushed()
    assert await desk.store.outbox_items() == []
    assert desk.inbox.failed_items() == []


async def test_unsent_replies_and_drafts_survive_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite3"
    clock = FakeClock()
    source = ScriptedSource(clock=clock)
    source.gate = asyncio.Event()  # Telegram never answers: the desk dies mid-send
    async with running_desk(path, source, clock=clock) as desk:
        await desk.feed(new(ACME, 1, ALICE, 0, "Hello"))
        desk.inbox.set_draft(GLOBEX.id, "half-written answer")
        item = await desk.inbox.send(ACME.id, "Checking now")
        assert item is not None
        await until(lambda: len(source.sends) == 1, "the send")
    # Everything is gone but the file.
    store = await Store.open(path, clock=clock)
    try:
        fresh = ScriptedSource(clock=clock)
        inbox = Inbox(store, fresh, config(), clock=clock)
        await inbox.load_cached()
        assert set(inbox.chats) == {c.id for c in CHATS}
        assert inbox.drafts == {GLOBEX.id: "half-written answer"}
        [pending] = inbox.outbox[ACME.id]
        assert pending.random_id == item.random_id
        assert pending.text == "Checking now"
        assert pending.state in (OutboxState.PENDING, OutboxState.SENDING)
        assert inbox.triage[ACME.id].waiting_since == T0  # the cache alone knows who waits
        assert inbox.next_waiting() == ACME.id
        assert inbox.rule.me_id == ME.id
        # Once connected, the reply goes out with the same random id (never twice).
        await inbox.start()
        await until(lambda: not inbox.outbox.get(ACME.id), "the resumed send")
        assert [s[3] for s in fresh.sends] == [item.random_id]
        await until(lambda: inbox.triage[ACME.id].waiting_since is None, "the reply applied")
        await inbox.stop()
    finally:
        await store.close()


# ------------------------------------------------------------------ the engineer's actions


async def test_open_takes_the_first_free_slot_and_unpin_frees_it(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite3"
    async with running_desk(path) as desk:
        inbox = desk.inbox
        for chat in (ACME, GLOBEX, INITECH):
            inbox.open(chat.id)
        assert inbox.slots == {1: ACME.id, 2: GLOBEX.id, 3: INITECH.id}
        inbox.open(ACME.id)  # already in the working set: keeps its slot
        assert inbox.slot_of(ACME.id) == 1
        assert await inbox.unpin(GLOBEX.id) == 2
        assert await inbox.unpin(GLOBEX.id) is None
        inbox.open(UMBRELLA.id)
        assert inbox.slot_of(UMBRELLA.id) == 2
        await inbox.pin(PRIVATE.id, 10)
        assert inbox.slots == {1: ACME.id, 2: UMBRELLA.id, 3: INITECH.id, 10: PRIVATE.id}
        await inbox.pin(PRIVATE.id, 5)  # moving a chat frees its old slot
        assert inbox.slot_of(PRIVATE.id) == 5 and 10 not in inbox.slots
        await desk.inbox.flushed()
        assert await desk.store.slots() == inbox.slots
    async with running_desk(path, cached=True) as desk:
        assert desk.inbox.slots == {1: ACME.id, 2: UMBRELLA.id, 3: INITECH.id, 5: PRIVATE.id}


async def test_a_full_working_set_gives_the_least_recently_used_quiet_slot_up(
    tmp_path: Path,
) -> None:
    many = [Chat(id=-1001000000100 - i, title=f"C{i} · Support") for i in range(12)]
    async with running_desk(tmp_path / "d.sqlite3", ScriptedSource(chats=many)) as desk:
        inbox = desk.inbox
        for chat in many[:10]:
            inbox.open(chat.id)
        assert sorted(inbox.slots) == list(range(1, 11))
        inbox.open(many[0].id)  # used again: C1 is now the least recently used
        inbox.set_draft(many[1].id, "half a reply")  # a draft keeps C1 in
        inbox.open(many[10].id)
        assert inbox.slot_of(many[10].id) == 3, "C2's slot, the least recently used quiet one"
        assert inbox.slot_of(many[1].id) == 2 and inbox.slot_of(many[0].id) == 1
        inbox.open(many[11].id, join=False)
        assert inbox.slot_of(many[11].id) is None, "browsing past a chat takes no slot"
        assert inbox.open_chat_id == many[11].id
        await inbox.flushed()
        assert await desk.store.slots() == inbox.slots


async def test_open_marks_the_chat_read_here_and_at_the_source(desk: Desk) -> None:
    await desk.feed(new(ACME, 1, ALICE, 0), new(ACME, 2, ALICE, 1))
    desk.inbox.open(ACME.id)
    assert desk.inbox.triage[ACME.id].unread == 0
    await until(lambda: desk.source.read == [(ACME.id, 2)], "the read mark")
    # While it is open, new messages are read as they arrive.
    await desk.feed(new(ACME, 3, ALICE, 5))
    assert desk.inbox.triage[ACME.id].unread == 0
    assert desk.inbox.triage[ACME.id].waiting_since == T0  # read is not answered


async def test_mark_handled_then_customer_writes_again(desk: Desk) -> None:
    await desk.feed(new(ACME, 1, ME, 0, "Fixed!"), new(ACME, 2, ALICE, 10, "thanks!"))
    assert desk.inbox.next_waiting() == ACME.id
    await desk.inbox.mark_handled(ACME.id)
    assert desk.inbox.triage[ACME.id].waiting_since is None
    assert desk.inbox.next_waiting() is None
    await desk.inbox.flushed()
    assert (await desk.store.load_triage())[ACME.id].handled_upto == 2
    await desk.feed(new(ACME, 3, ALICE, 600, "one more question"))
    assert desk.inbox.triage[ACME.id].waiting_since == T0 + 600


async def test_postpone_hides_until_the_time_or_the_customer_writes(desk: Desk) -> None:
    await desk.feed(new(ACME, 1, ALICE, 0), new(GLOBEX, 1, BOB, 5))
    await desk.inbox.postpone(ACME.id, T0 + 3600)
    assert desk.inbox.next_waiting() == GLOBEX.id
    assert desk.inbox.order()[-1] == ACME.id
    assert desk.inbox.status_of(ACME.id) is Status.POSTPONED
    await desk.inbox.flushed()
    stored = (await desk.store.load_triage())[ACME.id]
    assert (stored.status, stored.postponed_until) == (Status.POSTPONED, T0 + 3600)
    desk.clock.now = T0 + 3600  # the postponement runs out
    assert desk.inbox.status_of(ACME.id) is Status.OPEN
    assert desk.inbox.order()[0] == ACME.id
    await desk.inbox.postpone(ACME.id, T0 + 7200)
    await desk.feed(new(ACME, 2, ALICE, 3700, "hello??"))
    state = desk.inbox.triage[ACME.id]
    assert state.status is Status.OPEN and state.reopened
    assert desk.inbox.order()[0] == ACME.id


async def test_close_and_reopen(desk: Desk) -> None:
    await desk.feed(new(ACME, 1, ALICE, 0, "bye, thanks"))
    await desk.inbox.close(ACME.id)
    assert desk.inbox.triage[ACME.id].status is Status.CLOSED
    assert desk.inbox.next_waiting() is None
    assert desk.inbox.order()[-1] == ACME.id
    await desk.inbox.reopen(ACME.id)
    assert desk.inbox.triage[ACME.id].status is not Status.CLOSED
    await desk.inbox.flushed()
    assert (await desk.store.load_triage())[ACME.id].status is not Status.CLOSED
    await desk.inbox.close(ACME.id)
    await desk.feed(new(ACME, 2, ALICE, 50, "actually, one more thing"))
    state = desk.inbox.triage[ACME.id]
    assert (state.status, state.reopened, state.waiting_since) == (Status.OPEN, True, T0 + 50)


async def test_in_development_keeps_its_ticket(desk: Desk) -> None:
    await desk.inbox.set_in_development(INITECH.id, "JIRA-123", T0 + 86_400)
    await desk.inbox.flushed()
    stored = (await desk.store.load_triage())[INITECH.id]
    assert (stored.status, stored.ticket, stored.due) == (
        Status.IN_DEVELOPMENT,
        "JIRA-123",
        T0 + 86_400,
    )


async def test_next_waiting_is_the_longest_wait_other_than_the_open_chat(desk: Desk) -> None:
    await desk.feed(
        new(GLOBEX, 1, BOB, 100),
        new(ACME, 1, ALICE, 0),
        new(INITECH, 1, BOB, 200),
        new(UMBRELLA, 1, ME, 50),
    )
    desk.clock.now = T0 + 1000
    assert desk.inbox.next_waiting() == ACME.id
    desk.inbox.open(ACME.id)
    assert desk.inbox.next_waiting(exclude=desk.inbox.open_chat_id) == GLOBEX.id
    assert desk.inbox.order()[:3] == [ACME.id, GLOBEX.id, INITECH.id]
    assert desk.inbox.neighbour(ACME.id, 1) == GLOBEX.id
    assert desk.inbox.neighbour(ACME.id, -1) == desk.inbox.order()[-1]


async def test_history_fetches_older_messages_from_the_source(desk: Desk) -> None:
    desk.source.archive[ACME.id] = [msg(ACME, i, ALICE, i, f"old {i}") for i in range(1, 6)]
    await desk.feed(new(ACME, 6, ALICE, 6, "new"))
    older = await desk.inbox.history(ACME.id, before_id=6, limit=3)
    assert [m.id for m in older] == [3, 4, 5]
    assert [m.id for m in await desk.store.messages(ACME.id)] == [3, 4, 5, 6]


async def test_a_chat_removed_in_the_same_batch_as_its_messages_loses_nothing_else(
    desk: Desk,
) -> None:
    await desk.inbox.apply(
        [new(ACME, 1, ALICE, 0), new(GLOBEX, 1, BOB, 1), ev.ChatRemoved(ACME.id)]
    )
    assert ACME.id not in desk.inbox.triage
    assert await desk.store.messages(ACME.id) == []
    assert [m.id for m in await desk.store.messages(GLOBEX.id)] == [1]
    assert desk.inbox.triage[GLOBEX.id].waiting_since == T0 + 1


async def test_a_failing_listener_does_not_stop_the_desk(desk: Desk) -> None:
    def broken(changes: Changes) -> None:
        raise RuntimeError("widget bug")

    desk.inbox.subscribe(broken)
    await desk.feed(new(ACME, 1, ALICE, 0))
    await desk.feed(new(GLOBEX, 1, BOB, 5))
    assert desk.inbox.triage[GLOBEX.id].waiting_since == T0 + 5


# ------------------------------------------------------------------ bad events


async def test_one_event_that_cannot_be_stored_does_not_take_its_batch_with_it(desk: Desk) -> None:
    """Issue 12 item 8: a message id beyond SQLite's 64-bit range in a batch of 600 events is
    logged and counted on the status line; the other 599 land."""
    from tgtriage.tui.panels import status_text

    chats = [ACME, GLOBEX, INITECH]
    batch: list[ev.Event] = [new(chats[n % 3], n // 3 + 1, ALICE, n, f"m{n}") for n in range(599)]
    batch.insert(300, new(UMBRELLA, 2**64, ALICE, 300, "beyond SQLite"))
    changes = await desk.feed(*batch)
    assert sum(len(msgs) for msgs in changes.messages.values()) == 599
    assert await desk.store.message_count() == 599
    assert desk.inbox.unshown == 1
    assert changes.status
    assert desk.inbox.triage[ACME.id].last_msg_id == 200
    assert desk.inbox.triage[UMBRELLA.id].last_msg_id == 0
    line = status_text(desk.inbox, "demo").plain
    assert "1 message could not be shown — see the log" in line
