"""The one grammar of durations ('45m', '1h15m', '2 hours', '7d') and clock times ('16:30').

Postponing (core/rules/postpone.py), `tgtriage report --since` (tgtriage/cli/report.py), the
demo's script (core/sources/demo_script.py) and the config's HH:MM settings
(core/system/config.py) all read time through these two functions; each caller says which
units it allows and adds its own hint to the error.
"""

from __future__ import annotations

import re

UNIT_SECONDS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
"""Seconds per unit, by the unit's first letter."""

_UNIT_WORDS = (
    "weeks|week|wk|w|days|day|d|hours|hour|hrs|hr|h|"
    "minutes|minute|mins|min|m|seconds|second|secs|sec|s"
)
_PART = re.compile(rf"(\d+)\s*({_UNIT_WORDS})(?![a-z])", re.IGNORECASE)
_STRICT_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_LOOSE_CLOCK = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


def parse_duration(text: str, units: str = "smhdw") -> int:
    """Seconds of a duration made of number+unit parts ('40s', '1h15m', '2 hours', '7d').

    Only the units whose first letters are in `units` are accepted; ValueError otherwise, and
    for anything that is not a duration at all (the caller adds its own hint).
    """
    value = text.strip()
    pos = 0
    total = 0
    parts = 0
    while pos < len(value):
        found = _PART.match(value, pos)
        if found is None:
            raise ValueError(f"{text!r} is not a duration")
        unit = found.group(2)[0].lower()
        if unit not in units:
            raise ValueError(f"{text!r}: the unit {found.group(2)!r} is not allowed here")
        total += int(found.group(1)) * UNIT_SECONDS[unit]
        parts += 1
        pos = found.end()
        while pos < len(value) and value[pos] == " ":
            pos += 1
    if parts == 0:
        raise ValueError(f"{text!r} is not a duration")
    return total


def parse_clock(text: str, *, strict: bool = True) -> tuple[int, int]:
    """(hour, minute) of a clock time: strict is exactly HH:MM ('09:00'), loose also '9:00 '.

    ValueError when `text` is not a time of day.
    """
    found = (_STRICT_CLOCK if strict else _LOOSE_CLOCK).match(text)
    if found is None:
        raise ValueError(f"{text!r} is not a time like '09:00'")
    return int(found.group(1)), int(found.group(2))


def is_clock(text: str, *, strict: bool = True) -> bool:
    """Whether `text` is a clock time (see `parse_clock`)."""
    try:
        parse_clock(text, strict=strict)
    except ValueError:
        return False
    return True
