"""Business-time arithmetic: weekdays, hours, time zones, DST days and holidays."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tgtriage.core.rules.business_hours import (
    business_seconds,
    is_business_time,
    next_business_start,
)
from tgtriage.core.system.config import BusinessHours

UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600


def at(zone: ZoneInfo, *parts: int) -> int:
    """Unix seconds of a local wall-clock time in `zone`."""
    return int(datetime(*parts, tzinfo=zone).timestamp())  # type: ignore[misc]


def office(**changes: object) -> BusinessHours:
    """Mon–Fri 09:00–18:00 UTC, enabled, with `changes` applied."""
    values: dict[str, object] = {"enabled": True}
    values.update(changes)
    return BusinessHours.model_validate(values)


def test_disabled_business_hours_count_every_second() -> None:
    bh = BusinessHours(enabled=False)
    saturday_night = at(UTC, 2024, 6, 1, 23, 0)
    assert business_seconds(saturday_night, saturday_night + 5 * HOUR, bh) == 5 * HOUR
    assert is_business_time(saturday_night, bh)
    assert next_business_start(saturday_night, bh) == saturday_night


def test_nights_do_not_count() -> None:
    bh = office()
    # Tuesday 17:00 → Wednesday 10:00: one hour on Tuesday evening, one on Wednesday morning.
    assert business_seconds(at(UTC, 2024, 6, 4, 17, 0), at(UTC, 2024, 6, 5, 10, 0), bh) == 2 * HOUR


def test_weekends_do_not_count() -> None:
    bh = office()
    # Friday 17:30 → Monday 09:15: 30 minutes on Friday and 15 on Monday.
    friday = at(UTC, 2024, 6, 7, 17, 30)
    monday = at(UTC, 2024, 6, 10, 9, 15)
    assert business_seconds(friday, monday, bh) == 45 * 60
    assert not is_business_time(at(UTC, 2024, 6, 8, 12, 0), bh)
    assert next_business_start(at(UTC, 2024, 6, 8, 12, 0), bh) == at(UTC, 2024, 6, 10, 9, 0)


def test_holidays_do_not_count() -> None:
    bh = office(holidays=["2024-12-25", "2024-12-26"])
    # Tuesday 24 Dec 17:00 → Friday 27 Dec 10:00: 1 h + (two holidays) + 1 h.
    start = at(UTC, 2024, 12, 24, 17, 0)
    end = at(UTC, 2024, 12, 27, 10, 0)
    assert business_seconds(start, end, bh) == 2 * HOUR
    assert not is_business_time(at(UTC, 2024, 12, 25, 12, 0), bh)
    assert next_business_start(at(UTC, 2024, 12, 24, 18, 0), bh) == at(UTC, 2024, 12, 27, 9, 0)


def test_time_zone_shifts_the_window() -> None:
    bh = office(timezone="Asia/Tokyo")  # 09:00–18:00 JST = 00:00–09:00 UTC
    assert is_business_time(at(UTC, 2024, 6, 4, 1, 0), bh)
    assert not is_business_time(at(UTC, 2024, 6, 4, 10, 0), bh)
    assert business_seconds(at(UTC, 2024, 6, 4, 0, 0), at(UTC, 2024, 6, 4, 12, 0), bh) == 9 * HOUR


def test_spring_forward_day_is_an_hour_shorter() -> None:
    # Berlin skips 02:00–03:00 on Sunday 31 March 2024: a 00:00–06:00 window lasts 5 hours.
    bh = office(timezone="Europe/Berlin", days=["sun"], start="00:00", end="06:00")
    day_start = at(BERLIN, 2024, 3, 31, 0, 0)
    assert business_seconds(day_start, day_start + 24 * HOUR, bh) == 5 * HOUR
    whole_day = office(timezone="Europe/Berlin", days=["sun"], start="00:00", end="00:00")
    assert business_seconds(day_start, day_start + 48 * HOUR, whole_day) == 23 * HOUR


def test_fall_back_day_is_an_hour_longer() -> None:
    # Berlin repeats 02:00–03:00 on Sunday 27 October 2024: a 00:00–06:00 window lasts 7 hours.
    bh = office(timezone="Europe/Berlin", days=["sun"], start="00:00", end="06:00")
    day_start = at(BERLIN, 2024, 10, 27, 0, 0)
    assert business_seconds(day_start, day_start + 24 * HOUR, bh) == 7 * HOUR


def test_office_hours_across_a_dst_weekend_follow_local_time() -> None:
    bh = office(timezone="Europe/Berlin")
    friday = at(BERLIN, 2024, 3, 29, 17, 0)  # CET, UTC+1
    monday = at(BERLIN, 2024, 4, 1, 10, 0)  # CEST, UTC+2
    assert business_seconds(friday, monday, bh) == 2 * HOUR
    assert next_business_start(friday + 2 * HOUR, bh) == at(BERLIN, 2024, 4, 1, 9, 0)


def test_overnight_shift_belongs_to_the_day_it_starts() -> None:
    bh = office(days=["fri"], start="22:00", end="06:00")
    # Friday 22:00 → Saturday 06:00 counts; Saturday night does not start a shift.
    friday_night = at(UTC, 2024, 6, 7, 21, 0)
    assert business_seconds(friday_night, friday_night + 48 * HOUR, bh) == 8 * HOUR
    assert is_business_time(at(UTC, 2024, 6, 8, 5, 59), bh)
    assert not is_business_time(at(UTC, 2024, 6, 8, 6, 0), bh)


def test_no_working_days_has_no_next_start() -> None:
    bh = office(days=[])
    assert business_seconds(0, 10 * 86400, bh) == 0
    with pytest.raises(ValueError, match=r"business_hours\.days"):
        next_business_start(0, bh)


def test_empty_or_reversed_interval_is_zero() -> None:
    bh = office()
    t = at(UTC, 2024, 6, 4, 12, 0)
    assert business_seconds(t, t, bh) == 0
    assert business_seconds(t + 10, t, bh) == 0


# --- properties -------------------------------------------------------------------------------

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney"]
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
T0 = at(UTC, 2023, 1, 1, 0, 0)
T1 = at(UTC, 2026, 1, 1, 0, 0)


@st.composite
def schedules(draw: st.DrawFn) -> BusinessHours:
    """Random business hours; window edges avoid 00:00–03:59 where DST gaps and repeats fall."""
    zone = draw(st.sampled_from(ZONES))
    days = draw(st.lists(st.sampled_from(DAYS), unique=True))
    start = draw(st.integers(4 * 60, 23 * 60 + 59))
    end = draw(st.integers(4 * 60, 23 * 60 + 59))
    holidays = draw(
        st.lists(st.dates(date(2023, 1, 1), date(2025, 12, 31)), max_size=20, unique=True)
    )
    return BusinessHours(
        enabled=True,
        timezone=zone,
        days=days,  # type: ignore[arg-type]
        start=f"{start // 60:02d}:{start % 60:02d}",
        end=f"{end // 60:02d}:{end % 60:02d}",
        holidays=[d.isoformat() for d in holidays],
    )


times = st.integers(T0, T1)


@given(schedules(), times, times, times)
def test_business_seconds_is_additive(bh: BusinessHours, x: int, y: int, z: int) -> None:
    a, b, c = sorted((x, y, z))
    assert business_seconds(a, b, bh) + business_seconds(b, c, bh) == business_seconds(a, c, bh)


@given(schedules(), times, times)
def test_business_seconds_is_bounded(bh: BusinessHours, x: int, y: int) -> None:
    a, b = sorted((x, y))
    assert 0 <= business_seconds(a, b, bh) <= b - a


@given(schedules(), times)
def test_one_second_counts_exactly_when_the_clock_runs(bh: BusinessHours, t: int) -> None:
    assert business_seconds(t, t + 1, bh) == (1 if is_business_time(t, bh) else 0)


@given(schedules(), times)
def test_next_start_is_the_first_running_instant(bh: BusinessHours, t: int) -> None:
    if not bh.days:
        return
    start = next_business_start(t, bh)
    assert start >= t
    assert is_business_time(start, bh)
    assert business_seconds(t, start, bh) == 0


def _reference(a: int, b: int, bh: BusinessHours) -> int:
    """Brute force over whole minutes by local wall-clock time (a and b on minute boundaries)."""
    zone = ZoneInfo(bh.timezone)
    start = tuple(map(int, bh.start.split(":")))
    end = tuple(map(int, bh.end.split(":")))
    total = 0
    for minute in range(a, b, 60):
        local = datetime.fromtimestamp(minute, zone)
        hm = (local.hour, local.minute)
        if end > start:
            day = local.date() if start <= hm < end else None
        elif hm >= start:
            day = local.date()
        elif hm < end:
            day = local.date() - timedelta(days=1)
        else:
            day = None
        if (
            day is not None
            and DAYS[day.weekday()] in bh.days
            and day.isoformat() not in bh.holidays
        ):
            total += 60
    return total


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules(), st.integers(T0 // 60, T1 // 60), st.integers(0, 6 * 24 * 60))
def test_matches_a_minute_by_minute_count(bh: BusinessHours, first: int, minutes: int) -> None:
    a = first * 60
    b = a + minutes * 60
    assert business_seconds(a, b, bh) == _reference(a, b, bh)
