"""What one batch of events or one action changed, so the screen repaints only that."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .models import Message


@dataclass
class Changes:
    """What one batch changed, so the screen repaints only that."""

    chats: set[int] = field(default_factory=set)
    messages: dict[int, list[Message]] = field(default_factory=dict)
    deleted: dict[int, set[int]] = field(default_factory=dict)
    outbox: set[int] = field(default_factory=set)
    order: bool = False
    status: bool = False
    slots: bool = False
    notices: list[str] = field(default_factory=list)

    def merge(self, other: Changes) -> None:
        """Fold `other` into this one."""
        self.chats |= other.chats
        for chat_id, msgs in other.messages.items():
            self.messages.setdefault(chat_id, []).extend(msgs)
        for chat_id, ids in other.deleted.items():
            self.deleted.setdefault(chat_id, set()).update(ids)
        self.outbox |= other.outbox
        self.order |= other.order
        self.status |= other.status
        self.slots |= other.slots
        self.notices.extend(other.notices)

    def forget_painted(self, painted: Changes) -> None:
        """Leave out what the screen has already drawn from the live state (rows, slots, order).

        Messages, deletions and notices stay: the screen drew rows and panels, not those.
        """
        self.chats -= painted.chats
        self.outbox -= painted.outbox
        if painted.slots:
            self.slots = False
        if painted.order:
            self.order = False
        if painted.status:
            self.status = False

    def __bool__(self) -> bool:
        return bool(
            self.chats
            or self.messages
            or self.deleted
            or self.outbox
            or self.order
            or self.status
            or self.slots
            or self.notices
        )


Listener = Callable[[Changes], None]
