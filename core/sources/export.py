"""Read a Telegram Desktop export (`result.json`, single-chat or full-account) into core models.

Two shapes exist: "Export chat history" writes one chat (`{"name", "type", "id", "messages"}`);
"Export Telegram data" writes the whole account (`{"personal_information", "chats": {"list"},
"left_chats": {"list"}}`). Chat ids are turned into Telethon's marked ids so that an export and a
live account agree; text entity lists are flattened to plain text (never markup); service
messages keep their action as text. A malformed single message is skipped with a line in
`Export.warnings`; a file that is not an export at all raises `ExportError` with one line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..desk.models import Chat, ChatKind, Message, User
from ..system.gc_policy import paused
from .export_content import flatten_text, media_of, service_text

HOW_TO_EXPORT = (
    "export with Telegram Desktop → Settings → Advanced → Export Telegram data "
    "(or a chat's ⋮ → Export chat history), format JSON"
)

CHANNEL_OFFSET = 10**12
"""Telethon marks a channel/supergroup id N as -(10**12 + N), i.e. -100N."""

# Telegram Desktop chat "type" → (kind, how the id is marked).
_CHAT_TYPES: dict[str, tuple[ChatKind, str]] = {
    "personal_chat": ("private", "user"),
    "bot_chat": ("private", "user"),
    "saved_messages": ("private", "user"),
    "private_group": ("group", "chat"),
    "private_supergroup": ("supergroup", "channel"),
    "public_supergroup": ("supergroup", "channel"),
    "private_channel": ("channel", "channel"),
    "public_channel": ("channel", "channel"),
}

_MAX_WARNINGS = 50


class ExportError(Exception):
    """The file cannot be read as a Telegram Desktop export; the message is one line with the fix."""


@dataclass
class Export:
    """Everything read from one export: the account, its chats, their messages and the people."""

    path: Path
    me_id: int | None
    me_name: str
    chats: list[Chat]
    messages: list[Message]
    users: dict[int, User]
    warnings: list[str] = field(default_factory=list)
    left_chat_ids: frozenset[int] = frozenset()

    def by_chat(self) -> dict[int, list[Message]]:
        """Messages grouped per chat id, each list in export order (date, then id)."""
        grouped: dict[int, list[Message]] = {chat.id: [] for chat in self.chats}
        for message in self.messages:
            grouped.setdefault(message.chat_id, []).append(message)
        return grouped

    def chat(self, chat_id: int) -> Chat | None:
        """The chat with this marked id, if the export has it."""
        for chat in self.chats:
            if chat.id == chat_id:
                return chat
        return None


def parse_peer_id(text: str) -> int:
    """A marked id from an export id ("user123", "channel123", "chat123") or a bare number."""
    value = text.strip()
    for prefix, mark in (("user", "user"), ("channel", "channel"), ("chat", "chat")):
        if value.lower().startswith(prefix):
            digits = value[len(prefix) :]
            if digits.isdigit():
                return _mark(int(digits), mark)
            break
    try:
        return int(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a Telegram id: use a number or an export id like user123"
        ) from None


def parse_peer_ids(spec: str | Iterable[str]) -> list[int]:
    """Ids from a comma-separated list such as "user123,456" (the --staff flag)."""
    parts = spec.split(",") if isinstance(spec, str) else list(spec)
    return [parse_peer_id(part) for part in parts if part.strip()]


def load_export(path: Path) -> Export:
    """Read a Telegram Desktop `result.json` (or a folder containing one) into an Export."""
    # Tens of thousands of small objects are built at once: pausing the cyclic GC saves ~20%.
    with paused():
        return _load(Path(path).expanduser())


def _load(path: Path) -> Export:
    """The body of load_export, run with the cyclic garbage collector paused."""
    if path.is_dir() and (path / "result.json").is_file():
        path = path / "result.json"
    data = _read_json(path)
    if not isinstance(data, dict) or not ("messages" in data or "chats" in data):
        raise ExportError(
            f"{path}: no 'messages' or 'chats' key: this is not a Telegram Desktop result.json"
            f" — {HOW_TO_EXPORT}"
        )
    reader = _Reader(path)
    me_id, me_name = reader.personal(data.get("personal_information"))
    left: set[int] = set()
    if "chats" in data:
        reader.chat_list(data["chats"], "chats")
        if "left_chats" in data:
            left = reader.chat_list(data["left_chats"], "left_chats")
    if "messages" in data and isinstance(data.get("messages"), list):
        if reader.chat(data, "the chat") is None:
            raise ExportError(f"{reader.warnings[-1]} — {HOW_TO_EXPORT}")
    elif "messages" in data and "chats" not in data:
        raise ExportError(f"{path}: 'messages' is not a list — {HOW_TO_EXPORT}")
    if reader.total and not reader.messages:
        raise ExportError(
            f"{path}: none of its {reader.total} messages could be read (first problem: "
            f"{reader.warnings[0].removeprefix(f'{path}: ')}) — {HOW_TO_EXPORT}"
        )
    if reader.me is not None:
        reader.users[reader.me.id] = reader.me
    warnings = reader.warnings
    if reader.skipped_warnings:
        warnings.append(f"{path}: … and {reader.skipped_warnings} more problems")
    return Export(
        path=path,
        me_id=me_id,
        me_name=me_name,
        chats=reader.chats,
        messages=reader.messages,
        users=reader.users,
        warnings=warnings,
        left_chat_ids=frozenset(left),
    )


def _mark(raw_id: int, mark: str) -> int:
    """Apply Telethon's marking to a bare id; ids that are already negative stay as they are."""
    if raw_id < 0:
        return raw_id
    if mark == "channel":
        return -(CHANNEL_OFFSET + raw_id)
    if mark == "chat":
        return -raw_id
    return raw_id


def _read_json(path: Path) -> Any:
    """Parse the file as JSON, turning every failure into a one-line ExportError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ExportError(
            f"{path}: file not found — pass the result.json that Telegram Desktop wrote"
        ) from None
    except IsADirectoryError:
        raise ExportError(
            f"{path}: is a folder without a result.json — pass the export's result.json"
        ) from None
    except OSError as exc:
        raise ExportError(
            f"{path}: cannot read it ({exc.strerror}) — check its permissions"
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExportError(
            f"{path}: not UTF-8 text (byte {exc.start}) — pass the result.json of a JSON export"
        ) from None
    if text.lstrip()[:1] == "<":
        raise ExportError(f"{path}: this is HTML, not JSON — {HOW_TO_EXPORT} (not HTML)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExportError(
            f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})"
            " — the file is cut short or was edited; export it again"
        ) from None
    except RecursionError:
        raise ExportError(f"{path}: JSON nested too deeply — {HOW_TO_EXPORT}") from None


def _unixtime(entry: dict[str, Any], unix_key: str, iso_key: str) -> int | None:
    """A Unix time from `<key>_unixtime`, else from the ISO `<key>` field read as UTC."""
    value = entry.get(unix_key)
    if value is not None:
        if isinstance(value, bool):
            raise ValueError(f"'{unix_key}' is not a number")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError(f"'{unix_key}' is not a number: {value!r}") from None
    iso = entry.get(iso_key)
    if iso is None:
        return None
    if not isinstance(iso, str):
        raise ValueError(f"'{iso_key}' is not a date: {iso!r}")
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise ValueError(f"'{iso_key}' is not a date: {iso!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


class _Reader:
    """Accumulates chats, messages, people and warnings while walking one export."""

    def __init__(self, path: Path) -> None:
        """Start an empty read of the file at `path`."""
        self.path = path
        self.chats: list[Chat] = []
        self.messages: list[Message] = []
        self.users: dict[int, User] = {}
        self.warnings: list[str] = []
        self.skipped_warnings = 0
        self.total = 0
        self.me: User | None = None
        self.me_id: int | None = None
        self._chat_ids: set[int] = set()
        self._iso_dates_noted = False
        self._peers: dict[str | int, int] = {}

    def warn(self, text: str) -> None:
        """Keep a warning line (the first _MAX_WARNINGS; the rest are counted)."""
        if len(self.warnings) < _MAX_WARNINGS:
            self.warnings.append(f"{self.path}: {text}")
        else:
            self.skipped_warnings += 1

    def personal(self, info: Any) -> tuple[int | None, str]:
        """The exporting account's id and name from `personal_information`."""
        if info is None:
            return None, ""
        if not isinstance(info, dict):
            raise ExportError(
                f"{self.path}: 'personal_information' is not an object — {HOW_TO_EXPORT}"
            )
        raw = info.get("user_id")
        if raw is None:
            self.warn("'personal_information' has no 'user_id'; the exporting account is unknown")
            return None, ""
        try:
            me_id = parse_peer_id(str(raw))
        except ValueError:
            raise ExportError(
                f"{self.path}: 'personal_information.user_id' is not an id: {raw!r} — {HOW_TO_EXPORT}"
            ) from None
        first = str(info.get("first_name") or "")
        last = str(info.get("last_name") or "")
        username = info.get("username") or None
        if isinstance(username, str):
            username = username.lstrip("@") or None
        self.me = User(
            id=me_id,
            first_name=first,
            last_name=last,
            username=username if isinstance(username, str) else None,
        )
        self.me_id = me_id
        return me_id, self.me.name

    def chat_list(self, block: Any, key: str) -> set[int]:
        """Read every chat of a `chats` / `left_chats` block; return their marked ids."""
        items = block.get("list") if isinstance(block, dict) else block
        if not isinstance(items, list):
            raise ExportError(f"{self.path}: '{key}' has no 'list' of chats — {HOW_TO_EXPORT}")
        ids: set[int] = set()
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                self.warn(f"{key}[{index}] is not a chat object — skipped")
                continue
            chat_id = self.chat(item, f"{key}[{index}]")
            if chat_id is not None:
                ids.add(chat_id)
        return ids

    def chat(self, entry: dict[str, Any], where: str) -> int | None:
        """Read one chat and its messages; return its marked id, or None when skipped."""
        raw_id = entry.get("id")
        if not isinstance(raw_id, int) or isinstance(raw_id, bool):
            self.warn(f"{where} has no numeric 'id' — chat skipped")
            return None
        chat_type = entry.get("type")
        if chat_type not in _CHAT_TYPES:
            self.warn(f"{where}: unknown chat type {chat_type!r} — read as a supergroup")
        kind, mark = _CHAT_TYPES.get(str(chat_type), ("supergroup", "channel"))
        chat_id = _mark(raw_id, mark)
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            name = (
                "Saved Messages"
                if chat_type == "saved_messages"
                else ("Deleted Account" if kind == "private" else f"Chat {raw_id}")
            )
        label = f"chat {name!r}"
        if chat_id in self._chat_ids:
            self.warn(f"{label} (id {raw_id}) appears twice — second copy skipped")
            return None
        raw_messages = entry.get("messages", [])
        if not isinstance(raw_messages, list):
            self.warn(f"{label}: 'messages' is not a list — its messages skipped")
            raw_messages = []
        self._chat_ids.add(chat_id)
        self.chats.append(Chat(id=chat_id, title=name, kind=kind))
        parsed: list[Message] = []
        seen: set[int] = set()
        for index, item in enumerate(raw_messages):
            self.total += 1
            try:
                message = self.message(item, chat_id)
            except (ValueError, TypeError, KeyError) as exc:
                self.warn(f"{label} message #{index}: {exc} — skipped")
                continue
            if message.id in seen:
                self.warn(f"{label} message #{index}: id {message.id} repeated — skipped")
                continue
            seen.add(message.id)
            parsed.append(message)
        parsed.sort(key=lambda m: (m.date, m.id))
        self.messages.extend(parsed)
        return chat_id

    def sender(self, entry: dict[str, Any], id_key: str, name_key: str) -> tuple[int | None, str]:
        """The sender's marked id and display name, recording users as they appear."""
        raw = entry.get(id_key)
        name = entry.get(name_key)
        display = name if isinstance(name, str) else ""
        if raw is None:
            return None, display
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise ValueError(f"'{id_key}' is not an id: {raw!r}")
        sender_id = self._peers.get(raw)
        if sender_id is None:
            sender_id = self._peers[raw] = parse_peer_id(str(raw))
        if not display and name_key in entry:
            display = "Deleted Account"
        if sender_id > 0:
            known = self.users.get(sender_id)
            if known is None or (display and known.first_name != display):
                self.users[sender_id] = User(id=sender_id, first_name=display)
        return sender_id, display

    def message(self, entry: Any, chat_id: int) -> Message:
        """One export message entry as a Message (raises ValueError/TypeError when malformed)."""
        if not isinstance(entry, dict):
            raise TypeError(f"not an object but {type(entry).__name__}")
        raw_id = entry.get("id")
        if not isinstance(raw_id, int) or isinstance(raw_id, bool):
            raise ValueError("no numeric 'id'")
        if not self._iso_dates_noted and "date_unixtime" not in entry and "date" in entry:
            self._iso_dates_noted = True
            self.warn("no 'date_unixtime' (older Telegram Desktop): local 'date' times read as UTC")
        date = _unixtime(entry, "date_unixtime", "date")
        if date is None:
            raise ValueError("no 'date_unixtime' or 'date'")
        edit_date = _unixtime(entry, "edited_unixtime", "edited")
        text = flatten_text(entry.get("text"))
        service = entry.get("type") == "service"
        if service:
            sender_id, sender_name = self.sender(entry, "actor_id", "actor")
            text = service_text(entry, text)
        else:
            sender_id, sender_name = self.sender(entry, "from_id", "from")
        reply_to = entry.get("reply_to_message_id")
        if reply_to is not None and (not isinstance(reply_to, int) or isinstance(reply_to, bool)):
            raise ValueError(f"'reply_to_message_id' is not a number: {reply_to!r}")
        topic = entry.get("message_thread_id")
        return Message(
            chat_id=chat_id,
            id=raw_id,
            date=date,
            sender_id=sender_id,
            sender_name=sender_name,
            text=text,
            out=sender_id is not None and sender_id == self.me_id,
            reply_to=reply_to,
            edit_date=edit_date,
            media=None if service else media_of(entry),
            service=service,
            topic_id=topic if isinstance(topic, int) and not isinstance(topic, bool) else None,
        )
