"""The team state fold: claims, races, lapses, handoffs, later-wins statuses, and convergence."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tgtriage.core.team.codec import Kind, TeamEvent, TeamStatus
from tgtriage.core.team.state import LostClaim, RoomLog, RoomMessage, fold, lapse_at

QUIET = 900
CHAT = -1_000_000_000_501
PRIYA, ALEX, SAM = 601, 602, 603


def msg(
    msg_id: int, sender: int, kind: Kind, date: int | None = None, **fields: object
) -> RoomMessage:
    """A room message carrying one team event about CHAT (unless `chat` is given)."""
    chat = int(fields.pop("chat", CHAT))  # type: ignore[call-overload]
    return RoomMessage(
        msg_id, sender, date if date is not None else 1000 + msg_id, TeamEvent(kind, chat, **fields)
    )  # type: ignore[arg-type]


def test_the_earlier_of_two_racing_claims_wins() -> None:
    """Two claims a second apart: the first in room order holds, the second is a lost race."""
    state = fold([msg(11, ALEX, Kind.CLAIM), msg(10, PRIYA, Kind.CLAIM)], QUIET)
    assert state.holder(CHAT, 1011).owner == PRIYA  # type: ignore[union-attr]
    assert state.lost == [LostClaim(11, CHAT, ALEX, PRIYA)]


def test_a_quiet_claim_lapses_and_activity_keeps_it() -> None:
    """Without the owner's activity for the quiet time the chat is free; a note renews it."""
    state = fold([msg(1, PRIYA, Kind.CLAIM, date=0)], QUIET)
    assert state.holder(CHAT, QUIET).owner == PRIYA  # type: ignore[union-attr]
    assert state.holder(CHAT, QUIET + 1) is None
    state = fold(
        [
            msg(1, PRIYA, Kind.CLAIM, date=0),
            msg(2, PRIYA, Kind.NOTE, date=800, text="x"),
            msg(3, ALEX, Kind.CLAIM, date=1600),
        ],
        QUIET,
    )
    assert state.holder(CHAT, 1600).owner == PRIYA  # type: ignore[union-attr]
    state = fold(
        [msg(1, PRIYA, Kind.CLAIM, date=0), msg(3, ALEX, Kind.CLAIM, date=QUIET + 5)], QUIET
    )
    assert state.holder(CHAT, QUIET + 5).owner == ALEX  # type: ignore[union-attr]


def test_a_claim_lapses_at_one_moment_from_room_dates_whatever_the_desk() -> None:
    """The lapse moment is the owner's latest event on the chat plus the quiet time: the same
    on every desk however the messages arrived, and it is among the moments a timer waits for."""
    messages = [
        msg(1, PRIYA, Kind.CLAIM, date=100),
        msg(2, PRIYA, Kind.PRESENCE, date=400),
        msg(3, PRIYA, Kind.NOTE, date=300, text="x", chat=CHAT - 1),  # another chat
    ]
    one, other = fold(messages, QUIET), fold(list(reversed(messages)), QUIET)
    claim = one.claims[CHAT]
    assert lapse_at(claim, QUIET) == lapse_at(other.claims[CHAT], QUIET) == 400 + QUIET + 1
    assert one.holder(CHAT, 400 + QUIET) is not None
    assert one.holder(CHAT, 400 + QUIET + 1) is None
    assert (400 + QUIET + 1, CHAT) in one.moments(fresh=60)
    assert (400 + 60 + 1, CHAT) in one.moments(fresh=60)  # Priya's presence going stale


def test_closing_ends_a_claim_and_a_handoff_passes_it() -> None:
    """A closed chat is free; a handoff by the holder makes the taker the owner, with the note."""
    state = fold(
        [msg(1, PRIYA, Kind.CLAIM), msg(2, ALEX, Kind.STATUS, status=TeamStatus.CLOSED)], QUIET
    )
    assert state.holder(CHAT, 1002) is None
    state = fold(
        [
            msg(1, PRIYA, Kind.CLAIM),
            msg(2, PRIYA, Kind.HANDOFF, to=ALEX, text="VIP"),
            msg(3, SAM, Kind.HANDOFF, to=SAM),
        ],
        QUIET,
    )
    assert state.holder(CHAT, 1003).owner == ALEX  # type: ignore[union-attr]
    assert (state.handoffs[CHAT].giver, state.handoffs[CHAT].note) == (PRIYA, "VIP")


def test_later_status_and_tags_win_and_notes_keep_their_authors() -> None:
    """Conflicts resolve by room order; notes accumulate with who wrote them."""
    state = fold(
        [
            msg(5, ALEX, Kind.STATUS, status=TeamStatus.IN_DEVELOPMENT, ticket="JIRA-1", due=99),
            msg(4, PRIYA, Kind.STATUS, status=TeamStatus.POSTPONED, until=50),
            msg(6, PRIYA, Kind.TAGS, tags=("vip",)),
            msg(7, SAM, Kind.TAGS, tags=("bug", "vip")),
            msg(8, PRIYA, Kind.NOTE, text="a"),
            msg(9, ALEX, Kind.NOTE, text="b"),
            msg(10, SAM, Kind.STATUS, status=TeamStatus.REOPENED),
        ],
        QUIET,
    )
    assert (state.statuses[CHAT].status, state.statuses[CHAT].set_by) == (TeamStatus.OPEN, SAM)
    assert state.tags[CHAT] == (("bug", "vip"), SAM)
    assert [(n.author, n.text) for n in state.notes[CHAT]] == [(PRIYA, "a"), (ALEX, "b")]


def test_only_the_owner_releases() -> None:
    """A release by someone else leaves the claim where it is."""
    state = fold([msg(1, PRIYA, Kind.CLAIM), msg(2, ALEX, Kind.RELEASE)], QUIET)
    assert state.holder(CHAT, 1002).owner == PRIYA  # type: ignore[union-attr]
    state = fold([msg(1, PRIYA, Kind.CLAIM), msg(2, PRIYA, Kind.RELEASE)], QUIET)
    assert state.holder(CHAT, 1002) is None


def test_a_presence_edit_moves_presence_and_other_edits_are_ignored() -> None:
    """The presence message is edited in place; an edited claim or note changes nothing."""
    log = RoomLog(QUIET)
    assert log.add(msg(1, ALEX, Kind.PRESENCE, date=100))
    assert log.add(msg(1, ALEX, Kind.PRESENCE, date=200, chat=7))
    assert log.state.present(7, 210, 30) == [ALEX] and log.state.present(CHAT, 210, 30) == []
    assert log.add(msg(2, PRIYA, Kind.NOTE, text="original"))
    assert not log.add(msg(2, PRIYA, Kind.NOTE, text="edited"))
    assert [n.text for n in log.state.notes[CHAT]] == ["original"]


kinds = st.sampled_from(
    [Kind.CLAIM, Kind.RELEASE, Kind.NOTE, Kind.STATUS, Kind.TAGS, Kind.HANDOFF, Kind.PRESENCE]
)
room = st.lists(
    st.tuples(
        st.sampled_from([PRIYA, ALEX, SAM]),
        kinds,
        st.sampled_from([CHAT, 7, 8]),
        st.integers(0, 1200),
        st.sampled_from(list(TeamStatus)),
        st.sampled_from([PRIYA, ALEX, SAM]),
    ),
    max_size=40,
)


def build(entries: list[tuple[int, Kind, int, int, TeamStatus, int]]) -> list[RoomMessage]:
    """Room messages with increasing ids and dates from drawn entries."""
    out, date = [], 0
    for index, (sender, kind, chat, gap, status, to) in enumerate(entries, start=1):
        date += gap
        out.append(
            RoomMessage(
                index,
                sender,
                date,
                TeamEvent(
                    kind,
                    chat,
                    text=f"n{index}",
                    status=status if kind is Kind.STATUS else None,
                    tags=(f"t{index}",) if kind is Kind.TAGS else (),
                    to=to if kind is Kind.HANDOFF else None,
                ),
            )
        )
    return out


@settings(max_examples=200, deadline=None)
@given(room, st.lists(st.permutations(range(40)), min_size=3, max_size=3), st.data())
def test_any_delivery_order_converges_to_the_room_order_fold(entries, orders, data) -> None:  # type: ignore[no-untyped-def]
    """Several desks receiving the room's messages in any order, with repeats, reach one state."""
    messages = build(entries)
    truth = fold(messages, QUIET).snapshot()
    for order in orders:
        log = RoomLog(QUIET)
        picks = [messages[i] for i in order if i < len(messages)]
        repeats = data.draw(st.lists(st.sampled_from(messages), max_size=5)) if messages else []
        for message in [*picks, *repeats]:
            log.add(message)
        assert log.state.snapshot() == truth
