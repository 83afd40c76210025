"""The stats screen's figures: one report per range (today, 7 days, 30 days) and its trend.

Ranges are calendar days in the configured time zone (`business_hours.timezone`), ending now:
"today" since local midnight, "7 days" since midnight six days ago, "30 days" since midnight
29 days ago — the same figures as `tgtriage report --since <that date>`. The messages are read
once; every range is a period of the same waits (a wait belongs to the day it opened), and
each range's trend is the median reply time per hour (today) or per day.
"""

from __future__ import annotations

import asyncio
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from .report import (
    DEFAULT_THRESHOLDS,
    Duration,
    Reply,
    Report,
    ReportMessage,
    ReportStaff,
    collect_waits,
    group_by_chat,
    percentile,
    summarize_waits,
    wall_seconds,
)

if TYPE_CHECKING:
    from ..desk.inbox import Inbox

RangeKey = Literal["today", "7d", "30d"]
RANGES: tuple[tuple[RangeKey, str, int], ...] = (
    ("today", "Today", 1),
    ("7d", "7 days", 7),
    ("30d", "30 days", 30),
)


@dataclass(frozen=True)
class Bucket:
    """One point of a trend: the replies whose wait opened in [start, end)."""

    start: int
    end: int
    count: int
    median: float | None


@dataclass(frozen=True)
class RangeStats:
    """The figures of one range: its report and its trend of median reply times."""

    key: RangeKey
    label: str
    since: int
    report: Report
    trend: list[Bucket]
    step: Literal["hour", "day"]


@dataclass(frozen=True)
class DeskStats:
    """Everything the stats screen shows, for each range, computed at `now`."""

    now: int
    zone: str
    business_hours: bool
    thresholds: tuple[int, int, int]
    ranges: dict[RangeKey, RangeStats]


def day_edges(now: int, zone: ZoneInfo, days: int) -> list[int]:
    """Local midnights from `days - 1` days before `now`'s day up to the midnight after it.

    `days + 1` instants, so day *i* is [edges[i], edges[i + 1]); DST days are 23 or 25 hours.
    """
    today = datetime.fromtimestamp(now, zone).date()
    first = today - timedelta(days=days - 1)
    return [
        int(datetime.combine(first + timedelta(days=i), time(), tzinfo=zone).timestamp())
        for i in range(days + 1)
    ]


def hour_edges(now: int, zone: ZoneInfo) -> list[int]:
    """The starts of the local hours of `now`'s day, then the next midnight (24 ± 1 hours)."""
    start, end = day_edges(now, zone, 1)
    return [*range(start, end, 3600), end]


def trend(replies: Iterable[Reply], edges: Sequence[int]) -> list[Bucket]:
    """Count and median reply time of the replies whose wait opened in each [edge, next edge)."""
    groups: list[list[int]] = [[] for _ in edges[:-1]]
    for reply in replies:
        index = bisect_right(edges, reply.waited_from) - 1
        if 0 <= index < len(groups):
            groups[index].append(reply.seconds)
    buckets = []
    for i, values in enumerate(groups):
        values.sort()
        buckets.append(Bucket(edges[i], edges[i + 1], len(values), percentile(values, 0.5)))
    return buckets


def desk_stats(
    chats: Mapping[int, Iterable[ReportMessage]],
    staff: ReportStaff,
    now: int,
    *,
    zone: ZoneInfo | None = None,
    duration: Duration = wall_seconds,
    thresholds: tuple[int, int, int] = DEFAULT_THRESHOLDS,
    chat_titles: Mapping[int, str] | None = None,
    staff_names: Mapping[int, str] | None = None,
    business_hours: bool = False,
) -> DeskStats:
    """The figures of every range over `chats` (chat id → messages), as of `now`."""
    tz = zone or ZoneInfo("UTC")
    load_zone = None if str(tz) == "UTC" else tz
    waits = collect_waits(chats, staff, now, duration=duration)
    ranges: dict[RangeKey, RangeStats] = {}
    for key, label, days in RANGES:
        edges = hour_edges(now, tz) if days == 1 else day_edges(now, tz, days)
        report = summarize_waits(
            waits,
            staff,
            since=edges[0],
            thresholds=thresholds,
            load_zone=load_zone,
            chat_titles=chat_titles,
            staff_names=staff_names,
            business_hours=business_hours,
        )
        step: Literal["hour", "day"] = "hour" if days == 1 else "day"
        ranges[key] = RangeStats(key, label, edges[0], report, trend(report.replies, edges), step)
    return DeskStats(now, str(tz), business_hours, thresholds, ranges)


async def inbox_stats(inbox: Inbox) -> DeskStats:
    """The stats of the desk's live store, as the Inbox sees staff, levels and hours now.

    The rows are read on the database thread and the figures computed on a worker thread, so
    the event loop (and the screen) stays responsive on a large store.
    """
    now = inbox.now()
    rows = await inbox.report_rows()
    rule = inbox.rule
    ids = set(rule.staff_ids)
    if rule.me_id:
        ids.add(rule.me_id)
    staff = ReportStaff(ids=frozenset(ids), out_is_staff=True, ignore=rule.ignore_ids - ids)
    await inbox.users_read()  # read after the first frame (core/desk/inbox.py)
    names = {uid: user.name for uid, user in inbox.users.items()}
    if inbox.me is not None:
        names[inbox.me.id] = inbox.me.name
    titles = {cid: chat.title for cid, chat in inbox.chats.items()}
    hours = inbox.config.business_hours

    def compute() -> DeskStats:
        return desk_stats(
            group_by_chat(rows),
            staff,
            now,
            zone=ZoneInfo(hours.timezone),
            duration=inbox.elapsed,
            thresholds=inbox.thresholds,
            chat_titles=titles,
            staff_names=names,
            business_hours=hours.enabled,
        )

    return await asyncio.to_thread(compute)
