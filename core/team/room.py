"""Which chat is the team room, whether it may be one, and the human line of each team event."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from ..desk.models import Chat
from ..rules.sanitize import clean_line
from .codec import Kind, TeamEvent, TeamStatus, decode

ICONS = {
    Kind.CLAIM: "✋",
    Kind.RELEASE: "👋",
    Kind.PRESENCE: "👀",
    Kind.NOTE: "📝",
    Kind.STATUS: "🏷",
    Kind.TAGS: "🔖",
    Kind.HANDOFF: "→",
}
OVER_TO_YOU = ", over to you:"  # a handoff's line: `→ {taker}, over to you: {chat}…`
_LINK = re.compile(r"https://t\.me/\S+")


def is_room(chat: Chat, room: int | str | None) -> bool:
    """Whether `chat` is the configured team room (`@name`, a chat id, or the exact title)."""
    if room is None or room == "":
        return False
    if isinstance(room, int):
        return chat.id == room
    text = room.strip()
    if text.lstrip("-").isdigit():
        return chat.id == int(text)
    if text.startswith("@"):
        return bool(chat.username) and chat.username.lower() == text[1:].lower()  # type: ignore[union-attr]
    return chat.title == text


def room_problem(chat: Chat) -> str | None:
    """Why this chat cannot carry the team's events (a public room), or None."""
    if chat.username:
        return f"The team room {chat.title!r} is public (@{chat.username}): make it private."
    if chat.kind == "private":
        return f"The team room {chat.title!r} is a private chat: it must be a group."
    return None


def _day(ts: int | None) -> str:
    """A date for people (UTC)."""
    return "" if ts is None else dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M")


def _hms(ts: int) -> str:
    """A time of day for people (UTC, to the second)."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%H:%M:%S")


def human_line(
    event: TeamEvent, chat_title: str, link: str = "", taker: str = "", at: int | None = None
) -> str:
    """What a person reads in the room: what happened to which chat (the sender is shown by
    Telegram itself), then the link to the chat; a presence says when (`at`)."""
    title = clean_line(chat_title, 60) or str(event.chat)
    icon = ICONS[event.kind]
    match event.kind:
        case Kind.CLAIM:
            what = f"{icon} takes {title}"
        case Kind.RELEASE:
            what = f"{icon} lets go of {title}"
        case Kind.PRESENCE:
            when = "" if at is None else f" ({_hms(at)} UTC)"
            what = f"{icon} is in {title}{when}"
        case Kind.NOTE:
            what = f"{icon} note on {title}: {clean_line(event.text, 300)}"
        case Kind.TAGS:
            what = f"{icon} tags {title}: {' '.join(event.tags) or '(none)'}"
        case Kind.HANDOFF:
            note = f": {clean_line(event.text, 300)}" if event.text else ""
            what = f"{icon} {clean_line(taker, 60) or event.to}{OVER_TO_YOU} {title}{note}"
        case _:
            what = f"{icon} {title}: {_status_words(event)}"
    return f"{what} {link}".rstrip()


def _status_words(event: TeamEvent) -> str:
    """A status event in words."""
    status = event.status
    if status is TeamStatus.POSTPONED:
        return f"postponed until {_day(event.until)} UTC"
    if status is TeamStatus.IN_DEVELOPMENT:
        due = f", due {_day(event.due)} UTC" if event.due else ""
        return f"in development ({event.ticket or 'no ticket'}{due})"
    return {TeamStatus.CLOSED: "closed", TeamStatus.REOPENED: "reopened"}.get(
        status,  # type: ignore[arg-type]
        "open",
    )


@dataclass(frozen=True, slots=True)
class Delivery:
    """How a team event message is sent: silently, or mentioning the teammate it is for.

    Offsets and lengths count UTF-16 code units, as Telegram's message entities do."""

    silent: bool
    mention: tuple[int, int, int] | None = None  # offset, length, the mentioned user's id
    links: tuple[tuple[int, int], ...] = ()


def utf16_len(text: str) -> int:
    """The length of `text` in UTF-16 code units (Telegram's unit for entity offsets)."""
    return len(text.encode("utf-16-le")) // 2


def delivery(text: str) -> Delivery | None:
    """How to send a room message: every team event silently (the room is a log), except a
    handoff, which mentions its taker (their name at the start of the line) so their phone
    alerts; None when the text is not a team event."""
    event = decode(text)
    if event is None:
        return None
    links = tuple(
        (utf16_len(text[: m.start()]), utf16_len(m.group())) for m in _LINK.finditer(text)
    )
    if event.kind is not Kind.HANDOFF or event.to is None:
        return Delivery(silent=True, links=links)
    start = len(ICONS[Kind.HANDOFF]) + 1
    end = text.find(OVER_TO_YOU, start)
    mention = None
    if text.startswith(ICONS[Kind.HANDOFF] + " ") and end > start:
        mention = (utf16_len(text[:start]), utf16_len(text[start:end]), event.to)
    return Delivery(silent=False, mention=mention, links=links)
