"""Reply-time rules (DESIGN §3) on hand-made conversations: waits, replies, unanswered, load."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from tgtriage.core.desk.models import Message
from tgtriage.core.reports.report import (
    Report,
    ReportStaff,
    build_report,
    chat_waits,
    percentile,
    summarize,
    weekday_hour_load,
)
from tgtriage.core.rules.business_hours import business_seconds
from tgtriage.core.system.config import BusinessHours

ALICE, BOB = 1001, 1002  # staff
CAROL, DAVE = 2001, 2002  # customers
CHAT, OTHER_CHAT = -1001, -1002
STAFF = ReportStaff(ids=frozenset({ALICE, BOB}), out_is_staff=True)


def msg(
    mid: int,
    date: int,
    sender: int | None,
    *,
    chat: int = CHAT,
    service: bool = False,
    out: bool = False,
) -> Message:
    """A message with just the fields the report reads."""
    return Message(
        chat_id=chat,
        id=mid,
        date=date,
        sender_id=sender,
        sender_name={ALICE: "Alice", BOB: "Bob"}.get(sender or 0, "Customer"),
        service=service,
        out=out,
    )


def waits(
    messages: list[Message], now: int = 10_000
) -> tuple[list[tuple[int, int, int | None]], int | None]:
    """(waited_from, seconds, staff) per reply and the open wait's start, for one chat."""
    replies, open_wait, _ = chat_waits(messages, STAFF, now)
    return (
        [(r.waited_from, r.seconds, r.staff_id) for r in replies],
        open_wait.waited_from if open_wait else None,
    )


def test_a_wait_opens_at_the_first_customer_message_and_closes_at_the_next_staff_one() -> None:
    replies, open_wait = waits([msg(1, 100, CAROL), msg(2, 160, ALICE)])
    assert replies == [(100, 60, ALICE)]
    assert open_wait is None


def test_later_customer_messages_do_not_move_the_wait() -> None:
    replies, _ = waits(
        [msg(1, 100, CAROL), msg(2, 130, CAROL), msg(3, 150, DAVE), msg(4, 400, ALICE)]
    )
    assert replies == [(100, 300, ALICE)]


def test_a_teammate_reply_is_credited_to_the_teammate() -> None:
    replies, _ = waits(
        [msg(1, 100, CAROL), msg(2, 200, BOB), msg(3, 300, CAROL), msg(4, 350, ALICE)]
    )
    assert replies == [(100, 100, BOB), (300, 50, ALICE)]


def test_staff_messages_without_a_wait_are_not_replies() -> None:
    replies, open_wait = waits([msg(1, 100, ALICE), msg(2, 110, BOB), msg(3, 120, CAROL)])
    assert replies == []
    assert open_wait == 120


def test_outgoing_messages_count_as_staff_even_without_a_sender() -> None:
    replies, _ = waits([msg(1, 100, CAROL), msg(2, 130, None, out=True)])
    assert replies == [(100, 30, None)]


def test_service_messages_never_open_or_close_a_wait() -> None:
    # A customer joining (service) opens nothing; a staff pin (service) answers nothing.
    replies, open_wait = waits(
        [
            msg(1, 50, CAROL, service=True),
            msg(2, 100, CAROL),
            msg(3, 120, ALICE, service=True),
            msg(4, 200, ALICE),
        ]
    )
    assert replies == [(100, 100, ALICE)]
    assert open_wait is None


def test_same_second_messages_are_ordered_by_id() -> None:
    # Customer id 1 and staff id 2 in the same second: answered in 0 s.
    replies, open_wait = waits([msg(2, 100, ALICE), msg(1, 100, CAROL)])
    assert replies == [(100, 0, ALICE)]
    assert open_wait is None
    # Staff id 1 then customer id 2 in the same second: the customer is still waiting.
    replies, open_wait = waits([msg(2, 100, CAROL), msg(1, 100, ALICE)])
    assert replies == []
    assert open_wait == 100


def test_ignored_senders_are_neither_staff_nor_customers() -> None:
    bot = 3001
    staff = ReportStaff(ids=frozenset({ALICE}), ignore=frozenset({bot}))
    replies, open_wait, customers = chat_waits([msg(1, 100, bot), msg(2, 200, ALICE)], staff, 1000)
    assert replies == [] and open_wait is None and customers == []


def test_an_open_wait_is_unanswered_with_its_age_at_now() -> None:
    report = build_report({CHAT: [msg(1, 100, CAROL), msg(2, 150, DAVE)]}, STAFF, now=1_000)
    assert [(u.waited_from, u.age) for u in report.unanswered] == [(100, 900)]
    assert report.oldest_unanswered == 900
    assert report.total.count == 0 and report.total.median is None


def test_messages_after_now_are_not_read() -> None:
    report = build_report({CHAT: [msg(1, 100, CAROL), msg(2, 700, ALICE)]}, STAFF, now=500)
    assert report.total.count == 0
    assert [u.age for u in report.unanswered] == [400]


def test_a_wait_belongs_to_the_period_it_opened_in() -> None:
    chat = [
        msg(1, 100, CAROL),
        msg(2, 300, ALICE),
        msg(3, 400, CAROL),
        msg(4, 450, CAROL),
        msg(5, 900, BOB),
    ]
    before = build_report({CHAT: chat}, STAFF, now=1_000, until=400)
    after = build_report({CHAT: chat}, STAFF, now=1_000, since=400)
    assert [r.seconds for r in before.replies] == [200]
    assert [r.seconds for r in after.replies] == [500]
    # A customer message after `since` that joins a wait opened before it opens nothing.
    late = build_report({CHAT: chat}, STAFF, now=1_000, since=420)
    assert late.replies == [] and late.unanswered == []
    # `until` is the end of the world: the wait open then is unanswered, aged at `until`.
    cut = build_report({CHAT: chat}, STAFF, now=1_000, until=600)
    assert cut.replies[0].seconds == 200
    assert [(u.waited_from, u.age) for u in cut.unanswered] == [(400, 200)]


def test_per_staff_and_per_chat_figures() -> None:
    chats = {
        CHAT: [msg(1, 0, CAROL), msg(2, 60, ALICE), msg(3, 100, CAROL), msg(4, 400, BOB)],
        OTHER_CHAT: [msg(1, 0, DAVE, chat=OTHER_CHAT), msg(2, 1000, ALICE, chat=OTHER_CHAT)],
    }
    report = build_report(
        chats,
        STAFF,
        now=2_000,
        chat_titles={CHAT: "Acme · Support", OTHER_CHAT: "Globex"},
        staff_names={ALICE: "Alice Smith"},
    )
    assert report.total.count == 3 and report.total.max == 1000
    name, alice = report.per_staff[ALICE]
    assert name == "Alice Smith" and alice.count == 2 and alice.median == 530
    name, bob = report.per_staff[BOB]
    assert name == "Bob" and bob.count == 1 and bob.median == 300
    title, acme = report.per_chat[CHAT]
    assert title == "Acme · Support" and acme.count == 2 and acme.max == 300
    assert list(report.per_staff) == [ALICE, BOB]


def test_listed_staff_without_replies_appear_with_no_data() -> None:
    staff = ReportStaff(ids=frozenset({ALICE, BOB}))
    report = build_report({CHAT: [msg(1, 0, CAROL), msg(2, 60, ALICE)]}, staff, now=100)
    assert report.per_staff[BOB][1] == summarize([])


def test_within_is_the_share_of_replies_at_or_under_each_threshold() -> None:
    chat = []
    for i, seconds in enumerate([300, 301, 900, 4000]):
        chat += [msg(2 * i + 1, i * 10_000, CAROL), msg(2 * i + 2, i * 10_000 + seconds, ALICE)]
    report = build_report({CHAT: chat}, STAFF, now=50_000)
    assert report.within == {300: 0.25, 900: 0.75, 3600: 0.75}
    empty = build_report({CHAT: []}, STAFF, now=0)
    assert empty.within == {300: None, 900: None, 3600: None}


def test_percentiles_interpolate_linearly_between_closest_ranks() -> None:
    values = [1, 2, 3, 4, 10]
    assert percentile(values, 0.5) == 3
    assert percentile(values, 0.9) == pytest.approx(7.6)  # rank 3.6: 4 + 0.6 × (10 − 4)
    assert percentile([10, 20], 0.5) == 15
    assert percentile([10, 20], 0.9) == pytest.approx(19)
    assert percentile([7], 0.9) == 7
    assert percentile([], 0.5) is None
    summary = summarize([10, 1, 4, 3, 2])
    assert (summary.count, summary.median, summary.max) == (5, 3, 10)


def test_business_hours_exclude_nights_from_reply_times() -> None:
    utc = ZoneInfo("UTC")
    evening = int(datetime(2024, 6, 7, 17, 50, tzinfo=utc).timestamp())  # Friday 17:50
    monday = int(datetime(2024, 6, 10, 9, 5, tzinfo=utc).timestamp())  # Monday 09:05
    bh = BusinessHours(enabled=True)
    chat = [msg(1, evening, CAROL), msg(2, monday, ALICE)]
    report = build_report(
        {CHAT: chat}, STAFF, now=monday + 60, duration=partial(business_seconds, bh=bh)
    )
    assert report.replies[0].seconds == 15 * 60


def test_load_counts_customer_messages_by_weekday_and_hour() -> None:
    monday_9 = int(datetime(2024, 6, 3, 9, 30, tzinfo=ZoneInfo("UTC")).timestamp())
    sunday_23 = int(datetime(2024, 6, 9, 23, 59, tzinfo=ZoneInfo("UTC")).timestamp())
    chat = [
        msg(1, monday_9, CAROL),
        msg(2, monday_9 + 1, DAVE),
        msg(3, monday_9 + 2, ALICE),
        msg(4, sunday_23, CAROL),
    ]
    load = build_report({CHAT: chat}, STAFF, now=sunday_23).load
    assert list(load) == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert all(len(hours) == 24 for hours in load.values())
    assert load["mon"][9] == 2 and load["sun"][23] == 1
    assert sum(map(sum, load.values())) == 3


def test_load_follows_the_configured_time_zone_across_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    winter = int(datetime(2024, 1, 8, 9, 0, tzinfo=berlin).timestamp())  # Mon 09:00 CET
    summer = int(datetime(2024, 7, 8, 9, 0, tzinfo=berlin).timestamp())  # Mon 09:00 CEST
    load = weekday_hour_load([winter, summer], berlin)
    assert load["mon"][9] == 2
    assert weekday_hour_load([winter, summer])["mon"][8] == 1  # UTC: 08:00 and 07:00


# --- ties --------------------------------------------------------------------------------------


def test_two_staff_answers_in_the_same_second_credit_the_earlier_id() -> None:
    # Bob's message has the higher id: Alice (id 2) answered first, Bob's answers no wait.
    replies, open_wait = waits([msg(1, 100, CAROL), msg(3, 160, BOB), msg(2, 160, ALICE)])
    assert replies == [(100, 60, ALICE)]
    assert open_wait is None


def test_tied_reply_times_and_interpolated_percentiles() -> None:
    chat = []
    for i, seconds in enumerate([60, 60, 60, 600]):
        chat += [msg(2 * i + 1, i * 10_000, CAROL), msg(2 * i + 2, i * 10_000 + seconds, ALICE)]
    total = build_report({CHAT: chat}, STAFF, now=50_000).total
    assert total.median == 60
    assert total.p90 == pytest.approx(438)  # rank 2.7: 60 + 0.7 × (600 − 60)
    assert total.max == 600


def test_staff_with_equal_counts_are_listed_by_id() -> None:
    chat = [msg(1, 0, CAROL), msg(2, 50, BOB), msg(3, 100, CAROL), msg(4, 110, ALICE)]
    report = build_report({CHAT: chat}, STAFF, now=200)
    assert list(report.per_staff) == [ALICE, BOB]  # one reply each: the lower id first


def test_an_edit_does_not_move_the_wait() -> None:
    edited = msg(1, 100, CAROL).model_copy(update={"edit_date": 400, "text": "edited"})
    replies, _ = waits([edited, msg(2, 500, ALICE)])
    assert replies == [(100, 400, ALICE)]


# --- business hours ----------------------------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")
WORKDAYS = BusinessHours(enabled=True, timezone="Europe/Berlin", holidays=["2024-05-01"])


def berlin(day: int, month: int, hour: int, minute: int = 0) -> int:
    """An instant in 2024, Berlin time."""
    return int(datetime(2024, month, day, hour, minute, tzinfo=BERLIN).timestamp())


def business_report(chat: list[Message], now: int, bh: BusinessHours = WORKDAYS) -> Report:
    """The report of one chat with the clock paused outside `bh`."""
    return build_report(
        {CHAT: chat}, STAFF, now=now, duration=partial(business_seconds, bh=bh), business_hours=True
    )


def test_a_wait_opened_at_night_counts_from_the_next_opening() -> None:
    # Friday 20:00 → Monday 09:10: only Monday's first ten minutes are business time.
    chat = [msg(1, berlin(3, 5, 20), CAROL), msg(2, berlin(6, 5, 9, 10), ALICE)]
    report = business_report(chat, berlin(6, 5, 12))
    assert [r.seconds for r in report.replies] == [600]


def test_holidays_do_not_count() -> None:
    # Tuesday 17:00 → Thursday 09:30 over the May Day holiday: 1 h on Tuesday + 30 min Thursday.
    chat = [msg(1, berlin(30, 4, 17), CAROL), msg(2, berlin(2, 5, 9, 30), ALICE)]
    report = business_report(chat, berlin(2, 5, 12))
    assert [r.seconds for r in report.replies] == [5_400]


def test_business_hours_follow_the_zone_across_dst() -> None:
    # Friday 29 March 17:00 CET → Tuesday 2 April 09:00 CEST: 1 h Friday, 9 h Monday 1 April.
    chat = [msg(1, berlin(29, 3, 17), CAROL), msg(2, berlin(2, 4, 9), ALICE)]
    report = business_report(chat, berlin(2, 4, 12))
    assert [r.seconds for r in report.replies] == [10 * 3600]


def test_an_overnight_shift_counts_across_midnight() -> None:
    night = BusinessHours(
        enabled=True, timezone="Europe/Berlin", start="22:00", end="06:00", days=["mon"]
    )
    # Monday 23:30 → Tuesday 05:30 is inside Monday's 22:00–06:00 shift.
    chat = [msg(1, berlin(6, 5, 23, 30), CAROL), msg(2, berlin(7, 5, 5, 30), ALICE)]
    report = business_report(chat, berlin(7, 5, 12), night)
    assert [r.seconds for r in report.replies] == [6 * 3600]


def test_unanswered_age_is_business_time_too() -> None:
    chat = [msg(1, berlin(3, 5, 17, 30), CAROL)]  # Friday 17:30, unanswered on Monday 10:00
    report = business_report(chat, berlin(6, 5, 10))
    assert report.oldest_unanswered == 30 * 60 + 3600
