"""A burst of events applied in slices: nothing lost or reordered, each slice within its budget."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from tgtriage.core.desk import events as ev
from tgtriage.core.desk.inbox import Inbox
from tgtriage.core.desk.models import ChatTriage
from tgtriage.core.desk.slices import SliceSizer
from tgtriage.core.rules import triage

from tests.inbox_harness import ALICE, BOB, CHATS, MATE, ME, Desk, new, running_desk

PER_EVENT = 0.0001  # the loop work one event costs, as the test's work clock tells it
BUDGET = 0.008


def charge_per_event(inbox: Inbox) -> list[int]:
    """Make the slice sizer's work clock advance PER_EVENT for every event applied; the
    number of events each apply() got is recorded."""
    applied: list[int] = []
    spent = [0.0]
    original = inbox.applier.apply

    async def apply(batch: list[ev.Event]) -> object:
        applied.append(len(batch))
        spent[0] += PER_EVENT * len(batch)
        return await original(batch)

    inbox.applier.apply = apply  # type: ignore[method-assign]
    inbox.slices = SliceSizer(budget=BUDGET, work_clock=lambda: spent[0])
    return applied


def burst(rng: random.Random, before: dict[int, ChatTriage], count: int) -> list[ev.Event]:
    """`count` events over every chat: new messages from customers, teammates and the engineer
    (ids rising per chat, chats interleaved at random), some delivered twice, and read marks."""
    next_id = {c.id: before[c.id].last_msg_id + 1 for c in CHATS}
    events: list[ev.Event] = []
    for n in range(count):
        chat = rng.choice(CHATS)
        roll = rng.random()
        if roll < 0.05 and events:
            events.append(rng.choice(events))  # a reconnect delivers it again
            continue
        if roll < 0.12:
            top = next_id[chat.id] - 1
            events.append(ev.ReadUpTo(chat.id, rng.randint(max(0, top - 5), top) if top else 0))
            continue
        sender = rng.choice([ALICE, ALICE, BOB, MATE, ME])
        events.append(new(chat, next_id[chat.id], sender, 10 + n, f"m{n}"))
        next_id[chat.id] += 1
    return events


def from_scratch(
    desk: Desk, before: dict[int, ChatTriage], events: list[ev.Event]
) -> dict[int, ChatTriage]:
    """Every chat's summary folded event by event with the pure rules (duplicates once)."""
    rule = desk.inbox.rule
    states = dict(before)
    seen: set[tuple[int, int]] = set()
    for event in events:
        if isinstance(event, ev.NewMessage):
            message = event.message
            if (message.chat_id, message.id) in seen:
                continue
            seen.add((message.chat_id, message.id))
            state = states[message.chat_id]
            states[message.chat_id] = triage.apply_message(state, message, rule.role(message))
        elif isinstance(event, ev.ReadUpTo):
            state = states[event.chat_id]
            if event.max_id > state.read_inbox_max:
                unread = 0 if event.max_id >= state.last_msg_id else state.unread
                states[event.chat_id] = triage.read_upto(state, event.max_id, unread)
    return states


async def test_a_seeded_burst_lands_in_slices_equal_to_a_computation_from_scratch(
    tmp_path: Path,
) -> None:
    """Issue 18: 3,000 events at once are applied in slices of at most what the work budget
    holds, and the waiting set, the order and the unread counts are what folding every event
    in turn gives; the store ends up holding the same."""
    rng = random.Random(18)
    async with running_desk(tmp_path / "desk.sqlite3") as desk:
        inbox = desk.inbox
        applied = charge_per_event(inbox)
        before = {c.id: inbox.triage[c.id] for c in CHATS}
        events = burst(rng, before, 3_000)
        await desk.feed(*events)
        await inbox.flushed()

        fitting = int(BUDGET / PER_EVENT)
        sliced = [n for n in applied if n > 1]  # (the harness's settle marker lands alone)
        assert max(sliced) <= fitting
        assert len(sliced) >= len(events) // fitting

        expected = from_scratch(desk, before, events)
        now = inbox.now()
        for chat in CHATS:
            live, want = inbox.triage[chat.id], expected[chat.id]
            assert (live.last_msg_id, live.waiting_since, live.waiting_msg_id, live.unread) == (
                want.last_msg_id,
                want.waiting_since,
                want.waiting_msg_id,
                want.unread,
            ), chat.title
        waiting = {c for c, s in inbox.triage.items() if s.waiting_since is not None}
        assert waiting == {c for c, s in expected.items() if s.waiting_since is not None}
        ordered = triage.ordered(expected.values(), now, inbox.configured_targets, inbox.elapsed)
        assert inbox.order() == [s.chat_id for s in ordered]

        unique = {(e.message.chat_id, e.message.id) for e in events if isinstance(e, ev.NewMessage)}
        assert await desk.store.message_count() == len(unique)
        stored = await desk.store.load_triage()
        assert {c: stored[c].unread for c in before} == {c: expected[c].unread for c in before}


async def test_a_summary_recomputed_meanwhile_keeps_the_messages_not_written_yet(
    tmp_path: Path,
) -> None:
    """A slice is shown before it is written; a chat's summary recomputed from the store at
    that moment (its read queued before the slice's write) still counts the slice's messages."""
    from tests.inbox_harness import ACME, until

    async with running_desk(tmp_path / "desk.sqlite3") as desk:
        inbox = desk.inbox
        await desk.feed(new(ACME, 1, ALICE, 5, "hello"))
        await inbox.flushed()
        recomputed = asyncio.ensure_future(inbox.applier.recompute(ACME.id))
        inbox.submit(new(ACME, 2, ALICE, 6, "anyone?"))
        await until(lambda: inbox.triage[ACME.id].last_msg_id == 2 or recomputed.done())
        await recomputed
        await desk.settle()
        await inbox.flushed()
        state = inbox.triage[ACME.id]
        assert (state.last_msg_id, state.unread) == (2, 2)
        assert (await desk.store.load_triage())[ACME.id].last_msg_id == 2
