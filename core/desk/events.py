"""Events a ChatSource emits; the Inbox applies them to the store and the live state."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .models import Chat, Message, User


class Connection(StrEnum):
    """How the source is connected to its upstream."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message arrived (incoming, outgoing from another device, or a teammate's)."""

    message: Message
    sender: User | None = None


@dataclass(frozen=True, slots=True)
class MessageEdited:
    """A message's text or media changed; `message` is the new version."""

    message: Message


@dataclass(frozen=True, slots=True)
class MessagesDeleted:
    """Messages were deleted; `chat_id` is None when Telegram did not say which chat."""

    chat_id: int | None
    ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ReadUpTo:
    """Messages up to `max_id` were read: by us (`outbox=False`) or by the other side.

    `unread`, when given, is Telegram's own count of unread messages in the chat (from the
    dialog), which holds even when the desk has fetched only part of the history. `as_of` is
    the newest message that count covered (the dialog's top message): a desk that already
    holds a newer one keeps its own count, since Telegram's is older than what it shows.
    """

    chat_id: int
    max_id: int
    outbox: bool = False
    unread: int | None = None
    as_of: int | None = None


@dataclass(frozen=True, slots=True)
class HistoryCut:
    """The chat has messages older than `before_id` the source did not fetch (0: none)."""

    chat_id: int
    before_id: int


@dataclass(frozen=True, slots=True)
class ChatUpdated:
    """A chat appeared, was renamed or otherwise changed."""

    chat: Chat


@dataclass(frozen=True, slots=True)
class ChatRemoved:
    """The account left a chat or was removed from it."""

    chat_id: int


@dataclass(frozen=True, slots=True)
class Typing:
    """Someone is typing in a chat (shown for teammates, so two people do not answer at once)."""

    chat_id: int
    user_id: int
    until: int


@dataclass(frozen=True, slots=True)
class ReactionChanged:
    """Reactions on a message changed; `by_staff` holds the emoji staff put on it."""

    chat_id: int
    message_id: int
    user_id: int
    emoji: str


@dataclass(frozen=True, slots=True)
class ConnectionState:
    """The source's connection state changed."""

    state: Connection
    detail: str = ""
    retry_in: float | None = None  # seconds until the source tries again (a countdown on screen)


@dataclass(frozen=True, slots=True)
class FloodWait:
    """Telegram asked us to wait `seconds` before the next request (shown as a countdown)."""

    seconds: int
    until: int
    what: str = ""


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """Start-up or catch-up progress, e.g. "history 12/80"; `done` ends it."""

    what: str
    current: int
    total: int
    done: bool = False


@dataclass(frozen=True, slots=True)
class CatchingUp:
    """The source delivers what was missed while away (`active`), or has delivered all of it."""

    active: bool


@dataclass(frozen=True, slots=True)
class UnreadMarked:
    """A chat was marked unread by hand, or the mark was cleared (on another device too)."""

    chat_id: int
    unread: bool


Event = (
    NewMessage
    | MessageEdited
    | MessagesDeleted
    | ReadUpTo
    | UnreadMarked
    | HistoryCut
    | ChatUpdated
    | ChatRemoved
    | Typing
    | ReactionChanged
    | ConnectionState
    | FloodWait
    | SyncProgress
    | CatchingUp
)
