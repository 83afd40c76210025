"""Plain data the whole product shares: people, chats, messages, media and triage status.

Times are integer Unix seconds (UTC) everywhere in core; only the screen formats them.
Chat ids follow Telethon's "marked" convention (users positive, basic groups negative,
channels/supergroups -100…) so that ids from Telegram, exports and the demo never collide.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

ChatKind = Literal["private", "group", "supergroup", "forum", "channel"]


class Frozen(BaseModel):
    """Base for immutable value objects."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class User(Frozen):
    """A Telegram account as the desk knows it."""

    id: int
    first_name: str = ""
    last_name: str = ""
    username: str | None = None
    bot: bool = False

    @property
    def name(self) -> str:
        """Full display name, falling back to @username or the id."""
        full = f"{self.first_name} {self.last_name}".strip()
        if full:
            return full
        if self.username:
            return f"@{self.username}"
        return str(self.id)


class Chat(Frozen):
    """A conversation: a private chat, a group or a (forum) supergroup."""

    id: int
    title: str
    kind: ChatKind = "supergroup"
    username: str | None = None
    folder_ids: tuple[int, ...] = ()
    topics: tuple[tuple[int, str], ...] = ()
    """Forum topics as (topic id, title) pairs, when the source knows them."""

    def topic_title(self, topic_id: int | None) -> str | None:
        """The title of forum topic `topic_id`, if known."""
        if topic_id is None:
            return None
        return dict(self.topics).get(topic_id)


class Media(Frozen):
    """A media attachment, shown as a placeholder like "[photo 1.2 MB]"."""

    kind: str
    name: str | None = None
    size: int | None = None
    mime: str | None = None


class Message(Frozen):
    """One message in a chat, incoming or outgoing, possibly a service message."""

    chat_id: int
    id: int
    date: int
    sender_id: int | None = None
    sender_name: str = ""
    text: str = ""
    out: bool = False
    reply_to: int | None = None
    edit_date: int | None = None
    media: Media | None = None
    service: bool = False
    topic_id: int | None = None


class Status(StrEnum):
    """The engineer's local status for a chat."""

    OPEN = "open"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    POSTPONED = "postponed"
    IN_DEVELOPMENT = "in_development"
    CLOSED = "closed"


class OutboxState(StrEnum):
    """Where a reply is on its way to Telegram."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxItem(Frozen):
    """A reply kept in the store's outbox from before sending until Telegram confirms it."""

    local_id: int
    chat_id: int
    random_id: int
    text: str
    reply_to: int | None = None
    state: OutboxState = OutboxState.PENDING
    error: str | None = None
    created: int = 0
    sent_id: int | None = None


class ChatTriage(Frozen):
    """Per-chat triage summary: facts derived from messages plus the engineer's own marks.

    The derived half is kept up to date incrementally by the Inbox (and recomputed from the
    store's messages after a deletion); the marks half is only changed by the engineer.
    """

    chat_id: int
    # derived from messages
    last_msg_id: int = 0
    last_activity: int = 0
    last_preview: str = ""
    last_staff_msg_id: int = 0
    last_staff_at: int | None = None
    last_staff_sender: int | None = None
    waiting_since: int | None = None
    waiting_msg_id: int | None = None
    last_customer_id: int | None = None
    unread: int = 0
    read_inbox_max: int = 0
    read_outbox_max: int = 0
    # the engineer's marks
    handled_upto: int = 0
    status: Status = Status.OPEN
    postponed_until: int | None = None
    ticket: str | None = None
    due: int | None = None
    reopened: bool = False
    levels_override: tuple[int, int, int] | None = None
    alerted_level: int = 0
    unread_mark: bool = False
    """Marked unread by hand (a to-do, as Telegram's "Mark as unread"); opening it clears it."""
    # what the desk knows of the chat's history
    history_cut: int = 0
    """The chat has messages older than this id that the desk never fetched (0: none known)."""


@dataclass(frozen=True, slots=True)
class Note:
    """An internal note the engineer keeps on a chat (never sent to Telegram)."""

    id: int
    chat_id: int
    date: int
    author: str
    text: str
    after_msg_id: int | None = None
    """The chat's last message id when the note was written (it is shown after that one)."""
