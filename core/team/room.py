"""Which chat is the team room, whether it may be one, and the human line of each team event."""

from __future__ import annotations

import datetime as dt

from ..desk.models import Chat
from ..rules.sanitize import clean_line
from .codec import Kind, TeamEvent, TeamStatus

ICONS = {
    Kind.CLAIM: "✋",
    Kind.RELEASE: "👋",
    Kind.PRESENCE: "👀",
    Kind.NOTE: "📝",
    Kind.STATUS: "🏷",
    Kind.TAGS: "🔖",
    Kind.HANDOFF: "→",
}


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


def human_line(event: TeamEvent, chat_title: str, link: str = "", taker: str = "") -> str:
    """What a person reads in the room: what happened to which chat (the sender is shown by
    Telegram itself), then the link to the chat."""
    title = clean_line(chat_title, 60) or str(event.chat)
    icon = ICONS[event.kind]
    match event.kind:
        case Kind.CLAIM:
            what = f"{icon} takes {title}"
        case Kind.RELEASE:
            what = f"{icon} lets go of {title}"
        case Kind.PRESENCE:
            what = f"{icon} is in {title}"
        case Kind.NOTE:
            what = f"{icon} note on {title}: {clean_line(event.text, 300)}"
        case Kind.TAGS:
            what = f"{icon} tags {title}: {' '.join(event.tags) or '(none)'}"
        case Kind.HANDOFF:
            note = f": {clean_line(event.text, 300)}" if event.text else ""
            what = f"{icon} hands {title} to {taker or event.to}{note}"
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
