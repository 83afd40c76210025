"""Base classes that reach Textual's private methods, each as a public hook or a fix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from rich.segment import Segment
from textual import events
from textual.app import App
from textual.content import Content
from textual.document._document import Document
from textual.document._edit import Edit
from textual.dom import DOMNode
from textual.geometry import Offset, Size, Spacing
from textual.reactive import Reactive
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.widget import Widget
from textual.widgets import Input, OptionList, TextArea
from textual.widgets.option_list import Option

from .restyle import LookMemo

if TYPE_CHECKING:
    from textual.css.styles import RulesMap

_Result = TypeVar("_Result")


class HookedApp(App[_Result]):
    """An App told when a frame has gone to the terminal, able to write between frames, and
    that restyles a widget whose focus moved from the looks it has had (restyle.py)."""

    _look_memo: LookMemo | None = None

    def update_styles(self, node: DOMNode, animate: bool = True) -> None:
        """Restyle `node` and its descendants; a widget without children from memory."""
        if not isinstance(node, Widget) or node.children:
            super().update_styles(node, animate)
            return
        memo = self._look_memo
        if memo is None:
            memo = self._look_memo = LookMemo()
        memo.restyle(self.stylesheet, node, animate)

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
    first (as `set_virtual_size_quietly` does), the reactive sees no change and only the field redraws.
    """

    def _watch_value(self, value: str) -> None:
        """`HookedInput._watch_value` after sizing the field's text without a layout."""
        if self.container_size and not self.styles.auto_dimensions:
            size = Size(self.content_width, 1)
            self.set_reactive(Widget.virtual_size, size)  # as `set_virtual_size_quietly`
            self._scroll_update(size)
        super()._watch_value(value)


class QuietFocusScreen(Screen[_Result]):
    """A screen whose frame holds every repaint asked for before it, and that does not repaint
    all of itself when the focus moves.

    `Screen.focused` is a reactive with `repaint=True`: every focus change marks the whole
    screen dirty, so opening a dialog over the desk (which focuses its field) and closing it
    again redrew every cell of the desk. The widgets whose look depends on focus are
    restyled and refreshed by Textual's focus handling (`:focus`, `:focus-within`) anyway.
    """

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    def _compositor_refresh(self) -> None:
        """Paint a frame with every widget that has asked for a repaint by now.

        A widget's `refresh()` reaches the screen only when that widget's own message queue
        next idles (`Widget._check_refresh` posts `Update`), often after the frame the key's
        other changes went into: the switcher closing over a chat just opened painted the
        conversation under the box in one frame and the rest of it (and its scrollbar, resized
        by the layout of that same frame) in the next. The regions each widget marked
        (`Widget._repaint_regions`) are taken here, right before the frame is rendered; the
        late `Update` then finds nothing left to paint.
        """
        if self is self.app.screen:
            pending = {
                widget for widget in self._compositor.visible_widgets if widget._repaint_regions
            }
            if pending:
                self._compositor.update_widgets(pending)
        super()._compositor_refresh()


class SelfSizedScrollView(ScrollView):
    """A ScrollView that sets its own virtual size, and is not re-measured by every layout.

    A layout hands each widget the virtual size it works out for it (for a ScrollView, its
    region); `ScrollView._size_updated` compares that with the widget's own and, as they
    differ, updates and repaints its scrollbars on every layout of the screen — opening and
    closing a dialog redrew the list's and the conversation's scrollbars. This widget's
    virtual size is its own (`set_virtual_size_quietly`), so the layout's is ignored.
    """

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        """Textual's size update, with the widget's own virtual size."""
        return super()._size_updated(size, self.virtual_size, container_size, layout)


class OneLineOptionList(OptionList):
    """An OptionList (the switcher's) with a fast path for options that fit on one line.

    OptionList measures and renders every option through the visual pipeline (wrapping,
    alignment) on each fill — about a third of a millisecond an option here, more than the
    whole frame allows for 50 of them. A one-line option is measured as one line and drawn
    straight from its Content, cell for cell as OptionList draws it; others take its path.
    """

    _geometry: tuple[Size, int, Spacing] | None = None
    _cached_width: int | None = None

    def _on_resize(self, event: events.Resize | None = None) -> None:
        """Keep the drawn options unless the width they are drawn at changed.

        `OptionList._on_resize` clears its caches on every Resize, and Textual sends one when
        only the scroll extent changed: each refill with another number of options (a
        keystroke in the switcher, Ctrl+K after a search) redrew the whole list a frame later.
        Textual runs the handler of each class up the MRO until one prevents the default.
        """
        width = self.scrollable_content_region.width  # less a scrollbar, when one shows
        if width == self._cached_width and event is not None:
            event.prevent_default()  # OptionList's handler would clear the caches
        self._cached_width = width

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
            if self._fits_the_same(size):
                self.set_reactive(Widget.virtual_size, size)  # as `set_virtual_size_quietly`
                self.refresh()
            else:
                self.virtual_size = size
            self._scroll_update(size)

    def _fits_the_same(self, size: Size) -> bool:
        """Whether a list of this virtual size keeps the list's own size and scrollbars.

        `virtual_size` is a layout reactive: each refill of a list of fixed size (the
        switcher's, filtered per keystroke) laid out the whole screen, twice (cleared, then
        filled). Only a list sized by its options, or one whose scrollbar comes or goes,
        needs that layout; the others repaint themselves.
        """
        height = self.scrollable_content_region.height
        return (
            bool(height)
            and not self.styles.auto_dimensions
            and size.width == self.virtual_size.width
            and (size.height > height) == (self.virtual_size.height > height)
        )

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
