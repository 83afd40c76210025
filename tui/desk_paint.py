"""What the desk paints: rows, messages, one-line panels, live changes and the tick."""

from __future__ import annotations

import time
from bisect import bisect_left

from rich.text import Text
from textual import on
from textual.css.query import NoMatches
from textual.widgets import Static

from ..core.desk.inbox import Changes
from ..core.desk.models import Message, OutboxItem
from ..core.rules.notes import notes_after
from . import keymap as km
from .chat_list import ChatList
from .conversation import Conversation
from .desk_base import PAGE, DeskBase
from .message_view import (
    message_text,
    outbox_text,
)
from .note_view import mark_tickets, with_notes
from .panels import header_text, slots_text, status_text, view_bar_text
from .rows import RowModel, row_model


class DeskPaint(DeskBase):
    """What the desk paints: rows, messages, one-line panels, live changes and the tick."""

    def _row(self, chat_id: int) -> RowModel:
        """Row model for the chat list."""
        return row_model(self.inbox, chat_id, self.inbox.now())

    def _render_message(self, message: Message, quoted: Message | None, waiting: bool) -> Text:
        """One message as safe Text (`quoted`: the held message it replies to)."""
        inbox = self.inbox
        me_id = inbox.me.id if inbox.me else inbox.rule.me_id

        def quote(msg_id: int) -> tuple[str, str] | None:
            if quoted is None or quoted.id != msg_id:
                return None
            return inbox.sender_name(quoted), quoted.text or "[media]"

        is_me = message.out or (message.sender_id is not None and message.sender_id == me_id)
        role = inbox.role(message)
        chat = inbox.chats.get(message.chat_id)
        topic = chat.topic_title(message.topic_id) if chat and chat.kind == "forum" else None
        text = message_text(
            message,
            "You" if is_me else inbox.sender_name(message),
            role,
            is_me,
            quote,
            message.id if waiting else None,
            self.styles_for_messages,
            topic=topic,
        )
        mark_tickets(text, inbox.config.tickets)
        notes = inbox.notes.get(message.chat_id)
        if notes:
            conversation = self.query_one(Conversation)
            shown = conversation.messages
            index = bisect_left(shown, message.id, key=lambda m: m.id)
            if index < len(shown) and shown[index].id == message.id:
                before, after = notes_after(index, shown, notes, conversation.has_older)
                text = with_notes(text, before, after)
        return text

    def _render_outbox(self, item: OutboxItem) -> Text:
        """An unconfirmed reply."""
        held = item.local_id in self.inbox.outgoing.held
        return outbox_text(item, "You", self.styles_for_messages, held)

    def _refresh_panels(self) -> None:
        """Slot strip, header and status line."""
        inbox = self.inbox
        width = self.size.width or 80
        self._set_panel("#slots", slots_text(inbox, width))
        self._set_panel("#conv-header", header_text(inbox, inbox.open_chat_id))
        self._set_panel("#status", status_text(inbox, self.source_label))
        bar_width = self.query_one("#view-bar", Static).size.width or 30
        self._set_panel("#view-bar", view_bar_text(inbox, self._view_keys(), bar_width - 1))

    def _set_panel(self, selector: str, text: Text) -> None:
        """Update a one-line panel only when its text changed; its size never does (no layout)."""
        if self._panels.get(selector) == text:
            return
        self._panels[selector] = text
        self.query_one(selector, Static).update(text, layout=False)

    def _view_keys(self) -> str:
        """How to change the view, as the view bar says it."""
        keys = [
            km.display_keys(a, self.user_keymap)
            for a in km.ACTIONS
            if a.id in ("next_view", "choose_view")
        ]
        return " · ".join(keys)

    def _on_changes(self, changes: Changes) -> None:
        """Apply one coalesced batch of changes to the screen (at most once per frame)."""
        if not self.ready:
            return
        started = time.perf_counter()
        chat_list = self.query_one(ChatList)
        if changes.order:
            chat_list.set_order(self.inbox.order())
        chat_list.update_rows(changes.chats)
        open_id = self.inbox.open_chat_id
        conversation = self.query_one(Conversation)
        if open_id is not None and conversation.chat_id == open_id:
            self._update_conversation(conversation, open_id, changes)
        for notice in changes.notices:
            self.notify(notice)
        if open_id is not None and open_id in changes.drafts:
            self._reload_draft(open_id)
        self._refresh_panels()
        self.paint_log.append(("changes", time.perf_counter() - started))
        del self.paint_log[:-200]

    def _update_conversation(
        self, conversation: Conversation, chat_id: int, changes: Changes
    ) -> None:
        """Bring the open conversation up to date in one layout, re-wrapping only what changed."""
        state = self.inbox.triage.get(chat_id)
        waiting = state.waiting_msg_id if state else None
        added = changes.messages.get(chat_id, [])
        deleted = changes.deleted.get(chat_id, set())
        outbox = self.inbox.outbox.get(chat_id, []) if chat_id in changes.outbox else None
        if added and self._replies is not None:
            self._replies.forget_language(chat_id)
        if added or deleted or outbox is not None or waiting != conversation.waiting_id:
            conversation.update(added, deleted, outbox, waiting)

    def _scroll_conversation(self, key: str) -> None:
        """PgUp/PgDn/Ctrl+Home/Ctrl+End from the composer scroll the open conversation."""
        conversation = self.query_one(Conversation)
        if key == "pageup":
            conversation.action_page_up()
        elif key == "pagedown":
            conversation.action_page_down()
        elif key == "ctrl+home":
            conversation.action_scroll_home()
        else:
            conversation.action_scroll_end()

    @on(Conversation.NeedOlder)
    async def _need_older(self, event: Conversation.NeedOlder) -> None:
        older = await self.inbox.history(event.chat_id, before_id=event.before_id, limit=PAGE)
        conversation = self.query_one(Conversation)
        if conversation.chat_id == event.chat_id:
            conversation.prepend(older, has_more=len(older) >= PAGE)

    def _tick(self) -> None:
        """Once a second: timers move; repaint only the rows whose text changed.

        Only the rows time can change are rebuilt (a wait, a postponement, typing); the
        order is the Inbox's kept one, re-sorted only when a level or postponement moved.
        """
        if self._inbox is None:
            return
        try:
            chat_list = self.query_one(ChatList)
        except NoMatches:
            return  # the desk is shutting down; its widgets are already gone
        order = self.inbox.order()
        if order != chat_list.chat_ids:
            chat_list.set_order(order)
        chat_list.update_rows(self.inbox.changes_with_time())
        self._refresh_panels()
        self._ticks += 1
        # Template files are looked at every third tick: a stat of every file each second
        # was a tenth of an idle desk's work, and a few seconds is soon enough to reload.
        if self._replies is not None and self._ticks % 3 == 0 and self._replies.poll():
            self._announce_templates()
        self.collector.when_idle(time.monotonic() - self._input_at)

    def _announce_templates(self) -> None:
        """Say that templates were (re)loaded, with the first problem if any."""
        replies = self.replies
        self.notify(f"Templates reloaded: {len(replies.library)} ready.", timeout=3)
        for problem in replies.errors[:3]:
            self.notify(
                problem, title="Template problem", severity="warning", timeout=10, markup=False
            )

    def action_reload_templates(self) -> None:
        """Reload the template files now (they also reload by themselves when changed)."""
        self.replies.reload()
        self._announce_templates()
