"""Turn postpone choices ('15m', '1h', 'tomorrow', '16:30', '2d', 'fri', '2024-03-08') into a
wake-up time; the same words give an in-development due date."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..system.config import BusinessHours
from .business_hours import next_business_start
from .durations import parse_clock, parse_duration

MAX_SECONDS = 365 * 86400  # beyond this a typo (or a number too big to store) is likelier
_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HINT = "type a time like 16:30, a duration like 45m, 3h, 2d, a day like fri or 2024-03-08"

CHOICES: tuple[tuple[str, str], ...] = (
    ("15m", "1  15 minutes"),
    ("1h", "2  1 hour"),
    ("4h", "3  4 hours"),
    ("tomorrow", "4  Tomorrow morning"),
    ("custom", "5  Custom: 16:30, 45m, 3h, 2d…"),
)


def _morning(day: date, zone: ZoneInfo, at: str, hours: BusinessHours | None) -> int:
    """The start of the working day on `day` (the next working day with business hours on)."""
    hour, minute = parse_clock(at)
    if hours is not None and hours.enabled:
        midnight = datetime.combine(day, time(0, 0), tzinfo=zone)
        return next_business_start(int(midnight.timestamp()), hours)
    return int(datetime.combine(day, time(hour, minute), tzinfo=zone).timestamp())


def parse_postpone(
    text: str,
    now: int,
    tz: str = "UTC",
    tomorrow_at: str = "09:00",
    hours: BusinessHours | None = None,
) -> int:
    """The Unix time a postponement ends; ValueError with a hint when `text` is not understood.

    'tomorrow', a weekday ('fri') and a date ('2024-03-08') mean the start of that working
    day: `tomorrow_at`, or, with business hours enabled, the first business hour from then on
    (so 'tomorrow' on a Friday is Monday morning).
    """
    value = text.strip().lower()
    zone = ZoneInfo(tz)
    local_now = datetime.fromtimestamp(now, zone)
    if value == "tomorrow":
        return _morning(local_now.date() + timedelta(days=1), zone, tomorrow_at, hours)
    day_name = value[:3] if len(value) >= 3 and value.isalpha() else ""
    if day_name in _WEEKDAYS and _full_weekday(value):
        ahead = (_WEEKDAYS.index(day_name) - local_now.weekday() - 1) % 7 + 1
        return _morning(local_now.date() + timedelta(days=ahead), zone, tomorrow_at, hours)
    match = _DATE.match(value)
    if match:
        try:
            day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError as exc:
            raise ValueError(f"{text.strip()!r} is not a date; {HINT}") from exc
        morning = _morning(day, zone, tomorrow_at, hours)
        if morning <= now:
            raise ValueError(f"{text.strip()} has passed; pick a later day")
        if morning - now > MAX_SECONDS:
            raise ValueError("at most 365 days ahead, e.g. 30d; close the chat instead")
        return morning
    seconds = _duration(value)
    if seconds is not None:
        if seconds < 60:
            raise ValueError("postpone by at least one minute, e.g. 15m")
        if seconds > MAX_SECONDS:
            raise ValueError("postpone by at most 365 days, e.g. 30d; close the chat instead")
        return now + seconds
    clock = _clock(value)
    if clock is not None:
        target = local_now.replace(hour=clock[0], minute=clock[1], second=0, microsecond=0)
        if target <= local_now:
            target += timedelta(days=1)
        return int(target.timestamp())
    raise ValueError(f"can't read {text!r}: {HINT}")


def _duration(value: str) -> int | None:
    """Seconds of a postpone duration ('45m', '1h30m', '2 days'), None if it is not one."""
    try:
        return parse_duration(value, units="mhdw")
    except ValueError:
        return None


def _clock(value: str) -> tuple[int, int] | None:
    """(hour, minute) of a time of day like '16:30' or '9:05', None if it is not one."""
    try:
        return parse_clock(value, strict=False)
    except ValueError:
        return None


def _full_weekday(value: str) -> bool:
    """'fri', 'friday' (and 'thur', 'tues') name a weekday; 'frisbee' does not."""
    names = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return any(name.startswith(value) for name in names)


def choice_labels(
    now: int, tz: str, tomorrow_at: str, hours: BusinessHours | None
) -> tuple[tuple[str, str], ...]:
    """The postpone choices, with the time 'tomorrow morning' stands for right now."""
    morning = parse_postpone("tomorrow", now, tz, tomorrow_at, hours)
    when = datetime.fromtimestamp(morning, ZoneInfo(tz)).strftime("%a %H:%M")
    labels = dict(CHOICES)
    labels["tomorrow"] = f"4  Tomorrow morning ({when})"
    labels["custom"] = "5  Custom: 16:30, 45m, 3h, 2d, fri, 2024-03-08…"
    return tuple(labels.items())
