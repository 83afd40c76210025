"""Work-arounds for Textual (8.2) behaviour that costs the desk memory and collector time."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from textual._styles_cache import StylesCache


def apply() -> None:
    """Install the work-arounds (idempotent)."""
    _fix_styles_cache_inner_outer()


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
