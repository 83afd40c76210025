"""Turn postpone choices ('15m', '1h', 'tomorrow', '16:30', '2d') into a wake-up time."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|mins|minutes?|h|hr|hours?|d|days?)\s*$", re.I)
MAX_SECONDS = 365 * 86400  # beyond this a typo (or a number too big to store) is likelier
_CLOCK = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")

CHOICES: tuple[tuple[str, str], ...] = (
    ("15m", "1  15 minutes"),
    ("1h", "2  1 hour"),
    ("4h", "3  4 hours"),
    ("tomorrow", "4  Tomorrow morning"),
    ("custom", "5  Custom: 16:30, 45m, 3h, 2d…"),
)


def parse_postpone(text: str, now: int, tz: str = "UTC", tomorrow_at: str = "09:00") -> int:
    """The Unix time a postponement ends; ValueError with a hint when `text` is not understood."""
    value = text.strip().lower()
    zone = ZoneInfo(tz)
    local_now = datetime.fromtimestamp(now, zone)
    if value == "tomorrow":
        hour, minute = (int(p) for p in tomorrow_at.split(":"))
        target = (local_now + timedelta(days=1)).replace(
            hour=hour, minute=minute, second=0, microsecond=0
        )
        return int(target.timestamp())
    match = _DURATION.match(value)
    if match:
        amount = int(match.group(1))
        unit = match.group(2)[0]
        seconds = {"m": 60, "h": 3600, "d": 86400}[unit] * amount
        if seconds <= 0:
            raise ValueError("postpone by at least one minute, e.g. 15m")
        if seconds > MAX_SECONDS:
            raise ValueError("postpone by at most 365 days, e.g. 30d; close the chat instead")
        return now + seconds
    match = _CLOCK.match(value)
    if match:
        target = local_now.replace(
            hour=int(match.group(1)), minute=int(match.group(2)), second=0, microsecond=0
        )
        if target <= local_now:
            target += timedelta(days=1)
        return int(target.timestamp())
    raise ValueError(f"can't read {text!r}: type a time like 16:30 or a duration like 45m, 3h, 2d")
