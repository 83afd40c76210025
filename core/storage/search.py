"""Search and customer history over the store's messages, on a read-only connection of its own.

Free words match a message's body through the FTS5 index (core/storage/schema.py), its sender's
name or its chat's title; `from:`, `in:` and dates filter. The connection is opened read-only
(`mode=ro`) so it works beside a running desk, and `interrupt()` stops a query another thread
runs (a newer keystroke cancels the older search).
"""

from __future__ import annotations

import json
import sqlite3
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..desk.models import Message
from ..reports.history import customer_waits
from ..reports.report import ReportRow, ReportStaff
from ..rules.search_query import SearchQuery, Term, fts_match, matches, words_of
from .store import _MESSAGE_COLS_M, _message_from_row

# Up to this many body matches are read and sorted; more are found walking by date.
_FEW = 3000
_FTS_PROBE = "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? LIMIT ?"
# The body matches (walking by date, the set of matches is built once).
_FTS_ROW = "m.seq IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)"
_BY_SEQ = "json_each(?) AS j JOIN messages AS m ON m.seq = j.value"


@dataclass(frozen=True)
class Hit:
    """One found message with the names it is shown with."""

    message: Message
    chat_title: str
    sender: str


def _json(values: Iterable[Any]) -> str:
    """A JSON array for `IN (SELECT value FROM json_each(?))`."""
    return json.dumps(list(values))


class _WordIndex:
    """Keys by the folded words of their names, to find names holding a term without a scan."""

    def __init__(self, named: Iterable[tuple[Any, tuple[str, ...]]]) -> None:
        """Index each (key, words) pair."""
        self._words = dict(named)
        self._sorted = sorted(
            (w, i) for i, (_, words) in enumerate(self._words.items()) for w in words
        )
        self._keys = list(self._words)

    def find(self, term: Term) -> list[Any]:
        """Keys whose words contain `term`."""
        last = term.folded[-1]
        index = bisect_left(self._sorted, (last, -1))
        found: dict[int, None] = {}
        while index < len(self._sorted):
            word, key_index = self._sorted[index]
            if word != last and not (term.prefix and word.startswith(last)):
                break
            found[key_index] = None
            index += 1
        keys = [self._keys[i] for i in found]
        return [k for k in keys if len(term.folded) == 1 or matches(term, self._words[k])]


class MessageSearch:
    """Searches one store file; `refresh()` re-reads chat titles and sender names."""

    def __init__(self, path: Path) -> None:
        """Open `path` read-only (it must exist; the desk creates it)."""
        self.path = path
        self._db = sqlite3.connect(
            f"{Path(path).resolve().as_uri()}?mode=ro",
            uri=True,
            isolation_level=None,
            check_same_thread=False,
        )
        self._db.execute("PRAGMA busy_timeout = 1000")
        self._titles: dict[int, str] = {}
        self._names: dict[int, str] = {}
        self._chat_index = _WordIndex(())
        self._sender_index = _WordIndex(())
        self._loaded = False

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def interrupt(self) -> None:
        """Stop the query running on another thread (it raises sqlite3.OperationalError)."""
        self._db.interrupt()

    def refresh(self) -> None:
        """Read chat titles and every sender's names (once per search screen opening)."""
        self._titles = dict(self._db.execute("SELECT id, title FROM chats").fetchall())
        self._chat_index = _WordIndex((cid, words_of(t)) for cid, t in self._titles.items())
        names: dict[int, str] = {}
        for user_id, first, last, username in self._db.execute(
            "SELECT id, first_name, last_name, username FROM users"
        ):
            names[user_id] = " ".join(p for p in (first, last) if p) or (username or "")
        senders: dict[tuple[int | None, str], tuple[str, ...]] = {}
        for sender_id, name in self._db.execute(
            "SELECT DISTINCT sender_id, sender_name FROM messages"
        ):
            senders[(sender_id, name)] = words_of(name)
        for user_id, name in names.items():
            senders[(user_id, name)] = words_of(name)
        self._sender_index = _WordIndex(senders.items())
        self._names = names
        self._loaded = True

    def _chats_matching(self, term: Term) -> list[int]:
        """Chats whose title contains the term."""
        return self._chat_index.find(term)

    def _senders_matching(self, term: Term) -> tuple[set[int], set[str]]:
        """Sender ids, and names of senders without an id, whose name contains the term."""
        ids: set[int] = set()
        names: set[str] = set()
        for sender_id, name in self._sender_index.find(term):
            if sender_id is None:
                names.add(name)
            else:
                ids.add(sender_id)
        return ids, names

    @staticmethod
    def _sender_clause(ids: set[int], names: set[str], params: list[Any]) -> str:
        """SQL true for messages by these senders."""
        params.append(_json(ids))
        if not names:
            return "m.sender_id IN (SELECT value FROM json_each(?))"
        params.append(_json(names))
        return (
            "(m.sender_id IN (SELECT value FROM json_each(?)) OR "
            "(m.sender_id IS NULL AND m.sender_name IN (SELECT value FROM json_each(?))))"
        )

    def find(self, query: SearchQuery, limit: int = 50) -> list[Hit]:
        """Messages matching every term and filter, newest first (at most `limit`).

        Words only in bodies are looked up in the FTS index first: a few thousand matches are
        read and sorted by date; more than that are found by walking messages newest first
        (index messages_date), which reaches `limit` matches quickly because they are dense.
        """
        if query.empty:
            return []
        self._ensure()
        where: list[str] = ["m.service = 0"]
        params: list[Any] = []
        text_only: list[Term] = []
        for term in query.terms:
            chats = self._chats_matching(term)
            ids, names = self._senders_matching(term)
            if not (chats or ids or names):
                text_only.append(term)
                continue
            params += [fts_match((term,)), _json(chats)]
            sender = self._sender_clause(ids, names, params)
            where.append(
                "(m.seq IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?) OR "
                f"m.chat_id IN (SELECT value FROM json_each(?)) OR {sender})"
            )
        small: list[tuple[int, str, list[Any]]] = []  # (size, source, params) of a driver
        for term in query.chats:
            chats = self._chats_matching(term)
            where.append("m.chat_id IN (SELECT value FROM json_each(?))")
            params.append(_json(chats))
            small.append(self._bounded("chat_id IN (SELECT value FROM json_each(?))", chats))
        for term in query.senders:
            ids, names = self._senders_matching(term)
            where.append(self._sender_clause(ids, names, params))
            if not names:
                small.append(self._bounded("sender_id IN (SELECT value FROM json_each(?))", ids))
        if query.after is not None:
            where.append("m.date >= ?")
            params.append(query.after)
        if query.before is not None:
            where.append("m.date < ?")
            params.append(query.before)
        match = fts_match(tuple(text_only))
        if match is not None:
            found = [r[0] for r in self._db.execute(_FTS_PROBE, (match, _FEW + 1))]
            if len(found) <= _FEW:
                listed = _json(found)
                small.append((len(found), _BY_SEQ, [listed]))
                where.insert(0, "m.seq IN (SELECT value FROM json_each(?))")
                params.insert(0, listed)
            else:
                where.insert(0, _FTS_ROW)
                params.insert(0, match)
        source, driver_params = "messages AS m INDEXED BY messages_date", []
        fitting = [entry for entry in small if entry[0] <= _FEW]
        if fitting:
            _, source, driver_params = min(fitting, key=lambda entry: entry[0])
        params = driver_params + params
        params.append(limit)
        rows = self._db.execute(
            f"SELECT {_MESSAGE_COLS_M} FROM {source} WHERE {' AND '.join(where)} "
            "ORDER BY m.date DESC, m.id DESC LIMIT ?",
            params,
        ).fetchall()
        return self._hits(rows)

    def _bounded(self, condition: str, values: Iterable[Any]) -> tuple[int, str, list[Any]]:
        """How many messages meet `condition` (counted up to `_FEW + 1` on an index) and the
        source that reads exactly those, sorted by seq."""
        listed = _json(values)
        count = self._db.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM messages WHERE {condition} LIMIT ?)",
            (listed, _FEW + 1),
        ).fetchone()[0]
        seqs = f"(SELECT seq AS value FROM messages WHERE {condition})"
        return count, f"{seqs} AS j JOIN messages AS m ON m.seq = j.value", [listed]

    def history(self, sender_id: int, limit: int = 200) -> list[Hit]:
        """Everything `sender_id` wrote in every stored chat, newest first (at most `limit`)."""
        self._ensure()
        rows = self._db.execute(
            f"SELECT {_MESSAGE_COLS_M} FROM messages AS m INDEXED BY messages_sender_date "
            "WHERE m.sender_id = ? AND m.service = 0 ORDER BY m.date DESC, m.id DESC LIMIT ?",
            (sender_id, limit),
        ).fetchall()
        return self._hits(rows)

    def around(
        self, chat_id: int, message_id: int, before: int = 20, limit: int = 400
    ) -> list[Message]:
        """Messages of a chat from `before` messages ahead of `message_id` on (at most `limit`),
        oldest first: what the conversation holds to show that message."""
        first = self._db.execute(
            "SELECT min(id) FROM (SELECT id FROM messages WHERE chat_id = ? AND id < ? "
            "ORDER BY id DESC LIMIT ?)",
            (chat_id, message_id, before),
        ).fetchone()[0]
        rows = self._db.execute(
            f"SELECT {_MESSAGE_COLS_M} FROM messages AS m WHERE m.chat_id = ? AND m.id >= ? "
            "ORDER BY m.id LIMIT ?",
            (chat_id, message_id if first is None else first, limit),
        ).fetchall()
        return [_message_from_row(row) for row in rows]

    def chat_rows(self, chat_ids: Iterable[int]) -> dict[int, list[ReportRow]]:
        """What reply times need of every message of these chats, by chat, oldest first."""
        rows = self._db.execute(
            "SELECT chat_id, id, date, sender_id, sender_name, out, service FROM messages "
            "WHERE chat_id IN (SELECT value FROM json_each(?)) ORDER BY chat_id, date, id",
            (_json(chat_ids),),
        ).fetchall()
        by_chat: dict[int, list[ReportRow]] = {}
        for row in rows:
            by_chat.setdefault(row[0], []).append(ReportRow._make(row))
        return by_chat

    def history_with_waits(
        self, sender_id: int, staff: ReportStaff, now: int, limit: int = 200
    ) -> list[tuple[Hit, tuple[int, bool] | None]]:
        """`history()` with, for each message that opened a wait, (seconds, answered)."""
        hits = self.history(sender_id, limit)
        rows = self.chat_rows({hit.message.chat_id for hit in hits})
        waits = customer_waits(rows, staff, now)
        return [(hit, waits.get((hit.message.chat_id, hit.message.id))) for hit in hits]

    def _ensure(self) -> None:
        """Load titles and names on first use."""
        if not self._loaded:
            self.refresh()

    def _hits(self, rows: Sequence[Sequence[Any]]) -> list[Hit]:
        """Rows as hits named by chat title and sender."""
        hits = []
        for row in rows:
            message = _message_from_row(row)
            title = self._titles.get(message.chat_id, str(message.chat_id))
            name = message.sender_name
            if message.sender_id is not None:
                name = self._names.get(message.sender_id) or name
            hits.append(Hit(message, title, name or "unknown"))
        return hits
