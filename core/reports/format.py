"""Output formats of a response-time report: rich tables, CSV (one row per reply) and JSON."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from ..rules.sanitize import clean_line
from .report import WEEKDAYS, Report, Summary

CSV_COLUMNS = (
    "chat_id",
    "chat",
    "customer_message_at",
    "replied_at",
    "staff_id",
    "staff",
    "seconds",
)
TABLE_CHATS = 25  # chats listed in the table format; csv and json list them all
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def number(value: float | None) -> int | float | None:
    """A duration for JSON: whole numbers as ints, others to one decimal, None stays null."""
    if value is None:
        return None
    rounded = round(float(value), 1)
    return int(rounded) if rounded.is_integer() else rounded


def human_duration(seconds: float | None) -> str:
    """A short readable duration: 45s, 2m08s, 6h41m, 3d04h; an em dash for no data."""
    if seconds is None:
        return "—"
    total = round(seconds)
    if total < 60:
        return f"{total}s"
    if total < 3600:
        return f"{total // 60}m{total % 60:02d}s"
    if total < 86400:
        return f"{total // 3600}h{total % 3600 // 60:02d}m"
    return f"{total // 86400}d{total % 86400 // 3600:02d}h"


def _summary_json(summary: Summary) -> dict[str, Any]:
    """The count/median/p90/max block of the JSON shape."""
    return {
        "count": summary.count,
        "median_s": number(summary.median),
        "p90_s": number(summary.p90),
        "max_s": number(summary.max),
    }


def report_dict(report: Report) -> dict[str, Any]:
    """The report in the documented JSON shape (issue 6), ready for `json.dumps`."""
    return {
        "replies": _summary_json(report.total),
        "per_staff": {
            str(sid): {"name": clean_line(name), **_summary_json(summary)}
            for sid, (name, summary) in report.per_staff.items()
        },
        "per_chat": {
            str(cid): {"title": clean_line(title), **_summary_json(summary)}
            for cid, (title, summary) in report.per_chat.items()
        },
        "unanswered": {
            "count": len(report.unanswered),
            "oldest_age_s": number(report.oldest_unanswered),
        },
        "within": {
            str(limit): (None if share is None else round(share, 4))
            for limit, share in report.within.items()
        },
        "load": {day: list(report.load[day]) for day in WEEKDAYS},
    }


def to_json(report: Report) -> str:
    """The report as indented JSON text."""
    return json.dumps(report_dict(report), ensure_ascii=False, indent=2) + "\n"


def _iso(t: int) -> str:
    """An instant as ISO 8601 UTC, e.g. 2019-09-05T15:09:42Z (the bare number if out of range)."""
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
    except (OverflowError, OSError, ValueError):
        return str(t)


def _cell(text: str) -> str:
    """Untrusted text made safe for a CSV cell: one clean line, never read as a formula."""
    line = clean_line(text)
    return "'" + line if line.startswith(_FORMULA_START) else line


def to_csv(report: Report) -> str:
    """One row per reply: chat, customer message time, reply time, staff member, seconds."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    titles: dict[int, str] = {}
    names: dict[int | None, str] = {}
    for reply in report.replies:
        title = titles.get(reply.chat_id)
        if title is None:
            title = titles[reply.chat_id] = _cell(report.chat_titles.get(reply.chat_id, ""))
        name = names.get(reply.staff_id)
        if name is None:
            entry = report.per_staff.get(reply.staff_id if reply.staff_id is not None else 0)
            name = names[reply.staff_id] = _cell(
                entry[0] if entry and entry[0] else reply.staff_name
            )
        writer.writerow(
            (
                reply.chat_id,
                title,
                _iso(reply.waited_from),
                _iso(reply.replied_at),
                "" if reply.staff_id is None else reply.staff_id,
                name,
                reply.seconds,
            )
        )
    return out.getvalue()


def _percent(share: float | None) -> str:
    """A share as a percentage, or an em dash."""
    return "—" if share is None else f"{share * 100:.0f}%"


def _summary_row(label: Text, summary: Summary) -> tuple[Text | str, ...]:
    """One table row of count/median/p90/max."""
    return (
        label,
        str(summary.count),
        human_duration(summary.median),
        human_duration(summary.p90),
        human_duration(summary.max),
    )


def _summary_table(title: str, first: str) -> Table:
    """An empty count/median/p90/max table."""
    table = Table(title=title, title_justify="left")
    table.add_column(first, overflow="fold")
    for name in ("replies", "median", "p90", "max"):
        table.add_column(name, justify="right", no_wrap=True)
    return table


def tables(report: Report) -> Group:
    """The report as rich renderables: totals, per staff, per chat and the load heat map."""
    totals = _summary_table("Reply times", "")
    totals.add_row(*_summary_row(Text("all replies"), report.total))
    oldest = human_duration(report.oldest_unanswered)
    within = "  ".join(
        f"≤{_limit_label(limit)}: {_percent(share)}" for limit, share in report.within.items()
    )
    facts = Text(f"Unanswered: {len(report.unanswered)} (oldest {oldest})\nWithin: {within}")

    staff = _summary_table("Per staff member", "staff")
    for sid, (name, summary) in report.per_staff.items():
        label = f"{clean_line(name, 40)} ({sid})" if name else str(sid)
        staff.add_row(*_summary_row(Text(label), summary))

    ordered = sorted(report.per_chat.items(), key=lambda kv: (-kv[1][1].count, kv[0]))
    shown = ordered[:TABLE_CHATS]
    more = len(ordered) - len(shown)
    heading = "Per chat" + (
        f" (the {len(shown)} with most replies of {len(ordered)})" if more else ""
    )
    chats = _summary_table(heading, "chat")
    for _cid, (title, summary) in shown:
        chats.add_row(*_summary_row(Text(clean_line(title, 48)), summary))
    if more:
        chats.caption = f"{more} more chats: --chat ID|TITLE, or --format csv/json for all"
        chats.caption_justify = "left"

    peak = max((n for row in report.load.values() for n in row), default=0)
    cell = max(2, len(str(peak)))
    lines = [f"Customer messages by weekday × hour ({report.zone_name})"]
    lines.append("   " + "".join(f" {hour:>{cell}}" for hour in range(24)))
    for day in WEEKDAYS:
        lines.append(day + "".join(f" {n if n else '·':>{cell}}" for n in report.load[day]))
    load = Text("\n".join(lines), no_wrap=True, overflow="crop")
    return Group(_heading(report), totals, facts, Text(""), staff, Text(""), chats, Text(""), load)


def _limit_label(seconds: int) -> str:
    """A threshold as 5m, 1h or 90s."""
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def _heading(report: Report) -> Text:
    """One line saying which period the figures cover and whether business hours apply."""
    span = f"as of {_when(report.now)}"
    if report.since is not None:
        span = f"from {_when(report.since)} {span}"
    clock = "business hours only" if report.business_hours else "wall-clock time"
    return Text(f"Report {span} ({clock})\n")


def _when(t: int) -> str:
    """An instant as 'YYYY-MM-DD HH:MM UTC' (the bare number if out of range)."""
    try:
        return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (OverflowError, OSError, ValueError):
        return f"{t} (Unix time)"


def to_table(report: Report, width: int | None = None, color: bool = False) -> str:
    """The report as text tables (colour codes only when `color`, and never with NO_COLOR)."""
    out = io.StringIO()
    console = Console(
        file=out,
        width=width or 100,
        force_terminal=color,
        no_color=None if color else True,
        highlight=False,
        emoji=False,
        markup=False,
    )
    console.print(tables(report))
    return out.getvalue()
