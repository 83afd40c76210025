"""The Inbox's outbox on a real Store: replies sent, queued offline, failed, retried and surviving a crash."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tgtriage.core.desk import events as ev
from tgtriage.core.desk import outbox as outbox_module
from tgtriage.core.desk.events import Connection
from tgtriage.core.desk.inbox import Inbox
from tgtriage.core.desk.models import OutboxState, Status
from tgtriage.core.desk.outbox import is_queued
from tgtriage.core.sources.base import SendError
from tgtriage.core.storage.store import Store

from tests.inbox_harness import (
    ACME,
    ALICE,
    CHATS,
    GLOBEX,
    ME,
    T0,
    Desk,
    FakeClock,
    ScriptedSource,
    config,
    new,
    running_desk,
    started_desk,  # noqa: F401  (the `desk` fixture)
    until,
)

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
