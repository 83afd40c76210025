"""The report read in place from the store equals the reference computed message by message."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tgtriage.core.desk.models import Chat, Message, User
from tgtriage.core.reports.format import to_csv, to_json
from tgtriage.core.reports.report import (
    Report,
    ReportStaff,
    build_report,
    group_by_chat,
    wall_seconds,
)
from tgtriage.core.reports.store_report import store_report
from tgtriage.core.rules.business_hours import business_seconds
from tgtriage.core.storage import schema
from tgtriage.core.storage.report_scan import ReportScan, open_read_only, packed_sql
from tgtriage.core.storage.store import Store
from tgtriage.core.system.config import BusinessHours

CHATS = (-1000000000001, -1000000000002, 42, 77)
STAFF_A, STAFF_B, NAMELESS, IGNORED = 1, 2, 3, 9
CUSTOMERS = (100, 101, 102)
T0 = 1_700_000_000  # a Tuesday in November 2023
SENDERS = (STAFF_A, STAFF_A, STAFF_B, NAMELESS, IGNORED, None, *CUSTOMERS, *CUSTOMERS)


@st.composite
def conversations(draw: st.DrawFn) -> list[Message]:
    """Messages of a few chats: staff, customers, anonymous, ignored, service; equal dates."""
    messages = []
    for chat in draw(st.lists(st.sampled_from(CHATS), min_size=2, max_size=4, unique=True)):
        count = draw(st.integers(3, 24))
        t = T0 + draw(st.integers(0, 7 * 86400))
        for mid in draw(st.lists(st.integers(1, 60), min_size=count, max_size=count, unique=True)):
            t += draw(st.sampled_from((0, 0, 1, 45, 600, 3600, 40_000, 200_000)))
            sender = draw(st.sampled_from(SENDERS))
            messages.append(
                Message(
                    chat_id=chat,
                    id=mid,
                    date=t,
                    sender_id=sender,
                    sender_name=draw(st.sampled_from(("", "Nameless Ned", "x"))),
                    out=draw(st.booleans()) if sender in (STAFF_A, None) else False,
                    service=draw(st.integers(0, 9)) == 0,
                )
            )
    return messages


def _write(path: Path, messages: list[Message], chats: tuple[int, ...]) -> None:
    """A real store holding `chats` (by title) and the messages."""

    async def write() -> None:
        store = await Store.open(path)
        try:
            await store.upsert_chats([Chat(id=c, title=f"Chat {c}") for c in chats])
            await store.upsert_users([User(id=STAFF_A, first_name="Ann"), User(id=STAFF_B)])
            await store.add_messages(messages)
        finally:
            await store.close()

    asyncio.run(write())


def _reference(
    path: Path, chat_ids: list[int], staff: ReportStaff, now: int, **kw: object
) -> Report:
    """`build_report` over the store's rows, message by message (what the CLI did before)."""

    async def rows() -> list:  # type: ignore[type-arg]
        store = await Store.open(path)
        try:
            return await store.report_rows(kw.get("until"))  # type: ignore[arg-type]
        finally:
            await store.close()

    by_chat = group_by_chat(asyncio.run(rows()))
    selected = {cid: by_chat.get(cid, []) for cid in chat_ids}
    return build_report(selected, staff, now, **kw)  # type: ignore[arg-type]


def _same(got: Report, want: Report) -> None:
    """Every figure and every output format agree (a listed reply's name may be left out
    where its staff member's name is known: no output shows it then)."""
    assert to_json(got) == to_json(want)
    assert to_csv(got) == to_csv(want)
    assert got.total == want.total
    assert got.per_staff == want.per_staff
    assert got.per_chat == want.per_chat
    assert got.within == want.within
    assert got.load == want.load
    assert got.unanswered == want.unanswered
    assert [r._replace(staff_name="") for r in got.replies] == [
        r._replace(staff_name="") for r in want.replies
    ]


BERLIN_HOURS = BusinessHours(enabled=True, timezone="Europe/Berlin", holidays=["2023-11-16"])


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    messages=conversations(),
    chosen=st.lists(st.sampled_from(CHATS), min_size=1, max_size=4, unique=True),
    staff_ids=st.sets(st.sampled_from((STAFF_A, STAFF_B, NAMELESS)), min_size=1, max_size=3),
    out_is_staff=st.booleans(),
    ignore=st.sets(st.sampled_from((IGNORED, 100)), max_size=2),
    now_after=st.integers(2 * 86400, 40 * 86400),
    since_after=st.integers(-86400, 8 * 86400),  # negative: no --since
    until_after=st.integers(0, 40 * 86400),  # under a day: no --until
    hours=st.booleans(),
    zone=st.sampled_from((None, "Europe/Berlin", "Asia/Kathmandu", "America/St_Johns")),
)
def test_the_store_report_equals_the_message_by_message_reference(
    messages: list[Message],
    chosen: list[int],
    staff_ids: set[int],
    out_is_staff: bool,
    ignore: set[int],
    now_after: int,
    since_after: int,
    until_after: int,
    hours: bool,
    zone: str | None,
) -> None:
    staff = ReportStaff(
        ids=frozenset(staff_ids),
        out_is_staff=out_is_staff,
        ignore=frozenset(ignore - staff_ids),
    )
    now = T0 + now_after
    figures: dict[str, object] = {
        "since": None if since_after < 0 else T0 + since_after,
        "until": None if until_after < 86400 else T0 + until_after,
        "duration": partial(business_seconds, bh=BERLIN_HOURS) if hours else wall_seconds,
        "thresholds": (60, 3600, 86400),
        "load_zone": None if zone is None else ZoneInfo(zone),
        "chat_titles": {c: f"Chat {c}" for c in chosen},
        "staff_names": {STAFF_A: "Ann", STAFF_B: ""},
        "business_hours": hours,
    }
    chat_ids = sorted(chosen)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "store.sqlite3"
        _write(path, messages, CHATS)
        want = _reference(path, chat_ids, staff, now, **figures)
        got = store_report(path, chat_ids, staff, now, **figures)  # type: ignore[arg-type]
        _same(got, want)
        figures_only = store_report(path, chat_ids, staff, now, list_replies=False, **figures)  # type: ignore[arg-type]
        assert to_json(figures_only) == to_json(want)
        assert figures_only.replies == []


def test_load_in_a_zone_of_local_mean_time_counts_each_message_in_its_own_hour(
    tmp_path: Path,
) -> None:
    # Amsterdam kept +00:19:32 until 1937: a quarter hour then spans two local hours.
    path = tmp_path / "old.sqlite3"
    start = -1_262_304_000  # 1930-01-01
    messages = [
        Message(chat_id=42, id=i, date=start + i * 97, sender_id=100) for i in range(1, 80)
    ] + [Message(chat_id=42, id=200, date=start + 9000, sender_id=STAFF_A)]
    _write(path, messages, (42,))
    staff = ReportStaff(ids=frozenset({STAFF_A}))
    zone = ZoneInfo("Europe/Amsterdam")
    want = _reference(path, [42], staff, start + 10_000, load_zone=zone)
    got = store_report(path, [42], staff, start + 10_000, load_zone=zone)
    assert got.load == want.load
    assert sum(map(sum, got.load.values())) == 79
    _same(got, want)


def test_an_upgraded_store_carries_the_report_columns_in_its_chat_order_index(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v7.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
    before = 7  # v8 widened messages_chat_date for reports
    for step in schema.MIGRATIONS[:before]:
        db.executescript(step)
    db.execute("INSERT INTO chats (id, title, kind) VALUES (42, 'Acme', 'private')")
    db.execute("INSERT INTO messages (chat_id, id, date, sender_id) VALUES (42, 1, 5, 100)")
    db.execute("INSERT INTO messages (chat_id, id, date, sender_id, out) VALUES (42, 2, 9, 1, 1)")
    db.execute(f"PRAGMA user_version = {before}")
    db.commit()
    db.close()
    _write(path, [], (42,))  # the desk opens it: the missing step runs

    db = sqlite3.connect(path)
    columns = [row[2] for row in db.execute("PRAGMA index_info(messages_chat_date)")]
    assert columns == ["chat_id", "date", "id", "sender_id", "out", "service"]
    assert db.execute("PRAGMA user_version").fetchone() == (schema.LATEST,)
    db.close()
    report = store_report(path, [42], ReportStaff(ids=frozenset({1})), 20)
    assert (report.total.count, report.total.max) == (1, 4)
    assert _plan(path) == [
        "SEARCH messages USING COVERING INDEX messages_chat_date (chat_id=? AND date<?)"
    ]


def _plan(path: Path) -> list[str]:
    """The steps of the packed pass's query plan that read messages or sort."""
    db = open_read_only(path)
    try:
        scan = ReportScan(
            db, chat_ids=[42], staff_ids={1}, out_is_staff=True, ignore={9}, limit=100
        )
        rows = db.execute("EXPLAIN QUERY PLAN " + packed_sql(ignoring=True), scan._params)
        return [r[3] for r in rows if "messages" in r[3] or "TEMP B-TREE" in r[3]]
    finally:
        db.close()


@pytest.mark.parametrize("ignoring", [False, True])
def test_the_packed_pass_reads_the_index_alone_and_sorts_nothing(
    tmp_path: Path, ignoring: bool
) -> None:
    path = tmp_path / "s.sqlite3"
    _write(path, [], (42,))
    db = open_read_only(path)
    try:
        plan = [
            r[3]
            for r in db.execute(
                "EXPLAIN QUERY PLAN " + packed_sql(ignoring=ignoring),
                {"chats": "[42]", "staff": "[1]", "out_is_staff": 1, "ignore": "[9]", "limit": 1},
            )
        ]
    finally:
        db.close()
    assert not [step for step in plan if "TEMP B-TREE" in step]
    assert "SEARCH messages USING COVERING INDEX messages_chat_date (chat_id=? AND date<?)" in plan
