"""The report's reads of a store file: a read-only connection, the chats packed in one pass.

`tgtriage report` reads every message of the store. Turning 2,000,000 rows into Python tuples
alone costs seconds, so the store does the per-message work in SQLite: it classifies each
message (staff, customer; service messages and ignored senders left out), walks the
`messages_chat_date` index (which carries every column this needs, core/storage/schema.py v8)
and packs each chat into a few strings — the roles one letter per message, the dates and ids
comma-separated — that core/reports/packed.py reads with C-speed string functions, parsing
only the numbers it needs.

"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..reports.packed import PackedChat
from .rows import json_list

QUARTER = 900  # seconds; zone offsets change on quarter-hour boundaries
_NAME_CHUNK = 400  # (chat id, id) pairs per name query
# The bound names of the classification; a message is staff when listed or (optionally) sent
# by the account itself, and counts at all when it is no service message and not ignored.
_STAFF = (
    "CASE WHEN sender_id IN (SELECT value FROM json_each(:staff)) THEN 1 "
    "WHEN :out_is_staff AND out THEN 1 ELSE 0 END"
)
_IN_CHATS = "chat_id IN (SELECT value FROM json_each(:chats)) AND date <= :limit AND service = 0"
_NOT_IGNORED = "(sender_id IS NULL OR sender_id NOT IN (SELECT value FROM json_each(:ignore)))"
_FLOOR_QUARTER = (
    f"CASE WHEN date >= 0 THEN date / {QUARTER} ELSE (date - {QUARTER - 1}) / {QUARTER} END"
)


def packed_sql(*, ignoring: bool) -> str:
    """The one pass over the chats: per chat its roles, dates, ids and senders.

    SQLite feeds an aggregate the rows of a group in the order it reads them: with the index
    named and GROUP BY on its first column that is (chat_id, date, id) — tests check that the
    plan reads that index alone and sorts nothing. Every value is packed as text (cheaper than
    JSON on both sides); the ignore test costs a fifth of the pass, so it is left out when no
    one is ignored.
    """
    where = f"{_IN_CHATS} AND {_NOT_IGNORED}" if ignoring else _IN_CHATS
    return (
        "SELECT chat_id, group_concat(CASE WHEN staff THEN 's' ELSE 'c' END, ''), "
        "group_concat(date), group_concat(id), "
        "group_concat(ifnull(sender_id, '')) "
        f"FROM (SELECT chat_id, date, id, sender_id, {_STAFF} AS staff "
        f"FROM messages INDEXED BY messages_chat_date WHERE {where}) "
        "GROUP BY chat_id"
    )


_LOAD_DATES_SQL = (
    "SELECT date FROM messages INDEXED BY messages_chat_date "
    f"WHERE {_IN_CHATS} AND {_NOT_IGNORED} AND date >= :first AND {_STAFF} = 0 "
    f"AND {_FLOOR_QUARTER} = :quarter"
)


def open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to the store at `path`, tuned for one long sequential read."""
    db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    try:
        db.execute("PRAGMA query_only = ON")
        db.execute("PRAGMA busy_timeout = 5000")
        db.execute("PRAGMA mmap_size = 1073741824")  # read the file's pages in place
        db.execute("PRAGMA cache_size = -65536")  # up to 64 MB of pages that mmap does not hold
        db.execute("PRAGMA temp_store = MEMORY")
    except BaseException:
        db.close()
        raise
    return db


class ReportScan:
    """The counted messages of some chats up to a limit, for one staff classification."""

    def __init__(
        self,
        db: sqlite3.Connection,
        *,
        chat_ids: Sequence[int],
        staff_ids: Collection[int],
        out_is_staff: bool,
        ignore: Collection[int],
        limit: int,
    ) -> None:
        """Bind the query's parameters: messages in `chat_ids` with `date <= limit`."""
        self._db = db
        self._params: dict[str, Any] = {
            "chats": json_list(chat_ids),
            "staff": json_list(sorted(staff_ids)),
            "out_is_staff": int(out_is_staff),
            "ignore": json_list(sorted(ignore)),
            "limit": limit,
        }
        self._ignoring = bool(ignore)

    def packed_chats(self) -> Iterator[PackedChat]:
        """Each chat with counted messages, by chat id, packed (see core/reports/packed.py)."""
        rows = self._db.execute(packed_sql(ignoring=self._ignoring), self._params)
        for chat_id, roles, dates, ids, senders in rows:
            yield PackedChat(chat_id, roles, dates.split(","), ids.split(","), senders.split(","))

    def customer_dates(self, first: int, quarter: int) -> list[int]:
        """The dates of the customer messages (from `first` on) in one quarter hour."""
        params = {**self._params, "first": first, "quarter": quarter}
        return [date for (date,) in self._db.execute(_LOAD_DATES_SQL, params)]

    def sender_names(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], str]:
        """The sender name of each (chat id, message id) in `keys`."""
        names: dict[tuple[int, int], str] = {}
        for start in range(0, len(keys), _NAME_CHUNK):
            chunk = keys[start : start + _NAME_CHUNK]
            values = ", ".join(["(?, ?)"] * len(chunk))
            rows = self._db.execute(
                f"SELECT chat_id, id, sender_name FROM messages WHERE (chat_id, id) IN "
                f"(VALUES {values})",
                [part for key in chunk for part in key],
            )
            names.update(((chat_id, mid), name) for chat_id, mid, name in rows)
        return names

    def senders_present(self, sender_ids: Collection[int], until: int | None) -> set[int]:
        """Which of `sender_ids` wrote any message (of any kind) in the chats before `until`."""
        present: set[int] = set()
        for sender in sender_ids:
            row = self._db.execute(
                "SELECT 1 FROM messages WHERE sender_id = :sender AND "
                "chat_id IN (SELECT value FROM json_each(:chats)) "
                "AND (:until IS NULL OR date < :until) LIMIT 1",
                {"sender": sender, "chats": self._params["chats"], "until": until},
            ).fetchone()
            if row is not None:
                present.add(sender)
        return present
