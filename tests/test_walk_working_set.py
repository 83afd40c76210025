"""Ctrl+N's walk (core/rules/walk.py) and who keeps a working-set slot (core/rules/working_set.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from tgtriage.core.rules import walk, working_set

# ----------------------------------------------------------------- Ctrl+N's walk

waiting_lists = st.lists(st.integers(1, 40), min_size=1, max_size=12, unique=True).map(
    lambda ids: [(chat_id, 100 + chat_id) for chat_id in ids]
)


def test_ctrl_n_does_not_ping_pong_between_the_two_longest_waiting() -> None:
    stark, maria, olga = (1, 10), (2, 20), (3, 30)
    waiting = [stark, maria, olga]
    opened, passed = walk.next_waiting(waiting, None, {})
    seen = [opened]
    for _ in range(5):
        opened, passed = walk.next_waiting(waiting, opened, passed)
        seen.append(opened)
    assert seen == [1, 2, 3, 1, 2, 3]


@given(waiting_lists, st.integers(0, 60), st.integers(1, 30))
def test_the_walk_visits_every_waiting_chat_before_repeating(
    waiting: list[tuple[int, int]], start: int, presses: int
) -> None:
    ids = [chat_id for chat_id, _ in waiting]
    open_id: int | None = start if start <= 40 else None
    visited = [open_id] if open_id in ids else []
    passed: dict[int, int] = {}
    for _ in range(presses):
        chosen, passed = walk.next_waiting(waiting, open_id, passed)
        if len(ids) == 1 and open_id == ids[0]:
            assert chosen is None, "nobody else waits"
            return
        assert chosen is not None and chosen in ids
        assert chosen != open_id, "never the open chat while another waits"
        visited.append(chosen)
        open_id = chosen
    for i in range(0, len(visited), len(ids)):
        cycle = visited[i : i + len(ids)]
        assert len(set(cycle)) == len(cycle), f"a chat came round twice within {cycle}"


@given(waiting_lists, st.data())
def test_the_walk_goes_on_from_the_open_chats_place(
    waiting: list[tuple[int, int]], data: st.DataObject
) -> None:
    ids = [chat_id for chat_id, _ in waiting]
    if len(ids) < 2:
        return
    at = data.draw(st.integers(0, len(ids) - 1))
    chosen, _ = walk.next_waiting(waiting, ids[at], {})
    assert chosen == ids[(at + 1) % len(ids)]


def test_a_skipped_chat_comes_back_at_once_when_its_customer_writes_again() -> None:
    waiting = [(1, 10), (2, 20), (3, 30), (4, 40)]
    chosen, passed = walk.next_waiting(waiting, 1, {})  # 1 skipped
    assert chosen == 2
    chosen, passed = walk.next_waiting([(1, 11), (2, 20), (3, 30), (4, 40)], 2, passed)
    assert chosen == 3, "the walk goes on from the open chat"
    chosen, passed = walk.next_waiting([(1, 11), (2, 20), (3, 30), (4, 40)], 3, passed)
    assert chosen == 4
    chosen, passed = walk.next_waiting([(1, 11), (2, 20), (3, 30), (4, 40)], 4, passed)
    assert chosen == 1, "1 was passed before it wrote again, so it is new in this round"
    # An answered chat (gone from the waiting ones) lets the walk start from the top.
    chosen, passed = walk.next_waiting([(2, 21), (3, 30), (4, 40)], None, {})
    assert chosen == 2


def test_without_anyone_else_waiting_the_walk_has_nowhere_to_go() -> None:
    assert walk.next_waiting([], None, {})[0] is None
    assert walk.next_waiting([(5, 1)], 5, {})[0] is None
    assert walk.next_waiting([(5, 1)], 7, {5: 1})[0] == 5, "a new round when all were passed"


# ----------------------------------------------------------------- the working set

Step = tuple[str, int]
steps = st.lists(
    st.tuples(
        st.sampled_from(["open", "browse", "reply", "draft", "wait", "answer"]), st.integers(1, 25)
    ),
    max_size=80,
)


@given(steps)
def test_slots_fill_by_intent_and_never_drop_a_busy_chat(sequence: list[Step]) -> None:
    """Open (Ctrl+N / switcher) and reply join; browse does not; a waiting or drafted chat stays."""
    slots: dict[int, int] = {}
    last_used: dict[int, int] = {}
    waiting: set[int] = set()
    drafts: set[int] = set()
    for tick, (what, chat_id) in enumerate(sequence, start=1):
        before = dict(slots)
        busy = waiting | drafts
        if what in ("open", "reply"):
            last_used[chat_id] = tick
            placed = working_set.join(slots, chat_id, last_used, busy)
            if placed is not None:
                slot, replaced = placed
                assert replaced == before.get(slot)
                if replaced is not None:
                    assert replaced not in busy, "a waiting chat or one with a draft was evicted"
                    quiet = [c for c in before.values() if c not in busy]
                    assert last_used.get(replaced, 0) == min(last_used.get(c, 0) for c in quiet)
                slots[slot] = chat_id
            elif chat_id not in before.values():
                assert len(before) == working_set.SLOTS and set(before.values()) <= busy
            assert chat_id in slots.values() or set(before.values()) <= busy
        elif what == "browse":
            pass  # browsing past a chat asks nothing of the working set
        elif what == "draft":
            drafts.add(chat_id)
        elif what == "wait":
            waiting.add(chat_id)
        else:
            waiting.discard(chat_id)
            drafts.discard(chat_id)
        assert len(slots) <= working_set.SLOTS
        assert len(set(slots.values())) == len(slots), "a chat in two slots"
        assert set(slots) <= set(range(1, working_set.SLOTS + 1))
        if what == "browse":
            assert slots == before
        for kept in before.values():
            if kept in busy:
                assert kept in slots.values()


def test_the_eleventh_chat_takes_the_least_recently_used_quiet_slot() -> None:
    slots = {slot: 100 + slot for slot in range(1, 11)}
    last_used = {100 + slot: slot for slot in range(1, 11)}
    assert working_set.join(slots, 7, last_used, busy=set()) == (1, 101)
    assert working_set.join(slots, 7, last_used, busy={101, 102}) == (3, 103)
    assert working_set.join(slots, 7, last_used, busy=set(slots.values())) is None
    assert working_set.join(slots, 105, last_used, busy=set()) is None, "already slotted"
    assert working_set.join({1: 5, 3: 6}, 7, {}, busy=set()) == (2, None), "first free slot"
