"""The desk's one SQLite file: a cache of Telegram plus the engineer's own marks.

Everything here is async (aiosqlite runs SQLite on its own thread), batch-friendly and does one
transaction per call. Deleting the file loses no conversation — the desk rebuilds the cache from
Telegram — only local marks such as drafts, notes, statuses and unsent replies.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType

import aiosqlite

from ..desk.models import ChatTriage, Message, Note
from ..system.paths import (
    UnsafePathError,
    ensure_private_dir,
    make_private_file,
    refuse_link,
    tighten_private_file,
)
from .integrity import (
    FOREIGN,
    SQLITE_BUSY_OR_LOCKED,
    SQLITE_CORRUPT,
    SQLITE_FULL,
    SQLITE_IOERR,
    SQLITE_NO_WRITE,
    SQLITE_NOTADB,
    inspect_existing,
    sqlite_primary_code,
)
from .marks import DeskMarks, replace_triage
from .messages import CHANNEL_ID_FLOOR, MessageQueries
from .rows import fts_query, triage_params
from .schema import APPLICATION_ID, LATEST, MIGRATIONS

__all__ = [
    "CHANNEL_ID_FLOOR",
    "CorruptStoreError",
    "ForeignStoreError",
    "NewerSchemaError",
    "Note",
    "Store",
    "StoreError",
    "fts_query",
    "quarantine",
]

SQLITE_HEADER = b"SQLite format 3\x00"
_SIDE_FILES = ("-wal", "-shm", "-journal")


class StoreError(Exception):
    """The store cannot be used; the message is one line naming the file and the fix."""

    def __init__(self, path: Path, message: str) -> None:
        """Keep the offending file's path next to the one-line message."""
        super().__init__(message)
        self.path = path


class CorruptStoreError(StoreError):
    """The file is damaged or is not tgtriage's; `quarantine()` it and the desk rebuilds it."""


class ForeignStoreError(CorruptStoreError):
    """The file is another program's SQLite database: refused untouched, never moved aside."""


class NewerSchemaError(StoreError):
    """The file was written by a newer tgtriage whose schema this version does not know."""


# --- files --------------------------------------------------------------------------------


def _side_file(path: Path, suffix: str) -> Path:
    """SQLite's companion file of `path` (`-wal`, `-shm`, `-journal`)."""
    return path.with_name(path.name + suffix)


def _restrict_side_files(path: Path) -> None:
    """Make the -wal/-shm/-journal files that exist 0600, like the database itself."""
    for suffix in _SIDE_FILES:
        tighten_private_file(_side_file(path, suffix))


def quarantine(path: Path) -> Path:
    """Move a damaged store (and its -wal/-shm) aside to `<name>.corrupt-<timestamp>`; return it.

    Nothing is deleted: the bytes stay next to the original for inspection, and a fresh store is
    created at `path` on the next open.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    if path.exists():
        os.replace(path, target)
    for suffix in _SIDE_FILES:
        side = _side_file(path, suffix)
        if side.exists():
            os.replace(side, _side_file(target, suffix))
    return target


def _corrupt(path: Path, what: str) -> CorruptStoreError:
    """The one-line error for a damaged or foreign database file."""
    return CorruptStoreError(
        path,
        f"{path}: {what}; the desk rebuilds it when it next starts, keeping your notes, "
        "statuses, tags, drafts and unsent replies",
    )


def _foreign(path: Path) -> ForeignStoreError:
    """The one-line refusal of another program's SQLite database."""
    return ForeignStoreError(
        path,
        f"{path}: a SQLite database of another program, not tgtriage's; left untouched — "
        "point TGTRIAGE_DATA_DIR elsewhere or move that file",
    )


def _from_sqlite_error(path: Path, error: sqlite3.Error) -> StoreError:
    """Translate a sqlite3 error raised while opening `path` into a one-line StoreError."""
    code = sqlite_primary_code(error)
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return _corrupt(path, f"damaged or not a SQLite database ({error})")
    if code in SQLITE_BUSY_OR_LOCKED:
        return StoreError(
            path, f"{path}: database is locked ({error}); is another tgtriage running on it?"
        )
    if code == SQLITE_FULL:
        return StoreError(path, f"{path}: the disk is full ({error}); free some space and retry")
    if code == SQLITE_IOERR:
        return StoreError(
            path,
            f"{path}: the disk reported an I/O error ({error}); check its free space and health",
        )
    if code in SQLITE_NO_WRITE:
        return StoreError(
            path,
            f"{path}: cannot write the store ({error}); check the file's and folder's permissions "
            "and whether the disk is mounted read-only",
        )
    return StoreError(
        path,
        f"{path}: cannot open the store ({error}); please report this tgtriage bug, or move the "
        "file aside to start a fresh store",
    )


def _check_header(path: Path) -> None:
    """Refuse an existing non-empty file that does not start with SQLite's magic header."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as error:
        raise StoreError(
            path, f"{path}: cannot read the store ({error.strerror}); check its permissions"
        ) from error
    if head and head != SQLITE_HEADER:
        raise _corrupt(path, "not a SQLite database (wrong header)")


def _inspect_before_writing(path: Path) -> None:
    """Refuse a foreign or damaged existing store before the desk's connection writes to it."""
    try:
        finding = inspect_existing(path)
    except sqlite3.Error as error:
        raise _from_sqlite_error(path, error) from error
    if finding == FOREIGN:
        raise _foreign(path)
    if finding is not None:
        raise _corrupt(path, f"damaged ({finding})")


# --- the store ----------------------------------------------------------------------------


class Store(MessageQueries, DeskMarks):
    """One open SQLite store; create it with `await Store.open(path)` and `close()` it.

    Messages, chats and users are core/storage/messages.py; the engineer's marks (triage,
    drafts, outbox, slots, notes, tags, alerts, meta) core/storage/marks.py.
    """

    # a slice of events, written at once --------------------------------------------------

    async def save_slice(self, messages: Sequence[Message], items: Iterable[ChatTriage]) -> None:
        """Store new messages and the summaries they changed in one transaction, so the
        store never holds messages without the summaries that counted them."""
        rows = [triage_params(t) for t in items]
        async with self._transaction() as db:
            if messages:
                await self._insert_messages(db, messages)
            if rows:
                await replace_triage(db, rows)

    # lifetime ---------------------------------------------------------------------------

    @classmethod
    async def open(cls, path: Path, *, clock: Callable[[], float] = time.time) -> Store:
        """Open (creating and migrating as needed) the store at `path`; folder 0700, files 0600.

        Raises CorruptStoreError for a damaged or foreign file, NewerSchemaError for a file from
        a newer tgtriage, and StoreError for anything else that stops it opening.
        """
        path = Path(path)
        try:
            ensure_private_dir(path.parent)
            for suffix in ("", *_SIDE_FILES):  # SQLite opens its side files following links
                refuse_link(_side_file(path, suffix))
            _check_header(path)
            make_private_file(path)
        except UnsafePathError as error:
            raise StoreError(path, str(error)) from error
        except OSError as error:
            raise StoreError(
                path, f"{path}: cannot create the store ({error.strerror}); check the folder"
            ) from error
        _inspect_before_writing(path)
        try:
            db = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as error:
            raise _from_sqlite_error(path, error) from error
        store = cls(path, db, clock)
        try:
            await store._setup()
        except BaseException:
            await db.close()
            raise
        return store

    @classmethod
    async def open_or_quarantine(
        cls, path: Path, *, clock: Callable[[], float] = time.time
    ) -> tuple[Store, Path | None]:
        """Open the store; if it is damaged, move it aside and start a fresh one.

        Returns the store and where the damaged file went (None when nothing was moved), so the
        caller can tell the engineer the desk is rebuilding from Telegram. A store from a newer
        tgtriage is never moved: NewerSchemaError propagates.
        """
        path = Path(path)
        try:
            return await cls.open(path, clock=clock), None
        except ForeignStoreError:
            raise
        except CorruptStoreError:
            moved = quarantine(path)
        return await cls.open(path, clock=clock), moved

    async def close(self) -> None:
        """Close the connection (idempotent); the WAL is checkpointed by SQLite on close."""
        await self._db.close()

    async def __aenter__(self) -> Store:
        """Use the store as `async with await Store.open(path) as store:`."""
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close on leaving the block."""
        await self.close()

    async def _setup(self) -> None:
        """Set the connection's pragmas and bring the schema up to date."""
        try:
            await self._db.execute_fetchall("PRAGMA journal_mode = WAL")
            await self._db.execute("PRAGMA synchronous = NORMAL")
            await self._db.execute("PRAGMA foreign_keys = ON")
            await self._db.execute("PRAGMA busy_timeout = 5000")
            await self._db.execute("PRAGMA temp_store = MEMORY")
            await self._db.execute("PRAGMA cache_size = -16000")  # up to 16 MB, grown on use
            await self._migrate()
        except sqlite3.Error as error:
            raise _from_sqlite_error(self.path, error) from error
        _restrict_side_files(self.path)

    async def _migrate(self) -> None:
        """Apply the missing schema steps in order, each in its own transaction."""
        version = await self._scalar("PRAGMA user_version")
        if version > LATEST:
            raise NewerSchemaError(
                self.path,
                f"{self.path}: written by a newer tgtriage (store schema v{version}, this version "
                f"knows v{LATEST}); upgrade tgtriage (pip install -U tgtriage)",
            )
        if version == 0:
            if await self._scalar("SELECT count(*) FROM sqlite_master"):
                raise _foreign(self.path)
        elif await self._scalar("PRAGMA application_id") != APPLICATION_ID:
            raise _foreign(self.path)
        while version < LATEST:
            head = f"PRAGMA application_id = {APPLICATION_ID};\n" if version == 0 else ""
            script = (
                f"BEGIN IMMEDIATE;\n{head}{MIGRATIONS[version]}\n"
                f"PRAGMA user_version = {version + 1};\nCOMMIT;"
            )
            try:
                await self._db.executescript(script)
            except sqlite3.Error:
                if self._db.in_transaction:
                    await self._db.execute("ROLLBACK")
                now = await self._scalar("PRAGMA user_version")
                if now > version:  # another process migrated it meanwhile
                    version = now
                    continue
                raise
            version += 1
