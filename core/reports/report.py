"""Response-time figures computed from conversations (DESIGN §3 "Reply time"), as pure functions.

Per chat, messages are taken in (date, id) order; service messages and ignored senders never
count. A *wait* opens at the first customer message after the last staff message (later customer
messages do not move it) and closes at the next staff message: that is one reply, credited to the
staff member who sent it, lasting `duration(wait opened, reply sent)`. A wait still open at `now`
is *unanswered*, aged `duration(wait opened, now)`.

Periods: a wait belongs to the period in which it opened, so [since, until) reports partition the
waits. Messages before `since` are still read to know whether a wait was already open; messages
at or after `until` (or after `now`) are not read at all: the report is the world as of then.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from operator import attrgetter
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

Duration = Callable[[int, int], int]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_THRESHOLDS = (300, 900, 3600)
_ORDER = attrgetter("date", "id")  # export order: by date, same-second messages by id


class ReportMessage(Protocol):
    """What reply times depend on: a `Message`, or a narrow `ReportRow` read for reports."""

    @property
    def chat_id(self) -> int:
        """The chat's marked id."""
        ...

    @property
    def id(self) -> int:
        """The message id within its chat."""
        ...

    @property
    def date(self) -> int:
        """Unix seconds when it was sent."""
        ...

    @property
    def sender_id(self) -> int | None:
        """Who wrote it (None when unknown)."""
        ...

    @property
    def sender_name(self) -> str:
        """The sender's display name as the message carries it."""
        ...

    @property
    def out(self) -> int:
        """Nonzero when the account itself sent it."""
        ...

    @property
    def service(self) -> int:
        """Nonzero for a service message (joins, pins, notices)."""
        ...


class ReportRow(NamedTuple):
    """The seven columns of a message that reply times depend on (the store's narrow query)."""

    chat_id: int
    id: int
    date: int
    sender_id: int | None
    sender_name: str
    out: int
    service: int


def group_by_chat(rows: Iterable[ReportMessage]) -> dict[int, list[ReportMessage]]:
    """Rows ordered by chat id (as the store returns them) as chat id → that chat's rows."""
    return {chat_id: list(group) for chat_id, group in groupby(rows, key=attrgetter("chat_id"))}


def wall_seconds(start: int, end: int) -> int:
    """Plain elapsed seconds: the duration used when business hours are off."""
    return end - start


@dataclass(frozen=True)
class ReportStaff:
    """Who is staff: listed ids, plus (optionally) any message the account itself sent (`out`)."""

    ids: frozenset[int] = frozenset()
    out_is_staff: bool = True
    ignore: frozenset[int] = frozenset()


class Reply(NamedTuple):
    """One closed wait: the customer's opening message and the staff message that answered it."""

    chat_id: int
    waited_from: int
    wait_msg_id: int
    replied_at: int
    reply_msg_id: int
    staff_id: int | None
    staff_name: str
    seconds: int


class Unanswered(NamedTuple):
    """A wait still open at the report's `now`."""

    chat_id: int
    waited_from: int
    wait_msg_id: int
    age: int


@dataclass(frozen=True)
class Summary:
    """Count, median, p90 and max of a set of durations; None where there is no data."""

    count: int
    median: float | None
    p90: float | None
    max: int | None


@dataclass(frozen=True)
class Report:
    """All figures of one report, ready for any output format."""

    now: int
    since: int | None
    until: int | None
    replies: list[Reply]
    unanswered: list[Unanswered]
    total: Summary
    per_staff: dict[int, tuple[str, Summary]]
    per_chat: dict[int, tuple[str, Summary]]
    within: dict[int, float | None]
    load: dict[str, list[int]]
    chat_titles: dict[int, str] = field(default_factory=dict)
    zone_name: str = "UTC"
    business_hours: bool = False

    @property
    def oldest_unanswered(self) -> int | None:
        """Age in seconds of the longest-open wait, or None if nothing is waiting."""
        return max((u.age for u in self.unanswered), default=None)


def percentile(sorted_values: Sequence[int | float], q: float) -> float | None:
    """The q-quantile (0..1) by linear interpolation between closest ranks (numpy's default)."""
    n = len(sorted_values)
    if n == 0:
        return None
    rank = (n - 1) * q
    lo = math.floor(rank)
    hi = min(lo + 1, n - 1)
    low = float(sorted_values[lo])
    return low + (rank - lo) * (float(sorted_values[hi]) - low)


def summarize(values: Iterable[int]) -> Summary:
    """Count, median, p90 and max of `values`."""
    ordered = sorted(values)
    if not ordered:
        return Summary(0, None, None, None)
    return Summary(len(ordered), percentile(ordered, 0.5), percentile(ordered, 0.9), ordered[-1])


def chat_waits(
    messages: Iterable[ReportMessage],
    staff: ReportStaff,
    now: int,
    *,
    since: int | None = None,
    until: int | None = None,
    duration: Duration = wall_seconds,
) -> tuple[list[Reply], Unanswered | None, list[int]]:
    """Replies, the open wait and the customer message times (for load) of one chat.

    Messages later than `now` or at/after `until` are not read; only waits opened (and customer
    messages sent) at or after `since` are returned.
    """
    limit = now if until is None else min(now, until - 1)
    first = since if since is not None else -(2**63)
    ids, ignore, out_is_staff = staff.ids, staff.ignore, staff.out_is_staff
    replies: list[Reply] = []
    customers: list[int] = []
    opened: ReportMessage | None = None
    for message in sorted(messages, key=_ORDER):
        date = message.date
        if date > limit:
            break
        sender = message.sender_id
        if message.service or sender in ignore:
            continue
        if sender in ids or (out_is_staff and message.out):
            if opened is not None:
                if opened.date >= first:
                    replies.append(
                        Reply(
                            message.chat_id,
                            opened.date,
                            opened.id,
                            date,
                            message.id,
                            sender,
                            message.sender_name,
                            duration(opened.date, date),
                        )
                    )
                opened = None
        else:
            if date >= first:
                customers.append(date)
            if opened is None:
                opened = message
    waiting = None
    if opened is not None and opened.date >= first:
        waiting = Unanswered(opened.chat_id, opened.date, opened.id, duration(opened.date, now))
    return replies, waiting, customers


def weekday_hour_load(dates: Iterable[int], zone: ZoneInfo | None = None) -> dict[str, list[int]]:
    """Count instants by local weekday × hour: {"mon": [24 ints], …, "sun": [...]} (UTC if no zone)."""
    grid = [[0] * 24 for _ in WEEKDAYS]
    offsets: dict[int, int] = {}
    for t in dates:
        if zone is None:
            local = t
        else:
            bucket = t // 900  # zone offsets change on quarter-hour boundaries
            offset = offsets.get(bucket)
            if offset is None:
                offset = offsets[bucket] = quarter_offset(bucket, zone)
            local = t + offset
        days, rest = divmod(local, 86400)
        grid[(days + 3) % 7][rest // 3600] += 1  # 1970-01-01 was a Thursday
    return dict(zip(WEEKDAYS, grid, strict=True))


def quarter_offset(quarter: int, zone: ZoneInfo) -> int:
    """The zone's UTC offset in seconds during quarter hour number `quarter` (`t // 900`)."""
    delta = datetime.fromtimestamp(quarter * 900, zone).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def quarter_load(
    quarters: Iterable[tuple[int, int]],
    zone: ZoneInfo | None,
    dates_in: Callable[[int], Iterable[int]],
) -> dict[str, list[int]]:
    """`weekday_hour_load` from counts per quarter hour ((`t // 900`, count) pairs).

    A quarter hour lies in one local hour when the zone's offset is whole quarter hours (every
    offset since the 1970s); in the others (local mean time) `dates_in(quarter)` gives the dates.
    """
    grid = [[0] * 24 for _ in WEEKDAYS]
    for quarter, count in quarters:
        offset = 0 if zone is None else quarter_offset(quarter, zone)
        if offset % 900:
            locals_ = [(t + offset, 1) for t in dates_in(quarter)]
        else:
            locals_ = [(quarter * 900 + offset, count)]
        for local, n in locals_:
            days, rest = divmod(local, 86400)
            grid[(days + 3) % 7][rest // 3600] += n
    return dict(zip(WEEKDAYS, grid, strict=True))


@dataclass(frozen=True)
class Waits:
    """Every wait of a set of chats as of `now`, before any period is chosen.

    Reports over several periods (the stats screen's today / 7 days / 30 days) read the
    messages once into this and summarise each period from it with `summarize_waits`.
    """

    now: int
    replies: list[Reply]
    unanswered: list[Unanswered]
    customer_dates: list[int]
    chat_order: list[int]


def collect_waits(
    chats: Mapping[int, Iterable[ReportMessage]],
    staff: ReportStaff,
    now: int,
    *,
    until: int | None = None,
    duration: Duration = wall_seconds,
) -> Waits:
    """All replies, open waits and customer message times of `chats` as of `min(now, until)`."""
    as_of = now if until is None else min(now, until)
    replies: list[Reply] = []
    unanswered: list[Unanswered] = []
    customer_dates: list[int] = []
    for messages in chats.values():
        chat_replies, waiting, customers = chat_waits(
            messages, staff, as_of, until=until, duration=duration
        )
        replies.extend(chat_replies)
        if waiting is not None:
            unanswered.append(waiting)
        customer_dates.extend(customers)
    return Waits(as_of, replies, unanswered, customer_dates, list(chats))


def summarize_waits(
    waits: Waits,
    staff: ReportStaff,
    *,
    since: int | None = None,
    until: int | None = None,
    thresholds: Sequence[int] = DEFAULT_THRESHOLDS,
    load_zone: ZoneInfo | None = None,
    chat_titles: Mapping[int, str] | None = None,
    staff_names: Mapping[int, str] | None = None,
    business_hours: bool = False,
) -> Report:
    """The report of the waits that opened at or after `since` (all of them when None)."""
    if since is None:
        replies, unanswered, customer_dates = waits.replies, waits.unanswered, waits.customer_dates
    else:
        replies = [r for r in waits.replies if r.waited_from >= since]
        unanswered = [u for u in waits.unanswered if u.waited_from >= since]
        customer_dates = [t for t in waits.customer_dates if t >= since]
    titles = dict(chat_titles or {})
    names = dict(staff_names or {})
    by_staff: dict[int, list[int]] = {sid: [] for sid in sorted(staff.ids)}
    none_key = 0  # a staff message without a sender id (an anonymous `out` message)
    by_chat: dict[int, list[int]] = {}
    for reply in replies:
        key = reply.staff_id if reply.staff_id is not None else none_key
        by_staff.setdefault(key, []).append(reply.seconds)
        if key not in names and reply.staff_name:
            names[key] = reply.staff_name
        by_chat.setdefault(reply.chat_id, []).append(reply.seconds)
    staff_summaries = {sid: summarize(values) for sid, values in by_staff.items()}
    per_staff = {
        sid: (names.get(sid, ""), summary)
        for sid, summary in sorted(staff_summaries.items(), key=lambda kv: (-kv[1].count, kv[0]))
    }
    active = set(by_chat) | {u.chat_id for u in unanswered}
    per_chat = {
        cid: (titles.get(cid, str(cid)), summarize(by_chat.get(cid, ())))
        for cid in waits.chat_order
        if cid in active
    }
    seconds = [r.seconds for r in replies]
    within: dict[int, float | None] = {
        limit: (sum(1 for s in seconds if s <= limit) / len(seconds)) if seconds else None
        for limit in thresholds
    }
    return Report(
        now=waits.now,
        since=since,
        until=until,
        replies=replies,
        unanswered=unanswered,
        total=summarize(seconds),
        per_staff=per_staff,
        per_chat=per_chat,
        within=within,
        load=weekday_hour_load(customer_dates, load_zone),
        chat_titles=titles,
        zone_name="UTC" if load_zone is None else str(load_zone),
        business_hours=business_hours,
    )


def build_report(
    chats: Mapping[int, Iterable[ReportMessage]],
    staff: ReportStaff,
    now: int,
    *,
    since: int | None = None,
    until: int | None = None,
    duration: Duration = wall_seconds,
    thresholds: Sequence[int] = DEFAULT_THRESHOLDS,
    load_zone: ZoneInfo | None = None,
    chat_titles: Mapping[int, str] | None = None,
    staff_names: Mapping[int, str] | None = None,
    business_hours: bool = False,
) -> Report:
    """The whole report over `chats` (chat id → its messages) as of `min(now, until)`.

    `until` is exclusive: a message sent exactly at `until` is not read.
    """
    waits = collect_waits(chats, staff, now, until=until, duration=duration)
    return summarize_waits(
        waits,
        staff,
        since=since,
        until=until,
        thresholds=thresholds,
        load_zone=load_zone,
        chat_titles=chat_titles,
        staff_names=staff_names,
        business_hours=business_hours,
    )
