"""Every touch of Textual's and Rich's private members, fenced in one module.

textual==8.2.8 and rich==15.0.0 are pinned exactly in pyproject.toml; tests/test_textual_compat.py
checks that each member used here still exists with the signature relied on, and that each
work-around still does its job. The rest of tui/ reaches Textual's internals only through the
functions and base classes below (each names the Textual behaviour it works around).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar, cast

from rich._wrap import divide_line as _rich_divide_line
from rich.cells import _is_single_cell_widths
from rich.segment import Segment
from textual import events
from textual._compositor import Compositor
from textual._styles_cache import StylesCache
from textual._xterm_parser import XTermParser
from textual.app import App
from textual.content import Content
from textual.document._document import Document, EditResult
from textual.document._edit import Edit
from textual.geometry import Offset, Region, Size, Spacing
from textual.reactive import Reactive
from textual.screen import Screen
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.widget import Widget
from textual.widgets import Input, OptionList, TextArea
from textual.widgets._footer import FooterKey
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from textual.css.styles import RulesMap

__all__ = [
    "Document",
    "Edit",
    "EditResult",
    "FooterKey",
    "HookedApp",
    "HookedInput",
    "HookedTextArea",
    "OneLineOptionList",
    "QuietFocusScreen",
    "QuietInput",
    "apply",
    "attach_vertical_scrollbar",
    "below_strips",
    "bindings_ready",
    "clear_dirty",
    "divide_line",
    "input_suggestion",
    "is_dirty",
    "line_filters",
    "prune_dead_watchers",
    "set_virtual_size_quietly",
    "single_cell_widths",
]

_Result = TypeVar("_Result")
ESC_DIGITS = {f"\x1b{digit}": f"alt+{digit}" for digit in "0123456789"}


def apply() -> None:
    """Install the module-level work-arounds (idempotent)."""
    _fix_styles_cache_inner_outer()
    _render_only_the_updated_lines()
    _esc_digit_is_alt_digit()  # also: an Alt key is never a typed character


# ----------------------------------------------------------------- monkeypatches


def _fix_styles_cache_inner_outer() -> None:
    """Stop `StylesCache.get_inner_outer`'s cache from keeping dead widgets' lines alive.

    Textual decorates the method with `lru_cache` without `@classmethod`, so every widget's
    StylesCache (holding that widget's rendered lines) is part of a cache key: up to 1,024 of
    them stay alive after their widgets are gone, and the garbage collector walks them all.
    The same cache keyed on the two colours only.
    """
    current = StylesCache.get_inner_outer
    if getattr(current, "_tgtriage_fixed", False):
        return
    compute = getattr(current, "__wrapped__", None)
    if compute is None:  # a Textual without the bug
        return

    @lru_cache(1024)
    def inner_outer(base_background: Any, background: Any) -> Any:
        """The (inner, outer) styles for two colours."""
        return compute(StylesCache, base_background, background)

    def get_inner_outer(self: StylesCache, base_background: Any, background: Any) -> Any:
        """Inner and outer background styles, cached by colour only."""
        return inner_outer(base_background, background)

    get_inner_outer._tgtriage_fixed = True  # type: ignore[attr-defined]
    StylesCache.get_inner_outer = get_inner_outer  # type: ignore[method-assign, assignment]


def _render_only_the_updated_lines() -> None:
    """Make a partial screen update render only the lines it updates.

    `Compositor._get_renders(crop)` picks the widgets that overlap the updated region, then
    asks each of them for *all* its lines; `_render_chops` throws away the ones outside the
    update. A cursor blink (one line) re-ran the style pipeline for every line of the composer
    and of each container behind it. The same renders, cut to the lines of the crop: the chops
    built from them are the same, line for line.
    """
    if getattr(Compositor._get_renders, "_tgtriage_fixed", False):
        return

    def _get_renders(
        self: Compositor, crop: Region | None = None
    ) -> Iterable[tuple[Region, Region, list[Strip]]]:
        """Rendered widgets in the composition, only the lines within `crop`."""
        if not crop:
            yield from original(self, crop)
            return
        overlaps = crop.overlaps
        top, bottom = crop.y, crop.bottom
        for widget, (region, clip) in list(self.visible_widgets.items()):
            if not overlaps(clip):
                continue
            x, y, width, height = region.intersection(clip)
            first, last = max(y, top), min(y + height, bottom)
            if not width or last <= first:
                continue
            lines = widget.render_lines(Region(x - region.x, first - region.y, width, last - first))
            yield Region(x, first, width, last - first), clip, lines

    original = Compositor._get_renders
    _get_renders._tgtriage_fixed = True  # type: ignore[attr-defined]
    Compositor._get_renders = _get_renders  # type: ignore[method-assign]


def _esc_digit_is_alt_digit() -> None:
    """Read ESC+digit from the terminal as the Alt+digit key, never as a typed character.

    Textual's ANSI table (`_ansi_sequences.py`, for WezTerm on macOS) maps ESC+1 … ESC+0 to the
    characters ¡ ™ £ ¢ ∞ § ¶ • ª º — exactly what tmux, xterm and most Linux terminals send for
    Alt+1 … Alt+0. The desk then had to treat those characters as slot keys, so typing `£9` in
    a reply switched chats. Parsed here as `alt+N` (no character): the typed £ stays text.
    Every other ESC+character is Alt+character with no character either, so no Input types it.
    """
    current = XTermParser._sequence_to_key_events
    if getattr(current, "_tgtriage_fixed", False):
        return

    def _sequence_to_key_events(
        self: XTermParser, sequence: str, alt: bool = False
    ) -> Iterable[events.Key]:
        """ESC+digit as Alt+digit; everything else as Textual reads it."""
        name = ESC_DIGITS.get(sequence)
        if name is None and alt and sequence.isdigit() and len(sequence) == 1:
            name = f"alt+{sequence}"  # an ESC+digit Textual re-issues after a lone ESC
        if name is not None:
            return [events.Key(name, None)]
        if not alt:
            return current(self, sequence, alt)
        # ESC+letter is Alt+letter: a key, never text (an Input in a dialog typed the `n` of
        # Alt+N, which Textual sends as Key("alt+n", "n")).
        return [
            events.Key(key.key, None) if key.key.startswith("alt+") else key
            for key in current(self, sequence, alt)
        ]

    _sequence_to_key_events._tgtriage_fixed = True  # type: ignore[attr-defined]
    XTermParser._sequence_to_key_events = _sequence_to_key_events  # type: ignore[method-assign]


# ----------------------------------------------------------------- private attributes, read


def divide_line(text: str, width: int, fold: bool = True) -> list[int]:
    """Rich's own line breaking (`rich._wrap.divide_line`), for lines that are not one-cell."""
    return _rich_divide_line(text, width, fold=fold)


def single_cell_widths(text: str) -> bool:
    """Whether Rich measures every character of `text` as one cell (`rich.cells`' fast test)."""
    return _is_single_cell_widths(text)


def is_dirty(widget: Widget) -> bool:
    """Whether the widget was marked for repaint since its lines were built.

    Textual keeps the regions to repaint in `Widget._dirty_regions`; a widget that builds all
    its lines once per change reads and clears them itself (`clear_dirty`).
    """
    return bool(widget._dirty_regions)


def clear_dirty(widget: Widget) -> None:
    """Forget the regions marked for repaint (the widget has built its lines afresh)."""
    widget._dirty_regions.clear()


def below_strips(screen: Screen[Any], size: Size) -> list[Strip] | None:
    """The lines of the screen under `screen` as last composed, or None when there is none.

    Textual's modal background renders the screen below through a Rich console each frame;
    the compositor of that screen already holds its lines (`Screen._compositor`).
    """
    stack = screen.app.screen_stack
    if len(stack) < 2 or stack[-1] is not screen:
        return None
    return stack[-2]._compositor.render_strips(size)


def line_filters(app: App[Any]) -> list[Any]:
    """The app's line filters (NO_COLOR's Monochrome among them), kept in `App._filters`."""
    return app._filters


def input_suggestion(field: Input) -> str:
    """The completion an Input shows after its cursor (`Input._suggestion`)."""
    return field._suggestion


def attach_vertical_scrollbar(widget: Widget, make: Callable[[], ScrollBar]) -> ScrollBar:
    """`Widget.vertical_scrollbar` with a bar of our own class, started as Textual starts its own.

    Textual creates the bar lazily in that property (`_vertical_scrollbar`) and starts it with
    `App._start_widget`; there is no public way to supply a different ScrollBar.
    """
    if widget._vertical_scrollbar is None:
        bar = make()
        bar.display = False
        widget._vertical_scrollbar = bar
        widget.app._start_widget(widget, bar)
    return widget._vertical_scrollbar


def set_virtual_size_quietly(widget: Widget, size: Size) -> None:
    """Set a scrolling widget's virtual size without a layout of the whole screen.

    `virtual_size` is a layout reactive: setting it reflows every widget on the screen. Only
    the widget and its scrollbars change, so they are updated directly (`_scroll_update`).
    """
    widget.set_reactive(Widget.virtual_size, size)
    widget._scroll_update(size)


def bindings_ready(widget: Widget) -> bool:
    """Whether a Footer has read the screen's bindings yet (`Footer._bindings_ready`)."""
    return bool(getattr(widget, "_bindings_ready", False))


def prune_dead_watchers(node: Widget) -> None:
    """Drop the reactive watchers that removed widgets registered on `node`.

    `data_bind` registers a watcher per bound child in the node's `__watchers` dict; Textual
    drops them only when that reactive next changes, so a Footer that recomposes its keys on
    every focus change kept every old key widget alive.
    """
    watchers = getattr(node, "__watchers", None)
    if not isinstance(watchers, dict):
        return
    for entries in watchers.values():
        entries[:] = [
            (owner, callback)
            for owner, callback in entries
            if owner is node or (owner.is_attached and not getattr(owner, "_closing", False))
        ]


# ----------------------------------------------------------------- private methods, as hooks


class HookedApp(App[_Result]):
    """An App told when a frame has gone to the terminal, and able to write between frames."""

    def _display(self, screen: Screen[Any], renderable: Any) -> None:
        """`App._display` hands each frame to the driver; `frame_displayed` runs after it."""
        super()._display(screen, renderable)
        if renderable is not None:
            self.frame_displayed()

    def frame_displayed(self) -> None:
        """A frame was handed to the terminal (subclasses act on it)."""

    def write_between_frames(self, data: str) -> bool:
        """Write raw data (a bell, an OSC sequence) through the driver; False when headless."""
        driver = self._driver
        if driver is None or self.is_headless:
            return False
        driver.write(data)
        return True


class HookedTextArea(TextArea):
    """A TextArea whose keys, undo/redo and cursor blink reach public hooks."""

    async def _on_key(self, event: events.Key) -> None:
        """`TextArea._on_key` inserts printable keys; `take_key` sees each key first."""
        if self.take_key(event):
            event.stop()
            event.prevent_default()
            return
        await super()._on_key(event)

    def take_key(self, event: events.Key) -> bool:
        """Handle a key before the TextArea does; True when it was taken."""
        return False

    def insert_typed(self, text: str) -> None:
        """Replace the selection with `text` as typing does (one undoable, keyboard edit)."""
        start, end = self.selection
        self._replace_via_keyboard(text, start, end)

    def _undo_batch(self, edits: Sequence[Edit]) -> None:
        """Undo a batch, then `history_replayed` (Textual posts `Changed` a frame later)."""
        super()._undo_batch(edits)
        self.history_replayed()

    def _redo_batch(self, edits: Sequence[Edit]) -> None:
        """Redo a batch, then `history_replayed`."""
        super()._redo_batch(edits)
        self.history_replayed()

    def history_replayed(self) -> None:
        """An undo or redo changed the text (subclasses act on it)."""

    def scroll_cursor_visible(self, center: bool = False, animate: bool = False) -> Offset:
        """Scroll to the cursor — unless the cursor is past the document's end.

        `TextArea._undo_batch` resizes the widget (`_refresh_size`) before it moves the
        selection back (`Edit.after`); when undoing a multi-line insertion hides the
        vertical scrollbar, the scrollbar's watcher scrolls to the old cursor, several lines
        past the now one-line document: `ValueError: The document line index 1 is out of
        bounds`. The selection is moved (and scrolled to) right after, so nothing is lost.
        """
        row, _ = self.selection.end
        if row >= cast(Document, self.document).line_count:
            return Offset()
        return super().scroll_cursor_visible(center, animate)

    def _restart_blink(self) -> None:
        """`TextArea._restart_blink` runs on every key, edit and focus: `blink_restarted` too."""
        self.blink_restarted()
        super()._restart_blink()

    def restart_blink(self) -> None:
        """Show the cursor and blink again from now (as a key press does)."""
        self._restart_blink()

    def blink_restarted(self) -> None:
        """The cursor started blinking again (subclasses act on it)."""

    def _toggle_cursor_blink_visible(self) -> None:
        """Textual's blink timer: stops with the cursor shown when `blink_should_stop`."""
        if self.blink_should_stop():
            self._pause_blink(visible=True)
            return
        super()._toggle_cursor_blink_visible()

    def blink_should_stop(self) -> bool:
        """Whether the cursor should stop blinking now (subclasses decide)."""
        return False

    @property
    def current_theme(self) -> Any:
        """The TextAreaTheme in use (`TextArea._theme`), or None."""
        return self._theme


class HookedInput(Input):
    """An Input that reports each new value before the frame that shows it."""

    def _watch_value(self, value: str) -> None:
        """`Input._watch_value`; Input's `Changed` message arrives after the next paint."""
        self.value_now(value)
        super()._watch_value(value)

    def value_now(self, value: str) -> None:
        """The value changed (subclasses act on it in the same frame)."""


class QuietInput(HookedInput):
    """A HookedInput of fixed size whose typing lays out nothing but itself.

    `Input._watch_value` sets `virtual_size` (a layout reactive) to the text's width on every
    keystroke, so each key laid out the whole screen (and a modal's background). Set quietly
    first (`set_virtual_size_quietly`), the reactive sees no change and only the field redraws.
    """

    def _watch_value(self, value: str) -> None:
        """`HookedInput._watch_value` after sizing the field's text without a layout."""
        if self.container_size and not self.styles.auto_dimensions:
            set_virtual_size_quietly(self, Size(self.content_width, 1))
        super()._watch_value(value)


class QuietFocusScreen(Screen[_Result]):
    """A screen that does not repaint all of itself when the focus moves.

    `Screen.focused` is a reactive with `repaint=True`: every focus change marks the whole
    screen dirty, so opening a dialog over the desk (which focuses its field) and closing it
    again redrew every cell of the desk. The widgets whose look depends on focus are
    restyled and refreshed by Textual's focus handling (`:focus`, `:focus-within`) anyway.
    """

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)


class OneLineOptionList(OptionList):
    """An OptionList (the switcher's) with a fast path for options that fit on one line.

    OptionList measures and renders every option through the visual pipeline (wrapping,
    alignment) on each fill — about a third of a millisecond an option here, more than the
    whole frame allows for 50 of them. A one-line option is measured as one line and drawn
    straight from its Content, cell for cell as OptionList draws it; others take its path.
    """

    _geometry: tuple[Size, int, Spacing] | None = None

    def notify_style_update(self) -> None:
        """CSS changed: padding may have."""
        super().notify_style_update()
        self._geometry = None

    def _widths(self) -> tuple[int, Spacing]:
        """The options' width and padding (kept per widget size)."""
        geometry = self._geometry
        if geometry is None or geometry[0] != self.size:
            width = self.scrollable_content_region.width - self._get_left_gutter_width()
            padding = self.get_component_styles("option-list--option").padding
            geometry = self._geometry = (self.size, width, padding)
        return geometry[1], geometry[2]

    def _one_line(self, option: Option, width: int | None = None) -> bool:
        """Whether the option is a single line of Content that fits the list's width (or the
        options' `width` given)."""
        prompt = option.prompt
        if not isinstance(prompt, Content) or option._divider or "\n" in prompt.plain:
            return False
        if width is None:
            width, padding = self._widths()
        else:  # during a layout: the list's own region is being worked out (see below)
            padding = self.get_component_styles("option-list--option").padding
        return not (padding.top or padding.bottom) and prompt.cell_length <= width - padding.width

    def _update_lines(self) -> None:
        """Index the options (OptionList's bookkeeping; one-line options are not measured)."""
        if not self.scrollable_content_region:
            return
        cache = self._line_cache
        lines = cache.lines
        next_index = lines[-1][0] + 1 if lines else 0
        if next_index >= len(self.options) and lines:
            return  # nothing new (a resize clears the cache)
        width, padding = self._widths()
        for index, option in enumerate(self.options[next_index:], next_index):
            cache.index_to_line[index] = len(lines)
            if self._one_line(option):
                height = 1
            else:
                visual = self._get_visual(option)
                rules = cast("RulesMap", self.styles)
                height = visual.get_height(rules, width - padding.width) + option._divider
            cache.heights[index] = height
            lines.extend((index, line) for line in range(height))
        last_divider = self.options and self.options[-1]._divider
        size = Size(width, len(lines) - (1 if last_divider else 0))
        if size != self.virtual_size:
            self.virtual_size = size
            self._scroll_update(size)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """Height for the given width (one-line options without measuring).

        Measured against `width`, not the list's current region: reading a widget's region
        in the middle of a layout has Textual lay the whole screen out a second time, and a
        list laid out while still hidden (a dialog being shown) has no size at all.
        """
        room = width - self._get_left_gutter_width()
        if all(self._one_line(option, room) for option in self.options):
            return self.option_count
        return super().get_content_height(container, viewport, width)

    def _get_option_render(self, option: Option, style: VisualStyle) -> list[Strip]:
        """An option's lines (one-line options drawn directly from their Content)."""
        if not self._one_line(option):
            return super()._get_option_render(option, style)
        width, padding = self._widths()
        key = (option, style, padding)
        cached = self._option_render_cache.get(key)
        if cached is not None:
            return cached
        prompt = option.prompt
        assert isinstance(prompt, Content)
        segments = []
        x = 0
        for text, text_style in prompt.render(style, end="", parse_style=self._get_style):
            segments.append(Segment(text, (style + text_style).rich_style_with_offset(x, 0)))
            x += len(text)
        rich_style = style.rich_style
        strip = Strip(segments, prompt.cell_length)
        if padding:
            strip = strip.crop_pad(width - padding.width, padding.left, padding.right, rich_style)
        strip = strip.extend_cell_length(width, rich_style).apply_meta(
            {"option": self._option_to_index[option]}
        )
        self._option_render_cache[key] = [strip]
        return [strip]
