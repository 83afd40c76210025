"""Undo send (issue 16): a reply waits `undo_send_seconds` in the outbox with a countdown, Alt+Z
takes it back into the composer and nothing is sent; after the window it leaves by itself (Ctrl+S
moved on or not); quitting sends it; a crash inside the window sends it once at the next start.

The core tests run on looptime's virtual clock, so the window passes without waiting for it
(held back while the store's thread works, as in tests/test_fault_suite.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import looptime
from tgtriage.core.desk.inbox import Inbox
from tgtriage.core.storage.store import Store
from tgtriage.core.system.config import Config
from tgtriage.tui.conversation import Conversation

from tests.desk_harness import (
    composer,
    make_desk,
    run_desk,
    screen_text,
    settle,
    type_text,
    wait_for,
)
from tests.inbox_harness import ACME, GLOBEX, FakeClock, ScriptedSource, config, running_desk, until
from tests.virtual_time import virtual_time_waits_for_the_store

WINDOW = 5.0
ACME_QUESTION = 1  # a customer message of ACME's the replies answer


def virtual(scenario: Callable[[], Awaitable[None]]) -> None:
    """Run `scenario` on an event loop whose clock is virtual (looptime), which does not race
    ahead while the store works on its thread (tests/test_fault_suite.py)."""
    loop = looptime.new_event_loop(start=0)
    try:
        with virtual_time_waits_for_the_store():
            loop.run_until_complete(scenario())
    finally:
        loop.close()


def test_undo_inside_the_window_sends_nothing_and_the_text_is_the_draft(tmp_path: Path) -> None:
    async def scenario() -> None:
        cfg = config(undo_send_seconds=WINDOW)
        async with running_desk(tmp_path / "desk.sqlite3", cfg=cfg) as desk:
            inbox = desk.inbox
            await inbox.send(ACME.id, "Refund done for order 4411")
            await asyncio.sleep(WINDOW - 1)
            held = inbox.held_reply()
            assert held is not None and held[0].text == "Refund done for order 4411"
            assert 0 < held[1] <= 1, "the countdown"
            assert desk.source.sends == [], "nothing left inside the window"
            inbox.set_draft(ACME.id, "and typed since")
            taken = inbox.undo_send()
            assert taken is not None
            assert inbox.drafts[ACME.id] == "Refund done for order 4411\nand typed since"
            await asyncio.sleep(WINDOW * 4)
            assert desk.source.sends == [], "taken back: never sent"
            await inbox.flushed()
            assert await desk.store.outbox_items() == []
            assert (await desk.store.drafts())[ACME.id].startswith("Refund done")

    virtual(scenario)


def test_after_the_window_the_reply_leaves_once_wherever_the_desk_is(tmp_path: Path) -> None:
    async def scenario() -> None:
        cfg = config(undo_send_seconds=WINDOW)
        async with running_desk(tmp_path / "desk.sqlite3", cfg=cfg) as desk:
            inbox = desk.inbox
            inbox.open(ACME.id)
            await inbox.send(ACME.id, "On it")
            inbox.open(GLOBEX.id)  # Ctrl+S moved on to the next chat
            await asyncio.sleep(WINDOW + 1)
            await until(lambda: len(desk.source.sends) == 1, "the send")
            assert desk.source.sends[0][:2] == (ACME.id, "On it")
            assert inbox.held_reply() is None and inbox.undo_send() is None
            await until(lambda: not inbox.outbox.get(ACME.id), "delivered")

    virtual(scenario)


def test_a_crash_inside_the_window_sends_the_reply_once_at_the_next_start(
    tmp_path: Path,
) -> None:
    path = tmp_path / "desk.sqlite3"

    async def scenario() -> None:
        clock = FakeClock()
        cfg = config(undo_send_seconds=60)
        first = ScriptedSource(clock=clock)
        store = await Store.open(path, clock=clock)
        inbox = Inbox(store, first, cfg, clock=clock)
        await inbox.start()
        await inbox.send(ACME.id, "Confirmed by Enter", reply_to=ACME_QUESTION)
        await inbox.flushed()
        # The process dies here: its timers and tasks with it, nothing stopped cleanly.
        for _, timer in inbox.outgoing.held.values():
            timer.cancel()
        for task in list(inbox._tasks):
            task.cancel()
        await first.stop()
        await store.close()
        assert first.sends == []
        second = ScriptedSource(clock=clock)
        async with running_desk(path, second, cfg, clock, cached=True) as desk:
            await until(lambda: len(second.sends) == 1, "the send at start")
            await until(lambda: not desk.inbox.outbox.get(ACME.id), "delivered")
            assert [(text, reply_to) for _, text, reply_to, _ in second.sends] == [
                ("Confirmed by Enter", ACME_QUESTION)
            ], "once, still a reply to the message it answered"

    virtual(scenario)


def test_quitting_inside_the_window_sends_the_reply(tmp_path: Path) -> None:
    async def scenario() -> None:
        source = ScriptedSource()
        cfg = config(undo_send_seconds=60)
        async with running_desk(tmp_path / "desk.sqlite3", source, cfg) as desk:
            await desk.inbox.send(ACME.id, "Bye for now", reply_to=ACME_QUESTION)
        assert [(text, reply_to) for _, text, reply_to, _ in source.sends] == [
            ("Bye for now", ACME_QUESTION)
        ]

    virtual(scenario)


async def test_alt_z_puts_the_reply_back_in_the_composer_with_a_countdown_shown(
    tmp_path: Path,
) -> None:
    desk = make_desk(tmp_path, config=Config(undo_send_seconds=60))
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        first = inbox.open_chat_id
        await type_text(pilot, "Your refund is on its way")
        await pilot.press("ctrl+s")  # send, then the next waiting chat
        await settle(pilot)
        assert inbox.open_chat_id != first and composer(app).text == ""
        shown = screen_text(app)
        assert "⏳ sending in" in shown and "Alt+Z undo" in shown, "the countdown"
        await pilot.press("alt+z")
        await settle(pilot)
        assert inbox.open_chat_id == first, "back in the chat it was written in"
        assert composer(app).text == "Your refund is on its way"
        assert not inbox.outbox.get(first), "nothing waits to leave"
        assert "sending in" not in screen_text(app)
        await pilot.press("alt+z")
        await settle(pilot)
        assert composer(app).text == "Your refund is on its way"


async def test_a_reply_taken_back_and_sent_again_still_answers_the_message_it_quoted(
    tmp_path: Path,
) -> None:
    desk = make_desk(tmp_path, config=Config(undo_send_seconds=60))
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        await settle(pilot)
        chat_id = inbox.open_chat_id
        assert chat_id is not None
        await pilot.press("up", "up")
        await settle(pilot)
        target = app.query_one(Conversation).selected_id
        assert target is not None
        await pilot.press("r")
        await settle(pilot)
        await type_text(pilot, "About that one: fixed.")
        await pilot.press("enter")
        await settle(pilot)
        assert [item.reply_to for item in inbox.outbox[chat_id]] == [target]
        assert "↪ Replying to" not in screen_text(app)
        await pilot.press("alt+z")
        await settle(pilot)
        assert composer(app).text == "About that one: fixed."
        assert "↪ Replying to" in screen_text(app), "the quote is back above the composer"
        await pilot.press("enter")
        await settle(pilot)
        assert [item.reply_to for item in inbox.outbox[chat_id]] == [target], "still a reply"
        await inbox.outgoing.send_held()  # the window ends (as when quitting)
        await wait_for(
            pilot, lambda: not inbox.outbox.get(chat_id), "the reply delivered after the window"
        )
        sent = [m for m in inbox.recent(chat_id, limit=50) if m.text == "About that one: fixed."]
        assert [m.reply_to for m in sent] == [target], "delivered as a reply to the quoted message"
