"""Team events as ordinary Telegram messages: a human line a person can read, a machine line a desk parses.

A team event message has two parts. The first lines are for people (who did what, about which
chat, with a `https://t.me/c/…` link where Telegram has one); they are never parsed. The last
line is the machine part: the version tag `tgt1:` followed by the compact JSON of the event in
RFC 4648 base32 without padding. Base32 uses only `A–Z` and `2–7`: no character that Markdown,
HTML, autolinking or any client's formatting acts on (`_ * ~ | ` [ ] < > @ # / .`), so the line
survives being sent, copied or re-rendered, and the message's formatting entities never change
its text. The author of an event is never in the machine part: it is the Telegram sender of the
message, which nobody can forge.

`decode` never raises: a message without a machine line, with another version (`tgt2:`…), bad
base32, bad JSON, a wrong field type, an unknown kind, or more text than a team event ever
carries is simply not a team event (None). Text fields are cleaned of escapes and invisible
characters (core/rules/sanitize.py) and bounded.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, replace
from enum import StrEnum

from ..rules.sanitize import clean_line, clean_text

VERSION = 1
TAG = f"tgt{VERSION}:"
MAX_MESSAGE = 4096  # Telegram's own limit for one message's text
MAX_NOTE = 1200  # a shared note's UTF-8 bytes: note, its base32 and the human line fit in 4,096
MAX_FIELD = 64  # a ticket reference or a tag


class Kind(StrEnum):
    """What a team event does."""

    CLAIM = "claim"
    RELEASE = "release"
    PRESENCE = "presence"
    NOTE = "note"
    STATUS = "status"
    TAGS = "tags"
    HANDOFF = "handoff"


class TeamStatus(StrEnum):
    """The statuses a status event sets (`reopened` brings a chat back to open)."""

    OPEN = "open"
    POSTPONED = "postponed"
    IN_DEVELOPMENT = "in_development"
    CLOSED = "closed"
    REOPENED = "reopened"


@dataclass(frozen=True, slots=True)
class TeamEvent:
    """One team event about one customer chat (`chat` is the desk's chat id)."""

    kind: Kind
    chat: int
    text: str = ""
    status: TeamStatus | None = None
    until: int | None = None
    ticket: str | None = None
    due: int | None = None
    tags: tuple[str, ...] = ()
    to: int | None = None


def _payload(event: TeamEvent) -> dict[str, object]:
    """The event's compact JSON object (empty fields left out)."""
    data: dict[str, object] = {"k": event.kind.value, "c": event.chat}
    if event.text:
        data["t"] = event.text
    if event.status is not None:
        data["s"] = event.status.value
    for key, value in (("u", event.until), ("d", event.due), ("to", event.to)):
        if value is not None:
            data[key] = value
    if event.ticket:
        data["r"] = event.ticket
    if event.tags:
        data["g"] = list(event.tags)
    return data


def bounded_note(text: str) -> str:
    """A note's text cut to what one team event message can carry (MAX_NOTE UTF-8 bytes)."""
    return clean_text(text).encode()[:MAX_NOTE].decode("utf-8", "ignore")


def machine_line(event: TeamEvent) -> str:
    """The versioned machine line of an event (its text cut by `bounded_note`)."""
    if len(event.text.encode()) > MAX_NOTE:
        event = replace(event, text=bounded_note(event.text))
    raw = json.dumps(_payload(event), separators=(",", ":"), ensure_ascii=False).encode()
    return TAG + base64.b32encode(raw).decode("ascii").rstrip("=")


def encode(event: TeamEvent, human: str) -> str:
    """The whole message: the human line(s), then the machine line."""
    machine = machine_line(event)
    room = MAX_MESSAGE - len(machine) - 2
    return f"{clean_text(human).strip()[:room]}\n{machine}"


def _int(value: object) -> int | None:
    """An integer field (booleans and out-of-range numbers are not)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("not an integer")
    if abs(value) >= 2**63:
        raise ValueError("out of range")
    return value


def _opt_int(data: dict[str, object], key: str) -> int | None:
    """An optional integer field."""
    return None if key not in data else _int(data[key])


def _str(data: dict[str, object], key: str, limit: int) -> str:
    """An optional text field, cleaned and bounded."""
    value = data.get(key, "")
    if not isinstance(value, str):
        raise ValueError("not text")
    return clean_text(value)[:limit]


def _from_payload(data: object) -> TeamEvent:
    """The event of a decoded JSON object (ValueError when it is not one)."""
    if not isinstance(data, dict):
        raise ValueError("not an object")
    kind = Kind(str(data.get("k")))
    chat = _int(data.get("c"))
    assert chat is not None
    status_raw = data.get("s")
    status = None if status_raw is None else TeamStatus(status_raw)
    tags_raw = data.get("g", [])
    if not isinstance(tags_raw, list) or not all(isinstance(t, str) for t in tags_raw):
        raise ValueError("tags are not a list of text")
    tags = tuple(dict.fromkeys(clean_line(t, MAX_FIELD) for t in tags_raw[:32] if t.strip()))
    ticket = clean_line(_str(data, "r", MAX_FIELD)) or None
    return TeamEvent(
        kind=kind,
        chat=chat,
        text=bounded_note(_str(data, "t", MAX_MESSAGE)),
        status=status,
        until=_opt_int(data, "u"),
        ticket=ticket,
        due=_opt_int(data, "d"),
        tags=tags,
        to=_opt_int(data, "to"),
    )


def decode(text: object) -> TeamEvent | None:
    """The team event a message carries, or None (never raises)."""
    if not isinstance(text, str) or not text or len(text) > MAX_MESSAGE:
        return None
    last = text.rstrip().rsplit("\n", 1)[-1].strip()
    if not last.startswith(TAG):
        return None
    body = last[len(TAG) :]
    if not body or len(body) > MAX_MESSAGE:
        return None
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8), casefold=False)
        return _from_payload(json.loads(raw.decode("utf-8")))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError, AssertionError):
        return None


def chat_link(chat_id: int, username: str | None = None, message_id: int | None = None) -> str:
    """A link a teammate can open: the chat's public name, or `t.me/c/…` for a supergroup."""
    if username:
        return f"https://t.me/{username}" + (f"/{message_id}" if message_id else "")
    if chat_id < -1_000_000_000_000:
        internal = -chat_id - 1_000_000_000_000
        return f"https://t.me/c/{internal}/{message_id or 1}"
    return ""
