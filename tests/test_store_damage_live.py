"""A store damaged while the desk runs: no crash, one line, the marks saved from memory.

Damage is real: every page of chosen tables of the desk's own SQLite file is overwritten with
seeded garbage (past each page's header) while the desk runs on it; another connection then
writes, as another process would, so the desk's connection reads the file again instead of
its page cache. The desk's next start rebuilds the store from the marks file it saved.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from tgtriage.core.desk import events as ev
from tgtriage.core.desk.inbox import Inbox
from tgtriage.core.desk.models import Message, Status
from tgtriage.core.sources.demo import DemoSource
from tgtriage.core.storage.recovery import StoreCheck, open_recovering
from tgtriage.core.storage.store import Store
from tgtriage.core.system.config import Config

DAMAGED_LINE = "store damaged — marks saved"


def damage_tables(path: Path, tables: tuple[str, ...]) -> int:
    """Overwrite every page of `tables` (all but each page's 8-byte header); the pages hit."""
    db = sqlite3.connect(path)
    try:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        marks = ", ".join("?" for _ in tables)
        pages = [
            row[0]
            for row in db.execute(f"SELECT pageno FROM dbstat WHERE name IN ({marks})", tables)
        ]
    finally:
        db.close()
    assert pages, tables
    with path.open("r+b") as fh:
        for page in pages:
            fh.seek((page - 1) * page_size + 8)
            fh.write(random.Random(page).randbytes(page_size - 8))
    return len(pages)


async def damage_live(inbox: Inbox, tables: tuple[str, ...]) -> None:
    """Damage the running desk's store file under it, in the writer's turn: its writes are
    checkpointed into the file first, and none lands between that and the damage (a write in
    between would put fresh copies of the pages in the WAL, and the desk would never see the
    damage)."""
    store = inbox.store

    async def checkpoint_and_damage() -> None:
        busy, _, _ = (await store._db.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)"))[0]
        assert busy == 0, "the checkpoint could not copy every page into the file"
        await asyncio.to_thread(damage_and_touch)

    def damage_and_touch() -> None:
        damage_tables(store.path, tables)
        other = sqlite3.connect(store.path, isolation_level=None, timeout=30)
        try:  # another writer: the desk's connection drops its page cache and reads the
            # damaged pages from the file
            other.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('test-touch', '1')")
        finally:
            other.close()

    await inbox.writer.call(checkpoint_and_damage)


def memory_marks_file(path: Path) -> dict[str, Any]:
    """The one marks file the desk saved from memory next to the store at `path`."""
    files = list(path.parent.glob(f"{path.name}.marks-*.json"))
    assert len(files) == 1, files
    content = json.loads(files[0].read_text(encoding="utf-8"))
    assert content["from"] == "memory"
    return content  # type: ignore[no-any-return]


def statuses(content: dict[str, Any]) -> dict[int, str]:
    """Chat id → status in a marks file."""
    return {row["chat_id"]: row["status"] for row in content["marks"]["triage"]}


async def until(predicate: Any, what: str, tries: int = 400) -> None:
    """Let the desk run until `predicate()` holds."""
    for _ in range(tries):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for: {what}")


async def start_desk(path: Path, store: Store) -> Inbox:
    """The desk's live state over `store` and the demo source, started and settled."""
    # Story time at its own pace: the damage and each action make their own writes, and a
    # faster story would reopen the closed chat on a slow machine.
    inbox = Inbox(store, DemoSource(seed=3, speed=1.0), Config(undo_send_seconds=0))
    await inbox.load_cached()
    await inbox.start()
    await inbox.flushed()
    return inbox


# What the damage hits, and the desk's own action that runs into it next.
SPOTS = [
    pytest.param(("triage",), "status", id="triage-status-write"),
    pytest.param(
        ("messages", "messages_chat_date", "sqlite_autoindex_messages_1"),
        "history",
        id="messages-history-read",
    ),
    pytest.param(
        ("messages", "messages_fts_data", "sqlite_autoindex_messages_1"),
        "new message",
        id="messages-incoming-write",
    ),
]


@pytest.mark.parametrize(("tables", "action"), SPOTS)
async def test_damage_at_run_time_saves_the_marks_from_memory_and_a_restart_rebuilds(
    tmp_path: Path, tables: tuple[str, ...], action: str
) -> None:
    path = tmp_path / "desk.sqlite3"
    store = await Store.open(path)
    inbox = await start_desk(path, store)
    closed, parked = sorted(inbox.chats)[2:4]
    await inbox.close(closed)
    await inbox.add_note(closed, "refund approved by finance")
    await inbox.set_in_development(parked, "BUG-77")  # set just before the damage
    await inbox.flushed()

    await damage_live(inbox, tables)
    if action == "status":
        await inbox.postpone(parked, inbox.now() + 3600)
        await inbox.set_in_development(parked, "BUG-77")
    elif action == "history":
        older = await inbox.history(parked, before_id=10**9, limit=50)
        assert all(m.chat_id == parked for m in older)
    else:
        newest = inbox.triage[parked].last_msg_id + 1000  # past the ids the demo gives
        inbox.submit(ev.NewMessage(Message(chat_id=parked, id=newest, date=inbox.now(), text="hi")))
    await until(lambda: inbox.damaged.error is not None, "the damage to be found")
    await inbox.flushed()

    assert inbox.damaged.status is not None and inbox.damaged.status.startswith(DAMAGED_LINE)
    saved = memory_marks_file(path)
    assert statuses(saved)[closed] == Status.CLOSED.value
    assert statuses(saved)[parked] == Status.IN_DEVELOPMENT.value
    assert [n["text"] for n in saved["marks"]["notes"]] == ["refund approved by finance"]

    # The desk goes on from memory: a note, and a reply that is sent (never stored).
    await inbox.add_note(parked, "waiting for the fix")
    reply = await inbox.send(parked, "We are on it, a fix is coming")
    assert reply is not None
    await until(lambda: not inbox.outbox.get(parked), "the reply to go out")
    await until(
        lambda: any(m.text.startswith("We are on it") for m in inbox.windows.recent(parked, 50)),
        "the sent reply to show in the chat",
    )
    await inbox.stop()
    await store.close()

    store, rebuilt = await open_recovering(path, StoreCheck(path))
    try:
        assert rebuilt is not None
        triage = await store.load_triage()
        assert triage[closed].status is Status.CLOSED
        assert triage[parked].status is Status.IN_DEVELOPMENT
        assert triage[parked].ticket == "BUG-77"
        assert [n.text for n in await store.notes(closed)] == ["refund approved by finance"]
        assert [n.text for n in await store.notes(parked)] == ["waiting for the fix"]
        assert await store.outbox_items() == []  # sent: not queued again
        again = await start_desk(path, store)
        assert again.triage[closed].status is Status.CLOSED
        assert again.triage[parked].status is Status.IN_DEVELOPMENT
        assert again.damaged.status is None
        await again.stop()
    finally:
        await store.close()
    store, rebuilt = await open_recovering(path, StoreCheck(path))  # read back once, not again
    await store.close()
    assert rebuilt is None


async def test_the_desk_paging_a_damaged_history_stays_up_and_says_so_in_one_line(
    tmp_path: Path,
) -> None:
    from tgtriage.tui.conversation import Conversation

    from tests.desk_harness import make_desk, run_desk, settle, status_line, wait_for

    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        chat_id = inbox.open_chat_id
        assert chat_id is not None
        await inbox.set_in_development(chat_id, "BUG-91")
        await inbox.flushed()
        store = desk.stores[0]

        await damage_live(inbox, ("messages", "messages_chat_date", "sqlite_autoindex_messages_1"))
        oldest = min(m.id for m in inbox.windows.recent(chat_id, 1000))
        app.query_one(Conversation).post_message(Conversation.NeedOlder(chat_id, oldest))
        await wait_for(pilot, lambda: DAMAGED_LINE in status_line(app), "the damage line")
        await settle(pilot)

        assert app.is_running, "the desk did not crash"
        assert "store damaged — marks saved; quit and restart to rebuild" in status_line(app)
        assert statuses(memory_marks_file(desk.db_path))[chat_id] == Status.IN_DEVELOPMENT.value
        await pilot.press("ctrl+q")
    store, rebuilt = await open_recovering(desk.db_path, StoreCheck(desk.db_path))
    try:
        assert rebuilt is not None
        assert (await store.load_triage())[chat_id].ticket == "BUG-91"
    finally:
        await store.close()


async def test_a_status_set_while_an_older_summary_waits_to_be_stored_is_the_one_kept(
    tmp_path: Path,
) -> None:
    """The engineer opens a chat, a read receipt lands, they close it, all before the store's
    writer gets its turn: the store (and so a restart) must have the chat closed."""
    path = tmp_path / "desk.sqlite3"
    store = await Store.open(path)
    inbox = await start_desk(path, store)
    try:
        chat_id = sorted(inbox.chats)[2]
        inbox.open(chat_id)  # its summary's save is queued
        receipt = ev.ReadUpTo(chat_id, inbox.triage[chat_id].last_msg_id + 1, outbox=True)
        await inbox.apply([receipt])  # queues the summary as it is now: not closed
        await inbox.close(chat_id)
        await inbox.flushed()

        assert inbox.triage[chat_id].status is Status.CLOSED
        assert (await store.load_triage())[chat_id].status is Status.CLOSED
    finally:
        await inbox.stop()
        await store.close()
