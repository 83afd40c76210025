"""The open conversation: the window of messages (tui/message_lines.py) the engineer scrolls,
loads older messages into, and moves message mode's cursor over."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from typing import ClassVar

from textual.binding import BindingType
from textual.message import Message as TMessage
from textual.scrollbar import ScrollBar

from ..core.desk.models import Message, OutboxItem
from .keymap import MESSAGE_ACTIONS, bindings
from .message_lines import WINDOW, MessageLines
from .scrollbar import line_scrollbar

__all__ = ["WINDOW", "Conversation", "MessageLines"]


class Conversation(MessageLines, can_focus=True):
    """Messages of one chat, newest at the bottom; scrolling to the top asks for older ones."""

    # Focused, it holds message mode's cursor: its keys act through the desk (tui/message_keys.py).
    BINDINGS: ClassVar[list[BindingType]] = list(bindings(MESSAGE_ACTIONS))

    class CursorLeft(TMessage):
        """The conversation lost the focus: message mode is over."""

    class CursorKey(TMessage):
        """A key that moves message mode's cursor (core/rules/message_cursor.py MOVES)."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def action_cursor(self, key: str) -> None:
        """A cursor key: moves the cursor in message mode, else scrolls as a reader expects."""
        if self.selected_id is not None:
            self.post_message(self.CursorKey(key))
            return
        scroll = {"up": self.action_scroll_up, "down": self.action_scroll_down}
        scroll |= {"pageup": self.action_page_up, "pagedown": self.action_page_down}
        scroll |= {"home": self.action_scroll_home, "end": self.action_scroll_end}
        scroll[key]()

    class NeedOlder(TMessage):
        """The top was reached: load messages older than `before_id`."""

        def __init__(self, chat_id: int, before_id: int) -> None:
            super().__init__()
            self.chat_id = chat_id
            self.before_id = before_id

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        """The vertical scrollbar, drawn with the line API (see tui/scrollbar.py)."""
        return line_scrollbar(self)

    def show(
        self,
        chat_id: int,
        messages: list[Message],
        outbox: list[OutboxItem],
        has_older: bool,
        waiting_id: int | None = None,
    ) -> None:
        """Show a chat from scratch, scrolled to the newest message."""
        self._keep_wraps()
        self.chat_id = chat_id
        self._wrapped = self._kept.pop(chat_id, {})
        self.found_id = None
        self.selected_id = None
        self._set_messages(messages[-WINDOW:])
        self.outbox = list(outbox)
        self.waiting_id = waiting_id
        self.has_older = has_older or len(messages) > WINDOW
        self._loading_older = False
        self._first_id = None
        self._relayout(self._fill_lines())
        self._follow()

    def reveal(self, messages: list[Message], message_id: int, has_older: bool) -> None:
        """Hold `messages` of the open chat (up to its newest), mark `message_id` and scroll
        it into view: where a search or a customer's history jumped to."""
        self.found_id = message_id
        self._set_messages(messages[-WINDOW:])
        self.has_older = has_older
        index = bisect_left(self._ids, message_id)
        self._first_id = self._ids[max(0, index - 3)] if self._ids else None
        self._relayout(self._fill_lines())
        self._scroll_to_found()
        self.call_after_refresh(self._scroll_to_found)

    def select(self, message_id: int | None) -> None:
        """Put message mode's cursor on `message_id` (None: no cursor) and scroll it into view."""
        if message_id == self.selected_id:
            self._scroll_to_selected()
            return
        self.selected_id = message_id
        if message_id is not None and self._first_id is not None and message_id < self._first_id:
            self._first_id = message_id  # lay out down from it
        self._relayout()
        self._scroll_to_selected()

    def _scroll_to_selected(self) -> None:
        """Scroll the least that shows the selected message whole (its top if it is taller)."""
        for index, block_id in enumerate(self._block_ids):
            if block_id is not None and block_id == self.selected_id:
                top, bottom = self._starts[index], self._starts[index + 1]
                height = max(1, self.size.height)
                y = int(self.scroll_y)
                if top < y or bottom - top > height:
                    y = top
                elif bottom > y + height:
                    y = bottom - height
                if y != int(self.scroll_y):
                    self.scroll_to(y=y, animate=False, immediate=True)
                return

    def on_blur(self) -> None:
        """Leaving the conversation ends message mode (the desk decides what that clears)."""
        self.post_message(self.CursorLeft())

    def _scroll_to_found(self) -> None:
        """Put the marked message a little below the top of the view."""
        for index, block_id in enumerate(self._block_ids):
            if block_id is not None and block_id == self.found_id:
                self.scroll_to(y=max(0, self._starts[index] - 2), animate=False, immediate=True)
                return

    def update(
        self,
        messages: Iterable[Message] = (),
        deleted: Iterable[int] = (),
        outbox: list[OutboxItem] | None = None,
        waiting_id: int | None = None,
    ) -> None:
        """Apply what changed in this chat at once: new or edited messages, deletions, the
        unconfirmed replies and the waiting mark; follow the bottom if we were there."""
        at_bottom = self.scroll_y >= self.max_scroll_y - 1
        anchor = None if at_bottom else self._anchor()
        by_id = {m.id: m for m in self.messages}
        for message in messages:
            by_id[message.id] = message
        for gone in deleted:
            by_id.pop(gone, None)
        merged = sorted(by_id.values(), key=lambda m: m.id)
        if len(merged) > WINDOW:
            self.has_older = True
            merged = merged[-WINDOW:]
        self._set_messages(merged)
        if outbox is not None:
            self.outbox = list(outbox)
        self.waiting_id = waiting_id
        self._relayout()
        if at_bottom:
            self._follow()
        elif anchor is not None:
            self._restore(anchor)

    def add(self, messages: list[Message]) -> None:
        """New or edited messages arrived for this chat."""
        self.update(messages=messages, waiting_id=self.waiting_id)

    def set_outbox(self, outbox: list[OutboxItem]) -> None:
        """Replace the unconfirmed replies shown under the messages."""
        self.update(outbox=outbox, waiting_id=self.waiting_id)

    def prepend(self, older: list[Message], has_more: bool) -> None:
        """Older messages arrived after scrolling to the top; they are laid out on the way up."""
        self._loading_older = False
        known = set(self._ids)
        older = [m for m in older if m.id not in known]
        self.has_older = has_more and bool(older)
        if not older:
            return
        self._set_messages(sorted([*older, *self.messages], key=lambda m: m.id))
        self._grow()

    def watch_scroll_y(self, old: float, new: float) -> None:
        """Lay out more as the top nears; ask for older messages when the window's top is
        reached; remember whether we follow the end."""
        super().watch_scroll_y(old, new)
        self._following = new >= self.max_scroll_y - 1
        if new < max(self.size.height, 1) and self._laid < len(self.messages):
            if not self._growing:
                self._growing = True
                self.call_later(self._grow_now)
            return
        if new <= 0:
            self.need_older()

    def need_older(self) -> None:
        """At the top with everything held laid out: ask for older messages (once at a time)."""
        if (
            self.has_older
            and not self._loading_older
            and self.messages
            and self.chat_id is not None
        ):
            self._loading_older = True
            self.post_message(self.NeedOlder(self.chat_id, self.messages[0].id))

    def _grow_now(self) -> None:
        """Lay out more of the held messages above (scheduled from the scroll watcher)."""
        self._growing = False
        if self.scroll_y < max(self.size.height, 1) and self._laid < len(self.messages):
            self._grow()
            if self.scroll_y <= 0 and self._laid == len(self.messages):
                self.need_older()
