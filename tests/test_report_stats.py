"""The stats screen's figures (core/reports/stats.py): ranges, trends, and the live store's view."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from tgtriage.core.desk.inbox import Inbox
from tgtriage.core.desk.models import Chat, Message, User
from tgtriage.core.reports.format import report_dict
from tgtriage.core.reports.report import (
    Reply,
    ReportStaff,
    build_report,
    chat_waits,
    collect_waits,
    summarize_waits,
)
from tgtriage.core.reports.stats import day_edges, desk_stats, hour_edges, inbox_stats, trend
from tgtriage.core.sources.demo import DemoSource
from tgtriage.core.storage.store import Store
from tgtriage.core.system.config import BusinessHours, Config

from tgtriage.cli.report import run_report

UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
ME, MATE = 1001, 1002
CAROL = 2001
CHAT = -1000000000011
STAFF = ReportStaff(ids=frozenset({ME, MATE}))
NOW = int(datetime(2024, 3, 5, 10, 30, tzinfo=UTC).timestamp())  # Tuesday 10:30 UTC
DAY = 86400


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> int:
    """An instant in 2024, UTC."""
    return int(datetime(2024, month, day, hour, minute, tzinfo=UTC).timestamp())


def msg(mid: int, when: int, sender: int, chat: int = CHAT) -> Message:
    """A plain message."""
    return Message(chat_id=chat, id=mid, date=when, sender_id=sender, out=sender == ME)


def conversation() -> list[Message]:
    """Waits opened on 4 Feb, 1 Mar, 4 Mar (two) and 5 Mar (answered and still open)."""
    return [
        msg(1, at(4, 9, month=2), CAROL),
        msg(2, at(4, 9, 30, month=2), ME),  # 30 min, 30 days ago: outside every range
        msg(3, at(1, 23, 50), CAROL),
        msg(4, at(2, 0, 10), MATE),  # 20 min, opened 1 March: in 7 and 30 days only
        msg(5, at(4, 8), CAROL),
        msg(6, at(4, 8, 2), ME),  # 2 min on Monday
        msg(7, at(4, 15), CAROL),
        msg(8, at(4, 15, 10), MATE),  # 10 min on Monday
        msg(9, at(5, 9), CAROL),
        msg(10, at(5, 9, 5), ME),  # 5 min today
        msg(11, at(5, 10), CAROL),  # still open at 10:30: 30 min
    ]


# --- ranges and trends -------------------------------------------------------------------------


def test_day_edges_are_local_midnights_and_dst_days_are_shorter() -> None:
    edges = day_edges(NOW, UTC, 7)
    assert len(edges) == 8
    assert edges[0] == at(28, 0, month=2) and edges[-1] == at(6, 0)
    # Berlin moved its clocks on Sunday 31 March 2024: that day has 23 hours.
    sunday = int(datetime(2024, 3, 31, 12, tzinfo=BERLIN).timestamp())
    start, end = day_edges(sunday, BERLIN, 1)
    assert end - start == 23 * 3600
    assert len(hour_edges(sunday, BERLIN)) == 24  # 23 hours and the next midnight


def test_trend_takes_the_median_of_each_bucket_by_when_the_wait_opened() -> None:
    def reply(opened: int, seconds: int) -> Reply:
        return Reply(CHAT, opened, 1, opened + seconds, 2, ME, "", seconds)

    edges = [0, 100, 200, 300]
    buckets = trend(
        [reply(10, 5), reply(20, 15), reply(250, 60), reply(99, 1), reply(400, 9)], edges
    )
    assert [(b.start, b.count, b.median) for b in buckets] == [
        (0, 3, 5),
        (100, 0, None),  # no replies: no median (drawn as a gap, never as 0)
        (200, 1, 60),
    ]


def test_each_range_counts_the_waits_that_opened_in_it() -> None:
    stats = desk_stats({CHAT: conversation()}, STAFF, NOW)
    today, week, month = (stats.ranges[k].report for k in ("today", "7d", "30d"))
    assert [r.seconds for r in today.replies] == [300]
    assert [r.seconds for r in week.replies] == [1200, 120, 600, 300]
    assert [r.seconds for r in month.replies] == [1200, 120, 600, 300]
    assert [u.age for u in today.unanswered] == [1800]
    assert week.per_staff[MATE][1].count == 2 and week.per_staff[ME][1].count == 2
    # The 7-day trend: one bucket per day, the median of the waits opened that day.
    days = [(b.count, b.median) for b in stats.ranges["7d"].trend]
    assert days == [(0, None), (0, None), (1, 1200), (0, None), (0, None), (2, 360), (1, 300)]
    hours = stats.ranges["today"].trend
    assert len(hours) == 24 and hours[9].median == 300 and stats.ranges["today"].step == "hour"
    assert today.load["tue"][9] == 1 and today.load["tue"][10] == 1 and sum(today.load["mon"]) == 0


def test_ranges_follow_the_configured_zone() -> None:
    # 23:50 UTC on Friday 1 March is 00:50 on Saturday 2 March in Berlin: the wait's day moves.
    stats = desk_stats({CHAT: conversation()}, STAFF, NOW, zone=BERLIN)
    days = [b.count for b in stats.ranges["7d"].trend]
    assert days == [0, 0, 0, 1, 0, 2, 1]
    assert stats.ranges["7d"].report.load["sat"][0] == 1  # 00:50 on Saturday, Berlin time
    assert stats.ranges["7d"].report.zone_name == "Europe/Berlin"


def test_ranges_are_the_same_figures_as_the_report_command(data_dirs: tuple[Path, Path]) -> None:
    _, data_dir = data_dirs

    async def fill() -> None:
        store = await Store.open(data_dir / "demo.sqlite3")
        try:
            await store.upsert_chats([Chat(id=CHAT, title="carol · Support")])
            await store.upsert_users(
                [User(id=ME, first_name="Me"), User(id=MATE, first_name="Mate")]
            )
            await store.set_meta("me_id", str(ME))
            await store.set_meta("staff_ids", str(MATE))
            await store.add_messages(conversation())
        finally:
            await store.close()

    asyncio.run(fill())
    stats = desk_stats(
        {CHAT: conversation()},
        STAFF,
        NOW,
        chat_titles={CHAT: "carol · Support"},
        staff_names={ME: "Me", MATE: "Mate"},
    )
    for key, since in (("today", "2024-03-05"), ("7d", "2024-02-28"), ("30d", "2024-02-05")):
        out = io.StringIO()
        argv = ["--profile", "demo", "--since", since, "--now", str(NOW), "--format", "json"]
        assert run_report(argv, stdout=out) == 0
        assert report_dict(stats.ranges[key].report) == json.loads(out.getvalue()), key


# --- one pass, many periods -----------------------------------------------------------------

events = st.lists(
    st.tuples(st.integers(0, 5_000), st.sampled_from([ME, MATE, CAROL, CAROL + 1])),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(chats=st.lists(events, min_size=1, max_size=3), since=st.integers(0, 5_000))
def test_one_collection_summarised_per_period_equals_reading_each_period(
    chats: list[list[tuple[int, int]]], since: int
) -> None:
    by_chat = {
        -1 - i: [msg(n, when, sender, chat=-1 - i) for n, (when, sender) in enumerate(items, 1)]
        for i, items in enumerate(chats)
    }
    now = 6_000
    period = summarize_waits(collect_waits(by_chat, STAFF, now), STAFF, since=since)
    replies, unanswered = [], []
    for messages in by_chat.values():
        chat_replies, waiting, _ = chat_waits(messages, STAFF, now, since=since)
        replies += chat_replies
        unanswered += [waiting] if waiting else []
    assert period.replies == replies and period.unanswered == unanswered
    assert period == build_report(by_chat, STAFF, now, since=since)


# --- the live store, as the desk sees it ------------------------------------------------------


async def test_inbox_stats_reads_the_live_store_with_the_desks_rules(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "desk.sqlite3")
    try:
        other = -1000000000022
        await store.upsert_chats(
            [Chat(id=CHAT, title="carol · Support"), Chat(id=other, title="x")]
        )
        await store.upsert_users(
            [User(id=ME, first_name="Alex"), User(id=MATE, first_name="Priya")]
        )
        await store.set_meta("me_id", str(ME))
        await store.add_messages(conversation())
        config = Config(
            staff={"ids": [MATE]},
            levels={"due": 3},
            business_hours=BusinessHours(enabled=True, start="09:00", end="18:00"),
        )
        inbox = Inbox(store, DemoSource(seed=1), config, clock=lambda: float(NOW))
        await inbox.load_cached()
        del inbox.chats[other]  # the desk follows only its chats
        stats = await inbox_stats(inbox)
    finally:
        await store.close()
    assert stats.business_hours and stats.thresholds == (180, 900, 3600)
    week = stats.ranges["7d"].report
    # Business hours 09–18 on weekdays: Friday 23:50 → Saturday 00:10 is no business time;
    # Monday 08:00 → 08:02 neither; 15:00 → 15:10 is 10 min; today 09:00 → 09:05 is 5 min.
    assert [r.seconds for r in week.replies] == [0, 0, 600, 300]
    assert week.per_staff[MATE][0] == "Priya" and week.per_staff[ME][0] == "Alex"
    assert list(week.within) == [180, 900, 3600]
    assert [u.age for u in week.unanswered] == [1800]
    assert stats.now == NOW
