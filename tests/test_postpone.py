"""Postpone choices: durations, clock times today or tomorrow, 'tomorrow' in the desk's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from tgtriage.core.rules.postpone import CHOICES, choice_labels, parse_postpone
from tgtriage.core.system.config import BusinessHours

UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")


def at(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> int:
    """Unix time of a local wall-clock time in `zone`."""
    return int(datetime(year, month, day, hour, minute, tzinfo=zone).timestamp())


NOW = at(UTC, 2024, 5, 14, 10, 0)  # a Tuesday, 10:00 UTC


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("15m", 15 * 60),
        ("1h", 3600),
        ("4h", 4 * 3600),
        ("2d", 2 * 86_400),
        ("45 min", 45 * 60),
        ("90 minutes", 90 * 60),
        ("3 hours", 3 * 3600),
        ("1 day", 86_400),
        ("  2H ", 2 * 3600),
    ],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_postpone(text, NOW) == NOW + seconds


def test_clock_time_later_today() -> None:
    assert parse_postpone("16:30", NOW) == at(UTC, 2024, 5, 14, 16, 30)


def test_clock_time_already_past_means_tomorrow() -> None:
    evening = at(UTC, 2024, 5, 14, 17, 0)
    assert parse_postpone("16:30", evening) == at(UTC, 2024, 5, 15, 16, 30)
    exactly = at(UTC, 2024, 5, 14, 16, 30)
    assert parse_postpone("16:30", exactly) == at(UTC, 2024, 5, 15, 16, 30)


def test_clock_time_is_read_in_the_desks_time_zone() -> None:
    now = at(BERLIN, 2024, 5, 14, 10, 0)  # 08:00 UTC
    assert parse_postpone("16:30", now, tz="Europe/Berlin") == at(BERLIN, 2024, 5, 14, 16, 30)
    assert parse_postpone("9:05", now, tz="Europe/Berlin") == at(BERLIN, 2024, 5, 15, 9, 5)


def test_tomorrow_is_nine_in_the_morning_local_time() -> None:
    now = at(BERLIN, 2024, 5, 14, 23, 30)  # still the 14th in Berlin, 21:30 UTC
    until = parse_postpone("tomorrow", now, tz="Europe/Berlin")
    assert until == at(BERLIN, 2024, 5, 15, 9, 0)
    assert datetime.fromtimestamp(until, UTC).hour == 7  # CEST is UTC+2


def test_tomorrow_after_midnight_local_is_the_next_calendar_day() -> None:
    # 00:30 on the 15th in Berlin is still the 14th in UTC: the local date decides.
    now = at(BERLIN, 2024, 5, 15, 0, 30)
    assert parse_postpone("Tomorrow", now, tz="Europe/Berlin") == at(BERLIN, 2024, 5, 16, 9, 0)
    assert parse_postpone("tomorrow", now, tz="UTC") == at(UTC, 2024, 5, 15, 9, 0)


def test_tomorrow_across_a_daylight_saving_change() -> None:
    now = at(BERLIN, 2024, 3, 30, 12, 0)  # clocks go forward in the night to the 31st
    until = parse_postpone("tomorrow", now, tz="Europe/Berlin")
    assert until == at(BERLIN, 2024, 3, 31, 9, 0)
    assert until - now == 20 * 3600
    assert parse_postpone("tomorrow", now, tz="Europe/Berlin", tomorrow_at="08:15") == at(
        BERLIN, 2024, 3, 31, 8, 15
    )


def test_every_offered_choice_but_custom_parses_to_the_future() -> None:
    for key, label in CHOICES:
        assert label
        if key == "custom":
            continue
        assert parse_postpone(key, NOW) > NOW


@pytest.mark.parametrize(
    "text", ["", "soon", "25:00", "16:60", "1.5h", "-5m", "15", "m", "next week", "16:30 tomorrow"]
)
def test_bad_input_raises_value_error_with_a_hint(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_postpone(text, NOW)
    message = str(info.value)
    assert "\n" not in message
    assert "16:30" in message and "45m" in message


@pytest.mark.parametrize("text", ["0m", "0h", "0d"])
def test_zero_duration_is_refused_with_a_hint(text: str) -> None:
    with pytest.raises(ValueError, match="15m"):
        parse_postpone(text, NOW)


@pytest.mark.parametrize("text", ["366d", "9000h", "99999999999999999999d"])
def test_absurd_durations_are_refused_instead_of_overflowing_the_store(text: str) -> None:
    with pytest.raises(ValueError, match="365 days"):
        parse_postpone(text, NOW)
    assert parse_postpone("365d", NOW) == NOW + 365 * 86_400


def test_weekdays_and_dates_mean_that_morning() -> None:
    # NOW is Tuesday 2024-05-14 10:00 UTC.
    assert parse_postpone("fri", NOW) == at(UTC, 2024, 5, 17, 9, 0)
    assert parse_postpone("Friday", NOW) == at(UTC, 2024, 5, 17, 9, 0)
    assert parse_postpone("tue", NOW) == at(UTC, 2024, 5, 21, 9, 0), "today's name: next week"
    assert parse_postpone("2024-05-20", NOW) == at(UTC, 2024, 5, 20, 9, 0)
    for bad in ("2024-05-13", "2024-02-30", "frisbee", "2030-01-01"):
        with pytest.raises(ValueError):
            parse_postpone(bad, NOW)


def test_with_business_hours_tomorrow_is_the_start_of_the_next_working_day() -> None:
    hours = BusinessHours(
        enabled=True, timezone="Europe/Berlin", start="08:30", holidays=["2024-05-20"]
    )
    friday = at(BERLIN, 2024, 5, 17, 16, 0)
    # Saturday and Sunday are off, Monday the 20th is a holiday: Tuesday 08:30 Berlin time.
    assert parse_postpone("tomorrow", friday, "Europe/Berlin", hours=hours) == at(
        BERLIN, 2024, 5, 21, 8, 30
    )
    tuesday = at(BERLIN, 2024, 5, 14, 16, 0)
    assert parse_postpone("tomorrow", tuesday, "Europe/Berlin", hours=hours) == at(
        BERLIN, 2024, 5, 15, 8, 30
    )
    assert parse_postpone("sat", tuesday, "Europe/Berlin", hours=hours) == at(
        BERLIN, 2024, 5, 21, 8, 30
    ), "a day off means the next working morning"


def test_the_chooser_says_when_tomorrow_morning_is() -> None:
    hours = BusinessHours(enabled=True)
    friday = at(UTC, 2024, 5, 17, 16, 0)
    labels = dict(choice_labels(friday, "UTC", "09:00", hours))
    assert labels["tomorrow"] == "4  Tomorrow morning (Mon 09:00)"
    assert list(labels) == [key for key, _ in CHOICES]
