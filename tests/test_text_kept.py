"""Typed text survives store failures and restarts: a full disk at Enter, note drafts, Alt+X.

The real desk runs under Pilot over a real SQLite file; a full disk is SQLite's own
SQLITE_FULL, made by capping the store's size with `PRAGMA max_page_count` on the desk's
connection (and using up its free pages), then lifting the cap as when space comes back.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tgtriage.core.storage.store import Store

from tests.desk_harness import (
    Desk,
    composer,
    conversation_text,
    fail_a_reply,
    make_desk,
    open_next_waiting,
    run_desk,
    settle,
    status_line,
    type_text,
    wait_for,
)

# 4,064 characters: more than a page holds, so storing it needs a new (overflow) page
MARK = "Case 7781:"
LONG_REPLY = MARK + (" Here is what happened with your payment, step by step." * 74)[:4054]


def _connection(store: Store) -> object:
    """The store's write connection (aiosqlite)."""
    for name in ("_db", "db", "connection", "_connection"):
        connection = getattr(store, name, None)
        if connection is not None and hasattr(connection, "execute_fetchall"):
            return connection
    raise AssertionError("the store's write connection was not found")


async def fill_disk(store: Store) -> None:
    """Cap the file at its current size and use up its free pages: new pages fail as FULL."""
    db = _connection(store)
    [(pages,)] = await db.execute_fetchall("PRAGMA page_count")  # type: ignore[attr-defined]
    await db.execute_fetchall(f"PRAGMA max_page_count = {pages}")  # type: ignore[attr-defined]
    n = 0
    while True:
        try:
            await db.execute_fetchall(  # type: ignore[attr-defined]
                "INSERT INTO meta (key, value) VALUES (?, printf('%.3000c', 'x'))",
                (f"test-filler-{n}",),
            )
        except sqlite3.OperationalError as error:
            assert "full" in str(error)
            return
        n += 1


async def free_disk(store: Store) -> None:
    """Lift the cap and drop the filler, as when space is freed."""
    db = _connection(store)
    await db.execute_fetchall("PRAGMA max_page_count = 1073741823")  # type: ignore[attr-defined]
    await db.execute_fetchall("DELETE FROM meta WHERE key LIKE 'test-filler-%'")  # type: ignore[attr-defined]


async def test_enter_on_a_full_disk_keeps_the_reply_and_sends_it_when_space_returns(
    desk: Desk,
) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        chat_id = await open_next_waiting(pilot)
        store = desk.stores[0]
        await fill_disk(store)

        composer(app).load(LONG_REPLY)
        await pilot.press("enter")
        await settle(pilot)

        assert app.is_running, "the desk did not crash"
        assert composer(app).text == LONG_REPLY, "the reply stays in the composer"
        assert inbox.drafts.get(chat_id) == LONG_REPLY, "and in memory as the chat's draft"
        assert "disk full — reply kept, not sent" in status_line(app)
        assert MARK not in conversation_text(app)

        await free_disk(store)
        await wait_for(
            pilot,
            lambda: MARK in conversation_text(app),
            "the kept reply to be sent once writes succeed again",
            tries=2000,
        )
        await wait_for(pilot, lambda: not inbox.outbox.get(chat_id), "delivery")
        assert composer(app).text == "", "sent: no longer in the composer"
        assert "disk full" not in status_line(app)
        assert conversation_text(app).count(MARK) == 1


async def test_a_half_written_note_survives_quitting(tmp_path: Path) -> None:
    first = make_desk(tmp_path)
    async with run_desk(first) as pilot:
        await pilot.press("ctrl+n")
        chat_id = first.inbox.open_chat_id
        await pilot.press("alt+n")
        await type_text(pilot, "customer is on the legacy plan, ask")
        await pilot.press("ctrl+q")
    assert chat_id is not None

    second = make_desk(tmp_path)
    async with run_desk(second) as pilot:
        await second.app.open_chat(chat_id)
        await pilot.press("alt+n")
        await settle(pilot)
        assert composer(second.app).text == "customer is on the legacy plan, ask"
        assert composer(second.app).note_mode


async def test_alt_x_text_is_the_chats_draft_before_the_outbox_row_goes(tmp_path: Path) -> None:
    desk = make_desk(tmp_path, fail_rate=1.0)
    async with run_desk(desk) as pilot:
        app = desk.app
        chat_id = await fail_a_reply(pilot, "the refund is on its way")
        store = desk.stores[0]
        stored_at_removal: list[dict[int, str]] = []
        remove = store.outbox_remove

        async def remove_after_checking(local_id: int) -> None:
            reader = await Store.open(desk.db_path)  # what a restart after a crash would find
            try:
                stored_at_removal.append(await reader.drafts())
            finally:
                await reader.close()
            await remove(local_id)

        store.outbox_remove = remove_after_checking  # type: ignore[method-assign]
        await pilot.press("alt+x")
        await settle(pilot)
        await wait_for(pilot, lambda: bool(stored_at_removal), "the outbox row to go")
        assert composer(app).text == "the refund is on its way"
        assert stored_at_removal[0].get(chat_id) == "the refund is on its way"
