"""Business-time arithmetic: how much of an interval falls inside the configured working hours.

Pure functions over `BusinessHours` (core/system/config.py), in O(days) of the interval: each local
working day contributes one window [start, end) converted to UTC through zoneinfo, so weekdays,
holidays and DST changes (a 23- or 25-hour day) come out right. A window whose end is not after
its start runs overnight into the next day and belongs to the day it starts; start == end means
the whole day. When `bh.enabled` is false the clock never pauses: every second counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from ..system.config import BusinessHours

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SEARCH_DAYS = 3660  # next_business_start gives up after ten years without a working window


@dataclass(frozen=True)
class Schedule:
    """A compiled, hashable form of `BusinessHours` with per-day windows cached."""

    zone: ZoneInfo
    weekdays: frozenset[int]
    start: time
    end: time
    holidays: frozenset[date]

    def window(self, day: date) -> tuple[int, int] | None:
        """The UTC window [start, end) of the working day `day`, or None if it is a day off."""
        return _window(self, day.toordinal())

    def local_date(self, t: int) -> date:
        """The local calendar date of instant `t`."""
        return datetime.fromtimestamp(t, self.zone).date()


@lru_cache(maxsize=64)
def _compile(
    zone: str, days: tuple[str, ...], start: str, end: str, holidays: tuple[str, ...]
) -> Schedule:
    """Build (once per distinct setting) the schedule for these business-hours values."""
    return Schedule(
        zone=ZoneInfo(zone),
        weekdays=frozenset(_WEEKDAYS.index(d) for d in days),
        start=time.fromisoformat(start),
        end=time.fromisoformat(end),
        holidays=frozenset(date.fromisoformat(h) for h in holidays),
    )


def schedule_of(bh: BusinessHours) -> Schedule:
    """The compiled schedule of `bh` (cached by value, so calling this per message is cheap)."""
    return _compile(bh.timezone, tuple(bh.days), bh.start, bh.end, tuple(bh.holidays))


@lru_cache(maxsize=65536)
def _window(schedule: Schedule, ordinal: int) -> tuple[int, int] | None:
    """The UTC window of the local day with this ordinal (cached: days repeat across calls)."""
    day = date.fromordinal(ordinal)
    if day.weekday() not in schedule.weekdays or day in schedule.holidays:
        return None
    begin = datetime.combine(day, schedule.start, tzinfo=schedule.zone)
    end_day = day if schedule.end > schedule.start else day + timedelta(days=1)
    finish = datetime.combine(end_day, schedule.end, tzinfo=schedule.zone)
    lo, hi = int(begin.timestamp()), int(finish.timestamp())
    return (lo, hi) if hi > lo else None


def business_seconds(start: int, end: int, bh: BusinessHours) -> int:
    """Seconds of [start, end) that fall inside business hours (end - start when disabled)."""
    if end <= start:
        return 0
    if not bh.enabled:
        return end - start
    schedule = schedule_of(bh)
    # An overnight window that began the day before may still be running at `start`.
    first = schedule.local_date(start).toordinal() - 1
    last = schedule.local_date(end).toordinal()
    total = 0
    for ordinal in range(first, last + 1):
        window = _window(schedule, ordinal)
        if window is None:
            continue
        lo = window[0] if window[0] > start else start
        hi = window[1] if window[1] < end else end
        if hi > lo:
            total += hi - lo
    return total


def is_business_time(t: int, bh: BusinessHours) -> bool:
    """Whether the clock runs at instant `t` (always true when business hours are disabled)."""
    if not bh.enabled:
        return True
    schedule = schedule_of(bh)
    today = schedule.local_date(t).toordinal()
    for ordinal in (today - 1, today):
        window = _window(schedule, ordinal)
        if window is not None and window[0] <= t < window[1]:
            return True
    return False


def next_business_start(t: int, bh: BusinessHours) -> int:
    """`t` itself if the clock runs then, else the instant business hours next begin.

    Raises ValueError when no working window exists in the next ten years (no working days).
    """
    if is_business_time(t, bh):
        return t
    schedule = schedule_of(bh)
    today = schedule.local_date(t).toordinal()
    for ordinal in range(today, today + _SEARCH_DAYS):
        window = _window(schedule, ordinal)
        if window is not None and window[0] > t:
            return window[0]
    raise ValueError("business hours have no working day; set business_hours.days in the config")
