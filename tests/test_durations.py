"""One grammar of durations and clock times, read the same by postpone, report, demo and config."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from tgtriage.core.rules.durations import is_clock, parse_clock, parse_duration
from tgtriage.core.rules.postpone import parse_postpone
from tgtriage.core.sources.demo_script import seconds
from tgtriage.core.system.config import ConfigError, load_config

from tgtriage.cli.report import _parse_since

NOW = int(datetime(2024, 5, 14, 10, 0, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("40s", 40),
        ("7m", 420),
        ("1h15m", 4500),
        ("2m30s", 150),
        ("1h 30m", 5400),
        ("2 hours", 7200),
        ("45 min", 2700),
        ("7d", 7 * 86_400),
        ("2w", 14 * 86_400),
        (" 3H ", 3 * 3600),
    ],
)
def test_durations_of_every_spelling(text: str, expected: int) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "soon", "15", "m", "1.5h", "-5m", "1hour2", "5 mo", "16:30"])
def test_what_is_not_a_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_a_caller_limits_the_units() -> None:
    assert parse_duration("1h15m", units="hms") == 4500
    with pytest.raises(ValueError, match="not allowed"):
        parse_duration("2d", units="hms")


def test_the_three_callers_read_the_same_compound_duration() -> None:
    """'1h30m' means 90 minutes to postpone, to `report --since` and to the demo's script."""
    assert parse_postpone("1h30m", NOW) == NOW + 5400
    assert _parse_since("1h30m", NOW, ZoneInfo("UTC")) == NOW - 5400
    assert seconds("1h30m") == 5400


def test_postpone_still_refuses_seconds_and_the_demo_refuses_days() -> None:
    with pytest.raises(ValueError, match="16:30"):
        parse_postpone("30s", NOW)
    with pytest.raises(ValueError, match="1h15m"):
        seconds("2d")


def test_clock_times_strict_and_loose() -> None:
    assert parse_clock("09:00") == (9, 0)
    assert parse_clock(" 9:05 ", strict=False) == (9, 5)
    for bad in ("9:05", "24:00", "12:60", "noon", "09:00 "):
        assert not is_clock(bad)
    assert not is_clock("25:00", strict=False)


@pytest.mark.parametrize(
    ("section", "line"),
    [
        ("[business_hours]\nstart = '9:00'\n", "business_hours.start"),
        ("[postpone]\ntomorrow_at = '24:00'\n", "postpone.tomorrow_at"),
        ("[alerts]\nquiet_hours = '22:00-7:00'\n", "alerts.quiet_hours"),
    ],
)
def test_config_clock_settings_use_the_same_validator(
    tmp_path: Path, section: str, line: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(section, encoding="utf-8")
    with pytest.raises(ConfigError, match=line):
        load_config(path)


def test_config_accepts_good_clock_settings(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[business_hours]\nstart = '08:30'\nend = '17:00'\n"
        "[postpone]\ntomorrow_at = '07:45'\n[alerts]\nquiet_hours = '22:00-07:00'\n",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.business_hours.start == "08:30"
    assert config.alerts.quiet_hours == "22:00-07:00"
