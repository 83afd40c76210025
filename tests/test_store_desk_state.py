"""The SQLite store's desk state: triage, drafts, outbox, slots, template usage, notes, tags, alerts, meta."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tgtriage.core.desk.models import Chat, ChatTriage, OutboxState, Status
from tgtriage.core.storage.store import Note, Store

from tests.store_harness import BASIC, GROUP, PRIVATE, T0, FakeClock, msg

# --- desk state ----------------------------------------------------------------------------


async def test_triage_round_trips_every_field(store: Store) -> None:
    full = ChatTriage(
        chat_id=GROUP,
        last_msg_id=9,
        last_activity=T0 + 9,
        last_preview="anyone there? 👀",
        last_staff_msg_id=5,
        last_staff_at=T0 + 5,
        last_staff_sender=1,
        waiting_since=T0 + 6,
        waiting_msg_id=6,
        last_customer_id=77,
        unread=3,
        read_inbox_max=8,
        read_outbox_max=5,
        handled_upto=4,
        status=Status.IN_DEVELOPMENT,
        postponed_until=T0 + 3600,
        ticket="JIRA-123",
        due=T0 + 86400,
        reopened=True,
        levels_override=(1, 2, 3),
        alerted_level=2,
    )
    plain = ChatTriage(chat_id=PRIVATE)
    await store.save_triage([full, plain])
    assert await store.load_triage() == {GROUP: full, PRIVATE: plain}
    closed = plain.model_copy(update={"status": Status.CLOSED})
    await store.save_triage([closed])
    assert (await store.load_triage())[PRIVATE] == closed


async def test_drafts_persist_across_reopen(db_path: Path) -> None:
    async with await Store.open(db_path) as s:
        await s.set_draft(GROUP, "Hi {{ customer.first_name }},\nlet me check 🔍")
        await s.set_draft(PRIVATE, "temp")
        await s.set_draft(PRIVATE, "")
    async with await Store.open(db_path) as s:
        assert await s.drafts() == {GROUP: "Hi {{ customer.first_name }},\nlet me check 🔍"}
        await s.set_draft(GROUP, "   ")
        assert await s.drafts() == {}


async def test_outbox_survives_reopen_with_its_random_id(db_path: Path) -> None:
    clock = FakeClock(T0 + 5)
    async with await Store.open(db_path, clock=clock) as s:
        a = await s.outbox_add(GROUP, "On it!", reply_to=3)
        b = await s.outbox_add(PRIVATE, "Fixed ✅", None, random_id=-12345)
        assert (a.state, a.created, a.reply_to, a.error, a.sent_id) == (
            OutboxState.PENDING, T0 + 5, 3, None, None,
        )  # fmt: skip
        assert a.random_id != 0 and -(2**63) <= a.random_id < 2**63
        assert b.random_id == -12345
        failed = await s.outbox_update(a.local_id, state=OutboxState.FAILED, error="FloodWait 30s")
        assert failed.error == "FloodWait 30s"
    async with await Store.open(db_path) as s:  # "after a crash unsent replies are still there"
        items = await s.outbox_items()
        assert [(i.local_id, i.random_id, i.text) for i in items] == [
            (a.local_id, a.random_id, "On it!"),
            (b.local_id, -12345, "Fixed ✅"),
        ]
        assert items[0].state == OutboxState.FAILED
        retry = await s.outbox_update(a.local_id, state=OutboxState.SENDING)
        assert retry.error is None and retry.random_id == a.random_id
        sent = await s.outbox_update(a.local_id, state=OutboxState.SENT, sent_id=501)
        assert sent.sent_id == 501
        again = await s.outbox_update(a.local_id, state=OutboxState.SENT)
        assert again.sent_id == 501
        assert [i.local_id for i in await s.outbox_items(chat_id=GROUP)] == [a.local_id]
        pending = await s.outbox_items(states={OutboxState.PENDING, OutboxState.FAILED})
        assert [i.local_id for i in pending] == [b.local_id]
        await s.outbox_remove(a.local_id)
        assert [i.local_id for i in await s.outbox_items()] == [b.local_id]
        with pytest.raises(KeyError):
            await s.outbox_update(a.local_id, state=OutboxState.SENT)


async def test_outbox_random_ids_are_unique(store: Store) -> None:
    items = [await store.outbox_add(GROUP, f"r{i}", None) for i in range(50)]
    assert len({i.random_id for i in items}) == 50
    with pytest.raises(ValueError, match="already in the outbox"):
        await store.outbox_add(GROUP, "dup", None, random_id=items[0].random_id)
    # the failed call left no half-open transaction behind
    await store.set_draft(GROUP, "still works")
    assert len(await store.outbox_items()) == 50


async def test_slots_hold_each_chat_once(db_path: Path) -> None:
    async with await Store.open(db_path) as s:
        await s.set_slot(1, GROUP)
        await s.set_slot(2, PRIVATE)
        await s.set_slot(10, BASIC)
        await s.set_slot(3, GROUP)  # moving frees slot 1
        assert await s.slots() == {2: PRIVATE, 3: GROUP, 10: BASIC}
        await s.set_slot(2, BASIC)  # takes slot 2 from PRIVATE, frees 10
        assert await s.slots() == {2: BASIC, 3: GROUP}
        await s.set_slot(3, None)
        for bad in (0, 11, -1):
            with pytest.raises(ValueError, match="1–10"):
                await s.set_slot(bad, GROUP)
    async with await Store.open(db_path) as s:
        assert await s.slots() == {2: BASIC}


async def test_template_usage_counts_and_remembers_last_use(db_path: Path) -> None:
    clock = FakeClock()
    async with await Store.open(db_path, clock=clock) as s:
        await s.bump_template("hello")
        clock.now += 100
        await s.bump_template("hello")
        await s.bump_template("refund")
        assert await s.template_usage() == {"hello": (2, T0 + 100), "refund": (1, T0 + 100)}


async def test_notes_and_tags(store: Store) -> None:
    n2 = await store.add_note(GROUP, "Ann", "second", T0 + 20)
    n1 = await store.add_note(GROUP, "Bob", "VIP customer — be nice 🙂", T0 + 10)
    n3 = await store.add_note(GROUP, "Ann", "dated now")
    assert await store.notes(GROUP) == [  # oldest first; no date given means "now"
        Note(n3, GROUP, T0, "Ann", "dated now"),
        Note(n1, GROUP, T0 + 10, "Bob", "VIP customer — be nice 🙂"),
        Note(n2, GROUP, T0 + 20, "Ann", "second"),
    ]
    assert await store.notes(PRIVATE) == []

    await store.set_tags(GROUP, ["vip", "billing", " vip ", ""])
    await store.set_tags(PRIVATE, ["émoji 🏷"])
    assert await store.tags() == {GROUP: {"vip", "billing"}, PRIVATE: {"émoji 🏷"}}
    await store.set_tags(GROUP, ["billing"])
    await store.set_tags(PRIVATE, [])
    assert await store.tags() == {GROUP: {"billing"}}


async def test_alerts_are_recorded_once_until_cleared(store: Store) -> None:
    assert await store.alert_sent(GROUP, 2, "desktop") is True
    assert await store.alert_sent(GROUP, 2, "desktop") is False
    assert await store.alert_sent(GROUP, 3, "desktop") is True
    assert await store.alert_sent(GROUP, 2, "bell") is True
    assert await store.alert_sent(PRIVATE, 2, "desktop") is True
    await store.clear_alerts(GROUP)
    assert await store.alert_sent(GROUP, 2, "desktop") is True
    assert await store.alert_sent(PRIVATE, 2, "desktop") is False


async def test_meta_facts_persist_across_reopen(db_path: Path) -> None:
    async with await Store.open(db_path) as s:
        assert await s.get_meta("me_id") is None
        await s.set_meta("me_id", "1")
        await s.set_meta("me_id", "42")
        await s.set_meta("gone", "x")
        await s.set_meta("gone", None)
    async with await Store.open(db_path) as s:
        assert await s.get_meta("me_id") == "42"
        assert await s.get_meta("gone") is None


async def test_remove_chat_forgets_cache_but_keeps_notes_and_tags(store: Store) -> None:
    await store.upsert_chats([Chat(id=GROUP, title="Acme"), Chat(id=PRIVATE, title="Zoë")])
    await store.add_messages([msg(GROUP, 1, "needle"), msg(PRIVATE, 1, "needle")])
    await store.save_triage([ChatTriage(chat_id=GROUP), ChatTriage(chat_id=PRIVATE)])
    await store.set_draft(GROUP, "draft")
    await store.set_slot(1, GROUP)
    await store.outbox_add(GROUP, "reply", None)
    await store.alert_sent(GROUP, 1, "desktop")
    note = await store.add_note(GROUP, "Ann", "remember", T0)
    await store.set_tags(GROUP, ["vip"])

    await store.remove_chat(GROUP)
    assert [c.id for c in await store.all_chats()] == [PRIVATE]
    assert await store.messages(GROUP) == []
    assert [m.chat_id for m in await store.search("needle")] == [PRIVATE]
    assert set(await store.load_triage()) == {PRIVATE}
    assert await store.drafts() == {} and await store.slots() == {}
    assert await store.outbox_items() == []
    assert await store.alert_sent(GROUP, 1, "desktop") is True
    assert [n.id for n in await store.notes(GROUP)] == [note]
    assert await store.tags() == {GROUP: {"vip"}}


async def test_concurrent_writers_do_not_collide(store: Store) -> None:
    await asyncio.gather(
        *(store.add_messages([msg(GROUP, i, "x")]) for i in range(1, 31)),
        *(store.set_draft(PRIVATE + i, f"d{i}") for i in range(30)),
        *(store.bump_template("hello") for _ in range(30)),
    )
    assert await store.message_count() == 30
    assert len(await store.drafts()) == 30
    assert (await store.template_usage())["hello"][0] == 30
