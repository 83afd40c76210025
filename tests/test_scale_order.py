"""The kept triage order at the size of a large desk: patched, it stays what a full sort gives."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tgtriage.core.desk.models import Chat, ChatTriage, Status
from tgtriage.core.desk.order import ONE_BY_ONE, OrderIndex, Tracked
from tgtriage.core.rules import triage
from tgtriage.core.rules.triage import Level, Targets

T0 = 1_700_000_000
LEVELS: Targets = (300, 900, 3600)
CHATS = 4_000


class State:
    """What the order is computed from, as the Inbox holds it (core/desk/order.py OrderedState)."""

    def __init__(self, states: list[ChatTriage]) -> None:
        """Chats and summaries, wall-clock time, the default targets."""
        self.tracked_chats: Tracked[int, Chat] = Tracked(
            {s.chat_id: Chat(id=s.chat_id, title=f"chat {s.chat_id}") for s in states}
        )
        self.tracked_triage: Tracked[int, ChatTriage] = Tracked({s.chat_id: s for s in states})
        self.thresholds = LEVELS
        self.elapsed = triage.wall_elapsed

    def configured_targets(self, chat_id: int) -> Targets:
        """Every chat has the default targets."""
        return self.thresholds

    def level(self, chat_id: int, now: int | None = None) -> Level | None:
        """A chat's response level."""
        return triage.chat_level(
            self.tracked_triage[chat_id], now or T0, self.configured_targets, self.elapsed
        )


def summary(chat_id: int, rng: random.Random, now: int) -> ChatTriage:
    """A summary of any kind: waiting, quiet, postponed, closed, in development with a due date."""
    kind = rng.random()
    activity = now - rng.randint(0, 30 * 86400)
    if kind < 0.2:
        since = now - rng.randint(0, 3 * 3600)
        return ChatTriage(
            chat_id=chat_id, last_activity=since, waiting_since=since, waiting_msg_id=5
        )
    if kind < 0.25:
        return ChatTriage(
            chat_id=chat_id,
            last_activity=activity,
            status=Status.POSTPONED,
            postponed_until=now + rng.randint(-600, 3600),
        )
    if kind < 0.28:
        return ChatTriage(chat_id=chat_id, last_activity=activity, status=Status.CLOSED)
    if kind < 0.3:
        return ChatTriage(
            chat_id=chat_id,
            last_activity=activity,
            status=Status.IN_DEVELOPMENT,
            due=now + rng.randint(-600, 3600),
        )
    return ChatTriage(chat_id=chat_id, last_activity=activity)


def full_sort(state: State, now: int) -> list[int]:
    """The order computed from nothing: every chat's key, sorted."""
    return [
        s.chat_id
        for s in triage.ordered(state.tracked_triage.values(), now, state.configured_targets)
        if s.chat_id in state.tracked_chats
    ]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    rounds=st.lists(
        st.tuples(
            st.sampled_from([1, ONE_BY_ONE, ONE_BY_ONE + 1, 300, 2_500]),
            st.sampled_from([0, 0, 1, 45, 400]),
            st.booleans(),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_the_patched_order_equals_a_full_sort_after_any_changes(
    seed: int, rounds: list[tuple[int, int, bool]]
) -> None:
    rng = random.Random(seed)
    now = T0
    state = State([summary(-1000 - i, rng, now) for i in range(CHATS)])
    index = OrderIndex(state)
    assert index.current(now).ids == full_sort(state, now)
    for changed, seconds, churn in rounds:
        now += seconds  # time moves: levels rise, postponements and due dates run out
        for chat_id in rng.sample(sorted(state.tracked_triage), changed):
            state.tracked_triage[chat_id] = summary(chat_id, rng, now)
        if churn:  # a chat leaves the desk, another arrives
            gone = rng.choice(sorted(state.tracked_chats))
            del state.tracked_chats[gone]
            fresh = -1000 - CHATS - rng.randint(0, 10**6)
            state.tracked_chats[fresh] = Chat(id=fresh, title="new")
            state.tracked_triage[fresh] = summary(fresh, rng, now)
        assert index.current(now).ids == full_sort(state, now)


def test_many_changed_summaries_are_merged_in_without_a_full_sort() -> None:
    rng = random.Random(5)
    state = State([summary(-1000 - i, rng, T0) for i in range(CHATS)])
    index = OrderIndex(state)
    kept = index.current(T0)
    for chat_id in rng.sample(sorted(state.tracked_triage), 500):
        state.tracked_triage[chat_id] = summary(chat_id, rng, T0)
    assert index.current(T0) is kept  # patched in place, not sorted anew
    assert kept.ids == full_sort(state, T0)


def test_time_moving_rechecks_only_the_chats_whose_moment_came() -> None:
    """Issue 18 (idle at 10,000 chats): as the seconds pass, the kept order re-checks the time
    facts of the chats whose level, postponement or due date can change at that second, not
    every waiting chat's; and the order stays what a full sort gives."""
    rng = random.Random(7)
    state = State([summary(-1000 - i, rng, T0) for i in range(CHATS)])
    index = OrderIndex(state)
    index.current(T0)
    moments = 0
    for second in range(1, 601):
        now = T0 + second
        moments += sum(
            1
            for s in state.tracked_triage.values()
            if triage.next_time_change(s, now - 1, state.configured_targets) == now
        )
        checked = index.facts_checked
        ids = index.current(now).ids
        assert index.facts_checked - checked <= moments  # (cumulative bound, checked below)
        if second % 100 == 0:
            assert ids == full_sort(state, now)
        moments -= index.facts_checked - checked
    timed = sum(
        1
        for s in state.tracked_triage.values()
        if s.waiting_since is not None or triage.reminder_at(s) is not None
    )
    assert timed > 500  # the bound above is far below re-checking every timed chat


def test_a_patch_after_time_moved_on_is_no_full_sort() -> None:
    """Summaries changed in a later second are re-placed in the kept order (the time facts
    whose moment came re-checked), not sorted anew."""
    rng = random.Random(8)
    state = State([summary(-1000 - i, rng, T0) for i in range(CHATS)])
    index = OrderIndex(state)
    kept = index.current(T0)
    now = T0 + 900
    for chat_id in rng.sample(sorted(state.tracked_triage), 50):
        state.tracked_triage[chat_id] = summary(chat_id, rng, now)
    assert index.current(now) is kept
    assert kept.ids == full_sort(state, now)
