"""Ctrl+F search over every stored message, and Alt+U a customer's history; Enter jumps."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ..core.rules.sanitize import clean_line
from ..core.rules.search_query import Term, parse, word_spans
from ..core.storage.search import Hit, MessageSearch

Jump = tuple[int, int]  # (chat id, message id)
SNIPPET = 110
HIGHLIGHT = "bold reverse"


def _when(date: int) -> str:
    """A message's local date and time."""
    return datetime.fromtimestamp(date).strftime("%Y-%m-%d %H:%M")


def _duration(seconds: int) -> str:
    """A wait as `3 min`, `2 h 5 min` or `4 d`."""
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // (24 * 60)} d"


def hit_text(hit: Hit, terms: tuple[Term, ...], note: str = "") -> Text:
    """One result: chat · sender · time, then the body with the matching words highlighted.

    Every part is chat text, so it is cleaned and appended as plain text with styles.
    """
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(clean_line(hit.chat_title, 40), "bold")
    text.append(" · ")
    text.append(clean_line(hit.sender, 30), "cyan")
    text.append(f" · {_when(hit.message.date)}", "dim")
    if note:
        text.append(f" · {note}", "yellow")
    body = clean_line(hit.message.text) or "[media]"
    spans = word_spans(body, terms)
    start = max(0, spans[0][0] - 30) if spans and spans[0][1] > SNIPPET else 0
    shown = body[start : start + SNIPPET]
    line = Text("\n  " + ("…" if start else ""))
    offset = len(line.plain) - start
    line.append(shown)
    for begin, end in spans:
        if begin >= start and end <= start + SNIPPET:
            line.stylize(HIGHLIGHT, begin + offset, end + offset)
    text.append_text(line)
    return text


class SearchScreen(ModalScreen[Jump | None]):
    """A prompt over every stored message; results newest first; Enter jumps, Esc returns."""

    DEFAULT_CSS = """
    SearchScreen { align: center middle; }
    #search-box {
        width: 90%; height: 85%; border: round $accent; background: $surface; padding: 0 1;
    }
    #search-results { height: 1fr; }
    #search-status { height: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back", show=False),
        Binding("down", "move(1)", "Next result", show=False),
        Binding("up", "move(-1)", "Previous result", show=False),
    ]

    def __init__(self, search: MessageSearch, now: Callable[[], int] | None = None) -> None:
        """Search with `search` (the screen closes it when it goes)."""
        super().__init__()
        self._search = search
        self._now = now or (lambda: int(time.time()))
        self._generation = 0
        self._terms: tuple[Term, ...] = ()
        self.hits: list[Hit] = []
        self.painted = 0  # result lists painted (tests and the benchmark)
        self.paint_log: list[tuple[str, float]] = []  # (typed, when its results were on screen)

    def compose(self) -> ComposeResult:
        """The prompt, the results and a status line."""
        with Vertical(id="search-box"):
            yield Input(
                placeholder='Search messages — from:name in:chat before:/after:YYYY-MM-DD "phrase"',
                id="search-input",
            )
            yield OptionList(id="search-results")
            yield Static("", id="search-status")

    def on_mount(self) -> None:
        """Start the screen (Textual runs each class's handler, so the work is in `_start`)."""
        self._start()

    def _start(self) -> None:
        """Read names and titles in the background; focus the prompt."""
        self.query_one(Input).focus()
        self._refresh_names()

    @work(thread=True, group="search-names")
    def _refresh_names(self) -> None:
        """Chat titles and sender names for matching `from:`, `in:` and free words."""
        self._search.refresh()

    @on(Input.Changed, "#search-input")
    def _typed(self, event: Input.Changed) -> None:
        """Start a query for the new text; the one still running is interrupted."""
        self._generation += 1
        self._search.interrupt()
        self._run(event.value, self._generation)

    @work(thread=True, exclusive=True, group="search")
    def _run(self, typed: str, generation: int) -> None:
        """Run one query off the key path and post its results (dropped if a newer one ran)."""
        local = datetime.now().astimezone().tzinfo
        assert local is not None
        query = parse(typed, self._now(), local)
        try:
            hits = self._search.find(query)
        except sqlite3.Error:
            return  # interrupted by a newer keystroke, or the screen closed
        self.app.call_from_thread(self._show, generation, query.terms, hits, query.problems)

    def _show(
        self,
        generation: int,
        terms: tuple[Term, ...],
        hits: list[Hit],
        problems: tuple[str, ...],
    ) -> None:
        """Paint the results of the newest query."""
        if generation != self._generation or not self.is_mounted:
            return
        self._terms = terms
        self.hits = hits
        results = self.query_one(OptionList)
        results.set_options([Option(hit_text(hit, terms)) for hit in hits])
        if hits:
            results.highlighted = 0
        typed = self.query_one(Input).value.strip()
        status = "; ".join(problems) or (
            f"{len(hits)} newest matches · ↑ ↓ choose · Enter open · Esc back"
            if hits
            else ("no messages match" if typed else "")
        )
        self.query_one("#search-status", Static).update(Text(status, "dim"))
        self.painted += 1
        self.call_after_refresh(self._log_paint, self.query_one(Input).value)

    def _log_paint(self, typed: str) -> None:
        """Note when the results of `typed` reached the screen (bench/search_bench.py)."""
        self.paint_log.append((typed, time.perf_counter()))

    def action_move(self, step: int) -> None:
        """Move the highlighted result while the prompt keeps the keys."""
        results = self.query_one(OptionList)
        if results.option_count:
            current = results.highlighted or 0
            results.highlighted = max(0, min(results.option_count - 1, current + step))

    @on(Input.Submitted, "#search-input")
    def _submitted(self) -> None:
        """Enter in the prompt opens the highlighted result."""
        results = self.query_one(OptionList)
        if results.highlighted is not None and results.highlighted < len(self.hits):
            self._jump(self.hits[results.highlighted])

    @on(OptionList.OptionSelected, "#search-results")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        """A result chosen in the list opens it."""
        if event.option_index < len(self.hits):
            self._jump(self.hits[event.option_index])

    def _jump(self, hit: Hit) -> None:
        """Close with the chosen message."""
        self.dismiss((hit.message.chat_id, hit.message.id))

    def action_close(self) -> None:
        """Esc: back where you were."""
        self.dismiss(None)

    def on_unmount(self) -> None:
        """Stop any query and close the connection."""
        self._search.interrupt()
        self.workers.cancel_group(self, "search")
        self._search.close()


class HistoryScreen(SearchScreen):
    """Everything one customer wrote in every chat, newest first, with their waits."""

    def __init__(
        self,
        search: MessageSearch,
        load: Callable[[MessageSearch], list[tuple[Hit, tuple[int, bool] | None]]],
        title: str,
    ) -> None:
        """`load` reads the history (on a worker thread); `title` names the customer."""
        super().__init__(search)
        self._load = load
        self._title = title

    def compose(self) -> ComposeResult:
        """The customer's name, their messages and a status line."""
        with Vertical(id="search-box"):
            yield Static(
                Text(f"History of {clean_line(self._title, 60)}", "bold"), id="history-title"
            )
            yield OptionList(id="search-results")
            yield Static(Text("Reading…", "dim"), id="search-status")

    def _start(self) -> None:
        """Read the history in the background."""
        self.query_one(OptionList).focus()
        self._read()

    @work(thread=True, group="search")
    def _read(self) -> None:
        """Read the customer's messages and waits and post them."""
        try:
            rows = self._load(self._search)
        except sqlite3.Error:
            return  # the screen closed
        self.app.call_from_thread(self._show_history, rows)

    def _show_history(self, rows: list[tuple[Hit, tuple[int, bool] | None]]) -> None:
        """Paint the history."""
        if not self.is_mounted:
            return
        self.hits = [hit for hit, _ in rows]
        options = []
        for hit, wait in rows:
            note = ""
            if wait is not None:
                seconds, answered = wait
                note = (
                    f"answered in {_duration(seconds)}"
                    if answered
                    else f"waiting {_duration(seconds)}"
                )
            options.append(Option(hit_text(hit, (), note)))
        results = self.query_one(OptionList)
        results.set_options(options)
        if options:
            results.highlighted = 0
        chats = len({hit.message.chat_id for hit in self.hits})
        status = f"{len(self.hits)} messages in {chats} chats · Enter open · Esc back"
        self.query_one("#search-status", Static).update(Text(status, "dim"))
        self.painted += 1
        self.call_after_refresh(self._log_paint, self.query_one(Input).value)

    def _log_paint(self, typed: str) -> None:
        """Note when the results of `typed` reached the screen (bench/search_bench.py)."""
        self.paint_log.append((typed, time.perf_counter()))

    def action_move(self, step: int) -> None:
        """The list has the focus and moves itself."""
        results = self.query_one(OptionList)
        if results.option_count:
            current = results.highlighted or 0
            results.highlighted = max(0, min(results.option_count - 1, current + step))
