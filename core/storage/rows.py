"""Rows of the store's tables to models and back, and the small SQL helpers the queries share.

Rows this package wrote are turned into models without validating them again (three times
faster), checked once at import against validation on the installed pydantic.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..desk.models import Chat, ChatTriage, Media, Message, OutboxItem, OutboxState, Status, User
from ..reports.report import ReportRow

MAX_ID = 2**63 - 1
MessageRow = tuple[Any, ...]
"""A message as the columns of `MESSAGE_COLS`, in that order."""

MESSAGE_COLS = (
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
MESSAGE_COLS_M = ", ".join(f"m.{name}" for name in _MESSAGE_FIELDS)
TRIAGE_FIELDS = tuple(ChatTriage.model_fields)
OUTBOX_COLS = "local_id, chat_id, random_id, text, reply_to, state, error, created, sent_id"
_new = object.__new__
_setattr = object.__setattr__
_MESSAGE_FIELD_SET = frozenset(Message.model_fields)


def media_json(media: Media | None) -> str | None:
    """Media as compact JSON for its column (None stays NULL)."""
    return None if media is None else media.model_dump_json(exclude_none=True)


def _media_from_json(raw: str | None) -> Media | None:
    """The Media stored in a column, or None."""
    return None if raw is None else Media.model_validate_json(raw)


def message_params(m: Message) -> tuple[Any, ...]:
    """A Message as the parameter tuple of an INSERT in `MESSAGE_COLS` order."""
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
        media_json(m.media),
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


def message_from_row(row: MessageRow) -> Message:
    """A Message from a row of `MESSAGE_COLS` this package wrote."""
    return _message_from_row(row)


def message_factory(_cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Message:
    """sqlite3 row factory: runs on the database thread, so conversion stays off the event loop."""
    return _message_from_row(row)


def report_row_factory(_cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> ReportRow:
    """sqlite3 row factory for the narrow report query (runs on the database thread)."""
    return ReportRow._make(row)


def _topics(raw: str) -> tuple[tuple[int, str], ...]:
    """Forum topics as stored: JSON [[topic id, title], …]."""
    if raw == "[]":  # most chats: no forum, nothing to decode
        return ()
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
        "folder_ids": () if folder_ids == "[]" else tuple(json.loads(folder_ids)),
        "topics": _topics(topics),
    }
    _setattr(chat, "__dict__", values)
    _setattr(chat, "__pydantic_fields_set__", set(_CHAT_SET))
    _setattr(chat, "__pydantic_extra__", None)
    _setattr(chat, "__pydantic_private__", None)
    return chat


def triage_params(t: ChatTriage) -> tuple[Any, ...]:
    """A ChatTriage as a parameter tuple in `TRIAGE_FIELDS` order."""
    values = t.model_dump()
    values["status"] = t.status.value
    values["reopened"] = int(t.reopened)
    values["unread_mark"] = int(t.unread_mark)
    lo = t.levels_override
    values["levels_override"] = None if lo is None else json.dumps(list(lo))
    return tuple(values[name] for name in TRIAGE_FIELDS)


def _triage_values(row: Sequence[Any]) -> dict[str, Any]:
    """A triage row as field values of the right types."""
    values = dict(zip(TRIAGE_FIELDS, row, strict=True))
    lo = values["levels_override"]
    values["levels_override"] = None if lo is None else tuple(json.loads(lo))
    values["status"] = Status(values["status"])
    values["reopened"] = bool(values["reopened"])
    values["unread_mark"] = bool(values["unread_mark"])
    return values


def _validated_triage(row: Sequence[Any]) -> ChatTriage:
    """A ChatTriage from its table row, through validation."""
    return ChatTriage.model_validate(_triage_values(row))


def _trusted_triage(row: Sequence[Any]) -> ChatTriage:
    """A ChatTriage from a row this module wrote, without re-validating it."""
    state = _new(ChatTriage)
    _setattr(state, "__dict__", _triage_values(row))
    _setattr(state, "__pydantic_fields_set__", set(TRIAGE_FIELDS))
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
        for name in TRIAGE_FIELDS
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
chat_from_row = _trusted_chat if _TRUSTED_ROWS else _validated_chat
triage_from_row = _trusted_triage if _TRUSTED_ROWS else _validated_triage
user_from_row = _trusted_user if _TRUSTED_ROWS else _validated_user


def outbox_from_row(row: Sequence[Any]) -> OutboxItem:
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


def new_random_id() -> int:
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


def json_list(values: Iterable[Any]) -> str:
    """A JSON array parameter for `IN (SELECT value FROM json_each(?))` of any length."""
    return json.dumps(list(values))


def messages_where(
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
        params.append(json_list(chat_ids))
    return (f"WHERE {' AND '.join(where)} " if where else ""), params
