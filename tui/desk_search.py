"""The desk's search keys: Ctrl+F or / over every stored message, Alt+U a customer's history."""

from __future__ import annotations

import logging
import sqlite3

from ..core.desk.models import Message
from .conversation import Conversation
from .desk_base import DeskBase
from .search_screen import HistoryScreen, SearchScreen

log = logging.getLogger(__name__)

REACH_BACK_PAGES = 5  # pages of older history loaded to reach a message found on Telegram
REACH_BACK_PAGE = 100


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
        """Open the chat of a search or history result, scrolled to that message, marked; one
        found on Telegram only is first paged back to through the history path."""
        if target is None or target[0] not in self.inbox.chats:
            return
        chat_id, message_id = target
        await self.open_chat(chat_id, focus_composer=False)
        messages = self._around(chat_id, message_id)
        if messages is not None and all(m.id != message_id for m in messages):
            oldest = messages[0].id if messages else None
            if await self._reach_back(chat_id, message_id, oldest):
                messages = self._around(chat_id, message_id)
        if messages is None:
            return
        if all(message.id != message_id for message in messages):
            self.notify(
                "That message is older than the loaded history: scroll up to load it.", timeout=5
            )
            return
        conversation = self.query_one(Conversation)
        conversation.reveal(messages, message_id, has_older=True)
        conversation.focus()

    def _around(self, chat_id: int, message_id: int) -> list[Message] | None:
        """The stored messages from a little before `message_id` on (None: the store failed,
        said in one line)."""
        search = self.inbox.message_search()
        try:
            return search.around(chat_id, message_id)
        except sqlite3.DatabaseError as error:  # a damaged store: the desk stays up, one line
            log.error("could not read around message %s of %s: %s", message_id, chat_id, error)
            self.notify(f"Could not read that message from the store: {error}", timeout=5)
            return None
        finally:
            search.close()

    async def _reach_back(self, chat_id: int, message_id: int, oldest: int | None) -> bool:
        """Load the chat's older history (core/desk/reads.py `history`, which stores it) page by
        page from `oldest` down, a few pages at most; whether `message_id` came."""
        before = oldest
        for _ in range(REACH_BACK_PAGES):
            page = await self.inbox.history(chat_id, before_id=before, limit=REACH_BACK_PAGE)
            if any(message.id == message_id for message in page):
                return True
            if not page or (before is not None and page[0].id >= before) or page[0].id < message_id:
                return False
            before = page[0].id
        return False
