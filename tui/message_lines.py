"""The open conversation's lines: a bounded window of messages drawn with the line API.

Only the newest messages the engineer can reach without scrolling far are wrapped into lines;
messages above them are wrapped as scrolling approaches them, and older ones are asked for
(`NeedOlder`) when the top of the window is reached. Wrapped lines are kept per message, also
for the last few chats shown, so a new message, an edit or a switch back wraps only what is new.
"""

from __future__ import annotations

import time
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Hashable
from itertools import accumulate

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.strip import Strip

from ..core.desk.models import Message, OutboxItem
from .line_view import LineScrollView
from .textual_compat import set_virtual_size_quietly
from .wrap import Block, _wrap

WINDOW = 400  # messages kept in memory for the open chat
KEPT_CHATS = 12  # recently shown chats whose wrapped lines are kept (the working set and a few)
Renderer = Callable[[Message, Message | None, bool], Text]  # message, what it quotes, waiting?
OutboxRenderer = Callable[[OutboxItem], Text]
Anchor = tuple[int, int]  # (message id, line within it) at the top of the view


class MessageLines(LineScrollView):
    """A window of one chat's messages wrapped into lines, newest at the bottom; the lines
    are built for the newest messages and grow upwards as scrolling approaches them."""

    def __init__(
        self, render_message: Renderer, render_outbox: OutboxRenderer, *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._render_message = render_message
        self._render_outbox = render_outbox
        self.chat_id: int | None = None
        self.messages: list[Message] = []
        self.outbox: list[OutboxItem] = []
        self.waiting_id: int | None = None
        self.found_id: int | None = None  # the message a search or history jumped to
        self.selected_id: int | None = None  # message mode's cursor (tui/desk_messages.py)
        self.has_older = False
        self._loading_older = False
        self._ids: list[int] = []  # ids of `messages`, for bisecting
        self._first_id: int | None = None  # the oldest message laid out (None: none yet)
        self._laid = 0  # how many of the newest messages are laid out
        self._blocks: list[Block] = []
        self._block_ids: list[int | None] = []  # message id of each block (None: outbox)
        self._starts: list[int] = [0]
        self._width = 0
        self._following = True
        self._growing = False
        self._wrapped: dict[Hashable, Block] = {}
        self._kept: OrderedDict[int, dict[Hashable, Block]] = OrderedDict()
        self._day = _today()
        self.wraps = 0  # messages wrapped so far (for tests and the benchmark)
        self._hint: tuple[tuple[int, Style, str], list[Strip]] | None = None
        self.empty_text = (
            "Pick a chat on the left (↑ ↓ Enter), or press Ctrl+N for the most urgent waiting chat."
        )

    def plain_lines(self) -> list[str]:
        """Every held message and unconfirmed reply as plain wrapped lines (tests, copying)."""
        width = self._wrap_width()
        console: Console = self.app.console
        by_id = {m.id: m for m in self.messages}
        lines: list[str] = []
        texts = [
            self._render_marked(
                m,
                by_id.get(m.reply_to) if m.reply_to else None,
                m.id == self.waiting_id,
                m.id == self.found_id,
                m.id == self.selected_id,
            )
            for m in self.messages
        ]
        texts += [self._render_outbox(item) for item in self.outbox]
        for text in texts:
            for segments in _wrap(text, console, width):
                lines.append("".join(segment.text for segment in segments).rstrip())
        return lines

    def _render_marked(
        self, message: Message, quoted: Message | None, waiting: bool, found: bool, selected: bool
    ) -> Text:
        """A message as the renderer draws it, led by a mark if a jump landed on it, and
        reversed with a bar on the left under message mode's cursor."""
        text = self._render_message(message, quoted, waiting)
        if found:
            text = Text.assemble(("▶ found ", "bold reverse"), text)
        if selected:
            text = Text.assemble(("▌", "bold"), text)
            header_end = text.plain.find("\n")
            text.stylize("reverse", 0, header_end if header_end >= 0 else len(text))
        return text

    def rerender(self) -> None:
        """Redraw every block (names or styles changed)."""
        self.forget_wraps()
        self._relayout()

    def forget_wraps(self) -> None:
        """Drop every kept wrapped line; the next layout wraps each message anew."""
        self._wrapped.clear()
        self._kept.clear()

    def _set_messages(self, messages: list[Message]) -> None:
        """Hold these messages (sorted by id)."""
        self.messages = messages
        self._ids = [m.id for m in messages]

    def _keep_wraps(self) -> None:
        """Put the shown chat's wrapped lines aside for when it is shown again."""
        if self.chat_id is not None and self._wrapped:
            self._kept[self.chat_id] = self._wrapped
            self._kept.move_to_end(self.chat_id)
            while len(self._kept) > KEPT_CHATS:
                self._kept.popitem(last=False)
        self._wrapped = {}

    def _fill_lines(self) -> int:
        """Lines to lay out below the top of what is laid: the view and one screen above it."""
        return 2 * max(self.size.height, 20)

    def _relayout(self, at_least: int = 0) -> None:
        """Lay out the laid messages again, and more of the older ones until `at_least` lines.

        A message already wrapped at this width (with the same quote and waiting mark) reuses
        its lines, so this costs a dictionary lookup per laid message plus the new wraps.
        """
        width = self._wrap_width()
        day = _today()
        if width != self._width or day != self._day:
            self.forget_wraps()  # "today" shows times only: a new day changes every message
        self._width, self._day = width, day
        console: Console = self.app.console
        base = self._base
        messages = self.messages
        by_id: dict[int, Message] | None = None
        blocks: list[Block] = []
        block_ids: list[int | None] = []
        wrapped: dict[Hashable, Block] = {}
        lines = 0
        for item in self.outbox:
            item_key = ("outbox", item, width)
            block = self._wrapped.get(item_key)
            if block is None:
                block = _wrap(self._render_outbox(item), console, width, base)
            wrapped[item_key] = block
            blocks.append(block)
            block_ids.append(None)
            lines += len(block)
        keep_from = (
            len(messages) if self._first_id is None else bisect_left(self._ids, self._first_id)
        )
        first = len(messages)
        for index in range(len(messages) - 1, -1, -1):
            if index < keep_from and lines >= at_least:
                break
            message = messages[index]
            quoted = None
            if message.reply_to is not None:
                if by_id is None:
                    by_id = {m.id: m for m in messages}
                quoted = by_id.get(message.reply_to)
            key = (
                message,
                quoted,
                message.id == self.waiting_id,
                message.id == self.found_id,
                message.id == self.selected_id,
            )
            block = self._wrapped.get(key)
            if block is None:
                block = _wrap(self._render_marked(*key), console, width, base)
                self.wraps += 1
            wrapped[key] = block
            blocks.append(block)
            block_ids.append(message.id)
            lines += len(block)
            first = index
        self._wrapped = wrapped
        self._first_id = messages[first].id if first < len(messages) else None
        self._laid = len(messages) - first
        outbox_count = len(self.outbox)
        # Collected newest first (messages) after the outbox: put them in screen order.
        self._blocks = blocks[outbox_count:][::-1] + blocks[:outbox_count]
        self._block_ids = block_ids[outbox_count:][::-1] + block_ids[:outbox_count]
        self._starts = [0, *accumulate(len(b) for b in self._blocks)]
        self._set_virtual_size(Size(width, self._starts[-1]))
        self.refresh()

    def _set_virtual_size(self, size: Size) -> None:
        """Set the scrollable size without a layout of the whole screen.

        `virtual_size` is a layout reactive: setting it reflows and repaints every widget on
        the screen, doubling the cost of a chat switch. Only this widget and its scrollbar
        change, so they are updated directly (a scrollbar that appears or goes still lays out).
        """
        if size == self.virtual_size:
            return
        if not self.container_size:
            self.virtual_size = size  # not laid out yet: let the first layout take it
            return
        set_virtual_size_quietly(self, size)

    def _grow(self) -> None:
        """Lay out held messages above what is laid, keeping the view where it is."""
        anchor = self._anchor()
        self._relayout(self._starts[-1] + self._fill_lines())
        if anchor is not None:
            self._restore(anchor)

    def _anchor(self) -> Anchor | None:
        """The message (and line within it) at the top of the view."""
        top = int(self.scroll_y)
        if not self._blocks or top >= self._starts[-1]:
            return None
        block = bisect_right(self._starts, top) - 1
        for index in range(block, len(self._blocks)):
            message_id = self._block_ids[index]
            if message_id is not None:
                return message_id, max(0, top - self._starts[index])
        return None

    def _restore(self, anchor: Anchor) -> None:
        """Scroll so that the anchor's message line is at the top of the view again."""
        message_id, offset = anchor
        for index, block_id in enumerate(self._block_ids):
            if block_id is not None and block_id >= message_id:
                line = self._starts[index] + (offset if block_id == message_id else 0)
                if line != int(self.scroll_y):
                    self.scroll_to(y=line, animate=False, immediate=True)
                return

    def _follow(self) -> None:
        """Scroll to the newest line now and again once the layout has settled."""
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.call_after_refresh(self.scroll_end, animate=False, immediate=True, x_axis=False)

    def _hint_lines(self, width: int, base: Style) -> list[Strip]:
        """`empty_text` wrapped at `width`, kept until the width, style or text changes."""
        key = (width, base, self.empty_text)
        if self._hint is None or self._hint[0] != key:
            console = self.app.console
            lines = Text(self.empty_text, "dim").wrap(console, max(1, width - 2))
            strips = [
                Strip(list((Text(" ") + line).render(console)))
                .crop_extend(0, width, None)
                .apply_style(base)
                for line in lines
            ]
            self._hint = (key, strips)
        return self._hint[1]

    def base_style_changed(self) -> None:
        """Lines wrapped with the old base style are stale."""
        self.forget_wraps()
        self._relayout()

    def render_line(self, y: int) -> Strip:
        """Draw line `y` of the visible region."""
        index = int(self.scroll_y) + y
        width = self.size.width
        base = self._base
        # Every segment gets a style: with NO_COLOR, Textual's monochrome filter fails on None.
        if not self._blocks:  # the hint, wrapped under a blank line
            hint = self._hint_lines(width, base)
            return hint[y - 1] if 1 <= y <= len(hint) else Strip.blank(width, base)
        if index >= self._starts[-1]:
            return Strip.blank(width, base)
        block = bisect_right(self._starts, index) - 1
        # Lines are wrapped at the content width and carry the base style already.
        return Strip(self._blocks[block][index - self._starts[block]], self._width)

    def on_resize(self) -> None:
        """Re-wrap at a new width, fill a taller view; keep following the newest message."""
        following = self._following
        if self._wrap_width() != self._width:
            self._relayout(self._fill_lines())
        elif self._starts[-1] < self._fill_lines() and self._laid < len(self.messages):
            self._grow()
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

    @property
    def line_count(self) -> int:
        """Total laid-out lines (for tests)."""
        return self._starts[-1]


def _today() -> tuple[int, int]:
    """The local date as (year, day of year): message times show the date unless it is today."""
    now = time.localtime()
    return now.tm_year, now.tm_yday
