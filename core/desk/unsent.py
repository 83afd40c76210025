"""Replies not sent yet, as the engineer handles them: retry or discard a failed one, and undo
send — a reply waits in the outbox for `undo_send_seconds` (core/desk/outbox.py), and taking it
back in that window makes its text the chat's draft again."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING

from ..rules import forum
from .changes import Changes
from .kept import KeptReply
from .models import OutboxItem, OutboxState
from .outbox import is_queued
from .queries import InboxQueries

if TYPE_CHECKING:
    from .outbox import Outbox


class InboxUnsent(InboxQueries):
    """Retry, discard, and take back the reply still in its undo window."""

    drafts: dict[int, str]

    if TYPE_CHECKING:  # provided by the Inbox (core/desk/inbox.py, core/desk/actions.py)
        outgoing: Outbox

        def emit(self, changes: Changes) -> None: ...

        def spawn(self, coro: Coroutine[object, object, object]) -> None: ...

        def set_draft(self, chat_id: int, text: str) -> None: ...

    def held_reply(self) -> tuple[OutboxItem, float] | None:
        """The reply sent last that has not left yet, and the seconds until it leaves."""
        item = self.outgoing.newest_held()
        if item is None:
            return None
        left = self.outgoing.hold_left(item.local_id)
        return None if left is None else (item, left)

    def undo_send(self) -> OutboxItem | None:
        """Take back the reply sent last, if it has not left: nothing is sent, and its text
        becomes its chat's draft again (before what was typed there since)."""
        held = self.outgoing.newest_held()
        if held is None:
            return None
        # The draft first, then the outbox row: a crash in between keeps the text either way.
        typed = self.drafts.get(held.chat_id, "")
        self.set_draft(held.chat_id, f"{held.text}\n{typed}" if typed.strip() else held.text)
        item = self.outgoing.take_back(held.local_id)
        self.emit(Changes(outbox={held.chat_id}, drafts={held.chat_id}))
        return item

    def chosen_reply_target(self, item: OutboxItem) -> int | None:
        """The message a reply answered because the engineer picked it (R in message mode), or
        None when it only carried the forum topic's anchor (core/rules/forum.py)."""
        chat = self.chats.get(item.chat_id)
        if item.reply_to is None or chat is None:
            return item.reply_to
        anchor = forum.reply_anchor(chat, self.triage.get(item.chat_id))
        return None if item.reply_to == anchor else item.reply_to

    async def retry(self, local_id: int) -> None:
        """Send a failed or queued reply again with the same random id (never posts twice)."""
        item = self.outgoing.find(local_id)
        if item is not None and (item.state is OutboxState.FAILED or is_queued(item)):
            self.spawn(self.outgoing.deliver(item))

    async def discard(self, local_id: int) -> str | None:
        """Drop a failed reply from the outbox; return its text so it can go back to the composer."""
        item = self.outgoing.discard(local_id)
        return None if item is None else item.text

    def failed_items(self) -> list[OutboxItem]:
        """Replies that could not be sent."""
        return self.outgoing.failed()

    async def store_kept(self, reply: KeptReply) -> None:
        """Put a kept reply in the outbox now that the store takes writes again, and send it."""
        chat_id = reply.chat_id
        await self.outgoing.add(chat_id, reply.text, reply.reply_to)
        changes = Changes(outbox={chat_id}, status=True)
        if self.drafts.get(chat_id) == reply.text:  # nothing typed since: the draft was this
            self.set_draft(chat_id, "")
            changes.drafts.add(chat_id)
        self.emit(changes)
