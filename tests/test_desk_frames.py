"""One frame per key and no leaks: what a key changes is in its first frame, and switching
all day neither piles up widgets nor unfreezes the startup heap."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
from textual._styles_cache import StylesCache
from textual.widgets._footer import FooterKey
from tgtriage.core.desk.windows import MessageWindows
from tgtriage.tui.app import DeskApp
from tgtriage.tui.chat_list import ChatList
from tgtriage.tui.conversation import Conversation

from tests.desk_harness import (
    conversation_text,
    make_desk,
    run_desk,
    screen_text,
    settle,
    wait_for,
)
from tests.terminal_copy import Terminal, cells, differences

pytestmark = pytest.mark.usefixtures("utc_times")  # times on screen in UTC


# ----------------------------------------------------------------- one frame per key


async def test_a_key_paints_the_chat_it_opens_in_its_first_frame(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    frames: list[tuple[int | None, str]] = []
    async with run_desk(desk) as pilot:
        app = desk.app
        original = app._display

        def record(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None:
                conversation = app.query_one(Conversation)
                frames.append((conversation.chat_id, screen_text(app)))

        app._display = record  # type: ignore[method-assign]
        for _ in range(4):
            target = app.inbox.next_waiting(exclude=app.inbox.open_chat_id)
            assert target is not None
            title = app.inbox.chats[target].title
            frames.clear()
            await pilot.press("ctrl+n")
            await wait_for(pilot, lambda: bool(frames), "a frame")
            chat_id, shown = frames[0]
            lines = shown.splitlines()
            assert chat_id == target
            assert title in lines[1]  # the header names it in that same frame
            assert any(title in line and "▕" in line for line in lines)  # the list marks it
            await app.inbox.mark_handled(target)
            await settle(pilot)


def _frames_of(app: DeskApp) -> list[str]:
    """Record the screen text at every frame from now on."""
    frames: list[str] = []
    original = app._display

    def record(screen: Any, renderable: Any) -> None:
        original(screen, renderable)
        if renderable is not None:
            frames.append(screen_text(app))

    app._display = record  # type: ignore[method-assign]
    return frames


async def test_the_template_popup_is_in_the_frame_that_shows_the_slash(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        await settle(pilot)
        frames = _frames_of(app)
        for key in ("slash", "g", "r"):
            frames.clear()
            await pilot.press(key)
            await wait_for(pilot, lambda: bool(frames), "a frame")
            assert "/greet" in frames[0], f"the first frame after {key!r} shows the popup"
        # Esc keeps it closed while the same word goes on; after the text is replaced
        # (another chat's draft, a sent reply) a new "/" opens it again.
        await pilot.press("escape", "e")
        await settle(pilot)
        assert "/greet" not in screen_text(app)
        from tgtriage.tui.composer import Composer

        app.query_one(Composer).load("")
        await pilot.press("slash")
        await wait_for(pilot, lambda: "/greet" in screen_text(app), "the popup again")


async def test_the_switcher_filters_in_the_frame_that_shows_the_letter(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+k")
        await settle(pilot)
        frames = _frames_of(app)
        for key, expected in (("h", None), ("o", None), ("o", "Hooli")):
            frames.clear()
            await pilot.press(key)
            await wait_for(pilot, lambda: bool(frames), "a frame")
            boxed = [line.split("│")[1] for line in frames[0].splitlines() if line.count("│") >= 2]
            rows = [row for row in boxed if "· Support" in row]  # inside the switcher's box
            assert rows
            if expected:
                assert expected in rows[0]
            assert all("Acme" not in row for row in rows), "filtered in that same frame"
        await pilot.press("escape")


async def test_the_switcher_comes_back_empty_and_current(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+k", "z", "z", "z", "escape")
        await settle(pilot)
        target = app.inbox.next_waiting()
        assert target is not None
        await app.inbox.mark_handled(target)  # the order changes while the switcher is away
        await settle(pilot)
        await pilot.press("ctrl+k")
        await settle(pilot)
        from textual.widgets import Input, OptionList

        assert app.screen.query_one(Input).value == ""
        listed = app.screen.query_one(OptionList)
        ids = [int(listed.get_option_at_index(i).id or 0) for i in range(listed.option_count)]
        assert ids == app.inbox.order()[: len(ids)]


# ----------------------------------------------------------------- widgets and the heap


async def test_switching_all_day_does_not_pile_up_widgets(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app

        def alive(kind: type) -> int:
            gc.unfreeze()  # frozen objects are not listed by gc.get_objects()
            gc.collect()
            count = sum(1 for o in gc.get_objects() if type(o) is kind)
            gc.freeze()
            return count

        for _ in range(3):
            await pilot.press("ctrl+k", "a", "enter")
            await settle(pilot)
        keys, caches = alive(FooterKey), alive(StylesCache)
        for _ in range(15):  # each switcher and each focus change recomposes the footer
            await pilot.press("ctrl+k", "a", "enter", "escape")
            await settle(pilot)
        assert alive(FooterKey) <= keys + 2
        assert alive(StylesCache) <= caches + 12
        assert isinstance(app.screen.query_one(ChatList), ChatList)


async def test_the_startup_heap_is_frozen_while_the_desk_runs(tmp_path: Path) -> None:
    from tgtriage.core.system.gc_policy import THOROUGH_EVERY

    thresholds = gc.get_threshold()
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        await pilot.pause()
        assert gc.isenabled()
        frozen = gc.get_freeze_count()
        assert frozen > 10_000
        collector = desk.app.collector
        # A full collection that comes due runs after a frame and freezes its survivors.
        while gc.get_count()[2] < gc.get_threshold()[2]:
            gc.collect(1)
        assert collector.after_frame() == "full"
        assert gc.get_freeze_count() >= frozen
        # The thorough tidy-up waits for a quiet moment and for its quarter of an hour.
        assert not collector.when_idle(idle_for=0.5)
        assert collector.when_idle(idle_for=5.0, now=collector.thorough_at + THOROUGH_EVERY + 1)
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0
    assert gc.isenabled() and gc.get_threshold() == thresholds
    assert isinstance(desk.app, DeskApp)


async def test_the_terminal_shows_the_desk_after_dialogs_switcher_and_slots(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        terminal = Terminal()
        original = app._display

        def copy(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None:
                terminal.apply(renderable)

        app._display = copy  # type: ignore[method-assign]
        app.screen.refresh()  # one full frame to start the copy from
        await settle(pilot)
        for keys in (("ctrl+n",), ("ctrl+k", "o"), ("enter",), ("alt+p",), ("escape",)):
            await pilot.press(*keys)
            await settle(pilot)
            width, height = app.size
            full = app.screen._compositor.render_strips()
            assert not differences(terminal.lines(width, height), cells(full, width)), (
                f"after {keys}"
            )


async def test_enter_in_the_switcher_paints_the_whole_conversation_in_one_frame(
    tmp_path: Path,
) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        terminal = Terminal()
        region = app.query_one(Conversation).region
        painted: list[list[list[Any]]] = []  # the conversation's cells after each frame
        original = app._display

        def copy(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None:
                terminal.apply(renderable)
                rows = terminal.lines(region.right, region.bottom)[region.y :]
                painted.append([row[region.x :] for row in rows])

        app._display = copy  # type: ignore[method-assign]
        app.screen.refresh()
        await settle(pilot)
        for letter in "aio":
            await pilot.press("ctrl+k", letter)
            await settle(pilot)
            painted.clear()
            await pilot.press("enter")
            await settle(pilot)
            changed = [
                frame
                for before, frame in zip([None, *painted], painted, strict=False)
                if frame != before
            ]
            assert len(changed) == 1, f"{len(changed)} frames drew the conversation"


async def test_a_keys_store_writes_follow_its_frame_and_are_all_made(tmp_path: Path) -> None:
    """Ctrl+N paints the chat before the store hears of it (core/desk/writer.py holds the
    writes for the frame), and every write it queued is made right after."""
    desk = make_desk(tmp_path)
    events: list[str] = []
    async with run_desk(desk) as pilot:
        app = desk.app
        store = app.inbox.store
        for name in ("save_triage", "set_slot"):
            write = getattr(store, name)

            async def noted(*args: Any, _write: Any = write, _name: str = name) -> Any:
                events.append(_name)
                return await _write(*args)

            setattr(store, name, noted)
        original = app._display

        def record(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None:
                events.append(f"frame {app.query_one(Conversation).chat_id}")

        app._display = record  # type: ignore[method-assign]
        opened = []
        for _ in range(3):
            await settle(pilot)
            target, _ = app.inbox.walk()  # where Ctrl+N goes (core/rules/walk.py)
            assert target is not None
            events.clear()
            await pilot.press("ctrl+n")
            await wait_for(pilot, lambda: "save_triage" in events, "the triage write")
            assert events[0] == f"frame {target}", events  # painted before any write began
            opened.append(target)
        await app.inbox.flushed()
        slots = await store.slots()
        saved = await store.load_triage()
    assert set(opened) <= set(slots.values())  # each joined the working set, stored
    assert all(saved[chat_id].unread == 0 for chat_id in opened)  # read on open, stored


async def test_a_chat_not_in_memory_is_painted_once_with_its_messages(tmp_path: Path) -> None:
    """A desk past the windows' cap (core/desk/windows.py) reads a chat it does not hold
    before painting it: one frame shows the chat with its messages, no second one follows."""
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        inbox = app.inbox
        await inbox.flushed()
        target, _ = inbox.walk()  # where Ctrl+N goes (core/rules/walk.py)
        assert target is not None and inbox.messages_known(target)
        newest = inbox.recent(target, 1)[-1].text.splitlines()[0]
        inbox.windows.forget(target)  # as a 10,000-chat desk past its 1,000 windows
        frames: list[tuple[int | None, str]] = []
        original = app._display

        def record(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None:
                conversation = app.query_one(Conversation)
                frames.append((conversation.chat_id, conversation_text(app)))

        app._display = record  # type: ignore[method-assign]
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: bool(frames), "a frame")
        await settle(pilot)
        await inbox.flushed()
        await settle(pilot)
        showing = [text for chat_id, text in frames if chat_id == target]
    assert showing and newest[:20] in showing[0]  # the first frame shows its messages
    assert all(text == showing[0] for text in showing)  # and no later frame redrew them


def test_windows_read_ahead_are_dropped_least_wanted_first() -> None:
    """Start-up reads the working set first; chats shown later push out the chats read last."""
    windows = MessageWindows(size=2, chats=3)
    for chat_id in (1, 2, 3):  # most wanted first (the working set)
        windows.fill(chat_id, [], ahead=True)
    windows.fill(9, [])  # a chat shown by the switcher
    assert windows.missing([1, 2, 3, 9]) == [3]
    windows.recent(2, 1)  # shown again: kept longer
    windows.fill(8, [])
    assert windows.missing([1, 2, 9, 8]) == [1]
