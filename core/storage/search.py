"""Search and customer history over the store's messages, on a read-only connection of its own.

Free words match a message's body through the FTS5 index (core/storage/schema.py), its sender's
name or its chat's title; `from:`, `in:` and dates filter. The connection is opened read-only
(`mode=ro`) so it works beside a running desk, and `interrupt()` stops the query another thread
runs (a newer keystroke cancels the older search).

Queries run one at a time (a lock), and `interrupt()` stops only the query running when it is
called, through a progress handler: SQLite's own `interrupt()` would also fail every statement
started before the older one finished, so the newest keystroke's query could die in its place
and its results never show.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..desk.models import Message
from ..reports.history import customer_waits
from ..reports.report import ReportRow, ReportStaff
from ..rules.search_query import Hit, SearchQuery, Term, fts_match, text_matcher, words_of
from .rows import MESSAGE_COLS_M, MessageRow, message_from_row
from .search_names import RowTest, WordIndex

# Up to this many matches (of rare words, or of a narrow in:/from:) are read and sorted by date.
_FEW = 800
# Rows walked newest first before rare words are looked up in the FTS index, and per fetch.
_WALK_FIRST = 1000
_WALK_STEP = 250
# Up to this many matches of words neither rare nor common are held as a set of seqs while the
# date index is walked; per fetch of that walk.
_SET = 25_000
_SET_STEP = 2_000
# SQLite virtual-machine steps between two looks at `interrupt()`.
_STOP_CHECK_STEPS = 1000
# What a walk reads of each message to test it (the page's rows are read whole afterwards).
_WALK_COLS = "m.seq, m.chat_id, m.sender_id, m.sender_name, m.text"
_FTS_PROBE = "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? LIMIT ?"
_BY_SEQ = "json_each(?) AS j JOIN messages AS m ON m.seq = j.value"
# Senders the users table does not name, with the name of their newest message, and the names
# of senders without an id. The ids are read by seeking index messages_sender_date from one id
# to the next: `SELECT DISTINCT sender_id, sender_name` read every message row.
_UNLISTED_SENDERS = """
WITH RECURSIVE ids(id) AS (
    SELECT min(sender_id) FROM messages
    UNION ALL
    SELECT (SELECT min(sender_id) FROM messages WHERE sender_id > ids.id) FROM ids
    WHERE ids.id IS NOT NULL
)
SELECT ids.id, (SELECT m.sender_name FROM messages AS m WHERE m.sender_id = ids.id
                ORDER BY m.date DESC LIMIT 1)
FROM ids WHERE ids.id IS NOT NULL AND ids.id NOT IN (SELECT id FROM users)
UNION ALL
SELECT DISTINCT NULL, sender_name FROM messages WHERE sender_id IS NULL
"""


def _json(values: Iterable[Any]) -> str:
    """A JSON array for `IN (SELECT value FROM json_each(?))`."""
    return json.dumps(list(values))


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
        self._lock = threading.RLock()  # one query at a time
        self._running = False  # a query is running: `interrupt()` stops it
        self._stop = False  # the running query was interrupted
        self._db.set_progress_handler(self._stopped, _STOP_CHECK_STEPS)
        self._titles: dict[int, str] = {}
        self._names: dict[int, str] = {}
        self._chat_index = WordIndex(())
        self._sender_index = WordIndex(())
        self._chats_of: dict[Term, list[int]] = {}  # by term, until names are read again
        self._senders_of: dict[Term, tuple[set[int], set[str]]] = {}
        self._loaded = False

    def close(self) -> None:
        """Stop the running query and close the connection."""
        self.interrupt()
        with self._lock:
            self._db.close()

    def interrupt(self) -> None:
        """Stop the query running on another thread now (it raises sqlite3.OperationalError);
        a query started afterwards runs to its end."""
        self._stop = self._running

    def _check_stop(self, rows: sqlite3.Cursor) -> None:
        """Raise as SQLite does if the query was interrupted between two fetches."""
        if self._stop:
            rows.close()
            raise sqlite3.OperationalError("interrupted")

    def _stopped(self) -> int:
        """SQLite's progress handler: non-zero aborts the running statement."""
        return 1 if self._stop else 0

    def refresh(self) -> None:
        """Read chat titles and every sender's names (once per search screen opening)."""
        with self._lock:
            self._read_names()

    def _read_names(self) -> None:
        """`refresh()` under the lock."""
        self._titles = dict(self._db.execute("SELECT id, title FROM chats").fetchall())
        self._chat_index = WordIndex((cid, words_of(t)) for cid, t in self._titles.items())
        names: dict[int, str] = {}
        for user_id, first, last, username in self._db.execute(
            "SELECT id, first_name, last_name, username FROM users"
        ):
            names[user_id] = " ".join(p for p in (first, last) if p) or (username or "")
        senders: dict[tuple[int | None, str], tuple[str, ...]] = {}
        for sender_id, name in self._db.execute(_UNLISTED_SENDERS):
            senders[(sender_id, name or "")] = words_of(name or "")
        for user_id, name in names.items():
            senders[(user_id, name)] = words_of(name)
        self._sender_index = WordIndex(senders.items())
        self._names = names
        self._chats_of.clear()
        self._senders_of.clear()
        self._loaded = True

    def _chats_matching(self, term: Term) -> list[int]:
        """Chats whose title contains the term."""
        chats = self._chats_of.get(term)
        if chats is None:
            chats = self._chats_of[term] = self._chat_index.find(term)
        return chats

    def _senders_matching(self, term: Term) -> tuple[set[int], set[str]]:
        """Sender ids, and names of senders without an id, whose name contains the term."""
        known = self._senders_of.get(term)
        if known is not None:
            return known
        ids: set[int] = set()
        names: set[str] = set()
        for sender_id, name in self._sender_index.find(term):
            if sender_id is None:
                names.add(name)
            else:
                ids.add(sender_id)
        if len(self._senders_of) > 256:  # typing makes a new term a key
            self._senders_of.clear()
            self._chats_of.clear()
        self._senders_of[term] = (ids, names)
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

        SQL applies the filters; each row is tested for the words here (`RowTest`). The rows
        come from the smallest source: a narrow `in:`/`from:` filter or the FTS index's list
        of a rare word (at most `_FEW` messages, sorted by date), else a walk over every message
        newest first (index messages_date), which fills the page within a few hundred rows
        when the words are common. A prefix being typed ("ba") walks first: FTS5 lists every word
        a prefix starts and merges their whole lists (the index has no prefix index), which costs
        more than the walk for a common one.
        """
        if query.empty:
            return []
        with self._lock:
            self._ensure()
            self._stop = False
            self._running = True
            try:
                return self._find(query, limit)
            finally:
                self._running = False
                self._stop = False

    def _find(self, query: SearchQuery, limit: int) -> list[Hit]:
        """`find()` under the lock."""
        where, params = self._filters(query)
        test = self._row_test(query)
        small = self._narrow_filters(query)
        if small is not None:
            _, source, source_params = small
            return self._tested(self._rows(source, [*source_params, *params], where), test, limit)
        match = fts_match(tuple(test.text_only))
        probed = False
        typing = any(t.prefix for t in test.text_only)
        if match is not None and not typing:
            probed = True
            found = [r[0] for r in self._db.execute(_FTS_PROBE, (match, _FEW + 1))]
            if len(found) <= _FEW:
                return self._tested(self._by_seq(found, where, params), test, limit)
            # The probe read the matches in seq order: how far it got tells how dense they are.
            sparse = len(found) / (found[-1] - found[0] + 1) < limit / _WALK_FIRST
            if sparse and len(test.text_only) == len(query.terms):
                listed = {r[0] for r in self._db.execute(_FTS_PROBE, (match, _SET + 1))}
                if len(listed) <= _SET:
                    return self._members(listed, where, params, limit)
        walked = self._tested(self._walk(where, params), test, limit, _WALK_FIRST)
        if len(walked) >= limit:
            return walked
        if match is not None:
            if not probed:
                found = [r[0] for r in self._db.execute(_FTS_PROBE, (match, _FEW + 1))]
                if len(found) <= _FEW:
                    return self._tested(self._by_seq(found, where, params), test, limit)
            if len(test.text_only) == len(query.terms):
                listed = {r[0] for r in self._db.execute(_FTS_PROBE, (match, _SET + 1))}
                if len(listed) <= _SET:
                    return self._members(listed, where, params, limit)
        return self._tested(self._walk(where, params), test, limit)

    def _by_seq(self, seqs: list[int], where: list[str], params: list[Any]) -> sqlite3.Cursor:
        """A cursor over these messages meeting `where`, newest first."""
        return self._rows(_BY_SEQ, [_json(seqs), *params], where)

    def _members(
        self, seqs: set[int], where: list[str], params: list[Any], limit: int
    ) -> list[Hit]:
        """The newest `limit` messages meeting `where` whose seq is in `seqs`, walking the
        date index alone: (date, chat, sender) and the seq are in it, so only the members' rows
        are read, to leave out service messages."""
        covered = [condition for condition in where if condition != "m.service = 0"]
        walk = self._db.execute(
            "SELECT m.seq, m.date FROM messages AS m INDEXED BY messages_date "
            f"{'WHERE ' + ' AND '.join(covered) if covered else ''} ORDER BY m.date DESC",
            params,
        )
        kept: list[int] = []
        last_date: int | None = None
        while True:
            self._check_stop(walk)
            batch = walk.fetchmany(_SET_STEP)
            if not batch:
                break
            found = [(seq, date) for seq, date in batch if seq in seqs]
            texts = {
                row[0]
                for row in self._db.execute(
                    "SELECT seq FROM messages WHERE seq IN (SELECT value FROM json_each(?)) "
                    "AND service = 0",
                    (_json(seq for seq, _ in found),),
                )
            }
            full = False
            for seq, date in found:
                if seq not in texts:
                    continue
                if len(kept) >= limit and date != last_date:
                    full = True  # ties on the last date are all kept, `_page` orders them
                    break
                kept.append(seq)
                last_date = date
            if full:
                break
        walk.close()
        return self._page(kept)[:limit]

    def _row_test(self, query: SearchQuery) -> RowTest:
        """What each row must pass: every word in its body, sender name or chat title."""
        checks = []
        text_only = []
        for term in query.terms:
            chats = set(self._chats_matching(term))
            ids, names = self._senders_matching(term)
            if not (chats or ids or names):
                text_only.append(term)
            checks.append((text_matcher((term,)), chats, ids, names))
        return RowTest(checks, text_only)

    def _filters(self, query: SearchQuery) -> tuple[list[str], list[Any]]:
        """SQL conditions and their parameters for `in:`, `from:` and the dates."""
        where: list[str] = ["m.service = 0"]
        params: list[Any] = []
        for term in query.chats:
            where.append("m.chat_id IN (SELECT value FROM json_each(?))")
            params.append(_json(self._chats_matching(term)))
        for term in query.senders:
            ids, names = self._senders_matching(term)
            where.append(self._sender_clause(ids, names, params))
        if query.after is not None:
            where.append("m.date >= ?")
            params.append(query.after)
        if query.before is not None:
            where.append("m.date < ?")
            params.append(query.before)
        return where, params

    def _tested(
        self, rows: sqlite3.Cursor, test: RowTest, limit: int, most: int | None = None
    ) -> list[Hit]:
        """The first `limit` rows passing `test`, reading at most `most` rows (None: all), and
        fewer when those read so far say the page would not fill within `most`."""
        kept: list[int] = []
        read = 0
        while len(kept) < limit and (most is None or read < most):
            self._check_stop(rows)
            batch = rows.fetchmany(_WALK_STEP)
            if not batch:
                break
            read += len(batch)
            kept += [row[0] for row in batch if test(row)][: limit - len(kept)]
            if most is not None and len(kept) < limit and len(kept) * most < limit * read:
                break  # too few matches for the rows read: the FTS index is the quicker way
        rows.close()
        return self._page(kept)

    def _page(self, kept: list[int]) -> list[Hit]:
        """The messages of these seqs as hits, newest first."""
        found = self._db.execute(
            f"SELECT {MESSAGE_COLS_M} FROM json_each(?) AS j JOIN messages AS m "
            "ON m.seq = j.value ORDER BY m.date DESC, m.id DESC",
            (_json(kept),),
        ).fetchall()
        return self._hits(found)

    def _walk(self, where: list[str], params: list[Any]) -> sqlite3.Cursor:
        """A cursor over the messages meeting `where`, newest first, read as it is fetched."""
        return self._rows("messages AS m INDEXED BY messages_date", params, where)

    def _rows(self, source: str, params: list[Any], where: list[str]) -> sqlite3.Cursor:
        """A cursor over `source`'s messages meeting `where`, newest first (`_WALK_COLS`)."""
        return self._db.execute(
            f"SELECT {_WALK_COLS} FROM {source} WHERE {' AND '.join(where)} "
            "ORDER BY m.date DESC, m.id DESC",
            params,
        )

    def _narrow_filters(self, query: SearchQuery) -> tuple[int, str, list[Any]] | None:
        """The narrowest `in:`/`from:` filter as a source of its own messages, if one holds at
        most `_FEW` of them (None: walk by date instead)."""
        small: list[tuple[int, str, list[Any]]] = []
        for term in query.chats:
            chats = self._chats_matching(term)
            small.append(self._bounded("chat_id IN (SELECT value FROM json_each(?))", chats))
        for term in query.senders:
            ids, names = self._senders_matching(term)
            if not names:
                small.append(self._bounded("sender_id IN (SELECT value FROM json_each(?))", ids))
        fitting = [entry for entry in small if entry[0] <= _FEW]
        return min(fitting, key=lambda entry: entry[0]) if fitting else None

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
        with self._lock:
            self._ensure()
            rows = self._db.execute(
                f"SELECT {MESSAGE_COLS_M} FROM messages AS m INDEXED BY messages_sender_date "
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
            f"SELECT {MESSAGE_COLS_M} FROM messages AS m WHERE m.chat_id = ? AND m.id >= ? "
            "ORDER BY m.id LIMIT ?",
            (chat_id, message_id if first is None else first, limit),
        ).fetchall()
        return [message_from_row(row) for row in rows]

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
        with self._lock:
            hits = self.history(sender_id, limit)
            rows = self.chat_rows({hit.message.chat_id for hit in hits})
        waits = customer_waits(rows, staff, now)
        return [(hit, waits.get((hit.message.chat_id, hit.message.id))) for hit in hits]

    def _ensure(self) -> None:
        """Load titles and names on first use."""
        if not self._loaded:
            self._read_names()

    def _hits(self, rows: Sequence[MessageRow]) -> list[Hit]:
        """Rows as hits named by chat title and sender."""
        hits = []
        for row in rows:
            message = message_from_row(row)
            title = self._titles.get(message.chat_id, str(message.chat_id))
            name = message.sender_name
            if message.sender_id is not None:
                name = self._names.get(message.sender_id) or name
            hits.append(Hit(message, title, name or "unknown"))
        return hits
