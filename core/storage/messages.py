"""The store's Telegram cache: chats, users and messages, their search and the report rows."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

import aiosqlite

from ..desk.models import Chat, Message, User
from ..reports.report import ReportRow
from .connection import StoreConnection
from .integrity import SQLITE_CORRUPT, sqlite_primary_code
from .rows import (
    MAX_ID,
    MESSAGE_COLS,
    MESSAGE_COLS_M,
    MessageRow,
    chat_from_row,
    fts_query,
    json_list,
    media_json,
    message_factory,
    message_params,
    messages_where,
    report_row_factory,
    user_from_row,
)

# Marked chat ids at or below this are channels/supergroups (-100<id>); above it are users and
# basic groups, whose message ids are unique account-wide.
CHANNEL_ID_FLOOR = -1_000_000_000_000
_FETCH_ROWS = 2_000  # rows per hop: keeps the work a consumer does between awaits short
_INSERT_CHUNK = 500  # rows per multi-row INSERT (12 parameters each, well under SQLite's limit)


class MessageQueries(StoreConnection):
    """Chats, users and messages: what the desk caches of Telegram."""

    # chats and users --------------------------------------------------------------------

    async def upsert_chats(self, chats: Iterable[Chat]) -> None:
        """Insert or update chats (title, kind, username, folders, forum topics)."""
        rows = [
            (
                c.id,
                c.title,
                c.kind,
                c.username,
                json.dumps(list(c.folder_ids)),
                json.dumps([list(t) for t in c.topics], ensure_ascii=False),
            )
            for c in chats
        ]
        if not rows:
            return
        async with self._transaction() as db:
            await db.executemany(
                "INSERT INTO chats (id, title, kind, username, folder_ids, topics) "
                "VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET title = excluded.title, kind = excluded.kind, "
                "username = excluded.username, folder_ids = excluded.folder_ids, "
                "topics = excluded.topics",
                rows,
            )

    async def all_chats(self) -> list[Chat]:
        """Every known chat, by id."""
        rows = await self._db.execute_fetchall(
            "SELECT id, title, kind, username, folder_ids, topics FROM chats ORDER BY id"
        )
        return [chat_from_row(row) for row in rows]

    async def remove_chat(self, chat_id: int) -> None:
        """Forget a chat: its messages, triage state, draft, slot, alerts and outbox entries.

        The engineer's notes and tags on it are kept, so they are there again if it comes back.
        """
        async with self._transaction() as db:
            for table, column in (
                ("messages", "chat_id"),
                ("triage", "chat_id"),
                ("drafts", "chat_id"),
                ("slots", "chat_id"),
                ("alerts", "chat_id"),
                ("outbox", "chat_id"),
                ("chats", "id"),
            ):
                await db.execute(f"DELETE FROM {table} WHERE {column} = ?", (chat_id,))

    async def upsert_users(self, users: Iterable[User]) -> None:
        """Insert or update users."""
        rows = [(u.id, u.first_name, u.last_name, u.username, int(u.bot)) for u in users]
        if not rows:
            return
        async with self._transaction() as db:
            await db.executemany(
                "INSERT INTO users (id, first_name, last_name, username, bot) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "first_name = excluded.first_name, last_name = excluded.last_name, "
                "username = excluded.username, bot = excluded.bot",
                rows,
            )

    async def users(self) -> dict[int, User]:
        """Every known user by id."""
        rows = await self._db.execute_fetchall(
            "SELECT id, first_name, last_name, username, bot FROM users"
        )
        return {r[0]: user_from_row(r) for r in rows}

    # messages ---------------------------------------------------------------------------

    async def add_messages(self, msgs: Sequence[Message]) -> list[Message]:
        """Insert messages, ignoring ones already stored; return only those that were new.

        The result keeps the input order (a message repeated within `msgs` counts once), which is
        how the Inbox avoids counting a message twice after a reconnect's catch-up.
        """
        if not msgs:
            return []
        async with self._transaction() as db:
            return await self._insert_messages(db, msgs)

    async def _insert_messages(
        self, db: aiosqlite.Connection, msgs: Sequence[Message]
    ) -> list[Message]:
        """Insert messages inside an open transaction; return those that were new, in order."""
        by_key: dict[tuple[int, int], Message] = {}
        for m in msgs:
            by_key.setdefault((m.chat_id, m.id), m)
        unique = list(by_key.values())
        inserted: set[tuple[int, int]] = set()
        for start in range(0, len(unique), _INSERT_CHUNK):
            chunk = unique[start : start + _INSERT_CHUNK]
            values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
            params = [p for m in chunk for p in message_params(m)]
            rows = await db.execute_fetchall(
                f"INSERT OR IGNORE INTO messages ({MESSAGE_COLS}) VALUES {values} "
                "RETURNING chat_id, id",
                params,
            )
            inserted.update((r[0], r[1]) for r in rows)
        return [m for key, m in by_key.items() if key in inserted]

    async def update_messages(self, msgs: Iterable[Message]) -> list[Message]:
        """Apply edits (text, media, edit_date) to stored messages; return those that were stored."""
        items = list(msgs)
        if not items:
            return []
        async with self._transaction() as db:
            rows = await db.execute_fetchall(
                "SELECT chat_id, id FROM messages WHERE (chat_id, id) IN ("
                "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') "
                "FROM json_each(?))",
                (json_list([m.chat_id, m.id] for m in items),),
            )
            known = {(r[0], r[1]) for r in rows}
            await db.executemany(
                "UPDATE messages SET text = ?, media = ?, edit_date = ? WHERE chat_id = ? AND id = ?",
                [
                    (m.text, media_json(m.media), m.edit_date, m.chat_id, m.id)
                    for m in items
                    if (m.chat_id, m.id) in known
                ],
            )
        return [m for m in items if (m.chat_id, m.id) in known]

    async def delete_messages(
        self, chat_id: int | None, ids: Sequence[int]
    ) -> list[tuple[int, int]]:
        """Delete messages; return the (chat_id, id) pairs that were actually stored and removed.

        With `chat_id` None (Telegram's deletions in private chats and basic groups), the ids are
        matched only in chats that are not channels/supergroups.
        """
        if not ids:
            return []
        async with self._transaction() as db:
            if chat_id is None:
                # the floor is a literal so SQLite can use the partial index messages_unmarked_id
                rows = await db.execute_fetchall(
                    f"DELETE FROM messages WHERE chat_id > {CHANNEL_ID_FLOOR} AND id IN "
                    "(SELECT value FROM json_each(?)) RETURNING chat_id, id",
                    (json_list(ids),),
                )
            else:
                rows = await db.execute_fetchall(
                    "DELETE FROM messages WHERE chat_id = ? AND id IN "
                    "(SELECT value FROM json_each(?)) RETURNING chat_id, id",
                    (chat_id, json_list(ids)),
                )
        return sorted((r[0], r[1]) for r in rows)

    async def messages(
        self, chat_id: int, before_id: int | None = None, limit: int = 100
    ) -> list[Message]:
        """The newest `limit` messages of a chat older than `before_id`, oldest first."""
        found = await self._messages_query(
            f"SELECT {MESSAGE_COLS} FROM messages WHERE chat_id = ? AND id < ? "
            "ORDER BY id DESC LIMIT ?",
            (chat_id, MAX_ID if before_id is None else before_id, limit),
        )
        found.reverse()
        return found

    async def message(self, chat_id: int, id: int) -> Message | None:
        """One stored message, or None."""
        found = await self._messages_query(
            f"SELECT {MESSAGE_COLS} FROM messages WHERE chat_id = ? AND id = ?", (chat_id, id)
        )
        return found[0] if found else None

    async def newest_rows(self, chat_ids: Sequence[int], limit: int) -> list[MessageRow]:
        """Each chat's newest `limit` messages as rows, by chat and id, in one read.

        Rows, not Messages: the desk keeps them in memory (core/desk/windows.py), where a row
        takes a third of a Message's room, and turns the few it shows into Messages.
        """
        if not chat_ids or limit <= 0:
            return []
        rows = await self._db.execute_fetchall(
            "WITH wanted (chat_id, floor) AS (SELECT value, coalesce((SELECT id FROM messages "
            "WHERE chat_id = value ORDER BY id DESC LIMIT 1 OFFSET ?), ?) FROM json_each(?)) "
            f"SELECT {MESSAGE_COLS_M} FROM wanted JOIN messages AS m "
            "ON m.chat_id = wanted.chat_id AND m.id >= wanted.floor ORDER BY m.chat_id, m.id",
            (limit - 1, -MAX_ID - 1, json_list(chat_ids)),
        )
        return [tuple(row) for row in rows]

    async def tail(self, chat_id: int, after_id: int) -> list[Message]:
        """All messages of a chat with id > `after_id`, oldest first (to recompute a wait)."""
        return await self._messages_query(
            f"SELECT {MESSAGE_COLS} FROM messages WHERE chat_id = ? AND id > ? ORDER BY id",
            (chat_id, after_id),
        )

    async def iter_messages(
        self,
        since: int | None = None,
        until: int | None = None,
        chat_ids: Sequence[int] | None = None,
    ) -> AsyncIterator[Message]:
        """Stream messages with `since <= date < until`, ordered by (chat_id, date, id).

        Rows are fetched in blocks and converted on the database thread, so reports can walk
        hundreds of thousands of messages without holding them all.
        """
        clause, params = messages_where(since, until, chat_ids)
        cursor = await self._db.cursor()
        cursor.row_factory = message_factory  # type: ignore[assignment]
        try:
            await cursor.execute(
                f"SELECT {MESSAGE_COLS} FROM messages {clause}ORDER BY chat_id, date, id", params
            )
            while rows := await cursor.fetchmany(_FETCH_ROWS):
                for msg in rows:
                    yield msg  # type: ignore[misc]
        finally:
            await cursor.close()

    async def report_rows(
        self, until: int | None = None, chat_ids: Sequence[int] | None = None
    ) -> list[ReportRow]:
        """What reply times need of every message with `date < until`, by (chat_id, date, id).

        Reports read every message: seven columns as plain tuples, built on the database
        thread, cost about a third of what `iter_messages` spends building Message objects.
        """
        clause, params = messages_where(None, until, chat_ids)
        cursor = await self._db.cursor()
        cursor.row_factory = report_row_factory  # type: ignore[assignment]
        try:
            await cursor.execute(
                "SELECT chat_id, id, date, sender_id, sender_name, out, service FROM messages "
                f"{clause}ORDER BY chat_id, date, id",
                params,
            )
            return list(await cursor.fetchall())  # type: ignore[arg-type]
        finally:
            await cursor.close()

    async def message_count(self) -> int:
        """How many messages the store holds."""
        return int(await self._scalar("SELECT count(*) FROM messages"))

    async def search(
        self, query: str, limit: int = 50, chat_id: int | None = None
    ) -> list[Message]:
        """Messages whose text contains every word of `query` (any input is safe), newest first."""
        match = fts_query(query)
        if match is None:
            return []
        chat_clause = "AND m.chat_id = ? " if chat_id is not None else ""
        params: list[Any] = [match]
        if chat_id is not None:
            params.append(chat_id)
        params.append(limit)
        sql = (
            f"SELECT {MESSAGE_COLS_M} FROM messages_fts JOIN messages AS m "
            f"ON m.seq = messages_fts.rowid WHERE messages_fts MATCH ? {chat_clause}"
            "ORDER BY m.date DESC, m.id DESC LIMIT ?"
        )
        try:
            return await self._messages_query(sql, params)
        except sqlite3.DatabaseError as error:
            if sqlite_primary_code(error) != SQLITE_CORRUPT:
                raise
        await self.rebuild_search_index()  # derived from the messages: nothing is lost
        return await self._messages_query(sql, params)

    async def rebuild_search_index(self) -> None:
        """Rebuild the full-text index from the messages (after its pages were found damaged)."""
        async with self._transaction() as db:
            await db.execute("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")
