"""Checks of an existing store file made before anything writes to it, and SQLite's error codes.

Everything here reads through a read-only connection, so a foreign or damaged file is left
exactly as it was. core/storage/store.py turns the findings into one-line errors;
core/storage/recovery.py runs the full check and rebuilds a damaged store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from .schema import APPLICATION_ID, LATEST

SQLITE_CORRUPT = 11
SQLITE_NOTADB = 26
SQLITE_BUSY_OR_LOCKED = (5, 6)
SQLITE_FULL = 13
SQLITE_IOERR = 10
SQLITE_NO_WRITE = (3, 8, 14)  # PERM, READONLY, CANTOPEN
FOREIGN = "foreign"
# The message cache's bulk (most of a big file's pages): left to the full check, which
# core/storage/recovery.py runs on a thread beside the desk's start-up.
BULK_CACHE_TABLES = ("messages", "messages_fts_data", "messages_fts_docsize")


def sqlite_primary_code(error: BaseException) -> int | None:
    """SQLite's primary result code of `error` (extended codes such as IOERR_SHMSIZE folded)."""
    code = getattr(error, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to the database file at `path`."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def inspect_existing(path: Path, *, full: bool = False) -> str | None:
    """FOREIGN, a damage description, or None (missing, empty, fine, or newer: left to migrate).

    Checks the application id and schema, then `PRAGMA quick_check` over every table but the
    bulk of the message cache (all of them when `full`). Other SQLite failures propagate.
    """
    try:
        if path.stat().st_size == 0:
            return None
    except FileNotFoundError:
        return None
    db = read_only(path)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        owner = db.execute("PRAGMA application_id").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if (version == 0 and tables) or (version and owner != APPLICATION_ID):
            return FOREIGN
        if version > LATEST or not tables:
            return None
        return quick_check(db, skip=() if full else BULK_CACHE_TABLES)
    except UnicodeDecodeError:
        return "unreadable schema text"
    except sqlite3.DatabaseError as error:
        if sqlite_primary_code(error) in (SQLITE_CORRUPT, SQLITE_NOTADB):
            return str(error)
        raise
    finally:
        db.close()


def quick_check(db: sqlite3.Connection, skip: Iterable[str] = ()) -> str | None:
    """The first problem `PRAGMA quick_check` finds (tables in `skip` left out), else None.

    The FTS probe builds the search table, which a damaged schema row breaks while every page
    still passes the check.
    """
    skipped = set(skip)
    tables = [
        name
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if name not in skipped and not name.startswith("sqlite_")
    ]
    checks: list[str | None] = list(tables) if skipped else [None]
    for table in checks:
        if table is None:
            sql = "PRAGMA quick_check(1)"
        else:
            sql = "PRAGMA quick_check('{}')".format(table.replace("'", "''"))
        found = [row[0] for row in db.execute(sql)]
        if found != ["ok"]:
            return " ".join(str(found[0]).replace("*** in database main ***", "").split())
    if "messages_fts" in tables:
        db.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'probe' LIMIT 1")
    return None
