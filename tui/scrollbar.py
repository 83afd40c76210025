"""A vertical scrollbar drawn with the line API: the same bar as Textual's, a tenth of the cost."""

from __future__ import annotations

from math import ceil
from typing import Self

from rich.color import Color
from rich.style import Style
from textual.geometry import Region
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip
from textual.widget import Widget

from .textual_compat import attach_vertical_scrollbar, clear_dirty, is_dirty

_BACK = Color.parse("#555555")
_BAR = Color.parse("bright_magenta")


class LineScrollBar(ScrollBar):
    """Textual's ScrollBar, its lines built from `ScrollBarRender.render_bar` directly.

    The stock widget renders the bar as a Rich renderable through a console on every change
    (every switch moves it): a millisecond or two of a key's 16 ms. The segments are the same.
    """

    def __init__(self, vertical: bool = True, name: str | None = None, *, thickness: int = 1):
        """Same arguments as ScrollBar."""
        super().__init__(vertical=vertical, name=name, thickness=thickness)
        self._bar_key: tuple[object, ...] | None = None
        self._bar_lines: list[Strip] = []
        self._thumb: tuple[object, int, int] | None = None

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        """Repaint only the rows the thumb covered or covers now (a few cells of a switch).

        Which rows those are follows from the bar's geometry alone (ScrollBarRender's own
        arithmetic), so nothing is drawn here: the lines are built once, at the next paint.
        """
        if regions or layout or recompose or not repaint or self._bar_key is None:
            self._thumb = None
            return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
        old, new = self._thumb, self._thumb_rows()
        self._thumb = new
        if old is None or new is None or old[0] != new[0]:
            return super().refresh()  # a new size or a style (hover, grab): all of it
        rows = set(range(old[1], old[2] + 1)) | set(range(new[1], new[2] + 1))
        width = self.size.width
        height = self.size.height
        changed = [Region(0, y, width, 1) for y in sorted(rows) if 0 <= y < height]
        if changed:
            super().refresh(*changed)
        return self

    def _thumb_rows(self) -> tuple[object, int, int] | None:
        """(what else the bar depends on, first row, last row) of the thumb; (…, 0, -1) for none.

        The same arithmetic as ScrollBarRender.render_bar: the rows from the one holding the
        thumb's start to the one holding its end (both may be partial glyphs).
        """
        if not self.vertical:
            return None
        virtual = self.window_virtual_size
        window = self.window_size if self.window_size < virtual else 0
        virtual, window = ceil(virtual), ceil(window)
        size = self.size.height
        basis = (self.size, bool(self.grabbed), self.mouse_over)
        if not (window and size and virtual and size != virtual):
            return basis, 0, -1
        bars = len(ScrollBarRender.VERTICAL_BARS)
        thumb = max(1, window / (virtual / size))
        offset = (size - thumb) * (self.position / (virtual - window))
        start = int(offset * bars)
        end = start + ceil(thumb * bars)
        return basis, max(0, start) // bars, max(0, end) // bars

    def render_line(self, y: int) -> Strip:
        """Line `y` of the bar (the bar is built once per change, not once per line)."""
        stale = is_dirty(self) or self._bar_key is None or self._bar_key[:2] != self.size
        if stale and not self._build():
            return super().render_line(y)
        if y < len(self._bar_lines):
            return self._bar_lines[y]
        return Strip.blank(self.size.width)

    def _build(self) -> bool:
        """Build the bar's lines; False where this does not apply (the stock path draws)."""
        renderable = self.render()
        if not self.vertical or not isinstance(renderable, ScrollBarRender):
            self._bar_key = None
            return False
        width, height = self.size
        key = (
            width,
            height,
            renderable.virtual_size,
            renderable.window_size,
            renderable.position,
            renderable.style,
        )
        clear_dirty(self)
        self._thumb = self._thumb_rows()
        if key == self._bar_key:
            return True
        style = renderable.style
        if isinstance(style, str):
            style = Style.parse(style)
        bar = renderable.render_bar(
            size=height,
            window_size=renderable.window_size,
            virtual_size=renderable.virtual_size,
            position=renderable.position,
            vertical=True,
            thickness=width,
            back_color=style.bgcolor or _BACK,
            bar_color=style.color or _BAR,
        )
        self._bar_lines = [Strip([segment], width) for segment in bar.segments]
        self._bar_key = key
        return True


def line_scrollbar(widget: Widget) -> ScrollBar:
    """`Widget.vertical_scrollbar`, created as a LineScrollBar (same steps as Textual's)."""
    return attach_vertical_scrollbar(
        widget,
        lambda: LineScrollBar(
            vertical=True, name="vertical", thickness=widget.scrollbar_size_vertical
        ),
    )
