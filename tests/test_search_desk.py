"""Ctrl+F / `/` search and Alt+U customer history on the real desk (demo seed 3, fixed clock)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import Input
from tgtriage.core.rules.search_query import Hit, SearchQuery, fold
from tgtriage.core.storage.search import MessageSearch
from tgtriage.tui.chat_list import ChatList
from tgtriage.tui.conversation import Conversation
from tgtriage.tui.search_results import ResultList
from tgtriage.tui.search_screen import HistoryScreen, SearchScreen

from tests.desk_harness import Desk, conversation_text, run_desk, type_text, wait_for

pytestmark = pytest.mark.usefixtures("utc_times")


def _a_customer_word(desk: Desk) -> str:
    """A word of five letters or more that some stored customer message holds."""
    inbox = desk.inbox
    for chat_id in inbox.order():
        for message in inbox.recent(chat_id):
            if inbox.role(message).name == "CUSTOMER":
                for word in re.findall(r"[A-Za-z]{5,}", message.text):
                    return word
    raise AssertionError("the demo has no customer words")


async def test_ctrl_f_finds_a_word_newest_first_and_enter_opens_it_marked(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        await desk.inbox.flushed()
        word = _a_customer_word(desk)
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: isinstance(desk.app.screen, SearchScreen), "search screen")
        screen = desk.app.screen
        assert isinstance(screen, SearchScreen)
        await type_text(pilot, word.upper())
        await wait_for(pilot, lambda: bool(screen.hits), f"results for {word}")
        dates = [hit.message.date for hit in screen.hits]
        assert dates == sorted(dates, reverse=True), "newest first"
        for hit in screen.hits:
            found = fold(hit.message.text + " " + hit.sender + " " + hit.chat_title)
            assert fold(word) in found
        first = screen.hits[0].message
        results = screen.query_one(ResultList)
        shown = results.text(0)
        assert desk.inbox.chats[first.chat_id].title[:10] in shown.plain
        highlighted = [
            shown.plain[s.start : s.end] for s in shown.spans if "reverse" in str(s.style)
        ]
        assert highlighted and all(fold(h).startswith(fold(word)) for h in highlighted)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(desk.app.screen, SearchScreen), "jump")
        conversation = desk.app.query_one(Conversation)
        assert desk.inbox.open_chat_id == first.chat_id
        assert conversation.found_id == first.id
        assert "▶ found" in conversation_text(desk.app)


async def test_slash_in_the_list_opens_search_and_escape_returns_unchanged(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        desk.app.query_one(ChatList).focus()
        await pilot.pause()
        before = desk.inbox.open_chat_id
        await pilot.press("slash")
        await wait_for(pilot, lambda: isinstance(desk.app.screen, SearchScreen), "search screen")
        await type_text(pilot, "zzqqxx")
        screen = desk.app.screen
        assert isinstance(screen, SearchScreen)
        await wait_for(pilot, lambda: screen.painted > 0, "the empty result painted")
        assert screen.hits == []
        assert screen.query_one(Input).value == "zzqqxx"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(desk.app.screen, SearchScreen), "closed")
        assert desk.inbox.open_chat_id == before
        assert desk.app.focused is desk.app.query_one(ChatList)


async def test_alt_u_lists_the_customer_in_every_chat_with_their_waits(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        chat_id = desk.inbox.open_chat_id
        assert chat_id is not None
        await desk.inbox.flushed()
        customer = desk.inbox.triage[chat_id].last_customer_id
        await pilot.press("alt+u")
        await wait_for(pilot, lambda: isinstance(desk.app.screen, HistoryScreen), "history")
        screen = desk.app.screen
        assert isinstance(screen, HistoryScreen)
        await wait_for(pilot, lambda: screen.painted > 0, "history painted")
        assert screen.hits, "the waiting customer wrote something"
        assert {hit.message.sender_id for hit in screen.hits} == {customer}
        dates = [hit.message.date for hit in screen.hits]
        assert dates == sorted(dates, reverse=True)
        results = screen.query_one(ResultList)
        prompts = [results.text(i).plain for i in range(len(results.results))]
        assert any("waiting" in p or "answered in" in p for p in prompts)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(desk.app.screen, HistoryScreen), "jump")
        assert desk.app.query_one(Conversation).found_id == screen.hits[0].message.id


async def test_typing_a_search_lays_out_nothing_and_paints_each_keystrokes_results(
    desk: Desk,
) -> None:
    """A keystroke redraws the prompt and the visible results, never a layout of the screen
    or of the desk under it (each would reflow and repaint every widget)."""
    async with run_desk(desk) as pilot:
        await desk.inbox.flushed()
        word = _a_customer_word(desk)
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: isinstance(desk.app.screen, SearchScreen), "search screen")
        screen = desk.app.screen
        assert isinstance(screen, SearchScreen)
        await wait_for(pilot, lambda: screen.query_one(ResultList).size.height > 0, "laid out")
        layouts: list[str] = []
        for watched in desk.app.screen_stack:
            original = watched._refresh_layout

            def counted(
                *args: object,
                _original: object = original,
                _name: str = type(watched).__name__,
                **kwargs: object,
            ) -> None:
                layouts.append(_name)
                _original(*args, **kwargs)  # type: ignore[operator]

            watched._refresh_layout = counted  # type: ignore[method-assign]
        for typed in ("zzqx", word[:1], word[:3], word):  # none, then more and fewer results
            await pilot.press("ctrl+a", "ctrl+k")
            await type_text(pilot, typed)
            await wait_for(
                pilot, lambda t=typed: any(p == t for p, _ in screen.paint_log), f"{typed} painted"
            )
        assert screen.hits, "the last search found messages"
        assert layouts == [], "no layout while typing"


class InterruptedOnce(MessageSearch):
    """The store's search, whose name reading and first query are each interrupted once by
    SQLite (sqlite3_interrupt while a statement runs), as a keystroke meant for an older
    query interrupts whatever the connection is reading."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.pending = {"refresh", "find"}

    def _interrupt_once(self, what: str) -> None:
        """Interrupt the next statement, once per `what`."""
        if what in self.pending:
            self.pending.discard(what)
            running = self._db.execute("SELECT seq FROM messages")
            running.fetchone()  # a statement in flight, as another thread's query would be
            self.interrupt()
            self._next_closes = running

    def refresh(self) -> None:
        """Read names (interrupted the first time)."""
        self._interrupt_once("refresh")
        try:
            super().refresh()
        finally:
            self._next_closes.close()

    def find(self, query: SearchQuery, limit: int = 50) -> list[Hit]:
        """Search (interrupted the first time)."""
        self._interrupt_once("find")
        try:
            return super().find(query, limit)
        finally:
            self._next_closes.close()


async def test_an_interrupt_meant_for_an_older_query_never_loses_the_newest(desk: Desk) -> None:
    """The names being read, or the newest keystroke's query, stopped by an interrupt meant for
    an older query: read again, and the results still come (the screen does not fail)."""
    async with run_desk(desk) as pilot:
        await desk.inbox.flushed()
        word = _a_customer_word(desk)
        search = InterruptedOnce(desk.db_path)
        screen = SearchScreen(search)
        await desk.app.push_screen(screen)
        await wait_for(pilot, lambda: "refresh" not in search.pending, "names read")
        await type_text(pilot, word)
        await wait_for(pilot, lambda: any(p == word for p, _ in screen.paint_log), "results")
        assert screen.hits and "find" not in search.pending
        assert screen.interrupted == 2, "each interrupted reading was done again"
        assert isinstance(desk.app.screen, SearchScreen), "the screen is still up"
