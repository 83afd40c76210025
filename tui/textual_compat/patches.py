"""The work-arounds installed into Textual's and Rich's classes (`apply()` in __init__.py)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from textual import events
from textual._compositor import Compositor
from textual._styles_cache import StylesCache
from textual._xterm_parser import XTermParser
from textual.geometry import Region, Size
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

ESC_DIGITS = {f"\x1b{digit}": f"alt+{digit}" for digit in "0123456789"}


def install() -> None:
    """Install every work-around below (idempotent: each checks its own mark)."""
    _fix_styles_cache_inner_outer()
    _render_only_the_updated_lines()
    _keep_the_full_map_of_the_last_layout()
    _esc_digit_is_alt_digit()  # also: an Alt key is never a typed character


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
    """Make a partial screen update render only the widgets and lines it updates.

    `Compositor.render_partial_update` crops to the box around *all* the updated regions, and
    `_get_renders(crop)` asks every widget overlapping that box for *all* its lines;
    `_render_chops` throws away what is outside the updated spans. A slot key (the conversation
    plus one cell of the slot strip) re-ran the style pipeline for every line of every widget,
    and a dialog shown over the desk rendered the desk under it, line for line. Here a widget
    is asked only for the lines where it shows through in an updated region: not when it
    misses them all, nor where a widget in front of it (a dialog, a child) covers them. The
    chops of the updated spans are the same, cell for cell; Textual's full repaint is unchanged.
    """
    if getattr(Compositor._get_renders, "_tgtriage_fixed", False):
        return

    def render_partial_update(self: Compositor) -> Any:
        """Textual's partial update, its regions kept for `_get_renders` while it renders."""
        self._tgtriage_regions = list(self._dirty_regions)  # type: ignore[attr-defined]
        try:
            return original_partial(self)
        finally:
            self._tgtriage_regions = None  # type: ignore[attr-defined]

    def _get_renders(
        self: Compositor, crop: Region | None = None
    ) -> Iterable[tuple[Region, Region, list[Strip]]]:
        """Rendered widgets in the composition, only where they show in the updated regions."""
        if not crop:
            yield from original(self, crop)
            return
        regions: list[Region] = getattr(self, "_tgtriage_regions", None) or [crop]
        regions = [region for region in (r.intersection(crop) for r in regions) if region]
        in_front: list[Region] = []  # what the widgets already rendered cover (front to back)
        for widget, (region, clip) in list(self.visible_widgets.items()):
            shown = region.intersection(clip)
            if not shown:
                continue
            in_front.append(shown)
            first, last = _lines_showing(shown, regions, in_front[:-1])
            if last <= first:
                continue
            x, _, width, _ = shown
            lines = widget.render_lines(Region(x - region.x, first - region.y, width, last - first))
            yield Region(x, first, width, last - first), clip, lines

    original = Compositor._get_renders
    original_partial = Compositor.render_partial_update
    _get_renders._tgtriage_fixed = True  # type: ignore[attr-defined]
    Compositor._get_renders = _get_renders  # type: ignore[method-assign]
    Compositor.render_partial_update = render_partial_update  # type: ignore[method-assign]


def _lines_showing(shown: Region, regions: list[Region], in_front: list[Region]) -> tuple[int, int]:
    """The first and past-last screen line where `shown` meets one of `regions` and is not
    covered there by one of the regions `in_front` (an empty range when it never shows)."""
    first, last = shown.bottom, shown.y
    for region in regions:
        part = shown.intersection(region)
        if not part or any(front.contains_region(part) for front in in_front):
            continue
        first, last = min(first, part.y), max(last, part.bottom)
    return first, last


def _keep_the_full_map_of_the_last_layout() -> None:
    """Keep the compositor's map of every widget valid when nothing new needs a place in it.

    `Compositor.update_widgets` marks the full map stale whenever a widget to repaint is not
    on screen — a dialog's list refilled while the dialog is hidden, every time — and
    `reflow` rebuilds that map without clearing the mark. The next `region` or `size` read
    of a widget that is not on screen (each `refresh()` of a hidden dialog's widgets reads
    one) then laid out the whole desk again, several times a key. A widget that is hidden
    (`display: none`, itself or an ancestor) has no place in the map, and one already in it
    keeps its place: the map is marked stale only for a widget that is neither.
    """
    if getattr(Compositor.update_widgets, "_tgtriage_fixed", False):
        return
    original_update = Compositor.update_widgets
    original_reflow = Compositor.reflow

    def update_widgets(self: Compositor, widgets: set[Widget]) -> None:
        """Textual's update; the full map stays valid unless a widget needs a new place."""
        was_stale = self._full_map_invalidated
        original_update(self, widgets)
        if was_stale or not self._full_map_invalidated:
            return
        placed = self._full_map
        if all(widget in placed or not _displayed(widget) for widget in widgets):
            self._full_map_invalidated = False

    def reflow(self: Compositor, parent: Widget, size: Size) -> Any:
        """Textual's layout, which builds the full map: it is valid afterwards."""
        result = original_reflow(self, parent, size)
        self._full_map_invalidated = False
        return result

    update_widgets._tgtriage_fixed = True  # type: ignore[attr-defined]
    Compositor.update_widgets = update_widgets  # type: ignore[method-assign]
    Compositor.reflow = reflow  # type: ignore[method-assign]


def _displayed(widget: Widget) -> bool:
    """Whether the widget and every ancestor up to its screen are displayed."""
    node: Any = widget
    while node is not None and not isinstance(node, Screen):
        if not node.display:
            return False
        node = node._parent
    return node is not None


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
