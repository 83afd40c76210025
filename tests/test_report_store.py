"""The store's narrow query for reports, and teammates the desk records for `tgtriage report`."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

from tgtriage.core.desk.models import Chat, Media, Message
from tgtriage.core.reports.report import ReportRow
from tgtriage.core.storage.store import Store

from tests.desk_harness import make_desk, run_desk
from tgtriage.cli.report import run_report

A, B = -1000000000011, -1000000000022


def message(chat: int, mid: int, date: int, **extra: object) -> Message:
    """A message with some of every kind of column filled."""
    return Message(chat_id=chat, id=mid, date=date, sender_id=mid * 10, **extra)  # type: ignore[arg-type]


async def test_report_rows_are_the_report_columns_in_chat_then_time_order(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "s.sqlite3")
    try:
        await store.upsert_chats([Chat(id=A, title="a"), Chat(id=B, title="b")])
        await store.add_messages(
            [
                message(B, 1, 50, sender_name="Bo", out=True, text="hi"),
                message(A, 2, 100, service=True, media=Media(kind="photo")),
                message(A, 1, 100, sender_name="Al"),
                message(A, 3, 90, reply_to=1, edit_date=120),
                message(B, 2, 500),
            ]
        )
        rows = await store.report_rows()
        assert rows == [  # B's id is the lower one (-100…22 < -100…11)
            ReportRow(B, 1, 50, 10, "Bo", 1, 0),
            ReportRow(B, 2, 500, 20, "", 0, 0),
            ReportRow(A, 3, 90, 30, "", 0, 0),
            ReportRow(A, 1, 100, 10, "Al", 0, 0),
            ReportRow(A, 2, 100, 20, "", 0, 1),
        ]
        # The same facts as the full messages, in the same order.
        full = [m async for m in store.iter_messages()]
        assert [
            (m.chat_id, m.id, m.date, m.sender_id, m.sender_name, m.out, m.service) for m in full
        ] == [
            (r.chat_id, r.id, r.date, r.sender_id, r.sender_name, bool(r.out), bool(r.service))
            for r in rows
        ]
        assert [(r.chat_id, r.id) for r in await store.report_rows(until=100)] == [(B, 1), (A, 3)]
        assert [(r.chat_id, r.id) for r in await store.report_rows(chat_ids=[B])] == [
            (B, 1),
            (B, 2),
        ]
        assert await store.report_rows(chat_ids=[]) == []
    finally:
        await store.close()


async def test_the_desk_records_its_teammates_so_the_report_credits_them(
    data_dirs: tuple[Path, Path],
) -> None:
    _, data_dir = data_dirs
    async with run_desk(make_desk(data_dir, db_name="demo.sqlite3")) as pilot:
        inbox = pilot.app.inbox  # type: ignore[attr-defined]
        teammates = set(inbox.rule.staff_ids)
        assert await inbox.store.get_meta("staff_ids") == ",".join(map(str, sorted(teammates)))
        now = inbox.now()
    out = io.StringIO()
    argv = ["--profile", "demo", "--now", str(now), "--format", "json"]
    assert await asyncio.to_thread(run_report, argv, out) == 0  # it runs its own event loop
    per_staff = json.loads(out.getvalue())["per_staff"]
    assert teammates and {str(t) for t in teammates} <= set(per_staff)
    assert all(per_staff[str(t)]["count"] > 0 for t in teammates), per_staff
