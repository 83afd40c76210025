"""Ctrl+F search over every stored message, and Alt+U a customer's history; Enter jumps."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from ..core.rules.sanitize import clean_line
from ..core.rules.search_query import (
    Hit,
    Searcher,
    SearchQuery,
    SourceFound,
    SourcePage,
    Wait,
    parse,
)
from .search_results import LINES_PER_RESULT, ResultList
from .search_rows import FROM_SOURCE, failure_line, hit_text, interrupted, more_text, note
from .textual_compat import QuietInput

Jump = tuple[int, int]  # (chat id, message id)
SourceSearch = Callable[[SearchQuery, SourcePage | None], Awaitable[SourceFound]]
SOURCE_DELAY = 0.3  # quiet typing before Telegram is asked (its flood limits: not once a key)
MORE = "more"  # the row after the source's results when it has another page
_pause = asyncio.sleep  # the wait before asking the source (tests hold it)
# How long a keystroke's frame waits for its results, so that the typed letter and its results
# reach the screen together; a slower query lets the letter show alone (one frame is 1/60 s).
HOLD_FRAME = 0.012
Answer = tuple[list[Hit], SearchQuery, dict[int, Text]]


class SearchInput(QuietInput):
    """The search prompt: each new text goes to its screen in the keystroke's own frame."""

    def value_now(self, value: str) -> None:
        """Hand the text to the search screen (tui/search_screen.py `SearchScreen.typed`)."""
        screen = self.screen if self.is_attached else None
        if isinstance(screen, SearchScreen):
            screen.typed(value)


class SearchScreen(ModalScreen[Jump | None]):
    """A prompt over every stored message; results newest first; Enter jumps, Esc returns."""

    DEFAULT_CSS = """
    SearchScreen { align: center middle; }
    #search-box {
        width: 90%; height: 85%; border: round $accent; background: $surface; padding: 0 1;
    }
    #search-results { height: 1fr; overflow-y: scroll; }
    #search-status { height: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Back", show=False),
        Binding("down", "move(1)", "Next result", show=False),
        Binding("up", "move(-1)", "Previous result", show=False),
    ]

    def __init__(
        self,
        search: Searcher,
        now: Callable[[], int] | None = None,
        source_search: SourceSearch | None = None,
    ) -> None:
        """Search with `search` (the screen closes it when it goes), then with `source_search`
        for what the store may not hold (core/desk/reads.py `search_source`), when given."""
        super().__init__()
        self._search = search
        self._source_search = source_search
        self.local_count = 0  # the first results are the store's, the rest the source's
        self._now = now or (lambda: int(time.time()))
        self._generation = 0
        self.hits: list[Hit] = []
        self.painted = 0  # result lists painted (tests and the benchmark)
        self.failed = ""  # why the store could not be read, once it could not
        self.paint_log: list[tuple[str, float]] = []  # (typed, when its results were on screen)
        self._queries = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search")
        self._held: AbstractContextManager[None] | None = None  # the frame held for results
        self._status = ""
        self._next_page: SourcePage | None = None  # the source's next page, when it has one
        self._source_query: SearchQuery | None = None

    def compose(self) -> ComposeResult:
        """The prompt, the results and a status line."""
        with Vertical(id="search-box"):
            yield SearchInput(
                placeholder='Search messages — from:name in:chat before:/after:YYYY-MM-DD "phrase"',
                id="search-input",
            )
            yield ResultList(id="search-results")
            yield Static("", id="search-status")

    def on_mount(self) -> None:
        """Start the screen (Textual runs each class's handler, so the work is in `_start`)."""
        self._start()

    def _start(self) -> None:
        """Read names and titles in the background; focus the prompt."""
        self.query_one(SearchInput).focus()
        self._refresh_names()

    @work(thread=True, group="search-names")
    def _refresh_names(self) -> None:
        """Chat titles and sender names for matching `from:`, `in:` and free words."""
        try:
            self._search.refresh()
        except sqlite3.Error as error:
            self._report_failure(error)

    def typed(self, value: str) -> None:
        """Start a query for the new text at once (not after the keystroke's own frame) on the
        screen's query thread; the one still running is interrupted, so the newest keystroke
        wins, and the keystroke's frame waits a little for its results (`HOLD_FRAME`)."""
        self._generation += 1
        self._search.interrupt()
        self._hold_frame()
        generation = self._generation
        rows = self.query_one(ResultList).size.height // LINES_PER_RESULT + 1
        try:
            future = self._queries.submit(self._query, value, generation, rows)
        except RuntimeError:  # the screen is closing: its thread is gone
            self._release_frame()
            return
        loop = asyncio.get_running_loop()
        future.add_done_callback(
            lambda done: loop.call_soon_threadsafe(self._answered, generation, done)
        )

    def _query(self, typed: str, generation: int, rows: int) -> Answer | None:
        """On the query thread: the hits of `typed` and the first `rows` results drawn (None
        when a newer keystroke came first)."""
        if generation != self._generation:
            return None
        local = datetime.now().astimezone().tzinfo
        assert local is not None
        query = parse(typed, self._now(), local)
        hits = self._search.find(query)
        if generation != self._generation:
            return None
        terms = query.terms
        return hits, query, {i: hit_text(hits[i], terms) for i in range(min(rows, len(hits)))}

    def _answered(self, generation: int, done: Future[Answer | None]) -> None:
        """On the UI loop: paint the newest query's results, or say why the store failed."""
        try:
            if generation != self._generation or done.cancelled() or not self.is_mounted:
                return
            error = done.exception()
            if isinstance(error, sqlite3.Error):
                if not interrupted(error):
                    self._show_failure(failure_line(error))
                return
            if error is not None:
                raise error
            answer = done.result()
            if answer is not None:
                self._show(generation, *answer)
        finally:
            if generation == self._generation:
                self._release_frame()

    def _hold_frame(self) -> None:
        """Hold the screen's next frame until the results come or `HOLD_FRAME` passes."""
        if self._held is None:
            self._held = self.app.batch_update()
            self._held.__enter__()
            asyncio.get_running_loop().call_later(HOLD_FRAME, self._release_frame)

    def _release_frame(self) -> None:
        """Let the held frame go to the screen."""
        held, self._held = self._held, None
        if held is not None:
            held.__exit__(None, None, None)
            self.check_idle()  # a screen that went idle while held paints now

    def _show(
        self,
        generation: int,
        hits: list[Hit],
        query: SearchQuery,
        drawn: dict[int, Text] | None = None,
    ) -> None:
        """Paint the results of the newest query, only the rows that changed (`drawn`: the
        first ones, drawn on the query thread; the others when they come into view), then ask
        the source for more."""
        if generation != self._generation or not self.is_mounted:
            return
        self.hits, self.local_count, terms = hits, len(hits), query.terms
        self._next_page = self._source_query = None
        self.query_one(ResultList).show(hits, lambda index: hit_text(hits[index], terms), drawn)
        typed = self.query_one(SearchInput).value.strip()
        status = "; ".join(query.problems) or (
            f"{len(hits)} newest matches · ↑ ↓ choose · Enter open · Esc back"
            if hits
            else ("no messages match" if typed else "")
        )
        self._set_status(status)
        self.painted += 1
        self.call_after_refresh(self._log_paint, self.query_one(SearchInput).value)
        if self._source_search is not None and query.terms and not query.problems:
            self._ask_source(generation, query)

    def _set_status(self, status: str) -> None:
        """The status line, redrawn only when its words change (one line of fixed size: no
        layout of the screen for it)."""
        if status != self._status:
            self._status = status
            self.query_one("#search-status", Static).update(Text(status, "dim"), layout=False)

    @work(exclusive=True, group="source-search")
    async def _ask_source(self, generation: int, query: SearchQuery) -> None:
        """After a pause in typing (a newer keystroke cancels this), ask the source and add
        the messages the store did not find below its results; a failure is one dim line."""
        await _pause(SOURCE_DELAY)
        if generation != self._generation or self._source_search is None:
            return
        await self._fetch_source(generation, query, None)

    @work(exclusive=True, group="source-search")
    async def _more(self) -> None:
        """Enter on the "more" row: the source's next page, asked once."""
        page, query, generation = self._next_page, self._source_query, self._generation
        if page is None or query is None:
            return
        self._next_page = None  # a second Enter while it comes asks nothing
        self._set_status(f"asking for more {FROM_SOURCE}…")
        if not await self._fetch_source(generation, query, page):
            self._next_page = page  # failed: Enter on "more" tries again

    async def _fetch_source(
        self, generation: int, query: SearchQuery, page: SourcePage | None
    ) -> bool:
        """Ask the source for a page and show what it found that is not shown yet; whether it
        answered."""
        assert self._source_search is not None
        try:
            found, following = await self._source_search(query, page)
        except Exception as error:  # network, FloodWait, refusal: one line, the desk stays
            if generation == self._generation and self.is_mounted:
                self._set_status(f"Telegram search unavailable: {clean_line(str(error), 80)}")
            return False
        if generation != self._generation or not self.is_mounted:
            return True
        shown = {(hit.message.chat_id, hit.message.id) for hit in self.hits}
        extra = [hit for hit in found if (hit.message.chat_id, hit.message.id) not in shown]
        if extra or following is not None or page is not None:
            self._show_source(query, [*self.hits, *extra], following, page is not None)
        return True

    def _show_source(
        self, query: SearchQuery, hits: list[Hit], following: SourcePage | None, paged: bool
    ) -> None:
        """The store's results, the source's below them, and a "more" row when the source has
        another page (the cursor on the first new result after a page)."""
        first_new = len(self.hits)
        self.hits, self._next_page, self._source_query = hits, following, query
        terms, count = query.terms, self.local_count

        def draw(index: int) -> Text:
            """A result, or the "more" row after the last."""
            if index >= len(hits):
                return more_text()
            return hit_text(hits[index], terms, FROM_SOURCE if index >= count else "")

        results = self.query_one(ResultList)
        results.show([*hits, MORE] if following is not None else hits, draw)
        if paged and first_new < len(results.results):
            results.move(first_new)
        extra = len(hits) - count
        more = " · Enter on “more” asks for the next page" if following is not None else ""
        self._set_status(
            f"{count} newest matches · {extra} more {FROM_SOURCE}{more} · Enter open · Esc back"
        )
        self.painted += 1

    def _report_failure(self, error: sqlite3.Error) -> None:
        """Say on the status line that the store could not be read (from a worker thread);
        an interruption by a newer keystroke or by closing says nothing."""
        if interrupted(error):
            return
        self.app.call_from_thread(self._show_failure, failure_line(error))

    def _show_failure(self, line: str) -> None:
        """Show why no results came, instead of "no messages match"."""
        if self.is_mounted:
            self.failed = self._status = line
            self.query_one("#search-status", Static).update(Text(line, "bold red"))

    def _log_paint(self, typed: str) -> None:
        """Note when the results of `typed` reached the screen (bench/search_bench.py)."""
        self.paint_log.append((typed, time.perf_counter()))

    def action_move(self, step: int) -> None:
        """Move the cursor over the results while the prompt keeps the keys."""
        self.query_one(ResultList).move(step)

    @on(SearchInput.Submitted, "#search-input")
    def _submitted(self) -> None:
        """Enter in the prompt opens the result under the cursor."""
        self._open(self.query_one(ResultList).cursor)

    @on(ResultList.Chosen, "#search-results")
    def _chosen(self, event: ResultList.Chosen) -> None:
        """A result chosen in the list opens it."""
        self._open(event.index)

    def _open(self, index: int) -> None:
        """Jump to result `index`, or ask for the next page on the "more" row after the last."""
        if index < len(self.hits):
            self._jump(self.hits[index])
        elif index == len(self.hits) and self._next_page is not None:
            self._more()

    def _jump(self, hit: Hit) -> None:
        """Close with the chosen message."""
        self.dismiss((hit.message.chat_id, hit.message.id))

    def action_close(self) -> None:
        """Esc: back where you were."""
        self.dismiss(None)

    def on_unmount(self) -> None:
        """Stop any query and close the connection."""
        self._generation += 1
        self._search.interrupt()
        self._release_frame()
        self._queries.shutdown(wait=False, cancel_futures=True)
        self.workers.cancel_group(self, "search")
        self.workers.cancel_group(self, "source-search")
        self._search.close()


class HistoryScreen(SearchScreen):
    """Everything one customer wrote in every chat, newest first, with their waits."""

    def __init__(
        self,
        search: Searcher,
        load: Callable[[Searcher], list[tuple[Hit, Wait | None]]],
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
            yield ResultList(id="search-results")
            yield Static(Text("Reading…", "dim"), id="search-status")

    def _start(self) -> None:
        """Read the history in the background."""
        self.query_one(ResultList).focus()
        self._read()

    @work(thread=True, group="search")
    def _read(self) -> None:
        """Read the customer's messages and waits and post them."""
        try:
            rows = self._load(self._search)
        except sqlite3.Error as error:
            self._report_failure(error)
            return
        self.app.call_from_thread(self._show_history, rows)

    def _show_history(self, rows: list[tuple[Hit, Wait | None]]) -> None:
        """Paint the history (each message drawn when it comes into view)."""
        if not self.is_mounted:
            return
        self.hits = [hit for hit, _ in rows]
        self.query_one(ResultList).show(
            rows, lambda index: hit_text(rows[index][0], (), note(rows[index][1]))
        )
        chats = len({hit.message.chat_id for hit in self.hits})
        status = (
            f"{len(self.hits)} message{'s' * (len(self.hits) != 1)} in {chats} "
            f"chat{'s' * (chats != 1)} · Enter open · Esc back"
        )
        self.query_one("#search-status", Static).update(Text(status, "dim"))
        self.painted += 1
