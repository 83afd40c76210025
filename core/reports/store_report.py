"""A report over the store file itself: SQLite classifies and packs, Python only pairs the waits.

The figures are those of `build_report` over the same messages (tests/test_report_scan.py
compares them on generated stores); core/storage/report_scan.py says how the store reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

from ..storage.report_scan import ReportScan, open_read_only
from .packed import packed_waits, staff_keys_without_name, with_staff_names
from .report import (
    DEFAULT_THRESHOLDS,
    Duration,
    Report,
    ReportStaff,
    quarter_load,
    summarize_waits,
    wall_seconds,
)

_EARLIEST = -(2**63)


def store_report(
    path: Path,
    chat_ids: Sequence[int],
    staff: ReportStaff,
    now: int,
    *,
    since: int | None = None,
    until: int | None = None,
    duration: Duration = wall_seconds,
    thresholds: Sequence[int] = DEFAULT_THRESHOLDS,
    load_zone: ZoneInfo | None = None,
    chat_titles: Mapping[int, str] | None = None,
    staff_names: Mapping[int, str] | None = None,
    business_hours: bool = False,
    staff_to_check: Sequence[int] = (),
    warn: Callable[[int], None] | None = None,
) -> Report:
    """`build_report` over the messages of `chat_ids` in the store at `path`, read in one pass.

    `warn(id)` is called for each of `staff_to_check` who wrote nothing in those chats.
    """
    as_of = now if until is None else min(now, until)
    limit = as_of if until is None else min(as_of, until - 1)
    first = _EARLIEST if since is None else since
    db = open_read_only(path)
    try:
        db.execute("BEGIN")  # one snapshot for every query, though the desk may be writing
        scan = ReportScan(
            db,
            chat_ids=chat_ids,
            staff_ids=staff.ids,
            out_is_staff=staff.out_is_staff,
            ignore=staff.ignore,
            limit=limit,
        )
        if warn is not None and staff_to_check:
            present = scan.senders_present(staff_to_check, until)
            for missing in sorted(set(staff_to_check) - present):
                warn(missing)
        waits, quarters = packed_waits(
            scan.packed_chats(first), as_of, chat_order=list(chat_ids), duration=duration
        )
        names = dict(staff_names or {})
        nameless = staff_keys_without_name(waits.replies, names)
        if nameless:  # a sender the store has no name for: the messages' own names count
            keys = [(r.chat_id, r.reply_msg_id) for r in waits.replies if r.staff_id in nameless]
            replies = with_staff_names(waits.replies, scan.sender_names(keys))
            waits = replace(waits, replies=replies)
        load = quarter_load(
            sorted(quarters.items()),
            load_zone,
            lambda quarter: scan.customer_dates(first, quarter),
        )
    finally:
        db.close()
    return summarize_waits(
        waits,
        staff,
        since=since,
        until=until,
        thresholds=thresholds,
        load_zone=load_zone,
        chat_titles=chat_titles,
        staff_names=names,
        business_hours=business_hours,
        load=load,
    )
