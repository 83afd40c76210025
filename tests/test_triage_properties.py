"""Hypothesis properties of the triage rules over random message sequences (DESIGN §3)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st
from tgtriage.core.desk.models import ChatTriage, Message, Status
from tgtriage.core.rules import triage
from tgtriage.core.rules.triage import Role, StaffRule

CHAT = -1001
ME, MATE, BOT = 1, 2, 3
CUSTOMERS = (100, 101, 102)
RULE = StaffRule(me_id=ME, staff_ids=frozenset({MATE}), ignore_ids=frozenset({BOT}))
LEVELS = (300, 900, 3600)
T0 = 1_700_000_000

KINDS = ("customer", "me", "me_other_device", "teammate", "service", "bot")

# One step of a chat: a message of some kind, after some seconds; or (rarely) "handled".
step = st.one_of(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 2000), st.sampled_from(CUSTOMERS)),
    st.just(("handled", 0, 0)),
)


def build(steps: Sequence[tuple[str, int, int]]) -> tuple[list[Message], list[int]]:
    """Messages with increasing ids and non-decreasing dates; ids after which 'handled' was hit."""
    messages: list[Message] = []
    handled_after: list[int] = []
    date = T0
    next_id = 1
    for kind, gap, customer in steps:
        if kind == "handled":
            handled_after.append(messages[-1].id if messages else 0)
            continue
        date += gap
        sender: int | None
        out = service = False
        if kind == "customer":
            sender = customer
        elif kind == "me":
            sender, out = ME, True
        elif kind == "me_other_device":
            sender, out = None, True
        elif kind == "teammate":
            sender = MATE
        elif kind == "service":
            sender, service = customer, True
        else:
            sender = BOT
        messages.append(
            Message(
                chat_id=CHAT,
                id=next_id,
                date=date,
                sender_id=sender,
                text=f"{kind} {next_id}",
                out=out,
                service=service,
            )
        )
        next_id += st_gap(gap)
    return messages, handled_after


def st_gap(gap: int) -> int:
    """Ids increase, with holes (deleted or unseen messages)."""
    return 1 + gap % 3


def fold(messages: Sequence[Message], handled_after: Sequence[int] = ()) -> ChatTriage:
    """The incremental fold the Inbox performs, pressing 'handled' where the steps said."""
    state = ChatTriage(chat_id=CHAT)
    marks = list(handled_after)
    while marks and marks[0] == 0:
        state = triage.mark_handled(state)
        marks.pop(0)
    for message in messages:
        state = triage.apply_message(state, message, RULE.role(message))
        while marks and marks[0] == message.id:
            state = triage.mark_handled(state)
            marks.pop(0)
    return state


def expected_wait(messages: Sequence[Message], handled_upto: int) -> Message | None:
    """Reference rule: first customer message after the last staff message and the handled mark."""
    last_staff = max((m.id for m in messages if RULE.role(m) is Role.STAFF), default=0)
    floor = max(last_staff, handled_upto)
    return next(
        (m for m in messages if RULE.role(m) is Role.CUSTOMER and m.id > floor),
        None,
    )


sequences = st.lists(step, max_size=40)


@settings(max_examples=150, deadline=None)
@given(sequences)
def test_incremental_fold_equals_derive(steps: list[tuple[str, int, int]]) -> None:
    messages, _ = build(steps)
    assert fold(messages) == triage.derive(ChatTriage(chat_id=CHAT), messages, RULE)


@settings(max_examples=150, deadline=None)
@given(sequences)
def test_derive_is_a_no_op_on_an_up_to_date_state(steps: list[tuple[str, int, int]]) -> None:
    """What the Inbox recomputes after a no-op deletion equals what it had (handled marks too)."""
    messages, handled = build(steps)
    state = fold(messages, handled)
    assert triage.derive(state, messages, RULE) == state


@settings(max_examples=150, deadline=None)
@given(sequences)
def test_waiting_since_is_the_first_customer_message_after_staff_and_handled(
    steps: list[tuple[str, int, int]],
) -> None:
    messages, handled = build(steps)
    state = fold(messages, handled)
    first = expected_wait(messages, state.handled_upto)
    if first is None:
        assert state.waiting_since is None
        assert state.waiting_msg_id is None
    else:
        assert state.waiting_since == first.date
        assert state.waiting_msg_id == first.id


@settings(max_examples=150, deadline=None)
@given(sequences, st.sampled_from(["none", "postpone", "close", "dev"]), st.integers(0, 5000))
def test_no_customer_message_is_left_unnoticed(
    steps: list[tuple[str, int, int]], park: str, later: int
) -> None:
    """A customer message after the last staff message either waits or was explicitly parked."""
    messages, handled = build(steps)
    state = fold(messages, handled)
    if park == "postpone":
        state = triage.postpone(state, T0 + 10**6)
    elif park == "close":
        state = triage.close(state)
    elif park == "dev":
        state = triage.set_in_development(state, "JIRA-1", None)
    now = (messages[-1].date if messages else T0) + later
    last_staff = max((m.id for m in messages if RULE.role(m) is Role.STAFF), default=0)
    unanswered = [m for m in messages if RULE.role(m) is Role.CUSTOMER and m.id > last_staff]
    if unanswered:
        explicitly_set_aside = state.handled_upto >= unanswered[-1].id or triage.is_parked(
            state, now
        )
        assert triage.is_awaiting(state, now) or explicitly_set_aside


@settings(max_examples=120, deadline=None)
@given(sequences, st.data())
def test_deleting_messages_recomputes_like_they_never_arrived(
    steps: list[tuple[str, int, int]], data: st.DataObject
) -> None:
    messages, _ = build(steps)
    state = fold(messages)
    kept = [m for m in messages if data.draw(st.booleans(), label=f"keep {m.id}")]
    after = triage.derive(state, kept, RULE)
    fresh = fold(kept)
    # (`unread` is read state, not message state: replying read the deleted messages' elders.)
    for field in ("waiting_since", "waiting_msg_id", "last_staff_msg_id", "status"):
        assert getattr(after, field) == getattr(fresh, field), field


# (chat id, its steps, the status the engineer gave it, postponed until now + this)
chat_states = st.tuples(
    st.integers(1, 10**6), sequences, st.sampled_from(list(Status)), st.integers(-5000, 5000)
)


@settings(max_examples=120, deadline=None)
@given(
    st.lists(chat_states, max_size=25, unique_by=lambda c: c[0]),
    st.integers(0, 20_000),
)
def test_ordered_is_a_permutation_with_awaiting_chats_first(
    chats: list[tuple[int, list[tuple[str, int, int]], Status, int]], later: int
) -> None:
    now = T0 + later
    states = []
    for cid, steps, status, until in chats:
        messages, handled = build(steps)
        state = fold(messages, handled).model_copy(update={"chat_id": cid})
        if status is Status.POSTPONED:
            state = triage.postpone(state, now + until)
        elif status is Status.CLOSED:
            state = triage.close(state)
        elif status is Status.IN_DEVELOPMENT:
            state = triage.set_in_development(state, "T-1", None)
        states.append(state)
    result = triage.ordered(states, now, LEVELS)
    assert Counter(s.chat_id for s in result) == Counter(s.chat_id for s in states)
    awaiting = [triage.is_awaiting(s, now) for s in result]
    assert awaiting == sorted(awaiting, reverse=True)
    aside = [triage.is_set_aside(s, now) for s in result]
    assert aside == sorted(aside), "parked and set-aside chats come last"
    assert all(aside[i] for i, s in enumerate(result) if triage.is_parked(s, now))
    # Awaiting, then reminders that came due, then the rest, then what was set aside.
    groups = [
        0
        if triage.is_awaiting(s, now)
        else 3
        if triage.is_set_aside(s, now)
        else 1
        if triage.reminder_due(s, now)
        else 2
        for s in result
    ]
    assert groups == sorted(groups)
    levels = [triage.chat_level(s, now, LEVELS) for s in result if triage.is_awaiting(s, now)]
    assert levels == sorted(levels, reverse=True)  # type: ignore[type-var]
    best = triage.longest_waiting(states, now, LEVELS)
    first = result[0] if result and awaiting[0] else None
    assert (best.chat_id if best else None) == (first.chat_id if first else None)
    counts = triage.level_counts(states, now, LEVELS)
    assert sum(counts) == sum(awaiting)


# ---------------------------------------------------------------- the status machine

# One thing that happens to a chat: a message (customer, staff, …), an action of the engineer,
# a staff reaction, a recompute from the stored messages, or time passing.
EVENTS = (
    "customer",
    "me",
    "me_other_device",
    "teammate",
    "service",
    "bot",
    "handled",
    "postpone",
    "close",
    "reopen",
    "dev",
    "dev_due",
    "react",
    "recompute",
    "wait",
)
event = st.tuples(st.sampled_from(EVENTS), st.integers(0, 3000), st.sampled_from(CUSTOMERS))


def run_machine(
    events: Sequence[tuple[str, int, int]],
) -> Iterator[tuple[str, ChatTriage, list[Message], int, bool]]:
    """Drive one chat through `events`; yield (event, state, messages, now, set_aside_by_hand).

    `set_aside_by_hand` is True while the latest thing that could park the chat was the
    engineer's postpone or close (no customer message since).
    """
    state = ChatTriage(chat_id=CHAT)
    messages: list[Message] = []
    now = T0
    next_id = 1
    by_hand = False
    for kind, amount, customer in events:
        if kind == "wait":
            now += amount
        elif kind in KINDS:
            now += amount % 300
            sender: int | None = {"customer": customer, "me": ME, "teammate": MATE, "bot": BOT}.get(
                kind, customer if kind == "service" else None
            )
            message = Message(
                chat_id=CHAT,
                id=next_id,
                date=now,
                sender_id=sender,
                text=kind,
                out=kind in ("me", "me_other_device"),
                service=kind == "service",
            )
            next_id += 1 + amount % 2
            messages.append(message)
            state = triage.apply_message(state, message, RULE.role(message))
            if RULE.role(message) is Role.CUSTOMER:
                by_hand = False
        elif kind == "handled":
            state = triage.mark_handled(state, now)
        elif kind == "postpone":
            state = triage.postpone(state, now + 60 + amount)
            by_hand = True
        elif kind == "close":
            state = triage.close(state)
            by_hand = True
        elif kind == "reopen":
            state = triage.reopen(state)
            by_hand = False
        elif kind in ("dev", "dev_due"):
            due = now + 60 + amount if kind == "dev_due" else None
            state = triage.set_in_development(state, "JIRA-1", due)
            by_hand = False
        elif kind == "react" and messages:
            # A teammate's reaction on the newest message: handled through it, then re-derived.
            state = triage.handled_through(state, messages[-1].id)
            state = triage.derive(state, messages, RULE)
        elif kind == "recompute":
            state = triage.derive(state, messages, RULE)
        yield kind, state, messages, now, by_hand


machines = st.lists(event, max_size=45)


@settings(max_examples=300, deadline=None)
@given(machines)
def test_no_customer_is_left_neither_waiting_nor_parked_by_hand(
    events: list[tuple[str, int, int]],
) -> None:
    """After every event: a customer message after the last staff message makes the chat wait,
    unless the engineer set it aside (handled, reacted, postponed or closed) since then."""
    for _kind, state, messages, now, by_hand in run_machine(events):
        last_staff = max((m.id for m in messages if RULE.role(m) is Role.STAFF), default=0)
        unanswered = [m for m in messages if RULE.role(m) is Role.CUSTOMER and m.id > last_staff]
        if triage.is_parked(state, now):
            assert by_hand, "only the engineer parks a chat, and a customer message unparks it"
        if not unanswered:
            assert state.waiting_since is None
            continue
        handled = state.handled_upto >= unanswered[-1].id
        assert triage.is_awaiting(state, now) or handled or triage.is_parked(state, now)
        if not handled:
            assert state.waiting_since is not None, "the wait is never lost, only hidden"
            first = expected_wait(messages, state.handled_upto)
            assert first is not None and state.waiting_since == first.date


@settings(max_examples=200, deadline=None)
@given(machines)
def test_recomputing_from_the_messages_changes_no_wait_and_no_parking(
    events: list[tuple[str, int, int]],
) -> None:
    """What the Inbox re-derives after a deletion or a read equals what it kept incrementally."""
    for _kind, state, messages, now, _ in run_machine(events):
        again = triage.derive(state, messages, RULE)
        for field in ("waiting_since", "waiting_msg_id", "postponed_until", "due", "ticket"):
            assert getattr(again, field) == getattr(state, field), field
        assert triage.is_parked(again, now) == triage.is_parked(state, now)
        assert triage.reminder_due(again, now) == triage.reminder_due(state, now)


@settings(max_examples=200, deadline=None)
@given(machines)
def test_a_reminder_stays_until_someone_follows_up(events: list[tuple[str, int, int]]) -> None:
    """A postponement that ran out or a due date that passed stays due until a staff message,
    'handled', a new status or a customer message (which makes the chat wait instead)."""
    previous: ChatTriage | None = None
    for kind, state, _messages, now, _ in run_machine(events):
        if previous is not None and triage.reminder_due(previous, now):
            follow_up = kind in (
                "me",
                "me_other_device",
                "teammate",
                "handled",
                "postpone",
                "close",
                "reopen",
                "dev",
                "dev_due",
                "customer",
            )
            if not follow_up:
                assert triage.reminder_due(state, now), kind
        previous = state
