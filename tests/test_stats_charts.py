"""The stats screen's pictures (tui/stats_charts.py) as plain text: what they say without colour."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console, RenderableType
from tgtriage.core.desk.models import Message
from tgtriage.core.reports.report import ReportStaff, Summary, build_report
from tgtriage.core.reports.stats import Bucket, RangeStats
from tgtriage.tui.stats_charts import (
    SHADES,
    SPARK,
    chats_table,
    heat_map,
    shade_level,
    shade_ranges,
    spark_level,
    staff_bars,
    trend_line,
)

ME, MATE, IDLE = 1, 2, 3
CAROL = 50
THRESHOLDS = (300, 900, 3600)
EVIL = "[bold]x[/] [@click=app.quit]Evil\x1b[2J\x1b]52;c;ZXZpbA==\x07 Corp"


def plain(renderable: RenderableType, width: int = 100) -> str:
    """What a renderable shows, without colour."""
    console = Console(width=width, file=io.StringIO(), no_color=True, color_system=None)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def answered(chat: int, waits: list[tuple[int, int]], start: int = 0) -> list[Message]:
    """Customer messages answered after the given waits, by (staff id, seconds)."""
    out = []
    for i, (staff, seconds) in enumerate(waits):
        t = start + i * 100_000
        out.append(Message(chat_id=chat, id=2 * i + 1, date=t, sender_id=CAROL))
        out.append(Message(chat_id=chat, id=2 * i + 2, date=t + seconds, sender_id=staff))
    return out


def test_shade_ranges_cover_every_count_once() -> None:
    assert shade_ranges(17) == [(1, 1, 4), (2, 5, 8), (3, 9, 12), (4, 13, 17)]
    assert shade_ranges(2) == [(2, 1, 1), (4, 2, 2)]
    assert shade_ranges(0) == []
    assert shade_level(0, 17) == 0


@given(peak=st.integers(1, 5_000), data=st.data())
def test_every_count_gets_the_shade_its_legend_says(peak: int, data: st.DataObject) -> None:
    count = data.draw(st.integers(1, peak))
    level = shade_level(count, peak)
    assert [(lo, hi) for lv, lo, hi in shade_ranges(peak) if lv == level] == [
        (lo, hi) for lv, lo, hi in shade_ranges(peak) if lo <= count <= hi
    ]
    assert shade_level(peak, peak) == len(SHADES)


@given(a=st.floats(0, 1e6), b=st.floats(0, 1e6), peak=st.floats(1, 1e6))
def test_spark_heights_grow_with_the_value(a: float, b: float, peak: float) -> None:
    low, high = sorted((min(a, peak), min(b, peak)))
    assert 0 <= spark_level(low, peak) <= spark_level(high, peak) <= len(SPARK) - 1
    assert spark_level(peak, peak) == len(SPARK) - 1


def test_staff_bars_are_as_long_as_the_reply_times() -> None:
    chat = answered(-1, [(ME, 60), (ME, 60), (MATE, 600), (MATE, 1200)])
    report = build_report({-1: chat}, ReportStaff(ids=frozenset({ME, MATE, IDLE})), now=10**6)
    report.per_staff[ME] = ("Alex", report.per_staff[ME][1])
    report.per_staff[MATE] = ("Priya", report.per_staff[MATE][1])
    report.per_staff[IDLE] = (EVIL, Summary(0, None, None, None))
    lines = plain(staff_bars(report, 80, THRESHOLDS)).splitlines()
    alex = next(line for line in lines if line.startswith(" Alex"))
    priya = next(line for line in lines if line.startswith(" Priya"))
    idle = lines[-1]
    # Priya's p90 (1140 s) is the longest bar; Alex's 60 s median is 1/19 of it.
    assert priya.count("█") + priya.count("░") > 10 * alex.count("█") > 0
    assert "•1m00s" in alex and "p90 ‼19m00s" in priya and alex.rstrip().endswith(" 2")
    assert "no replies" in idle and "[bold]x[/]" in idle and "\x1b" not in idle


def test_the_trend_shows_days_without_replies_as_gaps_not_zero() -> None:
    day = 86400
    buckets = [
        Bucket(0, day, 2, 120.0),
        Bucket(day, 2 * day, 0, None),
        Bucket(2 * day, 3 * day, 1, 0.0),
        Bucket(3 * day, 4 * day, 3, 1200.0),
    ]
    report = build_report({}, ReportStaff(), now=4 * day)
    figures = RangeStats("7d", "7 days", 0, report, buckets, "day")
    title, bars, axis = plain(trend_line(figures, 40, THRESHOLDS, "UTC")).splitlines()
    assert "█ = 20m00s" in title and "· no replies" in title
    cells = bars.split()
    assert cells[0][0] == "▁" and set(cells[1]) == {"·"} and cells[2][0] == "▁"
    assert cells[3][0] == "█"
    assert axis.split() == ["Thu", "01", "Fri", "02", "Sat", "03", "Sun", "04"]  # 1970-01-01…
    narrow = plain(trend_line(figures, 14, THRESHOLDS, "UTC")).splitlines()[2]
    assert narrow.split() == ["01", "02", "03", "04"]  # 3-column cells: the day of the month


def test_heat_map_has_a_row_per_weekday_and_a_cell_per_hour() -> None:
    # Thursday 1 January 1970, 00:00 UTC: three messages at 00h, one at 05h.
    chat = [
        Message(chat_id=-1, id=i, date=t, sender_id=CAROL) for i, t in enumerate([1, 2, 3, 18_000])
    ]
    report = build_report({-1: chat}, ReportStaff(ids=frozenset({ME})), now=20_000)
    lines = plain(heat_map(report, 77)).splitlines()
    rows = {line[1:4]: line[5:] for line in lines if line[1:4] in ("mon", "thu", "sun")}
    assert len(rows) == 3 and all(len(r) == 72 for r in rows.values())
    assert rows["thu"][0:3] == "███" and rows["thu"][15:18] == "▒▒▒" and rows["thu"][3:6] == " · "
    assert set(rows["mon"]) == {" ", "·"}
    assert "█ 3" in lines[0] and "▒ 1" in lines[0] and "░" not in lines[0]  # 1 of 3 is ▒


def test_chat_titles_are_drawn_literally() -> None:
    chat = answered(-7, [(ME, 30)])
    report = build_report(
        {-7: chat}, ReportStaff(ids=frozenset({ME})), now=10**6, chat_titles={-7: EVIL}
    )
    shown = plain(chats_table(report, THRESHOLDS), width=120)
    assert "[bold]x[/] [@click=app.quit]Evil" in shown
    assert "\x1b" not in shown and "\x07" not in shown and "ZXZpbA" not in shown
