"""The store under local faults: damaged pages, a foreign file, full and failing disks.

Damage is real: bytes of a real store file are overwritten at chosen pages (found with SQLite's
`dbstat`), then the desk's open path (tgtriage.cli.open_desk_store, with the full check on its
thread) and `tgtriage report` are run on it.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
from pathlib import Path

import aiosqlite
import pytest
from tgtriage.core.desk.models import Chat, ChatTriage, Message, OutboxState, Status
from tgtriage.core.storage.recovery import StoreCheck
from tgtriage.core.storage.store import ForeignStoreError, Store, StoreError

from tgtriage.cli import main, open_desk_store

T0 = 1_700_000_000
CHATS = 30
RANDOM_ID = 4242424242424242


async def _build_store(path: Path) -> None:
    """A store with a cache big enough to span many pages and the desk's own marks."""
    async with await Store.open(path) as store:
        await store.upsert_chats(
            Chat.model_validate({"id": 500 + c, "title": f"Customer {c}", "kind": "private"})
            for c in range(CHATS)
        )
        await store.add_messages(
            [
                Message.model_validate(
                    {
                        "chat_id": 500 + i % CHATS,
                        "id": i,
                        "date": T0 + i,
                        "text": f"hello refund request {i} " * 6,
                    }
                )
                for i in range(1, 2500)
            ]
        )
        await store.save_triage(
            ChatTriage(chat_id=500 + c, status=Status.IN_DEVELOPMENT, unread_mark=c == 2)
            for c in range(CHATS)
        )
        await store.add_note(503, "me", "customer is on the legacy plan")
        await store.set_tags(504, {"billing", "vip"})
        await store.set_draft(505, "half-typed answer about the refund")
        await store.set_slot(1, 506)
        await store.outbox_add(507, "reply that was not confirmed yet", random_id=RANDOM_ID)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One built store, copied by each test (closed: everything checkpointed into the file)."""
    import asyncio

    path = tmp_path_factory.mktemp("pristine") / "telegram.sqlite3"
    asyncio.run(_build_store(path))
    return path


def _page_of(path: Path, table: str, leaf: bool = True) -> int:
    """A page number (1-based) holding `table`'s rows (a leaf) or its root."""
    db = sqlite3.connect(path)
    try:
        rows = db.execute(
            "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = ? ORDER BY pageno",
            (table, "leaf" if leaf else "internal"),
        ).fetchall()
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
    finally:
        db.close()
    assert rows, f"{table} has no {'leaf' if leaf else 'internal'} page"
    return int(rows[len(rows) // 2][0]) * page_size - page_size  # byte offset of the page


def _damage(path: Path, offset: int) -> None:
    """Overwrite 200 bytes at `offset` (past the page header) with seeded garbage."""
    garbage = random.Random(offset).randbytes(200)
    with path.open("r+b") as fh:
        fh.seek(offset + 16)
        fh.write(garbage)


DAMAGE_SPOTS = [
    ("messages", True),  # a page of cached messages
    ("messages_chat_date", True),  # the messages' index
    ("messages_fts_data", True),  # the search index (derived)
    ("messages", False),  # an interior page of the messages tree
    ("messages_fts_docsize", True),
]


@pytest.mark.parametrize(("table", "leaf"), DAMAGE_SPOTS)
async def test_damaged_cache_page_keeps_every_mark_and_the_desk_opens(
    pristine: Path, tmp_path: Path, table: str, leaf: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "telegram.sqlite3"
    shutil.copy(pristine, path)
    _damage(path, _page_of(path, table, leaf))

    store = await open_desk_store(path, StoreCheck(path))

    assert store is not None
    try:
        err = capsys.readouterr().err
        moved = list(tmp_path.glob("telegram.sqlite3.corrupt-*"))
        if moved:  # found damaged: one line, the marks saved next to it and put back
            assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
            assert "damaged" in err and "Kept" in err
            saved = json.loads(next(tmp_path.glob("telegram.sqlite3.marks-*.json")).read_text())
            assert saved["marks"]["notes"][0]["text"] == "customer is on the legacy plan"
            assert await store.message_count() == 0  # the cache reloads from Telegram
        triage = await store.load_triage()
        assert {t.status for t in triage.values()} == {Status.IN_DEVELOPMENT}
        assert len(triage) == CHATS
        assert [c for c, t in triage.items() if t.unread_mark] == [502], "marked unread by hand"
        assert [n.text for n in await store.notes(503)] == ["customer is on the legacy plan"]
        assert (await store.tags())[504] == {"billing", "vip"}
        assert (await store.drafts())[505] == "half-typed answer about the refund"
        assert (await store.slots())[1] == 506
        [item] = await store.outbox_items()
        assert (item.random_id, item.state) == (RANDOM_ID, OutboxState.PENDING)
        # The desk goes on working on the store: new messages, search.
        new = Message.model_validate({"chat_id": 503, "id": 9999, "date": T0, "text": "zebra"})
        assert await store.add_messages([new])
        assert [m.id for m in await store.search("zebra")] == [9999]
        await store.search("hello")
    finally:
        await store.close()


async def test_damaged_schema_page_is_rebuilt_with_a_marks_file(
    pristine: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "telegram.sqlite3"
    shutil.copy(pristine, path)
    with path.open("r+b") as fh:  # page 1's cells: the schema itself
        fh.seek(2048)
        fh.write(random.Random(1).randbytes(2048))

    store = await open_desk_store(path, StoreCheck(path))

    assert store is not None
    try:
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "damaged" in err
        assert len(list(tmp_path.glob("telegram.sqlite3.marks-*.json"))) == 1
        moved = [p for p in tmp_path.glob("telegram.sqlite3.corrupt-*") if p.name[-4:-3] != "-"]
        assert len(moved) == 1
        assert await store.add_messages([Message(chat_id=1, id=1, date=T0, text="fresh")])
    finally:
        await store.close()


@pytest.mark.parametrize(("table", "leaf"), [*DAMAGE_SPOTS, ("sqlite_schema", True)])
def test_report_on_a_damaged_store_is_one_line_or_a_report(
    pristine: Path,
    data_dirs: tuple[Path, Path],
    table: str,
    leaf: bool,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, data = data_dirs
    data.mkdir(mode=0o700)
    path = data / "telegram.sqlite3"
    shutil.copy(pristine, path)
    _damage(path, 100 if table == "sqlite_schema" else _page_of(path, table, leaf))
    before = path.read_bytes()

    status = main(["report", "--staff", "1", "--format", "csv"])

    captured = capsys.readouterr()
    if status == 2:
        assert len(captured.err.strip().splitlines()) == 1 and "damaged" in captured.err
        assert "Traceback" not in captured.err
    else:
        assert status == 0 and captured.out.startswith("chat_id,chat,")
    assert list(data.glob("*.corrupt-*")) == []  # a report never moves the store
    if status == 2:
        assert path.read_bytes() == before


async def test_foreign_sqlite_file_is_refused_with_its_bytes_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "data" / "telegram.sqlite3"
    path.parent.mkdir(mode=0o700)
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    other.execute("INSERT INTO invoices (total) VALUES (12.5)")
    other.commit()
    other.close()
    before = path.read_bytes()

    with pytest.raises(ForeignStoreError) as info:
        await Store.open(path)
    from tgtriage.core.storage.recovery import open_recovering

    with pytest.raises(ForeignStoreError):
        await open_recovering(path)

    assert "another program" in str(info.value) and "\n" not in str(info.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["telegram.sqlite3"]


async def test_full_disk_at_open_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real SQLITE_FULL (from max_page_count) raised while the store opens."""
    scratch = sqlite3.connect(tmp_path / "scratch.sqlite3")
    scratch.execute("CREATE TABLE t (x)")
    scratch.execute("PRAGMA max_page_count = 2")
    with pytest.raises(sqlite3.OperationalError) as full:
        scratch.execute("INSERT INTO t VALUES (zeroblob(100000))")
    scratch.close()
    await _assert_open_fails_with(tmp_path, monkeypatch, full.value, "disk is full")


@pytest.mark.parametrize(
    ("code", "name", "expected"),
    [
        (4874, "SQLITE_IOERR_SHMSIZE", "I/O error"),
        (3338, "SQLITE_IOERR_WRITE", "I/O error"),
        (1032, "SQLITE_READONLY_DBMOVED", "read-only"),
        (13, "SQLITE_FULL", "disk is full"),
    ],
)
async def test_extended_sqlite_codes_are_told_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, name: str, expected: str
) -> None:
    error = sqlite3.OperationalError("disk I/O error")
    error.sqlite_errorcode = code
    error.sqlite_errorname = name
    await _assert_open_fails_with(tmp_path, monkeypatch, error, expected)


async def _assert_open_fails_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: sqlite3.Error, expected: str
) -> None:
    """Store.open with SQLite failing as `error`: one line saying `expected`, no bug report."""

    async def failing_connect(*_args: object, **_kwargs: object) -> aiosqlite.Connection:
        raise error

    monkeypatch.setattr(aiosqlite, "connect", failing_connect)
    with pytest.raises(StoreError) as info:
        await Store.open(tmp_path / "data" / "telegram.sqlite3")
    message = str(info.value)
    assert expected in message and "bug" not in message and "\n" not in message


async def test_the_desk_over_a_rebuilt_store_has_its_marks_and_reloads_the_chats(
    tmp_path: Path,
) -> None:
    from tgtriage.core.desk.inbox import Inbox
    from tgtriage.core.sources.demo import DemoSource
    from tgtriage.core.storage.recovery import open_recovering
    from tgtriage.core.system.config import Config

    path = tmp_path / "demo.sqlite3"
    store = await Store.open(path)
    inbox = Inbox(store, DemoSource(seed=3, speed=50.0), Config())
    await inbox.load_cached()
    await inbox.start()
    chat_id = sorted(inbox.chats)[2]
    title = inbox.chats[chat_id].title
    await inbox.add_note(chat_id, "refund approved by finance")
    inbox.set_draft(chat_id, "Dear customer, about your refund")
    await inbox.flushed()
    await inbox.stop()
    await store.close()
    _damage(path, _page_of(path, "messages", leaf=True))

    store, rebuilt = await open_recovering(path, StoreCheck(path))
    try:
        assert rebuilt is not None and await store.message_count() == 0
        inbox = Inbox(store, DemoSource(seed=3, speed=50.0), Config())
        await inbox.load_cached()
        await inbox.start()
        assert inbox.chats[chat_id].title == title
        assert [n.text for n in inbox.notes.get(chat_id, [])] == ["refund approved by finance"]
        assert inbox.drafts[chat_id] == "Dear customer, about your refund"
        assert len(inbox.chats) >= 12  # the demo's chats, reloaded from the source
        await inbox.stop()
    finally:
        await store.close()
