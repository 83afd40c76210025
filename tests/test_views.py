"""Views of the chat list: which chats each shows, in which order, and how the cycle goes."""

from __future__ import annotations

from tgtriage.core.desk.models import ChatTriage, Status
from tgtriage.core.rules import triage, views
from tgtriage.core.rules.views import ALL, View, ViewKind

LEVELS = (300, 900, 3600)
NOW = 1_700_000_000


def chat(
    chat_id: int,
    *,
    waits: int | None = None,
    activity: int = 0,
    status: Status = Status.OPEN,
    until: int | None = None,
    due: int | None = None,
) -> ChatTriage:
    """A chat summary: waiting `waits` seconds, last active `activity` seconds ago."""
    return ChatTriage(
        chat_id=chat_id,
        last_msg_id=10,
        last_activity=NOW - activity,
        waiting_since=None if waits is None else NOW - waits,
        waiting_msg_id=None if waits is None else 10,
        status=status,
        postponed_until=until,
        due=due,
        ticket="JIRA-1" if status is Status.IN_DEVELOPMENT else None,
    )


STATES = [
    chat(1, waits=100),
    chat(2, waits=2000),
    chat(3, activity=50),
    chat(4, status=Status.POSTPONED, until=NOW + 600),
    chat(5, status=Status.POSTPONED, until=NOW + 60),
    chat(6, status=Status.IN_DEVELOPMENT, due=NOW + 86_400),
    chat(7, status=Status.IN_DEVELOPMENT),
    chat(8, status=Status.IN_DEVELOPMENT, due=NOW + 3600),
    chat(9, status=Status.CLOSED, activity=500),
    chat(10, status=Status.CLOSED, activity=5),
]
FACTS = views.Facts(
    now=NOW,
    thresholds=LEVELS,
    elapsed=triage.wall_elapsed,
    slots={1: 9, 2: 3, 3: 1},
    tags={1: {"vip"}, 6: {"vip", "billing"}, 3: {"billing"}},
)


def shown(view: View) -> list[int]:
    """What a view lists, in order."""
    return views.order(view, STATES, FACTS)


def test_all_is_the_triage_order() -> None:
    expected = [s.chat_id for s in triage.ordered(STATES, NOW, LEVELS)]
    assert shown(ALL) == expected
    assert expected[:2] == [2, 1], "waiting first, longest wait first"


def test_waiting_shows_only_chats_whose_customer_waits() -> None:
    assert shown(View(ViewKind.WAITING)) == [2, 1]


def test_working_set_follows_the_slot_numbers() -> None:
    assert shown(View(ViewKind.WORKING_SET)) == [9, 3, 1]


def test_postponed_soonest_back_first() -> None:
    assert shown(View(ViewKind.POSTPONED)) == [5, 4]


def test_in_development_soonest_due_first_undated_last() -> None:
    assert shown(View(ViewKind.IN_DEVELOPMENT)) == [8, 6, 7]


def test_closed_latest_activity_first() -> None:
    assert shown(View(ViewKind.CLOSED)) == [10, 9]


def test_a_tag_view_keeps_the_triage_order() -> None:
    assert shown(View(ViewKind.TAG, "vip")) == [1, 6]
    assert shown(View(ViewKind.TAG, "nobody-has-this")) == []


def test_cycle_goes_through_fixed_views_then_tags_and_wraps() -> None:
    tags = {"vip", "billing"}
    labels = [v.label for v in views.available(tags)]
    assert labels == [
        "All",
        "Waiting",
        "Working set",
        "Postponed",
        "In development",
        "Closed",
        "#billing",
        "#vip",
    ]
    view = ALL
    seen = []
    for _ in range(len(labels)):
        view = views.step(view, tags)
        seen.append(view.label)
    assert seen == [*labels[1:], "All"]
    assert views.step(ALL, tags, -1).label == "#vip"
    gone = View(ViewKind.TAG, "old")
    assert views.step(gone, tags) == ALL, "a view whose tag is gone restarts the cycle"


def test_counts_match_what_each_view_shows() -> None:
    counts = views.counts(views.available({"vip", "billing"}), STATES, FACTS)
    for view, count in counts.items():
        assert count == len(shown(view)), view.label
    assert counts[ALL] == len(STATES)


def test_marked_unread_is_a_view_while_a_chat_is_marked() -> None:
    assert views.UNREAD not in views.available({"vip"})
    labels = [v.label for v in views.available({"vip"}, marked=True)]
    assert labels[-2:] == ["Marked unread", "#vip"]
    assert views.step(views.UNREAD, set(), 1, marked=True) == ALL
