"""The chat list: a line-API widget that renders only the visible rows."""

from __future__ import annotations

from collections.abc import Callable

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tgtriage.tui.rows import RowModel

RowSource = Callable[[int], RowModel]


class ChatList(ScrollView, can_focus=True):
    """Rows of chats in triage order; the app supplies the order and a row builder."""

    COMPONENT_CLASSES = {
        "chat-list--cursor",
        "chat-list--open",
        "chat-list--level-0",
        "chat-list--level-1",
        "chat-list--level-2",
        "chat-list--level-3",
        "chat-list--parked",
        "chat-list--slot",
        "chat-list--unread",
        "chat-list--typing",
        "chat-list--quiet",
    }

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor(-10)", "Page up", show=False),
        Binding("pagedown", "cursor(10)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First", show=False),
        Binding("end", "cursor_to(-1)", "Last", show=False),
        Binding("enter,right,l", "choose", "Open", show=False),
    ]

    class Chosen(Message):
        """The engineer picked a chat in the list."""

        def __init__(self, chat_id: int) -> None:
            super().__init__()
            self.chat_id = chat_id

    def __init__(self, row_source: RowSource, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._row_source = row_source
        self.chat_ids: list[int] = []
        self.cursor = 0
        self.open_chat_id: int | None = None
        self._models: dict[int, RowModel] = {}
        self._strips: dict[tuple[int, int, bool, bool], Strip] = {}
        self.rows_rendered = 0

    # ----------------------------------------------------------------- data in

    def set_order(self, chat_ids: list[int]) -> None:
        """Show these chats in this order, keeping the cursor on the same chat."""
        current = self.current_chat_id
        if chat_ids == self.chat_ids:
            return
        self.chat_ids = list(chat_ids)
        if current is not None and current in self.chat_ids:
            self.cursor = self.chat_ids.index(current)
        self.cursor = max(0, min(self.cursor, len(self.chat_ids) - 1))
        self.virtual_size = Size(self.size.width, len(self.chat_ids))
        self.refresh()

    def update_rows(self, chat_ids: set[int] | None = None) -> None:
        """Rebuild the row models of some (or all visible) chats; repaint rows that changed."""
        top = int(self.scroll_y)
        visible = self.chat_ids[top : top + self.size.height + 1]
        targets = visible if chat_ids is None else [c for c in visible if c in chat_ids]
        for chat_id in targets:
            model = self._row_source(chat_id)
            if self._models.get(chat_id) != model:
                self._models[chat_id] = model
                self._forget(chat_id)
                y = self.chat_ids.index(chat_id, top)
                self.refresh(Region(0, y - top, self.size.width, 1))
        if chat_ids is not None:
            for chat_id in chat_ids - set(visible):
                self._models.pop(chat_id, None)
                self._forget(chat_id)

    def set_open(self, chat_id: int | None) -> None:
        """Mark which chat is open on the right, and move the cursor to it."""
        self.open_chat_id = chat_id
        if chat_id is not None and chat_id in self.chat_ids:
            self.cursor = self.chat_ids.index(chat_id)
            self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, force=True)
        self.refresh()

    def _forget(self, chat_id: int) -> None:
        """Drop cached strips of a chat."""
        for key in [k for k in self._strips if k[0] == chat_id]:
            del self._strips[key]

    # ----------------------------------------------------------------- queries

    @property
    def current_chat_id(self) -> int | None:
        """The chat under the cursor."""
        if 0 <= self.cursor < len(self.chat_ids):
            return self.chat_ids[self.cursor]
        return None

    # ----------------------------------------------------------------- drawing

    def render_line(self, y: int) -> Strip:
        """Draw row `y` of the visible region."""
        index = int(self.scroll_y) + y
        width = self.scrollable_content_region.width  # not under the scrollbar
        if index >= len(self.chat_ids) or width <= 0:
            return Strip.blank(width, self.rich_style)
        chat_id = self.chat_ids[index]
        is_cursor = index == self.cursor and self.has_focus
        is_open = chat_id == self.open_chat_id
        key = (chat_id, width, is_cursor, is_open)
        strip = self._strips.get(key)
        if strip is None:
            model = self._models.get(chat_id)
            if model is None:
                model = self._models[chat_id] = self._row_source(chat_id)
            strip = self._draw(model, width, is_cursor, is_open)
            self._strips[key] = strip
            self.rows_rendered += 1
        return strip

    def _draw(self, row: RowModel, width: int, is_cursor: bool, is_open: bool) -> Strip:
        """Lay out one row: slot, level mark, title … wait, unread, status."""
        base = self.rich_style
        if is_open:
            base = base + self.get_component_rich_style("chat-list--open")
        if is_cursor:
            base = base + self.get_component_rich_style("chat-list--cursor")
        level_style = (
            self.get_component_rich_style("chat-list--parked")
            if row.parked
            else self.get_component_rich_style(f"chat-list--level-{row.level}")
            if row.level is not None
            else self.get_component_rich_style("chat-list--quiet")
        )
        right = Text()
        if row.typing:
            right.append("✎ ", self.get_component_rich_style("chat-list--typing"))
        if row.wait:
            right.append(row.wait, level_style + Style(bold=True))
        if row.unread:
            right.append(f" {row.unread}", self.get_component_rich_style("chat-list--unread"))
        if row.status:
            right.append(f" {row.status}", self.get_component_rich_style("chat-list--parked"))
        left = Text()
        left.append(row.slot, self.get_component_rich_style("chat-list--slot"))
        left.append(row.mark, level_style + Style(bold=True))
        left.append(" ")
        room = max(1, width - left.cell_len - right.cell_len - 1)
        title = Text(row.title, style=level_style if row.level is not None else Style())
        title.truncate(room, overflow="ellipsis")
        left.append_text(title)
        pad = max(1, width - left.cell_len - right.cell_len)
        line = Text.assemble(left, " " * pad, right)
        line.truncate(width, overflow="crop", pad=True)
        segments = [
            Segment(s.text, base + s.style if s.style else base)
            for s in line.render(self.app.console)
        ]
        return Strip(segments, width).simplify()

    # ----------------------------------------------------------------- input

    def action_cursor(self, step: int) -> None:
        """Move the cursor."""
        self._move_to(self.cursor + step)

    def action_cursor_to(self, index: int) -> None:
        """Jump to the first (0) or last (-1) row."""
        self._move_to(len(self.chat_ids) - 1 if index < 0 else index)

    def _move_to(self, index: int) -> None:
        """Put the cursor on row `index` and keep it visible."""
        if not self.chat_ids:
            return
        old = self.cursor
        self.cursor = max(0, min(index, len(self.chat_ids) - 1))
        self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, force=True)
        self._refresh_index(old)
        self._refresh_index(self.cursor)

    def _refresh_index(self, index: int) -> None:
        """Repaint one row by list index."""
        y = index - int(self.scroll_y)
        if 0 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def action_choose(self) -> None:
        """Open the chat under the cursor."""
        chat_id = self.current_chat_id
        if chat_id is not None:
            self.post_message(self.Chosen(chat_id))

    def on_focus(self) -> None:
        """The cursor shows only while the list has focus."""
        self.refresh()

    def on_blur(self) -> None:
        """Hide the cursor highlight."""
        self.refresh()

    def on_resize(self) -> None:
        """Widths changed: cached strips are stale."""
        self._strips.clear()
        self.virtual_size = Size(self.size.width, len(self.chat_ids))

    def on_click(self, event: object) -> None:
        """Mouse: open the clicked row."""
        offset = getattr(event, "y", None)
        if isinstance(offset, int):
            index = int(self.scroll_y) + offset
            if 0 <= index < len(self.chat_ids):
                self._move_to(index)
                self.action_choose()
