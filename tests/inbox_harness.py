"""An Inbox on a real Store and a scripted ChatSource, with the helpers that feed it events and let it settle."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from tgtriage.core.desk import events as ev
from tgtriage.core.desk.inbox import Changes, Inbox
from tgtriage.core.desk.models import Chat, Message, User
from tgtriage.core.sources.base import Dialogs, SourceTraits
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


@pytest.fixture(name="desk")
async def started_desk(tmp_path: Path) -> AsyncIterator[Desk]:
    """A started desk on a fresh store with the five support chats."""
    async with running_desk(tmp_path / "desk.sqlite3") as started:
        yield started
