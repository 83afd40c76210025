"""The desk with a stopwatch on its output: every frame Textual hands to the terminal is logged.

`MeasuredDesk` is the real `DeskApp`; it only overrides `App._display`, the single place where
Textual turns a compositor update into terminal output. Under `run_test` (headless) Textual skips
building that output, so the override builds it anyway (`render_segments`, the exact escape
sequence a terminal would receive) — the paint's cost is counted, only the write() is not.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import RenderableType
from textual._compositor import ChopsUpdate, CompositorUpdate, LayoutUpdate
from textual.geometry import Region
from textual.screen import Screen
from tgtriage.tui.app import DeskApp
from tgtriage.tui.conversation import Conversation


@dataclass(frozen=True, slots=True)
class Paint:
    """One frame sent to the terminal."""

    at: float  # perf_counter() when the frame's bytes were ready
    cpu: float  # process_time() at that moment (CPU of all the process's threads)
    cost: float  # seconds spent building the frame's bytes
    chat_id: int | None  # the chat the conversation showed in this frame
    conversation: bool  # whether the frame redrew part of the conversation pane
    at_bottom: bool  # whether the conversation was scrolled to its newest line
    ready: bool  # whether the desk had loaded its cache (the chat list is filled)
    chars: int  # size of the terminal output
    screen: str  # class name of the screen on top
    probe: object  # what the benchmark's probe saw at this frame (see MeasuredDesk.probe)


def _touches(update: CompositorUpdate, region: Region) -> bool:
    """Whether a compositor update redraws any cell of `region`."""
    if isinstance(update, LayoutUpdate):
        return update.region.overlaps(region)
    if isinstance(update, ChopsUpdate):
        for y, x1, x2 in update.spans:
            if region.y <= y < region.bottom and x1 < region.right and x2 > region.x:
                return True
        return False
    return True


class MeasuredDesk(DeskApp):
    """DeskApp that logs each frame it paints (time, cost, what the conversation showed)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Same arguments as DeskApp."""
        super().__init__(*args, **kwargs)
        self.paints: list[Paint] = []
        self._conversation: Conversation | None = None
        self.probe: Callable[[], object] | None = None

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        """Paint as usual, then build the terminal bytes (headless skips that) and log the frame."""
        began = time.perf_counter()
        super()._display(screen, renderable)
        if renderable is None or self._batch_count or not isinstance(renderable, CompositorUpdate):
            return
        chars = len(renderable.render_segments(self.console)) if self.is_headless else 0
        done = time.perf_counter()
        conv = self._conversation
        if conv is None:
            try:
                conv = self._conversation = self.query_one(Conversation)
            except Exception:
                conv = None
        on_desk = conv is not None and screen is self.screen and conv.screen is screen
        self.paints.append(
            Paint(
                at=done,
                cpu=time.process_time(),
                cost=done - began,
                chat_id=conv.chat_id if conv is not None else None,
                conversation=bool(
                    on_desk and conv is not None and _touches(renderable, conv.region)
                ),
                at_bottom=bool(conv is not None and conv.scroll_y >= conv.max_scroll_y),
                ready=self.ready,
                chars=chars,
                screen=type(self.screen).__name__,
                probe=self.probe() if self.probe is not None else None,
            )
        )
