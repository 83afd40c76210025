"""Opening the desk's store when it may be damaged: checked in full, rebuilt with the marks kept.

The full `PRAGMA quick_check` reads every page, so it runs on a thread (StoreCheck) while the
desk imports its screen. A damaged store is never just moved aside: the desk's own marks
(notes, statuses, tags, slots, drafts, unsent replies, template use) are read out of it first
and written to a JSON file next to it, the damaged file is moved aside, and the marks are put
into the fresh store — only the cache of Telegram is rebuilt.

A desk that finds its store damaged while it runs saves its marks from memory (the most
complete copy) to such a file itself, marked `"from": "memory"`. The next open rebuilds the
store and reads the newest of those back over what it salvages, then marks them restored.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..system.paths import open_private_fd
from .integrity import FOREIGN, inspect_existing, read_only
from .store import CorruptStoreError, ForeignStoreError, Store, quarantine

# The desk's own marks, by table: the columns that are the engineer's (the triage table's other
# columns are derived from messages and come back with them). The newest message id and the
# read marks come along: history the source sends again after a rebuild is then known as old,
# so it is re-derived (core/rules/triage.py `derive`, which keeps a closed or postponed chat so)
# instead of being taken as new customer messages that reopen it.
MARK_COLUMNS: dict[str, tuple[str, ...]] = {
    "triage": (
        "chat_id",
        "last_msg_id",
        "read_inbox_max",
        "read_outbox_max",
        "alerted_level",
        "status",
        "postponed_until",
        "ticket",
        "due",
        "reopened",
        "levels_override",
        "handled_upto",
        "unread_mark",
    ),
    "notes": ("id", "chat_id", "date", "author", "text", "after_msg_id"),
    "chat_tags": ("chat_id", "tag"),
    "slots": ("slot", "chat_id"),
    "drafts": ("chat_id", "text", "updated"),
    "note_drafts": ("chat_id", "text", "updated"),
    "outbox": (
        "local_id",
        "chat_id",
        "random_id",
        "text",
        "reply_to",
        "state",
        "error",
        "created",
        "sent_id",
    ),
    "template_usage": ("key", "count", "last_used"),
}
Marks = dict[str, list[dict[str, Any]]]


def check_store(path: Path) -> str | None:
    """What is wrong with tgtriage's store at `path` (read-only full check), or None.

    None also for a missing, empty, foreign or newer file, and when SQLite cannot read it for
    another reason: Store.open refuses those itself with the right one line.
    """
    try:
        finding = inspect_existing(path, full=True)
    except (sqlite3.Error, OSError):
        return None
    return None if finding == FOREIGN else finding


class StoreCheck:
    """The full check of a store, running on its own thread from construction."""

    def __init__(self, path: Path) -> None:
        """Start checking `path` (SQLite releases the GIL while it reads pages)."""
        self.path = path
        self._problem: str | None = None
        self._thread = threading.Thread(target=self._run, name="store-check", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        """Record the check's finding."""
        self._problem = check_store(self.path)

    def result(self) -> str | None:
        """Wait for the check; the problem found, or None."""
        self._thread.join()
        return self._problem


def salvage_marks(path: Path) -> Marks:
    """Every mark row still readable in the (damaged) store at `path`, table by table."""
    marks: Marks = {table: [] for table in MARK_COLUMNS}
    try:
        db = read_only(path)
    except sqlite3.Error:
        return marks
    try:
        for table, columns in MARK_COLUMNS.items():
            marks[table] = _readable_rows(db, table, columns)
    finally:
        db.close()
    return marks


def _readable_rows(
    db: sqlite3.Connection, table: str, columns: tuple[str, ...]
) -> list[dict[str, Any]]:
    """The rows of `table` read before the first damaged page (its columns that exist)."""
    rows: list[dict[str, Any]] = []
    try:
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        wanted = [c for c in columns if c in present]
        if not wanted:
            return rows
        cursor = db.execute(f"SELECT {', '.join(wanted)} FROM {table}")
        while True:
            row = cursor.fetchone()
            if row is None:
                break
            rows.append(dict(zip(wanted, row, strict=True)))
    except (sqlite3.DatabaseError, UnicodeDecodeError):
        pass  # the rest of the table sits on damaged pages
    return rows


MEMORY = "memory"  # the "from" of a marks file the running desk saved from its live state


def write_marks(
    path: Path,
    marks: Marks,
    stamp: str,
    *,
    origin: str = "store",
    replace: Path | None = None,
    restored: str | None = None,
) -> Path:
    """Save `marks` as JSON next to the store (0600, a new file, or atomically over `replace`);
    return its path. `origin` says where they were read ("store", or MEMORY)."""
    if replace is None:
        target = path.with_name(f"{path.name}.marks-{stamp}.json")
        n = 1
        while target.exists():
            target = path.with_name(f"{path.name}.marks-{stamp}-{n}.json")
            n += 1
        written = target
    else:
        target = replace
        written = replace.with_name(f".{replace.name}.{os.getpid()}.tmp")
    content: dict[str, Any] = {"store": str(path), "from": origin, "saved": stamp, "marks": marks}
    if restored is not None:
        content["restored"] = restored
    fd = open_private_fd(written, os.O_WRONLY | os.O_EXCL)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(content, out, ensure_ascii=False, indent=1)
        out.flush()
        os.fsync(out.fileno())
    if written != target:
        os.replace(written, target)
    return target


def pending_memory_marks(path: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Marks files a running desk saved from memory for the store at `path` and no rebuild
    has read back yet, oldest first (by when they were saved)."""
    found: list[tuple[str, Path, dict[str, Any]]] = []
    for candidate in path.parent.glob(f"{path.name}.marks-*.json"):
        try:
            content = json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if (
            isinstance(content, dict)
            and content.get("from") == MEMORY
            and "restored" not in content
            and isinstance(content.get("marks"), dict)
        ):
            found.append((str(content.get("saved", "")), candidate, content))
    found.sort(key=lambda entry: (entry[0], entry[1].stat().st_mtime_ns))
    return [(candidate, content) for _, candidate, content in found]


def merged_marks(salvaged: Marks, memory: Marks) -> Marks:
    """The salvaged marks with every table the desk's memory holds taken from memory instead
    (the memory copy is newer: the desk stopped writing the store when it found it damaged)."""
    merged = dict(salvaged)
    for table, rows in memory.items():
        if table in MARK_COLUMNS and isinstance(rows, list):
            merged[table] = [row for row in rows if isinstance(row, dict)]
    return merged


def restore_marks(path: Path, marks: Marks) -> int:
    """Put saved marks into the (fresh) store at `path` in one transaction; the rows written."""
    written = 0
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        for table, rows in marks.items():
            allowed = MARK_COLUMNS.get(table, ())
            for row in rows:
                columns = [c for c in row if c in allowed]
                if not columns:
                    continue
                cursor = db.execute(
                    f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)})",
                    [row[c] for c in columns],
                )
                written += max(cursor.rowcount, 0)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    finally:
        db.close()
    return written


@dataclass(frozen=True)
class Rebuilt:
    """What happened to a damaged store: where it went and where its marks were saved."""

    path: Path
    problem: str
    moved_to: Path
    marks_file: Path
    marks: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        """One line for the engineer naming the files and what was kept."""
        kept = sum(self.marks.values())
        problem = " ".join(self.problem.split())
        return (
            f"{self.path}: the store was damaged ({problem}); moved to {self.moved_to.name}. "
            f"Kept {kept} marks — notes, statuses, tags, slots, drafts, unsent replies — (saved "
            f"to {self.marks_file.name}); the chats reload from their source"
        )


async def open_recovering(
    path: Path, check: StoreCheck | None = None, *, clock: Callable[[], float] = time.time
) -> tuple[Store, Rebuilt | None]:
    """Open the store, first rebuilding it (marks kept) when the check or the open finds damage.

    A foreign or newer file is refused (its error propagates) and never moved.
    """
    path = Path(path)
    problem = check.result() if check is not None else check_store(path)
    if problem is None and pending_memory_marks(path):
        problem = "found damaged while the desk ran"
    if problem is None:
        try:
            return await Store.open(path, clock=clock), None
        except ForeignStoreError:
            raise
        except CorruptStoreError as error:
            problem = str(error).split("; ")[0].removeprefix(f"{path}: ").removeprefix("damaged ")
    return await _rebuild(path, problem, clock)


async def _rebuild(path: Path, problem: str, clock: Callable[[], float]) -> tuple[Store, Rebuilt]:
    """Save the marks, move the damaged store aside, start a fresh one and put the marks back.

    The newest marks file the desk saved from memory is read over the salvaged marks.
    """
    marks = salvage_marks(path)
    pending = pending_memory_marks(path)
    if pending:
        marks = merged_marks(marks, pending[-1][1]["marks"])
    stamp = time.strftime("%Y%m%d-%H%M%S")
    marks_file = write_marks(path, marks, stamp)
    moved = quarantine(path)
    fresh = await Store.open(path, clock=clock)
    await fresh.close()
    restore_marks(path, marks)
    for candidate, content in pending:  # read back (the older ones superseded): not again
        write_marks(
            path,
            content["marks"],
            str(content.get("saved", stamp)),
            origin=MEMORY,
            replace=candidate,
            restored=stamp,
        )
    store = await Store.open(path, clock=clock)
    counts = {table: len(rows) for table, rows in marks.items()}
    return store, Rebuilt(path, problem, moved, marks_file, counts)
