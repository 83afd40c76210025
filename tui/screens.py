"""Modal screens over a dimmed desk: help (the dialogs are drawn on the desk: tui/dialogs.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from rich.console import Group
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.color import Color
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.strip import Strip
from textual.widgets import Static

from .keymap import ACTIONS, COMPOSER_KEYS, MESSAGE_ACTIONS, display_keys
from .textual_compat import below_strips, clear_dirty, is_dirty

_Result = TypeVar("_Result")


class DimmedBackground(ModalScreen[_Result]):
    """A modal screen whose dimmed copy of the desk beneath is built from its cached lines.

    Textual paints a modal's translucent background by rendering the screen below through a
    Rich console and tinting every segment anew — about 12 ms of a 16 ms frame here. The
    desk's own line caches and a tint kept per style give the same cells.
    """

    _tints: ClassVar[dict[tuple[Style | None, Color, Style], Style]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Same arguments as ModalScreen."""
        super().__init__(*args, **kwargs)
        self._dimmed: list[Strip] = []
        self._dimmed_size: Size | None = None

    def render_line(self, y: int) -> Strip:
        """Line `y` of the dimmed desk (or Textual's own background where there is none)."""
        background = self.styles.background
        if background.a >= 1:
            return super().render_line(y)
        if is_dirty(self) or self._dimmed_size != self.size:
            strips = below_strips(self, self.size)
            if strips is None:
                return super().render_line(y)
            clear_dirty(self)
            base = self.visual_style.rich_style
            self._dimmed = [self._tint(strip, background, base) for strip in strips]
            self._dimmed_size = self.size
        if y < len(self._dimmed):
            return self._dimmed[y]
        return Strip.blank(self.size.width)

    @classmethod
    def _tint(cls, strip: Strip, color: Color, base: Style) -> Strip:
        """The strip as BackgroundScreen tints it (meta and links removed), on `base`."""
        tints = cls._tints
        if len(tints) > 4096:
            tints.clear()
        segments = []
        for text, style, control in strip:
            if control:
                segments.append(Segment(text, style, control))
                continue
            tinted = tints.get((style, color, base))
            if tinted is None:
                tinted = tints[(style, color, base)] = base + _tinted(style, color)
            segments.append(Segment(text, tinted))
        return Strip(segments, strip.cell_length)


def _tinted(style: Style | None, color: Color) -> Style:
    """One segment style under a translucent colour (Textual's BackgroundScreen, per style)."""
    plain = Style() if style is None else style.clear_meta_and_links()
    if color.a == 0:
        return plain
    return plain + Style.from_color(
        (Color.from_rich_color(plain.color) + color).rich_color if plain.color else None,
        (Color.from_rich_color(plain.bgcolor) + color).rich_color if plain.bgcolor else None,
    )


class HelpScreen(DimmedBackground[None]):
    """Every key and what it does, grouped; generated from the action registry."""

    BINDINGS = [Binding("escape,f1,q,question_mark", "dismiss", "Close", show=False)]

    def __init__(self, keymap: Mapping[str, str], first_group: str | None = None) -> None:
        """Help over `keymap` (the user's remapping), `first_group` at the top (the mode on)."""
        super().__init__()
        self._keymap = keymap
        self._first_group = first_group

    def compose(self) -> ComposeResult:
        """A scrollable table of keys."""
        groups: dict[str, list[tuple[str, str]]] = {}
        if self._first_group is not None:
            groups[self._first_group] = []
        for action in (*ACTIONS, *MESSAGE_ACTIONS):
            if action.id.startswith("slot_") and action.id != "slot_1":
                continue
            keys = display_keys(action, self._keymap)
            description = action.description
            if action.id == "slot_1":
                keys, description = "Alt+1 … Alt+0", "Open working-set slot 1 … 10"
            groups.setdefault(action.group, []).append((keys, description))
        groups.setdefault("Composer and list", []).extend(COMPOSER_KEYS)
        # A grid, so that a long description wraps under itself, not under the keys.
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True)
        table.add_column(ratio=1)
        for group, rows in groups.items():
            table.add_row(Text(group, "bold underline"), Text())
            for keys, description in rows:
                table.add_row(Text(f"  {keys}", "bold cyan"), Text(description))
            table.add_row(Text(), Text())
        title = Text("tgtriage — keys\n", "bold")
        hint = Text("Esc closes this help. Keys can be remapped in config.toml [keys].", "dim")
        with VerticalScroll(id="help-box"):
            yield Static(Group(title, table, hint), id="help-text")
