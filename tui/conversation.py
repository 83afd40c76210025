"""The open conversation: a bounded window of messages drawn with the line API."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from itertools import accumulate

from rich.console import Console
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message as TMessage
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tgtriage.core.models import Message, OutboxItem

WINDOW = 400  # messages kept in memory for the open chat
Renderer = Callable[[Message], Text]
OutboxRenderer = Callable[[OutboxItem], Text]


class Conversation(ScrollView, can_focus=True):
    """Messages of one chat, newest at the bottom; scrolling to the top asks for older ones."""

    BINDINGS = [
        Binding("up,k", "scroll_up", "Scroll up", show=False),
        Binding("down,j", "scroll_down", "Scroll down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_home", "Oldest", show=False),
        Binding("end", "scroll_end", "Newest", show=False),
    ]

    class NeedOlder(TMessage):
        """The top was reached: load messages older than `before_id`."""

        def __init__(self, chat_id: int, before_id: int) -> None:
            super().__init__()
            self.chat_id = chat_id
            self.before_id = before_id

    def __init__(
        self, render_message: Renderer, render_outbox: OutboxRenderer, *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._render_message = render_message
        self._render_outbox = render_outbox
        self.chat_id: int | None = None
        self.messages: list[Message] = []
        self.outbox: list[OutboxItem] = []
        self.has_older = False
        self._loading_older = False
        self._blocks: list[list[Strip]] = []
        self._starts: list[int] = [0]
        self._width = 0
        self._following = True
        self._wrapped: dict[Message, list[Strip]] = {}
        self.empty_text = (
            "Pick a chat on the left (↑ ↓ Enter), or press Ctrl+N for the one waiting longest."
        )

    # ----------------------------------------------------------------- data in

    def show(
        self, chat_id: int, messages: list[Message], outbox: list[OutboxItem], has_older: bool
    ) -> None:
        """Show a chat from scratch, scrolled to the newest message."""
        self.chat_id = chat_id
        self.messages = messages[-WINDOW:]
        self.outbox = list(outbox)
        self.has_older = has_older or len(messages) > WINDOW
        self._loading_older = False
        self.forget_wraps()
        self._relayout()
        self._follow()

    def _follow(self) -> None:
        """Scroll to the newest line now and again once the layout has settled."""
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.call_after_refresh(self.scroll_end, animate=False, immediate=True, x_axis=False)

    def clear_chat(self) -> None:
        """Show nothing (no chat open)."""
        self.chat_id = None
        self.messages = []
        self.outbox = []
        self._relayout()

    def add(self, messages: list[Message]) -> None:
        """New or edited messages arrived for this chat; follow the bottom if we were there."""
        at_bottom = self.scroll_y >= self.max_scroll_y - 1
        by_id = {m.id: m for m in self.messages}
        for message in messages:
            by_id[message.id] = message
        merged = sorted(by_id.values(), key=lambda m: m.id)
        self.messages = merged[-WINDOW:]
        if len(merged) > WINDOW:
            self.has_older = True
        self._relayout()
        if at_bottom:
            self._follow()

    def remove_messages(self, ids: set[int]) -> None:
        """Messages were deleted."""
        self.messages = [m for m in self.messages if m.id not in ids]
        self.forget_wraps()  # reply quotes may point at messages that came or went
        self._relayout()

    def set_outbox(self, outbox: list[OutboxItem]) -> None:
        """Replace the unconfirmed replies shown under the messages."""
        at_bottom = self.scroll_y >= self.max_scroll_y - 1
        self.outbox = list(outbox)
        self._relayout()
        if at_bottom:
            self._follow()

    def prepend(self, older: list[Message], has_more: bool) -> None:
        """Older messages arrived after scrolling to the top; keep the view where it was."""
        self._loading_older = False
        known = {m.id for m in self.messages}
        older = [m for m in older if m.id not in known]
        self.has_older = has_more and bool(older)
        if not older:
            return
        before_lines = self._starts[-1]
        self.messages = sorted([*older, *self.messages], key=lambda m: m.id)
        self.forget_wraps()  # reply quotes may point at messages that came or went
        self._relayout()
        added = self._starts[-1] - before_lines
        self.scroll_to(y=self.scroll_y + added, animate=False, immediate=True)

    def rerender(self) -> None:
        """Redraw every block (the waiting mark, names or styles changed)."""
        self.forget_wraps()
        self._relayout()

    def forget_wraps(self) -> None:
        """Drop the wrapped lines kept per message; the next layout draws every block anew."""
        self._wrapped.clear()

    # ----------------------------------------------------------------- layout

    def _relayout(self) -> None:
        """Index the lines of every block, wrapping only messages not wrapped at this width."""
        width = self._wrap_width()
        if width != self._width:
            self._wrapped.clear()
        self._width = width
        console: Console = self.app.console
        wrapped: dict[Message, list[Strip]] = {}
        blocks: list[list[Strip]] = []
        for message in self.messages:
            strips = self._wrapped.get(message)
            if strips is None:
                strips = self._wrap(self._render_message(message), console, width)
            wrapped[message] = strips
            blocks.append(strips)
        for item in self.outbox:
            blocks.append(self._wrap(self._render_outbox(item), console, width))
        self._wrapped = wrapped
        self._blocks = blocks
        self._starts = [0, *accumulate(len(b) for b in blocks)]
        height = self._starts[-1]
        self.virtual_size = Size(width, height)
        self.refresh()

    def _wrap(self, text: Text, console: Console, width: int) -> list[Strip]:
        """Wrap one message's Text into strips, plus a blank separator line."""
        text.no_wrap = False
        text.overflow = "fold"
        lines = text.wrap(console, width, overflow="fold")
        strips = [Strip(list(line.render(console))).extend_cell_length(width) for line in lines]
        strips.append(Strip.blank(width))
        return strips

    def render_line(self, y: int) -> Strip:
        """Draw line `y` of the visible region."""
        index = int(self.scroll_y) + y
        width = self.size.width
        # Every segment gets a style: with NO_COLOR, Textual's monochrome filter fails on None.
        if not self._blocks:
            if y == 1:
                hint = Text(" " + self.empty_text, "dim")
                strip = Strip(list(hint.render(self.app.console))).crop_extend(0, width, None)
                return strip.apply_style(self.rich_style)
            return Strip.blank(width, self.rich_style)
        if index >= self._starts[-1]:
            return Strip.blank(width, self.rich_style)
        block = bisect_right(self._starts, index) - 1
        strip = self._blocks[block][index - self._starts[block]]
        return strip.crop_extend(0, width, None).apply_style(self.rich_style)

    def on_resize(self) -> None:
        """Re-wrap at the new width; keep following the newest message if we were there."""
        following = self._following
        if self._wrap_width() != self._width:
            self._relayout()
        if following:
            self._follow()

    def _wrap_width(self) -> int:
        """Wrap width: the widget's width less a column kept for the scrollbar, shown or not.

        Wrapping at the content region's width instead depended on whether the scrollbar had
        appeared yet, which left text one column too wide (cut off, and a horizontal
        scrollbar) depending on timing.
        """
        gutter = self.styles.scrollbar_size_vertical
        return max(10, (self.size.width or 80) - gutter)

    def watch_scroll_y(self, old: float, new: float) -> None:
        """Ask for older messages when the top is reached; remember whether we follow the end."""
        super().watch_scroll_y(old, new)
        self._following = new >= self.max_scroll_y - 1
        if (
            new <= 0
            and self.has_older
            and not self._loading_older
            and self.messages
            and self.chat_id is not None
        ):
            self._loading_older = True
            self.post_message(self.NeedOlder(self.chat_id, self.messages[0].id))

    @property
    def line_count(self) -> int:
        """Total wrapped lines (for tests)."""
        return self._starts[-1]
