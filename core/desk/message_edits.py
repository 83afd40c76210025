"""Changing our own sent messages: edit one, delete one for everyone (message mode).

The source does the change (`EditsMessages`, `DeletesMessages` in core/sources/base.py); what it
returns goes through the same events as a change made on the phone (core/desk/applier.py), so
the conversation, the store and the search index follow. One change per message at a time: a
second Enter while an edit is on its way is refused, never sent twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..sources.base import ChatSource, DeletesMessages, EditsMessages, SendError
from . import events as ev

NOT_SUPPORTED = "This source cannot change sent messages."


class InboxMessageEdits:
    """Editing and deleting the engineer's own messages through the source."""

    source: ChatSource
    changing_messages: set[tuple[int, int]]  # (chat, message) whose change is on its way now

    if TYPE_CHECKING:  # provided by the Inbox (core/desk/inbox.py)

        def submit(self, event: ev.Event) -> None: ...

    @property
    def changes_messages(self) -> bool:
        """Whether the source can edit and delete our messages."""
        return isinstance(self.source, EditsMessages) and isinstance(self.source, DeletesMessages)

    async def edit_message(self, chat_id: int, message_id: int, text: str) -> str | None:
        """Replace the text of our message; None when done, else why not (one clear line)."""
        text = text.strip()
        if not text:
            return "An edit cannot be empty: delete the message instead."
        if not isinstance(self.source, EditsMessages):
            return NOT_SUPPORTED
        key = (chat_id, message_id)
        if key in self.changing_messages:
            return "This message is already being changed; wait for it."
        self.changing_messages.add(key)
        try:
            edited = await self.source.edit(chat_id, message_id, text)
        except SendError as exc:
            return str(exc)
        finally:
            self.changing_messages.discard(key)
        self.submit(ev.MessageEdited(edited))
        return None

    async def react_to(self, chat_id: int, message_id: int, emoji: str) -> str | None:
        """Put our reaction on a message; None when done, else why not (one clear line)."""
        try:
            await self.source.react(chat_id, message_id, emoji)
        except SendError as exc:
            return str(exc)
        return None

    async def delete_message(self, chat_id: int, message_id: int) -> str | None:
        """Delete our message for everyone; None when done, else why not (one clear line)."""
        if not isinstance(self.source, DeletesMessages):
            return NOT_SUPPORTED
        key = (chat_id, message_id)
        if key in self.changing_messages:
            return "This message is already being changed; wait for it."
        self.changing_messages.add(key)
        try:
            await self.source.delete(chat_id, [message_id])
        except SendError as exc:
            return str(exc)
        finally:
            self.changing_messages.discard(key)
        self.submit(ev.MessagesDeleted(chat_id, (message_id,)))
        return None
