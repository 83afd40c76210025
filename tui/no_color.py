"""NO_COLOR that stays readable: greys kept apart from the background they are drawn on."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from rich.segment import Segment
from rich.style import Style
from textual.app import App
from textual.color import Color
from textual.filter import LineFilter, Monochrome, monochrome_style

from .textual_compat import line_filters

LIFT = 0.6  # on a dark background, text is at least this light (0 black … 1 white)
DROP = 0.4  # on a light background, text is at most this light


class ReadableMonochrome(LineFilter):
    """Textual's NO_COLOR filter (every colour to its grey), with text kept readable.

    Textual turns each colour into the grey of its luminance, so red — the colour of the
    chats that waited longest — became a grey one step above the background (#3a3a3a on
    #121212). Here a text grey is moved away from the background's: lifted into the light
    range on a dark background, pushed into the dark range on a light one. Order between
    greys is kept (muted text stays dimmer than normal text); marks, bold and reverse carry
    the levels, as DESIGN §4 asks.
    """

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        """The segments in readable greys."""
        return [
            Segment(text, None if style is None else _readable(style, background), None)
            for text, style, _ in segments
        ]


@lru_cache(2048)
def _readable(style: Style, background: Color) -> Style:
    """One segment style in greys, its text grey moved away from its background grey."""
    mono = monochrome_style(style)
    if mono.color is None:
        return mono
    ground = Color.from_rich_color(mono.bgcolor) if mono.bgcolor else background
    text = Color.from_rich_color(mono.color)
    level = text.brightness
    level = LIFT + (1 - LIFT) * level if ground.brightness < 0.5 else DROP * level
    grey = round(level * 255)
    return mono + Style(color=Color(grey, grey, grey).rich_color)


def use_readable_no_color(app: App[Any]) -> None:
    """Swap the app's NO_COLOR filter for the readable one (nothing when colour is on)."""
    filters = line_filters(app)
    for index, line_filter in enumerate(filters):
        if isinstance(line_filter, Monochrome):
            filters[index] = ReadableMonochrome()
