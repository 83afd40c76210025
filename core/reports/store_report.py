"""A report over the store file itself: SQLite classifies and packs, Python only pairs the waits.

The figures are those of `build_report` over the same messages (tests/test_report_scan.py
compares them on generated stores); core/storage/report_scan.py says how the store reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from zoneinfo import ZoneInfo

from ..storage.report_scan import ReportScan, open_read_only
from .packed import ChatReplies, columns_report, nameless_staff, packed_waits
from .report import DEFAULT_THRESHOLDS, Duration, Report, ReportStaff, quarter_load, wall_seconds

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
    list_replies: bool = True,
) -> Report:
    """`build_report` over the messages of `chat_ids` in the store at `path`, read in one pass.

    `warn(id)` is called for each of `staff_to_check` who wrote nothing in those chats;
    `list_replies=False` leaves `Report.replies` empty (only the CSV lists them).
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
        unheard = sorted(set(staff_to_check) - scan.senders_present(staff_to_check, until))
        chats, unanswered, quarters = packed_waits(scan.packed_chats(), as_of, first, duration)
        nameless = nameless_staff(chats, staff_names or {})
        if nameless:  # a sender the store has no name for: the messages' own names count
            chats = [
                _with_names(scan, chat) if nameless & set(chat.staff) else chat for chat in chats
            ]
        load = quarter_load(
            sorted(quarters.items()),
            load_zone,
            lambda quarter: scan.customer_dates(first, quarter),
        )
    finally:
        db.close()
    report = columns_report(
        chats,
        unanswered,
        as_of,
        staff,
        chat_order=chat_ids,
        load=load,
        since=since,
        until=until,
        thresholds=thresholds,
        load_zone=load_zone,
        chat_titles=chat_titles,
        staff_names=staff_names,
        business_hours=business_hours,
        list_replies=list_replies,
    )
    if warn is not None:  # only once the whole store was read: a damaged one says just that
        for missing in unheard:
            warn(missing)
    return report


def _with_names(scan: ReportScan, chat: ChatReplies) -> ChatReplies:
    """The chat's replies with their messages' own sender names."""
    keys = [(chat.chat_id, int(mid)) for mid in chat.answer_ids]
    names = scan.sender_names(keys)
    return chat._replace(names=[names.get(key, "") for key in keys])
