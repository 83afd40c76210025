"""What a terminal shows after the frames an app sent it, cell by cell (to check that the
partial updates textual_compat trims still add up to the screen Textual composed)."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from textual._compositor import ChopsUpdate, LayoutUpdate
from textual.strip import Strip

Cell = tuple[str, Any]


class Terminal:
    """The cells a terminal shows after the frames an app sent it (full and partial updates)."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, int], Cell] = {}

    def write(self, x: int, y: int, strip: Strip, stop: int | None = None) -> None:
        """Write a strip's cells from column x (up to column `stop`)."""
        for segment in strip:
            for char in segment.text:
                if stop is not None and x >= stop:
                    return
                self.cells[(x, y)] = (char, segment.style)
                if cell_len(char) == 2:  # a wide character (an emoji) takes the next cell too
                    self.cells[(x + 1, y)] = ("", segment.style)
                x += cell_len(char)

    def apply(self, update: Any) -> None:
        """Apply one update as the terminal would (ChopsUpdate.render_segments' cuts)."""
        if isinstance(update, LayoutUpdate):
            for y, line in enumerate(update.strips, update.region.y):
                x = update.region.x
                for strip in line:  # the line's chops, left to right
                    self.write(x, y, strip)
                    x += strip.cell_length
            return
        assert isinstance(update, ChopsUpdate)
        for y, x1, x2 in update.spans:
            for end, (x, strip) in zip(update.chop_ends[y], update.chops[y].items(), strict=False):
                if strip is None or x > x2 or end <= x1:
                    continue
                self.write(x, y, strip, min(end, x2))

    def lines(self, width: int, height: int) -> list[list[Cell]]:
        """The screen, cell by cell."""
        return [[self.cells.get((x, y), ("?", None)) for x in range(width)] for y in range(height)]


def cells(strips: list[Strip], width: int) -> list[list[Cell]]:
    """A full render's cells, as `Terminal.lines` gives them."""
    screen = Terminal()
    for y, strip in enumerate(strips):
        screen.write(0, y, strip)
    return screen.lines(width, len(strips))


def differences(shown: list[list[Cell]], screen: list[list[Cell]]) -> list[tuple[int, int]]:
    """The (x, y) of the cells where what the terminal shows is not the screen."""
    return [
        (x, y)
        for y, (row, wanted) in enumerate(zip(shown, screen, strict=True))
        for x, (cell, want) in enumerate(zip(row, wanted, strict=True))
        if cell[0] != want[0] or cell[1] != want[1]
    ]
