"""The stats screen's pictures as Rich text: staff bars, the trend sparkline, the load heat map.

Pure functions of the figures core computed (`core/reports/stats.py`) and a width. Every picture
reads without colour: bar lengths and block heights carry the numbers, shade characters the
load, level marks (• ! ‼ ⚠) the response level; colour only repeats what the characters say.
Names and titles come from chats and are untrusted: always `clean_line`d into `Text`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..core.reports.format import human_duration
from ..core.reports.report import WEEKDAYS, Report, Summary
from ..core.reports.stats import RANGES, Bucket, DeskStats, RangeKey, RangeStats
from ..core.rules.sanitize import clean_line
from ..core.rules.triage import level_for
from .panels import LEVEL_NAMES, LEVEL_STYLES
from .rows import LEVEL_MARKS

SPARK = "▁▂▃▄▅▆▇█"
SHADES = "░▒▓█"
SHADE_STYLES = ("cyan", "green", "yellow", "bold red")
NO_DATA = "·"
MEDIAN_BAR = "█"
P90_BAR = "░"
CHAT_ROWS = 10
NAME_WIDTH = 18


def _level(seconds: float | None, thresholds: tuple[int, int, int]) -> int | None:
    """The response level a reply time reaches, or None without data."""
    return None if seconds is None else int(level_for(math.ceil(seconds), thresholds))


def short_duration(seconds: int) -> str:
    """A threshold as '5m', '1h' or '90s' (the level limits)."""
    return human_duration(seconds).removesuffix("00s").removesuffix("00m")


def _timed(seconds: float | None, thresholds: tuple[int, int, int]) -> Text:
    """A duration with its level mark, in its level colour: '! 5m28s'."""
    level = _level(seconds, thresholds)
    if level is None:
        return Text("—", "dim")
    return Text(f"{LEVEL_MARKS[level]}{human_duration(seconds)}", LEVEL_STYLES[level])


def tabs(stats: DeskStats | None, current: RangeKey, width: int) -> Text:
    """The one-line range switcher: the current range bracketed and reversed, then 'as of'."""
    text = Text(" Reply times ", "bold")
    for key, label, _days in RANGES:
        if key == current:
            text.append(f"[{label}]", "bold reverse")
        else:
            text.append(f" {label} ", "dim")
        text.append(" ")
    if stats is not None:
        zone = ZoneInfo(stats.zone)
        when = datetime.fromtimestamp(stats.now, zone).strftime("%a %d %b %H:%M")
        stamp = f"as of {when} {_zone_label(stats.zone)}"
        gap = width - text.cell_len - len(stamp) - 1
        if gap >= 1:
            text.append(" " * gap + stamp, "dim")
    return text


def _zone_label(zone: str) -> str:
    """'UTC' or the zone's name."""
    return "UTC" if zone in ("UTC", "Etc/UTC") else zone


def summary(stats: DeskStats, figures: RangeStats) -> Text:
    """Two lines: the period and reply figures; unanswered waits and the share within levels."""
    report = figures.report
    total = report.total
    zone = ZoneInfo(stats.zone)
    start = datetime.fromtimestamp(figures.since, zone)
    period = "since 00:00" if figures.key == "today" else start.strftime("since %a %d %b")
    text = Text(f" {period} · ")
    text.append(f"{total.count} replies", "bold")
    if total.count:
        for label, value in (("median", total.median), ("p90", total.p90), ("max", total.max)):
            text.append(f" · {label} ")
            text.append_text(_timed(value, stats.thresholds))
    if stats.business_hours:
        text.append(" · business hours only", "italic")
    text.append("\n Unanswered ")
    waiting = len(report.unanswered)
    text.append(str(waiting), "bold" if waiting else "")
    if waiting:
        text.append(" (oldest ")
        text.append_text(_timed(report.oldest_unanswered, stats.thresholds))
        text.append(")")
    if report.within:
        text.append(" · within")
        for limit, share in report.within.items():
            text.append(f"  ≤{short_duration(limit)} ")
            text.append("—" if share is None else f"{share * 100:.0f}%", "bold")
    return text


def _bar_scale(rows: Sequence[Summary]) -> float:
    """The longest bar's value: the largest p90 (or median) of the rows."""
    values = [s.p90 if s.p90 is not None else s.median for s in rows]
    return max((float(v) for v in values if v is not None), default=0.0)


def staff_bars(report: Report, width: int, thresholds: tuple[int, int, int]) -> Text:
    """One bar per staff member: █ up to the median reply time, ░ on to the p90, then figures."""
    text = Text()
    text.append(" Reply time per staff member", "bold")
    text.append(f"   {MEDIAN_BAR} median  {P90_BAR} to p90   replies", "dim")
    if not report.per_staff:
        text.append("\n no staff replies in this range", "dim")
        return text
    scale = _bar_scale([s for _, s in report.per_staff.values()])
    names = {
        sid: clean_line(name or str(sid), NAME_WIDTH) for sid, (name, _) in report.per_staff.items()
    }
    name_w = min(NAME_WIDTH, max(len(n) for n in names.values()))
    figures_w = 24  # "‼12m09s  p90 ‼1h02m  1234"
    bar_w = max(4, width - name_w - figures_w - 4)
    for sid, (_name, figure) in report.per_staff.items():
        text.append("\n ")
        text.append(names[sid].ljust(name_w)[:name_w])
        text.append(" ")
        if figure.count == 0 or figure.median is None:
            text.append("no replies".ljust(bar_w), "dim")
            text.append(" " * (figures_w + 1))
            continue
        median_len = _cells(figure.median, scale, bar_w)
        p90 = figure.p90 if figure.p90 is not None else figure.median
        p90_len = max(median_len, _cells(p90, scale, bar_w))
        level = _level(figure.median, thresholds) or 0
        text.append(MEDIAN_BAR * median_len, LEVEL_STYLES[level])
        text.append(P90_BAR * (p90_len - median_len), LEVEL_STYLES[_level(p90, thresholds) or 0])
        text.append(" " * (bar_w - p90_len + 1))
        text.append_text(_rjust(_timed(figure.median, thresholds), 7))
        text.append("  p90 ")
        text.append_text(_rjust(_timed(figure.p90, thresholds), 7))
        text.append(f"  {figure.count:>4}")
    return text


def _rjust(text: Text, width: int) -> Text:
    """`text` right-aligned in `width` cells."""
    pad = Text(" " * max(0, width - text.cell_len))
    pad.append_text(text)
    return pad


def _cells(value: float, scale: float, width: int) -> int:
    """How many cells of a `width`-cell bar `value` fills (at least one when above zero)."""
    if scale <= 0 or value <= 0:
        return 1
    return max(1, min(width, round(value / scale * width)))


def spark_level(value: float, peak: float) -> int:
    """Index into SPARK (0..7) of a value on a scale from 0 to `peak`."""
    if peak <= 0:
        return 0
    return max(0, min(len(SPARK) - 1, math.ceil(value / peak * len(SPARK)) - 1))


def trend_line(
    figures: RangeStats, width: int, thresholds: tuple[int, int, int], zone: str
) -> Text:
    """The sparkline of median reply time per hour (today) or per day, with an axis below."""
    buckets = figures.trend
    per = "hour" if figures.step == "hour" else "day"
    peak = max((b.median for b in buckets if b.median is not None), default=0.0)
    text = Text()
    text.append(f" Median reply time per {per}", "bold")
    legend = f"   █ = {human_duration(peak)}" if peak else ""
    text.append(f"{legend}   {NO_DATA} no replies", "dim")
    label_w = 1
    room = max(len(buckets), width - label_w - 1)
    cell = max(1, min(8, room // max(1, len(buckets))))
    bars = Text(" " * label_w)
    for bucket in buckets:
        bars.append_text(_spark_cell(bucket, peak, cell, thresholds))
    text.append("\n")
    text.append_text(bars)
    text.append("\n")
    text.append(_axis(buckets, cell, label_w, figures.step, ZoneInfo(zone)), "dim")
    return text


def _spark_cell(bucket: Bucket, peak: float, cell: int, thresholds: tuple[int, int, int]) -> Text:
    """One bucket of the sparkline, `cell` columns wide (a gap column when there is room)."""
    body = cell - 1 if cell >= 3 else cell
    gap = " " * (cell - body)
    if bucket.median is None:
        return Text(NO_DATA.center(body) + gap, "dim")
    level = _level(bucket.median, thresholds) or 0
    return Text(SPARK[spark_level(bucket.median, peak)] * body + gap, LEVEL_STYLES[level])


def _axis(buckets: Sequence[Bucket], cell: int, indent: int, step: str, zone: ZoneInfo) -> str:
    """Labels under the sparkline, each at its bucket, skipped where the previous one still is."""
    line = [" "] * (indent + cell * len(buckets) + 8)
    free = 0
    for i, bucket in enumerate(buckets):
        moment = datetime.fromtimestamp(bucket.start, zone)
        if step == "hour":
            if moment.hour % 3:
                continue
            label = f"{moment.hour}h"
        elif cell >= 7:
            label = moment.strftime("%a %d")
        elif cell >= 3 or moment.weekday() == 0 or i == 0:
            label = moment.strftime("%d")
        else:
            continue
        x = indent + i * cell
        if x < free:
            continue
        line[x : x + len(label)] = list(label)
        free = x + len(label) + 1
    return "".join(line).rstrip()


def shade_level(count: int, peak: int) -> int:
    """0 for no messages, else 1..4: the quarter of the busiest hour's count this one reaches."""
    if count <= 0 or peak <= 0:
        return 0
    return max(1, min(len(SHADES), math.ceil(count * len(SHADES) / peak)))


def shade_ranges(peak: int) -> list[tuple[int, int, int]]:
    """(level, lowest, highest count) of each shade that some count from 1 to `peak` gets."""
    ranges = []
    for level in range(1, len(SHADES) + 1):
        low = (level - 1) * peak // len(SHADES) + 1
        high = level * peak // len(SHADES)
        if low <= high:
            ranges.append((level, low, high))
    return ranges


def heat_map(report: Report, width: int) -> Text:
    """Customer messages by weekday × hour: one row per weekday, one shaded cell per hour."""
    load = report.load
    peak = max((n for day in WEEKDAYS for n in load[day]), default=0)
    cell = max(1, min(4, (width - 5) // 24))
    text = Text()
    text.append(f" Customer messages by hour ({_zone_label(report.zone_name)})", "bold")
    legend = Text("  ")
    legend.append(f"{NO_DATA} 0", "dim")
    for level, low, high in shade_ranges(peak):
        legend.append("  ")
        legend.append(SHADES[level - 1], SHADE_STYLES[level - 1])
        legend.append(f" {low}" if low == high else f" {low}–{high}")
    if text.cell_len + legend.cell_len <= width:
        text.append_text(legend)
    else:
        text.append("\n")
        text.append_text(legend)
    axis = [" "] * (5 + 24 * cell)
    for hour in range(0, 24, 3 if cell < 3 else 2):
        label = str(hour)
        x = 5 + hour * cell
        axis[x : x + len(label)] = list(label)
    text.append("\n" + "".join(axis).rstrip(), "dim")
    for day in WEEKDAYS:
        text.append(f"\n {day} ")
        for count in load[day]:
            level = shade_level(count, peak)
            if level == 0:
                text.append(NO_DATA.center(cell), "dim")
            else:
                text.append(SHADES[level - 1] * cell, SHADE_STYLES[level - 1])
    return text


def chats_table(report: Report, thresholds: tuple[int, int, int], limit: int = CHAT_ROWS) -> Table:
    """The chats with most replies (and any still waiting): figures and the open wait's age."""
    waiting = {u.chat_id: u.age for u in report.unanswered}
    rows = sorted(
        report.per_chat.items(), key=lambda kv: (-kv[1][1].count, -waiting.get(kv[0], -1), kv[0])
    )
    shown = rows[:limit]
    more = len(rows) - len(shown)
    title = "Chats, most replies first" + (f" ({len(shown)} of {len(rows)})" if more else "")
    table = Table(title=title, title_justify="left", title_style="bold", box=None, pad_edge=True)
    table.add_column("chat", overflow="ellipsis", no_wrap=True, ratio=1)
    for name in ("replies", "median", "p90", "max", "waiting"):
        table.add_column(name, justify="right", no_wrap=True)
    for chat_id, (title_text, figure) in shown:
        table.add_row(
            Text(clean_line(title_text, 60)),
            str(figure.count),
            _timed(figure.median, thresholds),
            _timed(figure.p90, thresholds),
            _timed(figure.max, thresholds),
            _timed(waiting.get(chat_id), thresholds) if chat_id in waiting else Text(""),
        )
    if more:
        table.caption = f"{more} more: tgtriage report --format csv lists every chat"
        table.caption_justify = "left"
    return table


def level_legend(thresholds: tuple[int, int, int]) -> Text:
    """What the level marks and colours mean: '• fresh <5m  ! due ≥5m  ‼ late ≥15m  ⚠ ≥1h'."""
    text = Text(" levels: ", "dim")
    bounds = (0, *thresholds)
    for level, name in enumerate(LEVEL_NAMES):
        if level:
            text.append("  ")
        limit = short_duration(bounds[max(1, level)])
        label = f"<{limit}" if level == 0 else f"≥{limit}"
        text.append(f"{LEVEL_MARKS[level]} {name} {label}", LEVEL_STYLES[level])
    return text


def page(stats: DeskStats, key: RangeKey, width: int) -> RenderableType:
    """The whole body of the stats screen for one range at `width` columns."""
    figures = stats.ranges[key]
    thresholds = stats.thresholds
    return Group(
        summary(stats, figures),
        level_legend(thresholds),
        Text(""),
        staff_bars(figures.report, width, thresholds),
        Text(""),
        trend_line(figures, width, thresholds, stats.zone),
        Text(""),
        heat_map(figures.report, width),
        Text(""),
        chats_table(figures.report, thresholds),
    )
