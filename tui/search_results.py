"""The search and history results: two lines a message, drawn with the line API.

An OptionList measures and renders every option through Textual's visual pipeline on each
fill, tens of milliseconds for 50 two-line results; this list renders only the visible lines,
each once, from the rich Text the screen made (chat text in it is plain text with styles).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip

from .line_view import LineScrollView
from .scrollbar import ScrollBar, line_scrollbar
from .textual_compat import set_virtual_size_quietly

LINES_PER_RESULT = 2
_CURSOR = Style(reverse=True)


class ResultList(LineScrollView, can_focus=True):
    """Results, a cursor over them, and Enter to choose one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Open", show=False),
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
        Binding("pagedown", "move(10)", "Page down", show=False),
        Binding("pageup", "move(-10)", "Page up", show=False),
    ]

    class Chosen(Message):
        """A result was chosen (Enter or a click)."""

        def __init__(self, results: ResultList, index: int) -> None:
            super().__init__()
            self.results = results
            self.index = index

        @property
        def control(self) -> ResultList:
            """The list the result was chosen in."""
            return self.results

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.results: list[object] = []
        self._draw_result: Callable[[int], Text] = lambda index: Text()
        self._texts: dict[int, Text] = {}
        self.cursor = 0
        self._drawn: dict[tuple[int, int, bool, int], list[Segment]] = {}

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        """The vertical scrollbar, drawn with the line API (see tui/scrollbar.py)."""
        return line_scrollbar(self)

    def show(
        self,
        results: Sequence[object],
        draw: Callable[[int], Text],
        drawn: dict[int, Text] | None = None,
    ) -> None:
        """Show these results from the top, the cursor on the first; `draw(i)` makes result
        `i`'s two lines, asked only for the results that come into view (`drawn`: some made
        already). Only the rows in view whose lines differ from the last results are redrawn."""
        old_texts, old_count, old_cursor = self._texts, len(self.results), self.cursor
        self.results = list(results)
        self._draw_result = draw
        self._texts = dict(drawn or {})
        self.cursor = 0
        width = self.scrollable_content_region.width or self.size.width
        size = Size(width, LINES_PER_RESULT * len(results))
        if not self.container_size:
            self.virtual_size = size  # not laid out yet: the first layout takes it
        elif size != self.virtual_size:
            # Not a layout of the whole screen (and the desk under it) per keystroke: only
            # this list and its scrollbar change.
            set_virtual_size_quietly(self, size)
        if self.scroll_y or not self.size.height:
            self._drawn.clear()
            self.scroll_to(y=0, animate=False, immediate=True)
            self.refresh()
            return
        in_view = self.size.height // LINES_PER_RESULT + 1
        for index in range(min(in_view, max(old_count, len(self.results)))):
            same = (
                index < old_count
                and index < len(self.results)
                and old_texts.get(index) == self.text(index)
                and (index == 0) == (index == old_cursor)
            )
            if not same:
                self._forget(index)
                self.refresh_lines(index * LINES_PER_RESULT, LINES_PER_RESULT)
        for index in [i for i, _, _, _ in self._drawn if i >= in_view]:
            self._forget(index)

    def _forget(self, index: int) -> None:
        """Drop the drawn lines of result `index`."""
        for key in [key for key in self._drawn if key[0] == index]:
            del self._drawn[key]

    def text(self, index: int) -> Text:
        """Result `index` as drawn (made on first use)."""
        text = self._texts.get(index)
        if text is None:
            text = self._texts[index] = self._draw_result(index)
        return text

    def move(self, step: int) -> None:
        """Move the cursor and keep it in view."""
        if not self.results:
            return
        self.cursor = max(0, min(len(self.results) - 1, self.cursor + step))
        top = self.cursor * LINES_PER_RESULT
        self.scroll_to_region(
            Region(0, top, 1, LINES_PER_RESULT), animate=False, immediate=True, force=True
        )
        self.refresh()

    def action_move(self, step: int) -> None:
        """↑ ↓ PgUp PgDn."""
        self.move(step)

    def action_choose(self) -> None:
        """Enter: choose the result under the cursor."""
        if self.results:
            self.post_message(self.Chosen(self, self.cursor))

    def on_click(self, event: object) -> None:
        """A click chooses the result under the pointer."""
        y = getattr(event, "y", None)
        if isinstance(y, int):
            index = (int(self.scroll_y) + y) // LINES_PER_RESULT
            if 0 <= index < len(self.results):
                self.cursor = index
                self.post_message(self.Chosen(self, index))

    def base_style_changed(self) -> None:
        """Lines drawn with the old base style are stale."""
        self._drawn.clear()

    def render_line(self, y: int) -> Strip:
        """Draw line `y` of the visible region."""
        line = int(self.scroll_y) + y
        width = self.scrollable_content_region.width
        index, part = divmod(line, LINES_PER_RESULT)
        if index >= len(self.results) or width <= 0:
            return Strip.blank(width, self._base)
        selected = index == self.cursor
        key = (index, part, selected, width)
        segments = self._drawn.get(key)
        if segments is None:
            segments = self._draw(self.text(index), part, selected, width)
            self._drawn[key] = segments
        return Strip(segments, width)

    def _draw(self, text: Text, part: int, selected: bool, width: int) -> list[Segment]:
        """One line of one result, cut or padded to `width`."""
        lines = text.split("\n", allow_blank=True)
        shown = lines[part].copy() if part < len(lines) else Text()
        shown.truncate(width, overflow="ellipsis", pad=True)
        console: Console = self.app.console
        base = self._base + _CURSOR if selected else self._base
        segments = list(shown.render(console))
        return list(Segment.apply_style(segments, base))
