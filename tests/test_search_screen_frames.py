"""The search screen over the desk: a keystroke's letter and its results share one frame, the
newest keystroke's results win over a slower older query, only the result rows that changed are
redrawn, and Esc leaves the desk as it was."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from tgtriage.core.rules.search_query import Hit, SearchQuery
from tgtriage.core.storage.search import MessageSearch
from tgtriage.tui import search_screen
from tgtriage.tui.chat_list import ChatList
from tgtriage.tui.conversation import Conversation
from tgtriage.tui.search_results import ResultList
from tgtriage.tui.search_screen import SearchScreen

from tests.desk_harness import Desk, run_desk, screen_text, type_text, wait_for

pytestmark = pytest.mark.usefixtures("utc_times")


class GatedSearch(MessageSearch):
    """The desk store's search whose first query waits until the test opens the gate."""

    def __init__(self, search: MessageSearch) -> None:
        super().__init__(search.path)
        search.close()
        self.gate = threading.Event()
        self.asked: list[str] = []

    def find(self, query: SearchQuery, limit: int = 50) -> list[Hit]:
        """Wait at the gate on the first query, then search the store."""
        self.asked.append(" ".join(" ".join(term.words) for term in query.terms))
        if len(self.asked) == 1:
            self.gate.wait(10)
        return super().find(query, limit)


def _frames(desk: Desk) -> list[str]:
    """The screen text of every frame sent to the terminal from now on."""
    frames: list[str] = []
    app = desk.app
    original = app._display

    def record(screen: Any, renderable: Any) -> None:
        original(screen, renderable)
        if renderable is not None:
            frames.append(screen_text(app))

    app._display = record  # type: ignore[method-assign]
    return frames


async def test_the_letter_waits_for_its_results_and_the_newest_keystroke_wins(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_screen, "HOLD_FRAME", 30.0)  # held until the results come
    async with run_desk(desk) as pilot:
        await desk.inbox.flushed()
        search = GatedSearch(MessageSearch(desk.inbox.store.path))
        screen = SearchScreen(search)
        await desk.app.push_screen(screen)
        await wait_for(pilot, lambda: screen.query_one(ResultList).size.height > 0, "laid out")
        frames = _frames(desk)
        await pilot.press("e")  # its query waits at the gate
        await wait_for(pilot, lambda: search.asked == ["e"], "the first query asked")
        await pilot.press("r")  # a newer keystroke while the first still runs
        for _ in range(5):
            await pilot.pause()
        assert frames == [], "no frame shows a letter without its results"
        search.gate.set()
        await wait_for(pilot, lambda: bool(screen.paint_log), "results painted")
        assert [typed for typed, _ in screen.paint_log] == ["er"], "the older query never shows"
        assert screen.hits and all("er" in hit.message.text.lower() for hit in screen.hits)
        first = frames[0]
        assert "er" in first.splitlines()[screen.query_one("#search-input").region.y + 1]
        assert "newest matches" in first, "the letters and their results in one frame"


async def test_a_keystroke_redraws_only_the_result_rows_that_changed(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        await desk.inbox.flushed()
        screen = SearchScreen(MessageSearch(desk.inbox.store.path))
        await desk.app.push_screen(screen)
        results = screen.query_one(ResultList)
        await wait_for(pilot, lambda: results.size.height > 0, "laid out")
        drawn: list[int] = []
        original = results._draw

        def counted(text: Any, part: int, selected: bool, width: int) -> Any:
            drawn.append(part)
            return original(text, part, selected, width)

        results._draw = counted  # type: ignore[method-assign]
        height = results.size.height
        in_view = (height + 1) // 2  # rows of two lines, the last maybe cut
        await type_text(pilot, "the ")
        await wait_for(pilot, lambda: screen.paint_log[-1][0] == "the ", "'the '")
        for key in ("a", "backspace", "space"):  # other results, back, the same search
            old = {i: results.text(i) for i in range(min(in_view, len(screen.hits)))}
            for _ in range(3):
                await pilot.pause()
            drawn.clear()
            await pilot.press(key)
            text = screen.query_one("#search-input").value  # type: ignore[attr-defined]
            await wait_for(pilot, lambda t=text: screen.paint_log[-1][0] == t, f"{text!r}")
            for _ in range(3):
                await pilot.pause()
            changed = [
                i
                for i in range(min(in_view, len(screen.hits)))
                if i not in old or old[i] != results.text(i)
            ]
            lines = sum(min(2, height - 2 * i) for i in changed)
            assert len(drawn) == lines, f"{text!r}: only the changed rows drawn"
        assert text == "the  " and drawn == [], "the same search: no row drawn again"


async def test_escape_leaves_the_desk_on_the_same_chat_list_row_and_conversation(
    desk: Desk,
) -> None:
    async with run_desk(desk) as pilot:
        await desk.inbox.flushed()
        chat_list = desk.app.query_one(ChatList)
        chat_list.focus()
        await pilot.press("down", "down", "down")
        await pilot.pause()
        before = (desk.inbox.open_chat_id, chat_list.cursor)
        scrolled = desk.app.query_one(Conversation).scroll_y
        await pilot.press("slash")
        await wait_for(pilot, lambda: isinstance(desk.app.screen, SearchScreen), "search")
        screen = desk.app.screen
        assert isinstance(screen, SearchScreen)
        await type_text(pilot, "the")
        await wait_for(pilot, lambda: bool(screen.hits), "results")
        await pilot.press("down", "down", "escape")
        await wait_for(pilot, lambda: not isinstance(desk.app.screen, SearchScreen), "closed")
        assert (desk.inbox.open_chat_id, chat_list.cursor) == before
        assert desk.app.query_one(Conversation).scroll_y == scrolled
        assert desk.app.focused is chat_list
