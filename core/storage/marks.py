"""The engineer's own marks in the store: triage, drafts, outbox, slots, templates, notes, tags."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

import aiosqlite

from ..desk.models import ChatTriage, Note, OutboxItem, OutboxState
from .connection import StoreConnection
from .rows import (
    OUTBOX_COLS,
    TRIAGE_FIELDS,
    json_list,
    new_random_id,
    outbox_from_row,
    triage_from_row,
    triage_params,
)

SLOTS = range(1, 11)


class DeskMarks(StoreConnection):
    """What only this desk knows: losing it loses no conversation, only the engineer's marks."""

    # triage -----------------------------------------------------------------------------

    async def save_triage(self, items: Iterable[ChatTriage]) -> None:
        """Store (replace) the triage state of the given chats."""
        rows = [triage_params(t) for t in items]
        if not rows:
            return
        async with self._transaction() as db:
            await replace_triage(db, rows)

    async def load_triage(self) -> dict[int, ChatTriage]:
        """The stored triage state of every chat, by chat id."""
        rows = await self._db.execute_fetchall(f"SELECT {', '.join(TRIAGE_FIELDS)} FROM triage")
        return {row[0]: triage_from_row(row) for row in rows}

    # drafts -----------------------------------------------------------------------------

    async def set_draft(self, chat_id: int, text: str) -> None:
        """Keep the composer's text for a chat; blank text deletes the draft."""
        async with self._transaction() as db:
            if text.strip():
                await db.execute(
                    "INSERT INTO drafts (chat_id, text, updated) VALUES (?, ?, ?) "
                    "ON CONFLICT (chat_id) DO UPDATE SET text = excluded.text, "
                    "updated = excluded.updated",
                    (chat_id, text, self._now()),
                )
            else:
                await db.execute("DELETE FROM drafts WHERE chat_id = ?", (chat_id,))

    async def drafts(self) -> dict[int, str]:
        """Every saved draft by chat id."""
        rows = await self._db.execute_fetchall("SELECT chat_id, text FROM drafts")
        return {r[0]: r[1] for r in rows}

    async def set_note_draft(self, chat_id: int, text: str) -> None:
        """Keep a half-written internal note of a chat; blank text deletes it."""
        async with self._transaction() as db:
            if text.strip():
                await db.execute(
                    "INSERT INTO note_drafts (chat_id, text, updated) VALUES (?, ?, ?) "
                    "ON CONFLICT (chat_id) DO UPDATE SET text = excluded.text, "
                    "updated = excluded.updated",
                    (chat_id, text, self._now()),
                )
            else:
                await db.execute("DELETE FROM note_drafts WHERE chat_id = ?", (chat_id,))

    async def note_drafts(self) -> dict[int, str]:
        """Every half-written note by chat id."""
        rows = await self._db.execute_fetchall("SELECT chat_id, text FROM note_drafts")
        return {r[0]: r[1] for r in rows}

    # outbox -----------------------------------------------------------------------------

    async def outbox_add(
        self, chat_id: int, text: str, reply_to: int | None = None, random_id: int | None = None
    ) -> OutboxItem:
        """Put a reply in the outbox (pending) before it is sent; its random_id makes retries safe.

        A random signed 64-bit `random_id` is generated when none is given; a given one that is
        already in the outbox raises ValueError.
        """
        rid = new_random_id() if random_id is None else random_id
        async with self._transaction() as db:
            try:
                rows = await db.execute_fetchall(
                    "INSERT INTO outbox (chat_id, random_id, text, reply_to, state, created) "
                    f"VALUES (?, ?, ?, ?, ?, ?) RETURNING {OUTBOX_COLS}",
                    (chat_id, rid, text, reply_to, OutboxState.PENDING.value, self._now()),
                )
            except sqlite3.IntegrityError as error:
                raise ValueError(f"random_id {rid} is already in the outbox") from error
        return outbox_from_row(next(iter(rows)))

    async def outbox_add_item(self, item: OutboxItem) -> None:
        """Store a reply the desk has already numbered (its local and random ids are kept)."""
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO outbox (local_id, chat_id, random_id, text, reply_to, state, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (item.local_id, item.chat_id, item.random_id, item.text, item.reply_to,
                 item.state.value, item.created),
            )  # fmt: skip

    async def next_outbox_id(self) -> int:
        """The local id the next reply gets (ids of sent replies are never reused)."""
        used = await self._scalar("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'")
        top = await self._scalar("SELECT max(local_id) FROM outbox")
        return max(used or 0, top or 0) + 1

    async def outbox_update(
        self,
        local_id: int,
        *,
        state: OutboxState,
        error: str | None = None,
        sent_id: int | None = None,
    ) -> OutboxItem:
        """Move an outbox item to `state`; `error` is replaced (None clears it), `sent_id` kept
        unless given. Raises KeyError for an unknown `local_id`."""
        async with self._transaction() as db:
            rows = list(
                await db.execute_fetchall(
                    "UPDATE outbox SET state = ?, error = ?, sent_id = coalesce(?, sent_id) "
                    f"WHERE local_id = ? RETURNING {OUTBOX_COLS}",
                    (state.value, error, sent_id, local_id),
                )
            )
        if not rows:
            raise KeyError(f"no outbox item {local_id}")
        return outbox_from_row(rows[0])

    async def outbox_items(
        self, chat_id: int | None = None, states: set[OutboxState] | None = None
    ) -> list[OutboxItem]:
        """Outbox items, oldest first, optionally of one chat and/or in some states."""
        where: list[str] = []
        params: list[Any] = []
        if chat_id is not None:
            where.append("chat_id = ?")
            params.append(chat_id)
        if states is not None:
            where.append("state IN (SELECT value FROM json_each(?))")
            params.append(json_list(s.value for s in states))
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        rows = await self._db.execute_fetchall(
            f"SELECT {OUTBOX_COLS} FROM outbox {clause}ORDER BY local_id", params
        )
        return [outbox_from_row(r) for r in rows]

    async def outbox_remove(self, local_id: int) -> None:
        """Drop an item from the outbox (sent and confirmed, or discarded by the engineer)."""
        async with self._transaction() as db:
            await db.execute("DELETE FROM outbox WHERE local_id = ?", (local_id,))

    # working set ------------------------------------------------------------------------

    async def slots(self) -> dict[int, int]:
        """The working set: slot number (1–10) → chat id."""
        rows = await self._db.execute_fetchall("SELECT slot, chat_id FROM slots ORDER BY slot")
        return {r[0]: r[1] for r in rows}

    async def set_slot(self, slot: int, chat_id: int | None) -> None:
        """Put a chat in a slot (leaving its old slot; displacing the slot's previous chat) or,
        with None, empty the slot. Raises ValueError for a slot outside 1–10."""
        if slot not in SLOTS:
            raise ValueError(f"slot must be 1–10, not {slot}")
        async with self._transaction() as db:
            await db.execute("DELETE FROM slots WHERE slot = ?", (slot,))
            if chat_id is not None:
                await db.execute("DELETE FROM slots WHERE chat_id = ?", (chat_id,))
                await db.execute("INSERT INTO slots (slot, chat_id) VALUES (?, ?)", (slot, chat_id))

    # templates, notes, tags, alerts -----------------------------------------------------

    async def bump_template(self, key: str) -> None:
        """Count one use of a template (recently and often used ones sort first)."""
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO template_usage (key, count, last_used) VALUES (?, 1, ?) "
                "ON CONFLICT (key) DO UPDATE SET count = count + 1, last_used = excluded.last_used",
                (key, self._now()),
            )

    async def template_usage(self) -> dict[str, tuple[int, int]]:
        """Template key → (times used, last used at)."""
        rows = await self._db.execute_fetchall("SELECT key, count, last_used FROM template_usage")
        return {r[0]: (r[1], r[2]) for r in rows}

    async def add_note(
        self,
        chat_id: int,
        author: str,
        text: str,
        date: int | None = None,
        after_msg_id: int | None = None,
    ) -> int:
        """Add an internal note to a chat (dated now unless `date` is given); return its id."""
        async with self._transaction() as db:
            rows = await db.execute_fetchall(
                "INSERT INTO notes (chat_id, date, author, text, after_msg_id) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                (chat_id, self._now() if date is None else date, author, text, after_msg_id),
            )
        return int(next(iter(rows))[0])

    async def add_note_row(self, note: Note) -> None:
        """Store a note the desk has already numbered."""
        async with self._transaction() as db:
            await db.execute(
                "INSERT INTO notes (id, chat_id, date, author, text, after_msg_id) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (note.id, note.chat_id, note.date, note.author, note.text, note.after_msg_id),
            )

    async def next_note_id(self) -> int:
        """The id the next note gets (ids of deleted notes are never reused)."""
        used = await self._scalar("SELECT seq FROM sqlite_sequence WHERE name = 'notes'")
        top = await self._scalar("SELECT max(id) FROM notes")
        return max(used or 0, top or 0) + 1

    async def notes(self, chat_id: int) -> list[Note]:
        """A chat's notes, oldest first."""
        rows = await self._db.execute_fetchall(
            "SELECT id, chat_id, date, author, text, after_msg_id FROM notes WHERE chat_id = ? "
            "ORDER BY date, id",
            (chat_id,),
        )
        return [Note(*r) for r in rows]

    async def all_notes(self) -> dict[int, list[Note]]:
        """Every chat's notes, oldest first, by chat id."""
        rows = await self._db.execute_fetchall(
            "SELECT id, chat_id, date, author, text, after_msg_id FROM notes ORDER BY date, id"
        )
        result: dict[int, list[Note]] = {}
        for row in rows:
            result.setdefault(row[1], []).append(Note(*row))
        return result

    async def delete_note(self, note_id: int) -> None:
        """Remove one note."""
        async with self._transaction() as db:
            await db.execute("DELETE FROM notes WHERE id = ?", (note_id,))

    async def set_tags(self, chat_id: int, tags: Iterable[str]) -> None:
        """Replace a chat's tags (blank tags are dropped; an empty set removes them all)."""
        clean = sorted({t.strip() for t in tags if t.strip()})
        async with self._transaction() as db:
            await db.execute("DELETE FROM chat_tags WHERE chat_id = ?", (chat_id,))
            await db.executemany(
                "INSERT INTO chat_tags (chat_id, tag) VALUES (?, ?)", [(chat_id, t) for t in clean]
            )

    async def tags(self) -> dict[int, set[str]]:
        """Every tagged chat's tags."""
        result: dict[int, set[str]] = {}
        for chat_id, tag in await self._db.execute_fetchall("SELECT chat_id, tag FROM chat_tags"):
            result.setdefault(chat_id, set()).add(tag)
        return result

    async def alert_sent(self, chat_id: int, level: int, kind: str) -> bool:
        """Record that an alert went out; False if this (chat, level, kind) was already recorded."""
        async with self._transaction() as db:
            cursor = await db.execute(
                "INSERT OR IGNORE INTO alerts (chat_id, level, kind, at) VALUES (?, ?, ?, ?)",
                (chat_id, level, kind, self._now()),
            )
            fresh = cursor.rowcount == 1
            await cursor.close()
        return fresh

    async def get_meta(self, key: str) -> str | None:
        """A stored fact about the account or sync state (e.g. "me_id"), or None."""
        value = await self._scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    async def set_meta(self, key: str, value: str | None) -> None:
        """Store a fact as text; None removes it."""
        async with self._transaction() as db:
            if value is None:
                await db.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                await db.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, value),
                )

    async def clear_alerts(self, chat_id: int) -> None:
        """Forget a chat's alerts (its wait ended), so the next wait alerts again."""
        async with self._transaction() as db:
            await db.execute("DELETE FROM alerts WHERE chat_id = ?", (chat_id,))


async def replace_triage(db: aiosqlite.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Store (replace) triage rows inside an open transaction."""
    cols = ", ".join(TRIAGE_FIELDS)
    marks = ", ".join("?" * len(TRIAGE_FIELDS))
    await db.executemany(f"INSERT OR REPLACE INTO triage ({cols}) VALUES ({marks})", rows)
