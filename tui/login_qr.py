"""The QR code of a login token, drawn with half blocks in dark-on-light cells."""

from __future__ import annotations

from functools import lru_cache

from rich.text import Text
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget

from ..core.sources.telegram.qr import QUIET_ZONE, qr_lines

SMALL_QUIET_ZONE = 2
"""The quiet zone when the terminal is too short for the standard four modules."""
SPARE_ROWS = 8
"""Rows the login screen needs besides the code (title, explanation, message, footer)."""


@lru_cache(maxsize=8)
def _lines(url: str, border: int) -> tuple[str, ...]:
    """The code's text lines (cached: the screen redraws every second)."""
    return tuple(qr_lines(url, border=border))


class QrCode(Widget):
    """Draws `url` as a QR code; black on white whatever the theme, so phones can read it."""

    url: reactive[str] = reactive("", layout=True)

    def lines(self) -> tuple[str, ...]:
        """The code with the standard quiet zone when the screen has room, else a smaller one."""
        if not self.url:
            return ()
        full = _lines(self.url, QUIET_ZONE)
        if len(full) + SPARE_ROWS <= self.app.size.height:
            return full
        return _lines(self.url, SMALL_QUIET_ZONE)

    def render(self) -> Text:
        """The code as black-on-white text."""
        return Text("\n".join(self.lines()), style="black on white", no_wrap=True)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        """As wide as the code."""
        lines = self.lines()
        return len(lines[0]) if lines else 0

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """As tall as the code (two module rows per line)."""
        return len(self.lines())
