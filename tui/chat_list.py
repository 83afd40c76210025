"""The chat list: a line-API widget that renders only the visible rows."""

from __future__ import annotations

from collections.abc import Callable, Container

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scrollbar import ScrollBar
from textual.strip import Strip

from .line_view import LineScrollView
from .rows import RowModel
from .scrollbar import line_scrollbar

RowSource = Callable[[int], RowModel]
_BOLD = Style(bold=True)


_LIST_KEYS = frozenset({"k", "j", "l"})  # the letters the list acts on (ChatList.BINDINGS)


class ChatList(LineScrollView, can_focus=True):
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

    def __init__(
        self,
        row_source: RowSource,
        *,
        id: str | None = None,
        on_type: Callable[[str], None] | None = None,
    ) -> None:
        """`on_type(character)` gets what is typed here that is not a list key."""
        super().__init__(id=id)
        self._row_source = row_source
        self._on_type = on_type
        self._typing = False  # forwarding typed text until the focus has left the list
        self.chat_ids: list[int] = []
        self.cursor = 0
        self.open_chat_id: int | None = None
        self._models: dict[int, RowModel] = {}
        # Drawn rows as plain segments: a cached Strip would keep every Strip Textual derives
        # from it (crops, styles, divisions) alive too — thousands of objects for the collector.
        self._rows: dict[int, dict[tuple[int, bool, bool], list[Segment]]] = {}
        self.rows_rendered = 0
        self.rows_rebuilt = 0  # row models built by update_rows (tests count a tick's work)

    def on_key(self, event: events.Key) -> None:
        """A typed character that is not a list key (or follows one) goes on to `on_type`."""
        if self._on_type is None or not event.is_printable or not event.character:
            return
        if not self._typing and (event.key in _LIST_KEYS or event.character in "?/"):
            return
        self._typing = True
        event.stop()
        event.prevent_default()
        self._on_type(event.character)

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        """The vertical scrollbar, drawn with the line API (see tui/scrollbar.py)."""
        return line_scrollbar(self)

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

    def update_rows(self, chat_ids: Container[int] | None = None) -> None:
        """Rebuild the row models of some (or all visible) chats; repaint rows that changed.

        Only the visible rows are rebuilt, and only the rows kept off screen are looked up in
        `chat_ids`: the work is the screen's size, however many chats changed."""
        top = int(self.scroll_y)
        visible = self.chat_ids[top : top + self.size.height + 1]
        for y, chat_id in enumerate(visible):
            if chat_ids is not None and chat_id not in chat_ids:
                continue
            model = self._row_source(chat_id)
            self.rows_rebuilt += 1
            if self._models.get(chat_id) != model:
                self._models[chat_id] = model
                self._forget(chat_id)
                self.refresh(Region(0, y, self.size.width, 1))
        if chat_ids is not None:
            shown = set(visible)
            kept = self._models.keys() | self._rows.keys()
            for chat_id in [c for c in kept if c not in shown and c in chat_ids]:
                self._models.pop(chat_id, None)
                self._forget(chat_id)

    def set_open(self, chat_id: int | None, reveal: bool | None = None) -> None:
        """Mark which chat is open on the right, and move the cursor to it.

        The list scrolls to the chat when it has focus or when asked to (`reveal`: walking
        the list with Alt+↓/↑); a chat opened from a slot, Ctrl+N or the switcher leaves the
        list on the queue the engineer was watching, and it scrolls to the cursor once it is
        focused again. Only the rows that change are repainted unless it scrolls.
        """
        before = {self.cursor, *self._indexes_of(self.open_chat_id)}
        self.open_chat_id = chat_id
        if chat_id is not None and chat_id in self.chat_ids:
            self.cursor = self.chat_ids.index(chat_id)
            if self.has_focus if reveal is None else reveal:
                top = int(self.scroll_y)
                self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, force=True)
                if int(self.scroll_y) != top:
                    return  # scrolled: the whole list repaints anyway
        for index in before | {self.cursor}:
            self._refresh_index(index)

    def _indexes_of(self, chat_id: int | None) -> list[int]:
        """Where a chat is in the list (nothing for None or an unlisted chat)."""
        if chat_id is None:
            return []
        try:
            return [self.chat_ids.index(chat_id)]
        except ValueError:
            return []

    def _forget(self, chat_id: int) -> None:
        """Drop the cached rows of a chat."""
        self._rows.pop(chat_id, None)

    def _trim(self) -> None:
        """Keep cached rows and models only for the rows on screen (and a screen around them)."""
        top = int(self.scroll_y)
        height = self.size.height
        near = set(self.chat_ids[max(0, top - height) : top + 2 * height + 1])
        self._rows = {k: v for k, v in self._rows.items() if k in near}
        self._models = {k: v for k, v in self._models.items() if k in near}

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
            return Strip.blank(width, self._base)
        chat_id = self.chat_ids[index]
        is_cursor = index == self.cursor and self.has_focus
        is_open = chat_id == self.open_chat_id
        key = (width, is_cursor, is_open)
        drawn = self._rows.get(chat_id)
        segments = None if drawn is None else drawn.get(key)
        if segments is None:
            if drawn is None and len(self._rows) > 3 * max(self.size.height, 10):
                self._trim()
            model = self._models.get(chat_id)
            if model is None:
                model = self._models[chat_id] = self._row_source(chat_id)
            segments = list(self._draw(model, width, is_cursor, is_open))
            self._rows.setdefault(chat_id, {})[key] = segments
            self.rows_rendered += 1
        return Strip(segments, width)

    def base_style_changed(self) -> None:
        """Rows drawn with the old base style are stale."""
        self._rows.clear()

    def _style(self, name: str) -> Style:
        """A component style (`chat-list--NAME`)."""
        return self.get_component_rich_style(f"chat-list--{name}")

    def _draw(self, row: RowModel, width: int, is_cursor: bool, is_open: bool) -> Strip:
        """Lay out one row: slot, level mark, title … wait, unread, status.

        Built as segments directly (no Text wrapping and re-rendering): rows are drawn by the
        screenful whenever the list scrolls.
        """
        base = self._base
        if is_open:
            base = base + self._style("open")
        if is_cursor:
            base = base + self._style("cursor")
        level_style = (
            self._style("parked")
            if row.parked
            else self._style(f"level-{row.level}")
            if row.level is not None
            else self._style("quiet")
        )
        bold = _BOLD
        right: list[tuple[str, Style | None]] = []
        if row.team:
            right.append((f"{row.team} ", self._style("typing")))
        if row.typing:
            right.append(("✎ ", self._style("typing")))
        if row.wait:
            right.append((row.wait, level_style + bold))
        if row.unread:
            right.append((f" {row.unread}", self._style("unread")))
        if row.status:
            right.append((f" {row.status}", self._style("parked")))
        left: list[tuple[str, Style | None]] = [
            (row.slot, self._style("slot")),
            (row.mark, level_style + bold),
            (" ", None),
        ]
        left_len = sum(cell_len(text) for text, _ in left)
        right_len = sum(cell_len(text) for text, _ in right)
        room = max(1, width - left_len - right_len - 1)
        title = row.title
        title_len = cell_len(title)
        if title_len > room:  # Text.truncate(room, overflow="ellipsis")
            title = set_cell_size(title, room - 1) + "…"
            title_len = cell_len(title)
        left.append((title, level_style if row.level is not None else None))
        pad = max(1, width - left_len - title_len - right_len)
        return _cropped([*left, (" " * pad, None), *right], width, base)

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
        """The cursor shows (scrolled into view); letters are list keys again."""
        self._typing = False
        if 0 <= self.cursor < len(self.chat_ids):
            self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, force=True)
        self.refresh()

    def on_blur(self) -> None:
        """Hide the cursor highlight."""
        self.refresh()

    def on_resize(self) -> None:
        """Widths changed: cached rows are stale."""
        self._rows.clear()
        self.virtual_size = Size(self.size.width, len(self.chat_ids))

    def on_click(self, event: object) -> None:
        """Mouse: open the clicked row."""
        offset = getattr(event, "y", None)
        if isinstance(offset, int):
            index = int(self.scroll_y) + offset
            if 0 <= index < len(self.chat_ids):
                self._move_to(index)
                self.action_choose()


def _cropped(parts: list[tuple[str, Style | None]], width: int, base: Style) -> Strip:
    """The parts as one row of exactly `width` cells on `base` (Text.truncate's crop and pad)."""
    segments: list[Segment] = []
    used = 0
    for text, style in parts:
        if not text or used >= width:
            continue
        size = cell_len(text)
        if used + size > width:
            text = set_cell_size(text, width - used)
            size = width - used
        used += size
        segments.append(Segment(text, base + style if style else base))
    if used < width:
        segments.append(Segment(" " * (width - used), base))
    return Strip(segments, width).simplify()
