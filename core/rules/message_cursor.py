"""Message mode's rules: where the cursor goes on a key, and what can be done to a message."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from ..desk.downloads import DOWNLOADABLE
from ..desk.models import Message
from ..system.config import Tickets
from .tickets import find_tickets

# The reactions message mode offers: ones every Telegram chat allows by default.
REACTIONS: tuple[str, ...] = ("👍", "❤", "🔥", "🎉", "🙏", "👀", "👌")

# The keys that move the cursor (Textual's names), as the conversation forwards them.
MOVES = frozenset({"up", "down", "pageup", "pagedown", "home", "end"})


class MessageAct(StrEnum):
    """What message mode can do to the selected message."""

    REPLY = "reply"
    COPY = "copy"
    REACT = "react"
    EDIT = "edit"
    DELETE = "delete"
    OPEN = "open"


FILE = "file"  # what O opens first on a message with a photo or file: that file


def selectable(messages: Sequence[Message]) -> list[int]:
    """The ids the cursor can stop on, oldest first: every message but service lines."""
    return [message.id for message in messages if not message.service]


def first_selection(ids: Sequence[int]) -> int | None:
    """Where the cursor lands when message mode starts: the newest message (None: no message)."""
    return ids[-1] if ids else None


def moved(ids: Sequence[int], current: int | None, key: str, page: int) -> int | None:
    """The message the cursor is on after `key` (one of MOVES), `page` messages to a page.

    ↑ ↓ move one message, PgUp/PgDn `page` messages, Home/End to the oldest/newest held;
    the cursor stops at either end. A cursor on a message no longer held lands on the
    nearest held one below it (a deletion), else the newest.
    """
    if not ids:
        return None
    if current is None or current not in ids:
        later = [message_id for message_id in ids if current is not None and message_id > current]
        return later[0] if later else ids[-1]
    index = ids.index(current)
    step = {"up": -1, "down": 1, "pageup": -max(1, page), "pagedown": max(1, page)}
    if key == "home":
        return ids[0]
    if key == "end":
        return ids[-1]
    if key not in step:
        return current
    return ids[min(len(ids) - 1, max(0, index + step[key]))]


def at_top(ids: Sequence[int], current: int | None) -> bool:
    """Whether the cursor is on the oldest held message (older ones are worth asking for)."""
    return bool(ids) and current == ids[0]


def refusal(act: MessageAct, message: Message, can_edit: bool) -> str | None:
    """Why `act` cannot be done to `message` (None: it can); `can_edit`: the source edits."""
    if act in (MessageAct.EDIT, MessageAct.DELETE):
        if not message.out:
            return f"Only your own messages can be {'edited' if act is MessageAct.EDIT else 'deleted'}."
        if not can_edit:
            return "This source cannot change sent messages."
        if act is MessageAct.EDIT and message.media is not None and not message.text:
            return "A file without a caption has no text to edit."
    if act is MessageAct.REACT and message.out:
        return "React to a customer's message, not your own."
    if act is MessageAct.COPY and not message.text:
        return "This message has no text to copy."
    return None


def openable(message: Message, tickets: Tickets) -> list[str]:
    """What O can open on `message`: FILE for its photo or file, then each ticket it mentions
    ('JIRA-123', '#4821'; core/rules/tickets.py) in the order written."""
    found = [FILE] if message.media is not None and message.media.kind in DOWNLOADABLE else []
    return found + [ref.text for ref in find_tickets(message.text or "", tickets)]
