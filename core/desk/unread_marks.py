"""Marking a chat unread by hand (a personal to-do, Telegram's "Mark as unread"), kept in sync.

The mark lives in the chat's triage state (stored with it); a source that keeps such marks
(`MarksUnread`: Telegram) hears of each change, and its own changes arrive as `UnreadMarked`
events (core/desk/applier.py).
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING

from ..sources.base import ChatSource, MarksUnread
from .changes import Changes
from .models import ChatTriage
from .queries import InboxQueries

log = logging.getLogger(__name__)


class InboxUnreadMarks(InboxQueries):
    """Setting and clearing a chat's unread mark here and at the source."""

    source: ChatSource

    if TYPE_CHECKING:  # provided by the Inbox (core/desk/inbox.py, core/desk/actions.py)

        def emit(self, changes: Changes) -> None: ...

        def spawn(self, coro: Coroutine[object, object, object]) -> None: ...

        def _update(self, chat_id: int, state: ChatTriage, notice: str | None = None) -> None: ...

    def mark_unread(self, chat_id: int, unread: bool = True) -> bool:
        """Mark a chat unread by hand (a to-do; opening it clears the mark), or clear the mark.

        Kept here and stored; a source that keeps such marks (Telegram) hears of it in the
        background. False for an unknown chat or when the mark was already so.
        """
        state = self.triage.get(chat_id)
        if state is None or state.unread_mark == unread:
            return False
        self.mark_unread_now(chat_id, unread)
        self._update(chat_id, self.triage[chat_id])
        return True

    def mark_unread_now(self, chat_id: int, unread: bool) -> None:
        """Set the mark in the live state and tell the source (stored with the chat's state)."""
        self.triage[chat_id] = self.triage[chat_id].model_copy(update={"unread_mark": unread})
        if isinstance(self.source, MarksUnread):
            self.spawn(self._mark_unread_remote(self.source, chat_id, unread))

    async def _mark_unread_remote(self, source: MarksUnread, chat_id: int, unread: bool) -> None:
        """Tell the source about the mark; a failure is shown, the mark stays here."""
        try:
            await source.mark_unread(chat_id, unread)
        except Exception as exc:
            log.warning("mark unread failed: %s", exc)
            self.emit(Changes(notices=[f"Marked here only: Telegram did not take it ({exc})"]))
