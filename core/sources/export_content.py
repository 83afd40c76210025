"""What one export message holds besides its ids and dates: text, attachment, service action.

Pure readers of a Telegram Desktop export entry (core/sources/export.py walks the file): text
entity lists flattened to plain text (never markup), an attachment as a `Media` placeholder,
and a service message's action as a readable phrase.
"""

from __future__ import annotations

import os
from typing import Any

from ..desk.models import Media

_MEDIA_KINDS = {
    "sticker": "sticker",
    "voice_message": "voice",
    "video_message": "video message",
    "video_file": "video",
    "audio_file": "audio",
    "animation": "GIF",
}

_ACTIONS = {
    "pin_message": "pinned a message",
    "create_group": "created the group",
    "create_channel": "created the channel",
    "edit_group_title": "changed the title",
    "edit_group_photo": "changed the group photo",
    "delete_group_photo": "removed the group photo",
    "invite_members": "added members",
    "remove_members": "removed members",
    "join_group_by_link": "joined the group by link",
    "join_group_by_request": "joined the group",
    "migrate_to_supergroup": "upgraded the group to a supergroup",
    "migrate_from_group": "upgraded from a basic group",
    "phone_call": "phone call",
    "group_call": "voice chat",
    "clear_history": "cleared the history",
    "topic_created": "created a topic",
    "irc_notice": "notice",
}


def flatten_text(value: Any) -> str:
    """Plain text from an export `text` field: a string or a list of strings and entities."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts: list[str] = []
        for part in value:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict):
                piece = part.get("text", "")
                parts.append(piece if isinstance(piece, str) else str(piece))
            else:
                raise TypeError(f"text part of type {type(part).__name__}")
        return "".join(parts)
    raise TypeError(f"text of type {type(value).__name__}")


def _file_name(entry: dict[str, Any]) -> str | None:
    """The attachment's file name, if the export kept one."""
    name = entry.get("file_name")
    if isinstance(name, str) and name:
        return name
    path = entry.get("file")
    if isinstance(path, str) and path and not path.startswith("("):
        return os.path.basename(path)
    return None


def _size(value: Any) -> int | None:
    """A byte size if the field holds a non-negative integer."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


_MEDIA_KEYS = frozenset(
    {"photo", "file", "media_type", "contact_information", "location_information", "poll"}
)


def media_of(entry: dict[str, Any]) -> Media | None:
    """The placeholder for a message's attachment, or None."""
    if _MEDIA_KEYS.isdisjoint(entry):
        return None
    mime = entry.get("mime_type") if isinstance(entry.get("mime_type"), str) else None
    if "photo" in entry:
        return Media(kind="photo", size=_size(entry.get("photo_file_size")), mime=mime)
    if "file" in entry or "media_type" in entry:
        media_type = entry.get("media_type")
        kind = _MEDIA_KINDS.get(media_type, "file") if isinstance(media_type, str) else "file"
        name = _file_name(entry)
        if kind == "sticker" and isinstance(entry.get("sticker_emoji"), str):
            name = entry["sticker_emoji"]
        return Media(kind=kind, name=name, size=_size(entry.get("file_size")), mime=mime)
    if isinstance(entry.get("contact_information"), dict):
        info = entry["contact_information"]
        name = f"{info.get('first_name', '')} {info.get('last_name', '')}".strip() or None
        return Media(kind="contact", name=name)
    if "location_information" in entry:
        return Media(kind="location", name=entry.get("place_name") or None)
    if isinstance(entry.get("poll"), dict):
        question = entry["poll"].get("question")
        return Media(kind="poll", name=question if isinstance(question, str) else None)
    return None


def service_text(entry: dict[str, Any], text: str) -> str:
    """Readable text for a service message: its action, plus details and any text."""
    action = entry.get("action")
    phrase = _ACTIONS.get(action, str(action).replace("_", " ")) if action else "service message"
    title = entry.get("title")
    if (
        isinstance(title, str)
        and title
        and action in ("create_group", "create_channel", "edit_group_title", "topic_created")
    ):
        phrase = f"{phrase} «{title}»"
    members = entry.get("members")
    if isinstance(members, list) and members:
        names = ", ".join(str(m) for m in members if m is not None)
        if names:
            phrase = f"{phrase}: {names}"
    return f"{phrase}: {text}" if text else phrase
