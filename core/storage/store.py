"""The desk's one SQLite file: a cache of Telegram plus the engineer's own marks (DESIGN §2, §9).

Everything here is async (aiosqlite runs SQLite on its own thread), batch-friendly and does one
transaction per call. Deleting the file loses no conversation — the desk rebuilds the cache from
Telegram — only local marks such as drafts, notes, statuses and unsent replies.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import aiosqlite

from ..desk.models import (
    Chat,
    ChatTriage,
    Media,
    Message,
    Note,
    OutboxItem,
    OutboxState,
    Status,
    User,
)
from ..reports.report import ReportRow
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
from .schema import APPLICATION_ID, LATEST, MIGRATIONS

SQLITE_HEADER = b"SQLite format 3\x00"
# Marked chat ids at or below this are channels/supergroups (-100<id>); above it are users and
# basic groups, whose message ids are unique account-wide.
CHANNEL_ID_FLOOR = -1_000_000_000_000
SLOTS = range(1, 11)
_SIDE_FILES = ("-wal", "-shm", "-journal")
_FETCH_ROWS = 2_000  # rows per hop: keeps the work a consumer does between awaits short
_INSERT_CHUNK = 500  # rows per multi-row INSERT (12 parameters each, well under SQLite's limit)
_MAX_ID = 2**63 - 1


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


# --- row <-> model conversion -------------------------------------------------------------

_MESSAGE_COLS = (
    "chat_id, id, date, sender_id, sender_name, text, out, reply_to, edit_date, media, "
    "service, topic_id"
)
_MESSAGE_FIELDS = (
    "chat_id",
    "id",
    "date",
    "sender_id",
    "sender_name",
    "text",
    "out",
    "reply_to",
    "edit_date",
    "media",
    "service",
    "topic_id",
)
_MESSAGE_COLS_M = ", ".join(f"m.{name}" for name in _MESSAGE_FIELDS)
_TRIAGE_FIELDS = tuple(ChatTriage.model_fields)
_OUTBOX_COLS = "local_id, chat_id, random_id, text, reply_to, state, error, created, sent_id"
_new = object.__new__
_setattr = object.__setattr__
_MESSAGE_FIELD_SET = frozenset(Message.model_fields)


def _media_json(media: Media | None) -> str | None:
    """Media as compact JSON for its column (None stays NULL)."""
    return None if media is None else media.model_dump_json(exclude_none=True)


def _media_from_json(raw: str | None) -> Media | None:
    """The Media stored in a column, or None."""
    return None if raw is None else Media.model_validate_json(raw)


def _message_params(m: Message) -> tuple[Any, ...]:
    """A Message as the parameter tuple of an INSERT in `_MESSAGE_COLS` order."""
    return (
        m.chat_id,
        m.id,
        m.date,
        m.sender_id,
        m.sender_name,
        m.text,
        int(m.out),
        m.reply_to,
        m.edit_date,
        _media_json(m.media),
        int(m.service),
        m.topic_id,
    )


def _validated_message(row: Sequence[Any]) -> Message:
    """Build a Message from a row through pydantic validation (the safe, slower path)."""
    values = dict(zip(_MESSAGE_FIELDS, row, strict=True))
    values["media"] = _media_from_json(values["media"])
    return Message.model_validate(values)


def _trusted_message(
    row: Sequence[Any],
    _new: Callable[[type[Message]], Message] = _new,
    _setattr: Callable[[object, str, object], None] = _setattr,
    _fields: frozenset[str] = _MESSAGE_FIELD_SET,
    _media: Callable[[str], Media] = Media.model_validate_json,
) -> Message:
    """Build a Message from a row written by this module, skipping re-validation (~3x faster).

    The defaults bind globals as locals: this runs once per row, 200,000 times for a report.
    """
    (chat_id, id_, date, sender_id, sender_name, text, out, reply_to, edit_date, media, service,
     topic_id) = row  # fmt: skip
    msg = _new(Message)
    _setattr(
        msg,
        "__dict__",
        {
            "chat_id": chat_id,
            "id": id_,
            "date": date,
            "sender_id": sender_id,
            "sender_name": sender_name,
            "text": text,
            "out": out == 1,
            "reply_to": reply_to,
            "edit_date": edit_date,
            "media": None if media is None else _media(media),
            "service": service == 1,
            "topic_id": topic_id,
        },
    )
    _setattr(msg, "__pydantic_fields_set__", set(_fields))
    _setattr(msg, "__pydantic_extra__", None)
    _setattr(msg, "__pydantic_private__", None)
    return msg


def _trusted_path_works() -> bool:
    """Whether the fast constructor yields exactly what validation yields on this pydantic."""
    row = (-1001, 7, 1_700_000_000, 42, "Ann", "hi", 1, 3, None, '{"kind":"photo"}', 0, None)
    try:
        fast, safe = _trusted_message(row), _validated_message(row)
        return fast == safe and fast.model_dump() == safe.model_dump() and hash(fast) == hash(safe)
    except Exception:
        return False


_message_from_row: Callable[[Sequence[Any]], Message] = (
    _trusted_message if _trusted_path_works() else _validated_message
)


def _message_factory(_cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Message:
    """sqlite3 row factory: runs on the database thread, so conversion stays off the event loop."""
    return _message_from_row(row)


def _report_row_factory(_cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> ReportRow:
    """sqlite3 row factory for the narrow report query (runs on the database thread)."""
    return ReportRow._make(row)


def _topics(raw: str) -> tuple[tuple[int, str], ...]:
    """Forum topics as stored: JSON [[topic id, title], …]."""
    return tuple((int(t[0]), str(t[1])) for t in json.loads(raw))


def _validated_chat(row: Sequence[Any]) -> Chat:
    """A Chat from its table row, through validation."""
    id_, title, kind, username, folder_ids, topics = row
    return Chat(
        id=id_,
        title=title,
        kind=kind,
        username=username,
        folder_ids=tuple(json.loads(folder_ids)),
        topics=_topics(topics),
    )


_CHAT_SET = frozenset(("id", "title", "kind", "username", "folder_ids", "topics"))


def _trusted_chat(row: Sequence[Any]) -> Chat:
    """A Chat from a row this module wrote, without re-validating it (the desk loads 1,000)."""
    id_, title, kind, username, folder_ids, topics = row
    chat = _new(Chat)
    values = {
        "id": id_,
        "title": title,
        "kind": kind,
        "username": username,
        "folder_ids": tuple(json.loads(folder_ids)),
        "topics": _topics(topics),
    }
    _setattr(chat, "__dict__", values)
    _setattr(chat, "__pydantic_fields_set__", set(_CHAT_SET))
    _setattr(chat, "__pydantic_extra__", None)
    _setattr(chat, "__pydantic_private__", None)
    return chat


def _triage_params(t: ChatTriage) -> tuple[Any, ...]:
    """A ChatTriage as a parameter tuple in `_TRIAGE_FIELDS` order."""
    values = t.model_dump()
    values["status"] = t.status.value
    values["reopened"] = int(t.reopened)
    lo = t.levels_override
    values["levels_override"] = None if lo is None else json.dumps(list(lo))
    return tuple(values[name] for name in _TRIAGE_FIELDS)


def _triage_values(row: Sequence[Any]) -> dict[str, Any]:
    """A triage row as field values of the right types."""
    values = dict(zip(_TRIAGE_FIELDS, row, strict=True))
    lo = values["levels_override"]
    values["levels_override"] = None if lo is None else tuple(json.loads(lo))
    values["status"] = Status(values["status"])
    values["reopened"] = bool(values["reopened"])
    return values


def _validated_triage(row: Sequence[Any]) -> ChatTriage:
    """A ChatTriage from its table row, through validation."""
    return ChatTriage.model_validate(_triage_values(row))


def _trusted_triage(row: Sequence[Any]) -> ChatTriage:
    """A ChatTriage from a row this module wrote, without re-validating it."""
    state = _new(ChatTriage)
    _setattr(state, "__dict__", _triage_values(row))
    _setattr(state, "__pydantic_fields_set__", set(_TRIAGE_FIELDS))
    _setattr(state, "__pydantic_extra__", None)
    _setattr(state, "__pydantic_private__", None)
    return state


def _validated_user(row: Sequence[Any]) -> User:
    """A User from its table row, through validation."""
    id_, first, last, username, bot = row
    return User(id=id_, first_name=first, last_name=last, username=username, bot=bool(bot))


_USER_FIELDS = ("id", "first_name", "last_name", "username", "bot")


def _trusted_user(row: Sequence[Any]) -> User:
    """A User from a row this module wrote, without re-validating it."""
    id_, first, last, username, bot = row
    user = _new(User)
    values = {"id": id_, "first_name": first, "last_name": last, "username": username}
    values["bot"] = bool(bot)
    _setattr(user, "__dict__", values)
    _setattr(user, "__pydantic_fields_set__", set(_USER_FIELDS))
    _setattr(user, "__pydantic_extra__", None)
    _setattr(user, "__pydantic_private__", None)
    return user


def _same_models(fast: Any, safe: Any) -> bool:
    """Whether a trusted construction equals validation, field by field and in hash."""
    return fast == safe and fast.model_dump() == safe.model_dump() and hash(fast) == hash(safe)


def _trusted_rows_work() -> bool:
    """Whether the trusted chat, triage and user constructors match validation on this pydantic."""
    chat = (-1001, "Acme · Support", "forum", None, "[3, 4]", '[[7, "Billing"]]')
    user = (42, "Ann", "Lee", "ann", 0)
    state = tuple(
        {
            "chat_id": -1001,
            "status": "postponed",
            "reopened": 1,
            "levels_override": "[60, 120, 180]",
        }.get(name, ChatTriage.model_fields[name].default)
        for name in _TRIAGE_FIELDS
    )
    try:
        return (
            _same_models(_trusted_chat(chat), _validated_chat(chat))
            and _same_models(_trusted_user(user), _validated_user(user))
            and _same_models(_trusted_triage(state), _validated_triage(state))
        )
    except Exception:
        return False


_TRUSTED_ROWS = _trusted_rows_work()
_chat_from_row = _trusted_chat if _TRUSTED_ROWS else _validated_chat
_triage_from_row = _trusted_triage if _TRUSTED_ROWS else _validated_triage
_user_from_row = _trusted_user if _TRUSTED_ROWS else _validated_user


def _outbox_from_row(row: Sequence[Any]) -> OutboxItem:
    """An OutboxItem from its table row."""
    local_id, chat_id, random_id, text, reply_to, state, error, created, sent_id = row
    return OutboxItem(
        local_id=local_id,
        chat_id=chat_id,
        random_id=random_id,
        text=text,
        reply_to=reply_to,
        state=OutboxState(state),
        error=error,
        created=created,
        sent_id=sent_id,
    )


def _random_id() -> int:
    """A random signed 64-bit request id for Telegram's messages.sendMessage (never 0)."""
    while True:
        value = int.from_bytes(secrets.token_bytes(8), "big", signed=True)
        if value:
            return value


def fts_query(text: str) -> str | None:
    """Turn what the engineer typed into a safe FTS5 query: every word a quoted phrase, ANDed.

    Operators, brackets and quotes in the input are matched literally (never as FTS syntax); the
    last word also matches as a prefix. Returns None when nothing searchable is left.
    """
    terms = [
        '"' + word.replace('"', '""') + '"'
        for word in text.split()
        if any(ch.isalnum() for ch in word)
    ]
    if not terms:
        return None
    terms[-1] += "*"
    return " ".join(terms)


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


def _open_reader(path: Path) -> sqlite3.Connection:
    """A second, read-only connection for the synchronous reads the screen makes."""
    reader = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro",
        uri=True,
        isolation_level=None,
        check_same_thread=False,
    )
    reader.execute("PRAGMA busy_timeout = 200")
    return reader


def _json_list(values: Iterable[Any]) -> str:
    """A JSON array parameter for `IN (SELECT value FROM json_each(?))` of any length."""
    return json.dumps(list(values))


def _messages_where(
    since: int | None, until: int | None, chat_ids: Sequence[int] | None
) -> tuple[str, list[Any]]:
    """The WHERE clause (with a trailing space, or empty) and parameters of a messages query
    over `since <= date < until` in `chat_ids`, each bound optional."""
    where: list[str] = []
    params: list[Any] = []
    if since is not None:
        where.append("date >= ?")
        params.append(since)
    if until is not None:
        where.append("date < ?")
        params.append(until)
    if chat_ids is not None:
        where.append("chat_id IN (SELECT value FROM json_each(?))")
        params.append(_json_list(chat_ids))
    return (f"WHERE {' AND '.join(where)} " if where else ""), params


# --- the store ----------------------------------------------------------------------------


class Store:
    """One open SQLite store; create it with `await Store.open(path)` and `close()` it."""

    def __init__(self, path: Path, db: aiosqlite.Connection, clock: Callable[[], float]) -> None:
        """Wrap an open connection; use `Store.open` instead of calling this."""
        self.path = path
        self._db = db
        self._clock = clock
        self._write_lock = asyncio.Lock()
        self._reader: sqlite3.Connection | None = None

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
        if self._reader is not None:
            self._reader.close()
            self._reader = None
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
            self._reader = _open_reader(self.path)
        except sqlite3.Error as error:
            raise _from_sqlite_error(self.path, error) from error
        _restrict_side_files(self.path)

    async def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row of a query (None when there is no row)."""
        rows = list(await self._db.execute_fetchall(sql, params))
        return rows[0][0] if rows else None

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

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction (serialised between coroutines), rolled back on any error."""
        async with self._write_lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                await self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    await self._db.execute("ROLLBACK")
                raise

    async def _messages_query(self, sql: str, params: Sequence[Any]) -> list[Message]:
        """Run a query selecting `_MESSAGE_COLS` and convert its rows on the database thread."""
        cursor = await self._db.cursor()
        cursor.row_factory = _message_factory  # type: ignore[assignment]
        try:
            await cursor.execute(sql, params)
            return list(await cursor.fetchall())  # type: ignore[arg-type]
        finally:
            await cursor.close()

    def _now(self) -> int:
        """The store's clock as integer Unix seconds."""
        return int(self._clock())

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
        return [_chat_from_row(row) for row in rows]

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
        return {r[0]: _user_from_row(r) for r in rows}

    # messages ---------------------------------------------------------------------------

    async def add_messages(self, msgs: Sequence[Message]) -> list[Message]:
        """Insert messages, ignoring ones already stored; return only those that were new.

        The result keeps the input order (a message repeated within `msgs` counts once), which is
        how the Inbox avoids counting a message twice after a reconnect's catch-up.
        """
        if not msgs:
            return []
        by_key: dict[tuple[int, int], Message] = {}
        for m in msgs:
            by_key.setdefault((m.chat_id, m.id), m)
        unique = list(by_key.values())
        inserted: set[tuple[int, int]] = set()
        async with self._transaction() as db:
            for start in range(0, len(unique), _INSERT_CHUNK):
                chunk = unique[start : start + _INSERT_CHUNK]
                values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
                params = [p for m in chunk for p in _message_params(m)]
                rows = await db.execute_fetchall(
                    f"INSERT OR IGNORE INTO messages ({_MESSAGE_COLS}) VALUES {values} "
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
                (_json_list([m.chat_id, m.id] for m in items),),
            )
            known = {(r[0], r[1]) for r in rows}
            await db.executemany(
                "UPDATE messages SET text = ?, media = ?, edit_date = ? WHERE chat_id = ? AND id = ?",
                [
                    (m.text, _media_json(m.media), m.edit_date, m.chat_id, m.id)
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
                    (_json_list(ids),),
                )
            else:
                rows = await db.execute_fetchall(
                    "DELETE FROM messages WHERE chat_id = ? AND id IN "
                    "(SELECT value FROM json_each(?)) RETURNING chat_id, id",
                    (chat_id, _json_list(ids)),
                )
        return sorted((r[0], r[1]) for r in rows)

    async def messages(
        self, chat_id: int, before_id: int | None = None, limit: int = 100
    ) -> list[Message]:
        """The newest `limit` messages of a chat older than `before_id`, oldest first."""
        found = await self._messages_query(
            f"SELECT {_MESSAGE_COLS} FROM messages WHERE chat_id = ? AND id < ? "
            "ORDER BY id DESC LIMIT ?",
            (chat_id, _MAX_ID if before_id is None else before_id, limit),
        )
        found.reverse()
        return found

    def messages_now(
        self, chat_id: int, before_id: int | None = None, limit: int = 100
    ) -> list[Message]:
        """`messages()` read synchronously, for the screen's own thread.

        A key that opens a chat must paint it in one frame: a few dozen rows by primary key
        take ~0.2 ms here, less than one hop to aiosqlite's thread and back (during which the
        screen would paint a half-switched desk). WAL lets this reader see every committed
        write without waiting for the writer. Only for small, indexed reads.
        """
        reader = self._reader
        if reader is None:
            raise StoreError(self.path, f"{self.path}: the store is closed")
        cursor = reader.execute(
            f"SELECT {_MESSAGE_COLS} FROM messages WHERE chat_id = ? AND id < ? "
            "ORDER BY id DESC LIMIT ?",
            (chat_id, _MAX_ID if before_id is None else before_id, limit),
        )
        found = [_message_from_row(row) for row in cursor.fetchall()]
        found.reverse()
        return found

    def message_now(self, chat_id: int, id: int) -> Message | None:
        """`message()` read synchronously (see `messages_now`)."""
        reader = self._reader
        if reader is None:
            raise StoreError(self.path, f"{self.path}: the store is closed")
        row = reader.execute(
            f"SELECT {_MESSAGE_COLS} FROM messages WHERE chat_id = ? AND id = ?", (chat_id, id)
        ).fetchone()
        return None if row is None else _message_from_row(row)

    async def message(self, chat_id: int, id: int) -> Message | None:
        """One stored message, or None."""
        found = await self._messages_query(
            f"SELECT {_MESSAGE_COLS} FROM messages WHERE chat_id = ? AND id = ?", (chat_id, id)
        )
        return found[0] if found else None

    async def tail(self, chat_id: int, after_id: int) -> list[Message]:
        """All messages of a chat with id > `after_id`, oldest first (to recompute a wait)."""
        return await self._messages_query(
            f"SELECT {_MESSAGE_COLS} FROM messages WHERE chat_id = ? AND id > ? ORDER BY id",
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
        clause, params = _messages_where(since, until, chat_ids)
        cursor = await self._db.cursor()
        cursor.row_factory = _message_factory  # type: ignore[assignment]
        try:
            await cursor.execute(
                f"SELECT {_MESSAGE_COLS} FROM messages {clause}ORDER BY chat_id, date, id", params
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
        clause, params = _messages_where(None, until, chat_ids)
        cursor = await self._db.cursor()
        cursor.row_factory = _report_row_factory  # type: ignore[assignment]
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
            f"SELECT {_MESSAGE_COLS_M} FROM messages_fts JOIN messages AS m "
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

    # triage -----------------------------------------------------------------------------

    async def save_triage(self, items: Iterable[ChatTriage]) -> None:
        """Store (replace) the triage state of the given chats."""
        rows = [_triage_params(t) for t in items]
        if not rows:
            return
        cols = ", ".join(_TRIAGE_FIELDS)
        marks = ", ".join("?" * len(_TRIAGE_FIELDS))
        async with self._transaction() as db:
            await db.executemany(f"INSERT OR REPLACE INTO triage ({cols}) VALUES ({marks})", rows)

    async def load_triage(self) -> dict[int, ChatTriage]:
        """The stored triage state of every chat, by chat id."""
        rows = await self._db.execute_fetchall(f"SELECT {', '.join(_TRIAGE_FIELDS)} FROM triage")
        return {row[0]: _triage_from_row(row) for row in rows}

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
        rid = _random_id() if random_id is None else random_id
        async with self._transaction() as db:
            try:
                rows = await db.execute_fetchall(
                    "INSERT INTO outbox (chat_id, random_id, text, reply_to, state, created) "
                    f"VALUES (?, ?, ?, ?, ?, ?) RETURNING {_OUTBOX_COLS}",
                    (chat_id, rid, text, reply_to, OutboxState.PENDING.value, self._now()),
                )
            except sqlite3.IntegrityError as error:
                raise ValueError(f"random_id {rid} is already in the outbox") from error
        return _outbox_from_row(next(iter(rows)))

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
                    f"WHERE local_id = ? RETURNING {_OUTBOX_COLS}",
                    (state.value, error, sent_id, local_id),
                )
            )
        if not rows:
            raise KeyError(f"no outbox item {local_id}")
        return _outbox_from_row(rows[0])

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
            params.append(_json_list(s.value for s in states))
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        rows = await self._db.execute_fetchall(
            f"SELECT {_OUTBOX_COLS} FROM outbox {clause}ORDER BY local_id", params
        )
        return [_outbox_from_row(r) for r in rows]

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
