"""Telegram's second search tier on the Telegram desk over the fake client: Ctrl+F shows the
store's results, then Telegram's (messages.searchGlobal, or messages.search for one `in:` chat)
below them, marked and without duplicates; a failure is one dim line; fast typing asks once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from telethon.tl import types
from textual.pilot import Pilot
from textual.widgets import Static
from tgtriage.core.sources.base import SearchesMessages
from tgtriage.core.sources.demo import DemoSource
from tgtriage.core.system.config import Telegram
from tgtriage.core.system.paths import Paths
from tgtriage.tui import search_screen
from tgtriage.tui.conversation import Conversation
from tgtriage.tui.search_results import ResultList
from tgtriage.tui.search_screen import SearchScreen

from tests.desk_harness import conversation_text
from tests.fake_telethon import FakeClient
from tests.fake_tl import T0, flood, when
from tests.telegram_world import BOB, CATS_ID, INITECH, INITECH_ID, TESS, config, make, world
from tests.test_telegram_desk import notified, paths, telegram_desk, until  # noqa: F401


def _with_archive() -> FakeClient:
    """The usual world, plus a printer message in Initech only Telegram's search still finds
    and one in the hobby group the desk does not follow."""
    fake = world()
    old = fake.message(INITECH_ID, "printer jammed last winter", sender=BOB, date=T0 - 90_000)
    fake.history[INITECH_ID].remove(old)
    fake.archive[INITECH_ID] = [old]
    fake.message(CATS_ID, "printer ink for cat photos", sender=BOB, date=T0 + 450)
    return fake


async def _search(pilot: Pilot[int], app: Any, typed: str) -> SearchScreen:
    """Open Ctrl+F and type `typed` one key at a time, each key's local results painted."""
    await pilot.press("ctrl+f")
    await until(pilot, lambda: isinstance(app.screen, SearchScreen), "search screen")
    screen = app.screen
    assert isinstance(screen, SearchScreen)
    for char in typed:
        painted = screen.painted
        await pilot.press("space" if char == " " else char)
        await until(pilot, lambda painted=painted: screen.painted > painted, f"results of {char}")
    return screen


@asynccontextmanager
async def _searching(
    paths: Paths,  # noqa: F811
    tmp_path: Path,
    typed: str,
    fake: FakeClient | None = None,
) -> AsyncIterator[tuple[Pilot[int], Any, SearchScreen]]:
    """The Telegram desk over `fake` (default: the usual world with an archive), synced, with
    `typed` typed into Ctrl+F."""
    async with telegram_desk(fake or _with_archive(), paths, tmp_path) as (pilot, app, _source):
        await app.inbox.flushed()
        yield pilot, app, await _search(pilot, app, typed)


def _status(screen: SearchScreen) -> str:
    """The search screen's status line."""
    return str(screen.query_one("#search-status", Static).render())


@pytest.fixture(autouse=True)
def _no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    """Telegram is asked without the typing pause (the pause has its own test)."""

    async def at_once(_seconds: float) -> None:
        await asyncio.sleep(0)

    monkeypatch.setattr(search_screen, "_pause", at_once)


async def test_telegram_results_come_below_the_local_ones_marked_and_once_each(
    paths: Paths,  # noqa: F811
    tmp_path: Path,
) -> None:
    fake = _with_archive()
    async with _searching(paths, tmp_path, "printer", fake) as (pilot, app, screen):
        await until(pilot, lambda: len(screen.hits) > screen.local_count, "Telegram's results")
        texts = [hit.message.text for hit in screen.hits]
        # the stored message once (Telegram found it too), then the one only Telegram holds;
        # the hobby group's is not a support chat
        assert texts == ["printer broken", "printer jammed last winter"]
        assert screen.local_count == 1
        results = screen.query_one(ResultList)
        assert "from Telegram" in results.text(1).plain
        assert "from Telegram" not in results.text(0).plain
        assert "1 more from Telegram" in _status(screen)
        assert fake.requests_named("SearchGlobalRequest")[-1].q == "printer"
        assert not fake.requests_named("SearchRequest")
        # Enter on it opens the chat and says the message is older than the loaded history
        await pilot.press("down", "enter")
        await until(pilot, lambda: not isinstance(app.screen, SearchScreen), "jump")
        assert app.inbox.open_chat_id == INITECH_ID
        assert notified(app, "older than the loaded history")


async def test_in_one_chat_asks_telegram_in_that_chat(
    paths: Paths,  # noqa: F811
    tmp_path: Path,
) -> None:
    fake = _with_archive()
    async with _searching(paths, tmp_path, "in:initech jammed", fake) as (pilot, _app, screen):
        await until(pilot, lambda: len(screen.hits) > screen.local_count, "Telegram's results")
        assert [hit.message.text for hit in screen.hits] == ["printer jammed last winter"]
        assert screen.hits[0].chat_title == "Initech Support"
        asked = [r for r in fake.requests if getattr(r, "q", None) == "jammed"]
        assert [(type(r).__name__, r.peer.chat_id) for r in asked] == [("SearchRequest", 42)]


async def test_a_flood_wait_is_one_dim_line_and_the_local_results_stay(
    paths: Paths,  # noqa: F811
    tmp_path: Path,
) -> None:
    fake = _with_archive()
    fake.fail_next("SearchGlobalRequest", flood(30), lambda r: r.q == "printer")
    async with _searching(paths, tmp_path, "printer", fake) as (pilot, app, screen):
        await until(pilot, lambda: "Telegram search unavailable" in _status(screen), "line")
        assert "30 seconds" in _status(screen)
        assert isinstance(app.screen, SearchScreen), "no dialog, the search stays"
        assert [hit.message.text for hit in screen.hits] == ["printer broken"]


async def test_typing_fast_asks_telegram_once(
    paths: Paths,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = _with_archive()
    typing_stopped = asyncio.Event()

    async def pause(_seconds: float) -> None:
        await typing_stopped.wait()

    monkeypatch.setattr(search_screen, "_pause", pause)
    async with telegram_desk(fake, paths, tmp_path) as (pilot, app, _source):
        await app.inbox.flushed()
        screen = await _search(pilot, app, "jam")  # three keys, each within the pause
        typing_stopped.set()
        await until(pilot, lambda: len(screen.hits) > screen.local_count, "Telegram's results")
        for _ in range(5):
            await pilot.pause()
        assert [r.q for r in fake.requests_named("SearchGlobalRequest")] == ["jam"]


async def test_enter_on_a_telegram_result_pages_the_history_back_to_it_and_marks_it(
    paths: Paths,  # noqa: F811
    tmp_path: Path,
) -> None:
    fake = FakeClient()
    fake.add_user(BOB)
    fake.add_user(TESS)
    fake.add_chat(INITECH)
    jammed = fake.message(INITECH_ID, "printer jammed last winter", sender=BOB, date=T0 - 90_000)
    for index in range(150):  # more than the start-up and the reconciler read (a page)
        fake.message(INITECH_ID, f"still fine {index}", sender=TESS, date=T0 - 80_000 + index)
    world(fake)  # the usual chats around Initech's older history
    cfg = config().model_copy(update={"telegram": Telegram(history_limit=3)})
    async with telegram_desk(fake, paths, tmp_path, cfg) as (pilot, app, _source):
        await app.inbox.flushed()
        stored = await app.inbox.messages(INITECH_ID)
        assert stored and all(m.id != jammed.id for m in stored)
        screen = await _search(pilot, app, "jammed")
        await until(pilot, lambda: len(screen.hits) > screen.local_count, "Telegram's results")
        assert screen.local_count == 0
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, SearchScreen), "jump")
        conversation = app.query_one(Conversation)
        await until(pilot, lambda: conversation.found_id == jammed.id, "the message marked")
        assert app.inbox.open_chat_id == INITECH_ID
        assert "printer jammed last winter" in conversation_text(app)


async def test_the_source_converts_telegram_search_results_and_sends_the_date_bounds(
    paths: Paths,  # noqa: F811
) -> None:
    fake = _with_archive()
    source = make(fake, paths)
    await source.start()
    assert isinstance(source, SearchesMessages)
    hits, following = await source.search_messages("printer", None, 10, T0 - 100_000, T0 + 1000)
    assert following is None, "one short page: no next one"
    shown = [(h.chat_title, h.sender, h.message.text) for h in hits]
    assert shown == [
        ("Cat pictures", "Bob Buyer", "printer ink for cat photos"),
        ("Initech Support", "Bob Buyer", "printer broken"),
        ("Initech Support", "Bob Buyer", "printer jammed last winter"),
    ], "newest first, every chat (the desk filters to the followed ones)"
    (request,) = fake.requests_named("SearchGlobalRequest")
    assert request.min_date == when(T0 - 100_000) and request.max_date == when(T0 + 1000)
    assert isinstance(request.filter, types.InputMessagesFilterEmpty)
    await source.stop()


async def test_from_reaches_messages_search_as_from_id(
    paths: Paths,  # noqa: F811
    tmp_path: Path,
) -> None:
    fake = _with_archive()
    fake.message(INITECH_ID, "printer jammed again", sender=TESS, date=T0 + 460)
    typed = "in:initech from:bob jammed"
    async with _searching(paths, tmp_path, typed, fake) as (pilot, _app, screen):
        await until(pilot, lambda: len(screen.hits) > screen.local_count, "Telegram's results")
        assert [hit.message.text for hit in screen.hits] == ["printer jammed last winter"]
        (request,) = [r for r in fake.requests_named("SearchRequest") if r.q == "jammed"]
        assert isinstance(request.from_id, types.InputPeerUser)
        assert request.from_id.user_id == BOB.id


def _toner(count: int) -> FakeClient:
    """The usual world, plus `count` toner messages in Initech only Telegram still holds."""
    fake = world()
    for index in range(count):
        old = fake.message(INITECH_ID, f"toner low {index}", sender=BOB, date=T0 - 9000 + index)
        fake.history[INITECH_ID].remove(old)
        fake.archive.setdefault(INITECH_ID, []).append(old)
    return fake


async def test_enter_on_more_shows_the_next_page_below_with_the_cursor_on_it(
    paths: Paths,  # noqa: F811
    tmp_path: Path,
) -> None:
    fake = _toner(60)
    async with _searching(paths, tmp_path, "toner", fake) as (pilot, _app, screen):
        await until(pilot, lambda: len(screen.hits) == 50, "Telegram's first page")
        results = screen.query_one(ResultList)
        assert len(results.results) == 51 and "more from Telegram" in results.text(50).plain
        assert "Enter on “more” asks for the next page" in _status(screen)
        await pilot.press(*["down"] * 50)
        assert results.cursor == 50
        await pilot.press("enter")
        await until(pilot, lambda: len(screen.hits) == 60, "the second page")
        for _ in range(5):
            await pilot.pause()
        first, second = [r for r in fake.requests_named("SearchGlobalRequest") if r.q == "toner"]
        assert first.offset_id == 0 and second.offset_id == screen.hits[49].message.id
        assert second.offset_rate == int(screen.hits[49].message.date)
        assert [h.message.text for h in screen.hits] == [
            f"toner low {i}" for i in range(59, -1, -1)
        ]
        assert len(results.results) == 60, "the last page: no more row"
        assert results.cursor == 50, "the cursor on the first result of the new page"
        assert "from Telegram" in results.text(59).plain
        assert "60 more from Telegram" in _status(screen)
        assert "next page" not in _status(screen)


async def test_enter_on_more_again_while_the_page_comes_asks_telegram_once(
    paths: Paths,  # noqa: F811
    tmp_path: Path,
) -> None:
    fake = _toner(60)
    async with _searching(paths, tmp_path, "toner", fake) as (pilot, _app, screen):
        await until(pilot, lambda: len(screen.hits) == 50, "Telegram's first page")
        await pilot.press(*["down"] * 50)
        fake.hangs.append("SearchGlobalRequest")  # page 2 does not come back
        await pilot.press("enter", "enter", "enter")
        await until(pilot, lambda: "asking for more" in _status(screen), "the request out")
        for _ in range(5):
            await pilot.pause()
        asked = [r.offset_id for r in fake.requests_named("SearchGlobalRequest") if r.q == "toner"]
        assert asked == [0, screen.hits[49].message.id]
        assert isinstance(_app.screen, SearchScreen)


def test_the_demo_source_does_not_search_a_server() -> None:
    assert not isinstance(DemoSource(seed=1), SearchesMessages)
