"""A vertical scrollbar drawn with the line API: the same bar as Textual's, a tenth of the cost."""

from __future__ import annotations

from typing import Self

from rich.color import Color
from rich.style import Style
from textual.geometry import Region
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip
from textual.widget import Widget

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

    def refresh(
        self,
        *regions: Region,
        repaint: bool = True,
        layout: bool = False,
        recompose: bool = False,
    ) -> Self:
        """Repaint only the lines of the bar that change (the thumb moved a few cells)."""
        if regions or layout or recompose or not repaint or self._bar_key is None:
            return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
        old = self._bar_lines
        if not self._build(force=True):
            return super().refresh()
        new = self._bar_lines
        width = self.size.width
        changed = [
            Region(0, y, width, 1)
            for y in range(max(len(old), len(new)))
            if y >= len(old) or y >= len(new) or old[y] != new[y]
        ]
        if changed:
            super().refresh(*changed)
        return self

    def render_line(self, y: int) -> Strip:
        """Line `y` of the bar (the bar is built once per change, not once per line)."""
        stale = self._dirty_regions or self._bar_key is None or self._bar_key[:2] != self.size
        if stale and not self._build():
            return super().render_line(y)
        if y < len(self._bar_lines):
            return self._bar_lines[y]
        return Strip.blank(self.size.width)

    def _build(self, force: bool = False) -> bool:
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
        if not force:
            self._dirty_regions.clear()
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
    if widget._vertical_scrollbar is None:
        bar = LineScrollBar(
            vertical=True, name="vertical", thickness=widget.scrollbar_size_vertical
        )
        bar.display = False
        widget._vertical_scrollbar = bar
        widget.app._start_widget(widget, bar)
    return widget._vertical_scrollbar
