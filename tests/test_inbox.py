"""The Inbox on a real Store and a scripted ChatSource: events in, applied, persisted and reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from tgtriage.core.desk import events as ev
from tgtriage.core.desk.models import Chat, Status, User
from tgtriage.core.sources.base import ChatSource

from tests.inbox_harness import (
    ACME,
    ALICE,
    BOB,
    CHATS,
    GLOBEX,
    INITECH,
    MATE,
    ME,
    PRIVATE,
    SOURCE_MATE,
    T0,
    UMBRELLA,
    Desk,
    FakeClock,
    ScriptedSource,
    msg,
    new,
    running_desk,
    started_desk,  # noqa: F401  (the `desk` fixture)
)


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
    await desk.inbox.flushed()  # shown at once; stored behind the screen (write-behind)
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
