"""The desk's search keys: Ctrl+F or / over every stored message, Alt+U a customer's history."""

from __future__ import annotations

import logging
import sqlite3

from .conversation import Conversation
from .desk_base import DeskBase
from .search_screen import HistoryScreen, SearchScreen

log = logging.getLogger(__name__)


class DeskSearch(DeskBase):
    """Open the search and history screens and jump to the message chosen there."""

    def action_search(self) -> None:
        """Ctrl+F or /: search every stored message (tui/search_screen.py)."""
        if not isinstance(self.screen, SearchScreen):
            inbox = self.inbox
            source_search = inbox.search_source if inbox.can_search_source() else None
            screen = SearchScreen(inbox.message_search(), source_search=source_search)
            self.push_screen(screen, self._jump)

    def action_customer_history(self) -> None:
        """Alt+U: everything the open chat's customer wrote in every chat, with their waits."""
        chat_id = self._open_or_say()
        if chat_id is None or isinstance(self.screen, SearchScreen):
            return
        state = self.inbox.triage.get(chat_id)
        customer = state.last_customer_id if state else None
        if customer is None:
            self.notify("No customer has written in this chat yet.", timeout=3)
            return
        user = self.inbox.users.get(customer)
        staff, now = self.inbox.report_staff(), self.inbox.now()
        self.push_screen(
            HistoryScreen(
                self.inbox.message_search(),
                lambda search: search.history_with_waits(customer, staff, now),
                user.name if user else str(customer),
            ),
            self._jump,
        )

    async def _jump(self, target: tuple[int, int] | None) -> None:
        """Open the chat of a search or history result, scrolled to that message, marked."""
        if target is None or target[0] not in self.inbox.chats:
            return
        chat_id, message_id = target
        await self.open_chat(chat_id, focus_composer=False)
        search = self.inbox.message_search()
        try:
            messages = search.around(chat_id, message_id)
        except sqlite3.DatabaseError as error:  # a damaged store: the desk stays up, one line
            log.error("could not read around message %s of %s: %s", message_id, chat_id, error)
            self.notify(f"Could not read that message from the store: {error}", timeout=5)
            return
        finally:
            search.close()
        conversation = self.query_one(Conversation)
        if all(message.id != message_id for message in messages):  # found on Telegram only
            self.notify(
                "That message is older than the loaded history: scroll up to load it.", timeout=5
            )
            return
        conversation.reveal(messages, message_id, has_older=True)
        conversation.focus()
