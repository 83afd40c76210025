"""Work-arounds for Textual (8.2) behaviour that costs the desk memory and collector time."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from textual._compositor import Compositor
from textual._styles_cache import StylesCache
from textual.geometry import Region
from textual.strip import Strip


def apply() -> None:
    """Install the work-arounds (idempotent)."""
    _fix_styles_cache_inner_outer()
    _render_only_the_updated_lines()


def _fix_styles_cache_inner_outer() -> None:
    """Stop `StylesCache.get_inner_outer`'s cache from keeping dead widgets' lines alive.

    It is an `lru_cache` on a method without `@classmethod`, so every widget's StylesCache
    (holding that widget's rendered lines) is part of a cache key: up to 1,024 of them stay
    alive after their widgets are gone — every Ctrl+K switcher left its lines behind, and the
    garbage collector walked them all. The same cache keyed on the two colours only.
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
    update. A cursor blink (one line) re-ran the style pipeline for every line of the
    composer and of each container behind it, about 200 lines. The same renders, cut to the
    lines of the crop: the chops built from them are the same, line for line.
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
