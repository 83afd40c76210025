"""The engineer's actions on the Inbox: slots, read marks, handled, postpone, close, statuses and navigation."""

from __future__ import annotations

from pathlib import Path

from tgtriage.core.desk import events as ev
from tgtriage.core.desk.inbox import Changes
from tgtriage.core.desk.models import Chat, Status

from tests.inbox_harness import (
    ACME,
    ALICE,
    BOB,
    GLOBEX,
    INITECH,
    ME,
    PRIVATE,
    T0,
    UMBRELLA,
    Desk,
    ScriptedSource,
    msg,
    new,
    running_desk,
    started_desk,  # noqa: F401  (the `desk` fixture)
    until,
)

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
