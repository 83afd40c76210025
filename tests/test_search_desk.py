"""Ctrl+F / `/` search and Alt+U customer history on the real desk (demo seed 3, fixed clock)."""

from __future__ import annotations

import re

import pytest
from textual.widgets import Input, Static
from tgtriage.core.rules.search_query import fold
from tgtriage.tui.chat_list import ChatList
from tgtriage.tui.conversation import Conversation
from tgtriage.tui.search_results import ResultList
from tgtriage.tui.search_screen import HistoryScreen, SearchScreen

from tests.desk_harness import Desk, conversation_text, run_desk, type_text, wait_for
from tests.test_store_damage_live import damage_live

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


async def test_a_store_damaged_under_the_search_says_so_instead_of_finding_nothing(
    desk: Desk,
) -> None:
    """Damaged message pages give a red line naming the fix, not "no messages match"."""
    async with run_desk(desk) as pilot:
        await desk.inbox.flushed()
        word = _a_customer_word(desk)
        await damage_live(desk.inbox, ("messages", "messages_fts_data"))
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: isinstance(desk.app.screen, SearchScreen), "search screen")
        screen = desk.app.screen
        assert isinstance(screen, SearchScreen)
        await type_text(pilot, word)
        line = screen.query_one("#search-status", Static)
        await wait_for(pilot, lambda: bool(str(line.render())), "the status line")
        status = str(line.render())
        assert "search could not read the store" in status
        assert "start tgtriage again" in status
        assert desk.app.is_running  # the desk is still up


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
