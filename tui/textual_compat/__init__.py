"""Every touch of Textual's and Rich's private members, fenced in one package.

textual==8.2.8 and rich==15.0.0 are pinned exactly in pyproject.toml; tests/test_textual_compat.py
checks that each member used here still exists with the signature relied on, and that each
work-around still does its job. The rest of tui/ reaches Textual's internals only through the
functions and base classes exported here (each names the Textual behaviour it works around):
the patches installed by `apply()` are in patches.py, the base classes with hooks in hooks.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich._wrap import divide_line as _rich_divide_line
from rich.cells import _is_single_cell_widths
from textual.app import App
from textual.document._document import Document, EditResult
from textual.document._edit import Edit
from textual.geometry import Size
from textual.screen import Screen
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Input
from textual.widgets._footer import FooterKey

from . import patches
from .hooks import (
    HookedApp,
    HookedInput,
    HookedTextArea,
    OneLineOptionList,
    QuietFocusScreen,
    QuietInput,
    SelfSizedScrollView,
)

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
    "SelfSizedScrollView",
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


def apply() -> None:
    """Install the work-arounds in Textual's and Rich's classes (idempotent; patches.py)."""
    patches.install()


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
