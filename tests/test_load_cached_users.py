"""A big cached desk: the first frame's state (chats, waiting set, order) comes from the store at
once; the stored users (names only) are read after it, before the source starts or an event is
applied."""

from __future__ import annotations

from pathlib import Path

from tgtriage.core.desk import events as ev
from tgtriage.core.desk.inbox import Inbox
from tgtriage.core.desk.models import Chat, ChatTriage, Message, User
from tgtriage.core.storage.store import Store

from tests.inbox_harness import ME, T0, FakeClock, ScriptedSource, config

CHATS = 600
USERS = 3000


def chat(n: int) -> Chat:
    """The n-th support chat of the big desk."""
    return Chat(id=-1001_000_000_000 - n, title=f"Customer {n:04d} · Support")


def summary(n: int) -> ChatTriage:
    """Every third chat waits, for a time that depends on n (so the order is not the ids')."""
    waiting = T0 - 60 * ((n * 37) % 500 + 1) if n % 3 == 0 else None
    return ChatTriage(
        chat_id=chat(n).id,
        last_msg_id=n + 1,
        last_activity=T0 - n,
        waiting_since=waiting,
        waiting_msg_id=n + 1 if waiting else None,
    )


def customer(n: int) -> User:
    """The n-th stored user."""
    return User(id=100_000 + n, first_name=f"Customer{n}", last_name="Stored")


async def big_store(path: Path) -> None:
    """A store like a big desk's: many chats and summaries, five users per chat."""
    store = await Store.open(path)
    try:
        await store.upsert_chats(chat(n) for n in range(CHATS))
        await store.save_triage(summary(n) for n in range(CHATS))
        await store.upsert_users([ME, *(customer(n) for n in range(USERS))])
    finally:
        await store.close()


async def test_the_cached_desk_has_every_waiting_chat_in_order_before_its_users(
    tmp_path: Path,
) -> None:
    path = tmp_path / "big.sqlite3"
    await big_store(path)
    clock = FakeClock()
    store = await Store.open(path, clock=clock)
    source = ScriptedSource(chats=[], clock=clock)
    inbox = Inbox(store, source, config(), clock=clock)
    try:
        await inbox.load_cached()
        assert inbox.users == {}  # not read before the first frame: no row shows them
        waiting = {chat(n).id for n in range(CHATS) if n % 3 == 0}
        assert {c for c, s in inbox.triage.items() if s.waiting_since is not None} == waiting
        longest_first = sorted(waiting, key=lambda c: inbox.triage[c].waiting_since or 0)
        order = inbox.order()
        assert len(order) == CHATS
        assert [c for c in order if c in waiting] == longest_first
        await inbox.users_read()
        assert len(inbox.users) == USERS + 1
        assert inbox.users[customer(7).id].name == "Customer7 Stored"
        assert inbox.order() == order
    finally:
        await inbox.stop()
        await store.close()


async def test_an_event_applied_before_the_users_are_read_keeps_the_stored_name(
    tmp_path: Path,
) -> None:
    path = tmp_path / "big.sqlite3"
    await big_store(path)
    clock = FakeClock()
    store = await Store.open(path, clock=clock)
    inbox = Inbox(store, ScriptedSource(chats=[], clock=clock), config(), clock=clock)
    try:
        await inbox.load_cached()
        sender = customer(11)
        message = Message(
            chat_id=chat(11).id,
            id=9_999,
            date=T0,
            sender_id=sender.id,
            sender_name="cust11",  # what a message carries is weaker than the stored user
            text="still broken",
        )
        await inbox.apply([ev.NewMessage(message)])
        assert inbox.users[sender.id].name == "Customer11 Stored"
        await inbox.flushed()
        assert (await store.users())[sender.id].name == "Customer11 Stored"
        assert inbox.triage[chat(11).id].waiting_msg_id == 9_999
    finally:
        await inbox.stop()
        await store.close()


async def test_starting_the_source_reads_the_users_first(tmp_path: Path) -> None:
    path = tmp_path / "big.sqlite3"
    await big_store(path)
    clock = FakeClock()
    store = await Store.open(path, clock=clock)
    inbox = Inbox(store, ScriptedSource(chats=[chat(1)], clock=clock), config(), clock=clock)
    try:
        await inbox.load_cached()
        await inbox.start()
        assert len(inbox.users) == USERS + 1 and inbox.users[ME.id] == ME
    finally:
        await inbox.stop()
        await store.close()
