"""The stats screen: reply times of the live store for today, 7 days or 30 days, as pictures."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Static

from ..core.reports.stats import RANGES, DeskStats, RangeKey
from ..core.rules.sanitize import clean_line
from .stats_charts import page, tabs

StatsLoader = Callable[[], Awaitable[DeskStats]]
_KEYS: tuple[RangeKey, ...] = tuple(key for key, _label, _days in RANGES)


class StatsScreen(Screen[None]):
    """Figures computed in core from the store each time the screen opens (or on refresh)."""

    DESK_ACTIONS = frozenset({"stats"})  # the desk's stats key closes this screen again
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab,right", "step(1)", "Next range", priority=True, key_display="Tab"),
        Binding("shift+tab,left", "step(-1)", "Previous", priority=True, show=False),
        Binding("1", "show('today')", "Today", key_display="1"),
        Binding("2", "show('7d')", "7 days", key_display="2"),
        Binding("3", "show('30d')", "30 days", key_display="3"),
        Binding("r", "refresh_stats", "Refresh", key_display="r"),
        Binding("escape,q", "close", "Back to the desk", key_display="Esc"),
    ]

    def __init__(self, loader: StatsLoader, initial: RangeKey = "7d") -> None:
        """Show the figures `loader` computes, starting on the `initial` range."""
        super().__init__()
        self._loader = loader
        self.range: RangeKey = initial
        self.stats: DeskStats | None = None
        self.error: str | None = None
        self.loads = 0

    def compose(self) -> ComposeResult:
        """Range strip, the scrollable pictures, the keys."""
        yield Static(id="stats-tabs")
        with VerticalScroll(id="stats-scroll"):
            yield Static(Text(" Reading the store…", "dim"), id="stats-body")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        """Draw the strip, focus the pictures (arrows and PgUp/PgDn scroll) and load."""
        self._draw()
        self.query_one("#stats-scroll").focus()
        self.action_refresh_stats()

    def action_refresh_stats(self) -> None:
        """Recompute the figures from the store (they also are each time the screen opens)."""
        self.run_worker(self._load(), exclusive=True, group="stats")

    async def _load(self) -> None:
        """Run the loader; a failure is shown on the screen as one line."""
        try:
            stats = await self._loader()
        except Exception as exc:  # a store problem must not take the desk down
            self.error = clean_line(f"Could not compute the stats: {exc}", 300)
            self.stats = None
        else:
            self.stats, self.error = stats, None
        self.loads += 1
        self._draw()

    def action_step(self, step: int) -> None:
        """Move to the next (or previous) range."""
        index = (_KEYS.index(self.range) + step) % len(_KEYS)
        self.action_show(_KEYS[index])

    def action_show(self, key: RangeKey) -> None:
        """Show one range."""
        self.range = key
        self._draw()

    def action_close(self) -> None:
        """Back to the desk."""
        self.dismiss(None)

    def on_resize(self, event: Resize) -> None:
        """The pictures follow the terminal's width."""
        self._draw()

    def _body_width(self) -> int:
        """Columns the pictures may use: the screen less the scrollbar gutter and a margin."""
        return max(20, self.size.width - 2)

    def _draw(self) -> None:
        """Redraw the strip and, when figures are there, the body for the current range."""
        if not self.is_mounted:
            return
        width = self.size.width or 80
        self.query_one("#stats-tabs", Static).update(tabs(self.stats, self.range, width))
        body = self.query_one("#stats-body", Static)
        if self.error is not None:
            body.update(Text(" " + self.error, "bold red"))
        elif self.stats is not None:
            body.update(page(self.stats, self.range, self._body_width()))
