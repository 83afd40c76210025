"""The composer under Pilot: typed text stays text, replies send, fail and retry, drafts and
unsent replies survive a restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from tgtriage.core.desk.models import OutboxState
from tgtriage.core.rules.triage import format_wait
from tgtriage.core.storage.store import Store
from tgtriage.tui.chat_list import ChatList
from tgtriage.tui.screens import HelpScreen

from tests.desk_harness import (
    Desk,
    composer,
    conversation_text,
    fail_a_reply,
    header,
    make_desk,
    open_next_waiting,
    row_of,
    run_desk,
    settle,
    status_line,
    type_text,
    wait_for,
    waiting_ids,
)

pytestmark = pytest.mark.usefixtures("utc_times")  # times on screen in UTC

# What Alt+1 … Alt+0 type on a Mac keyboard: characters for the composer, not slot keys.
TERMINAL_ALT_DIGITS = "¡™£¢∞§¶•ªº"


# ----------------------------------------------------------------- typed text


async def test_single_letters_typed_in_the_composer_are_text_and_fire_nothing(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        opened = await open_next_waiting(pilot)
        cursor = app.query_one(ChatList).current_chat_id
        await type_text(pilot, "jkq? lhJ")
        assert composer(app).text == "jkq? lhJ"
        assert not isinstance(app.screen, HelpScreen)
        assert not app._exit, "q did not quit"
        assert inbox.open_chat_id == opened
        assert app.query_one(ChatList).current_chat_id == cursor
        assert inbox.drafts[opened] == "jkq? lhJ"


async def test_pound_bullet_and_the_other_option_characters_are_text(desk: Desk) -> None:
    """Issue 15 item 1: `price £9` stays in the chat it was typed in, as typed."""
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        for chat_id in inbox.order()[:10]:
            await app.open_chat(chat_id)
        opened = inbox.open_chat_id
        await type_text(pilot, f"price £9 {TERMINAL_ALT_DIGITS}")
        assert inbox.open_chat_id == opened
        assert composer(app).text == f"price £9 {TERMINAL_ALT_DIGITS}"
        assert inbox.drafts == {opened: f"price £9 {TERMINAL_ALT_DIGITS}"}


# ----------------------------------------------------------------- replying


async def test_enter_sends_and_the_chat_stops_waiting(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        waiting_before = len(waiting_ids(app))
        chat_id = await open_next_waiting(pilot)
        wait = format_wait(inbox.wait(chat_id) or 0)
        assert wait in row_of(app, chat_id), "the row shows how long the customer waits"
        assert f"{waiting_before} waiting" in status_line(app)

        await type_text(pilot, "On it, 10 min")
        await pilot.press("enter")
        assert composer(app).text == ""
        await wait_for(pilot, lambda: not inbox.outbox.get(chat_id), "delivery")
        await settle(pilot)
        text = conversation_text(app)
        assert text.count("On it, 10 min") == 1
        assert "sending" not in text and "not sent" not in text
        assert wait not in row_of(app, chat_id), "the wait text is gone from the row"
        assert chat_id not in waiting_ids(app)
        assert f"{waiting_before - 1} waiting" in status_line(app)
        assert "last answer: you" in header(app)


async def test_a_reply_shows_as_sending_until_the_source_confirms(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        chat_id = await open_next_waiting(pilot)
        desk.clock.hold_short = True
        await type_text(pilot, "One moment")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "⏳ sending…" in conversation_text(app), "sending")
        assert chat_id in waiting_ids(app), "not confirmed yet: still waiting"
        desk.clock.release_short()
        await wait_for(pilot, lambda: "sending" not in conversation_text(app), "sent")
        await settle(pilot)
        assert conversation_text(app).count("One moment") == 1
        assert chat_id not in waiting_ids(app)


async def test_ctrl_j_inserts_a_newline_and_blank_text_is_not_sent(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        chat_id = await open_next_waiting(pilot)
        await type_text(pilot, "  ")
        await pilot.press("enter")
        assert not inbox.outbox.get(chat_id), "Enter on blank text sends nothing"
        assert chat_id in waiting_ids(app)
        await type_text(pilot, "one")
        await pilot.press("ctrl+j")
        await type_text(pilot, "two")
        assert composer(app).text == "  one\ntwo"
        assert not inbox.outbox.get(chat_id), "Ctrl+J did not send"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not inbox.outbox.get(chat_id), "delivery")
        await settle(pilot)
        assert "  one\n  two" in conversation_text(app)


async def test_ctrl_s_sends_and_jumps_to_the_next_waiting_chat(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        first = await open_next_waiting(pilot)
        expected_next = inbox.next_waiting(exclude=first)
        await type_text(pilot, "On it.")
        await pilot.press("ctrl+s")
        assert inbox.open_chat_id == expected_next
        assert composer(app).text == ""
        await wait_for(pilot, lambda: not inbox.outbox.get(first), "delivery")
        await settle(pilot)
        assert first not in waiting_ids(app)
        messages = await inbox.store.messages(first, limit=3)
        assert messages[-1].text == "On it." and messages[-1].out


async def test_failed_send_shows_not_sent_and_alt_r_retries_once(tmp_path: Path) -> None:
    desk = make_desk(tmp_path, fail_rate=1.0)
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        chat_id = await fail_a_reply(pilot, "Checking")
        await settle(pilot)
        text = conversation_text(app)
        assert "✗ not sent:" in text and "Alt+R retry" in text
        assert "1 unsent" in status_line(app)
        assert chat_id in waiting_ids(app), "a reply that did not go out does not clear the wait"

        await pilot.press("alt+r")
        await wait_for(pilot, lambda: not inbox.outbox.get(chat_id), "the retry to go through")
        await settle(pilot)
        text = conversation_text(app)
        assert "not sent" not in text
        assert text.count("Checking") == 1, "never sent twice"
        assert "unsent" not in status_line(app)
        assert chat_id not in waiting_ids(app)


async def test_alt_x_discards_a_failed_reply_back_into_the_composer(tmp_path: Path) -> None:
    desk = make_desk(tmp_path, fail_rate=1.0)
    async with run_desk(desk) as pilot:
        app = desk.app
        await fail_a_reply(pilot, "try")
        await pilot.press("alt+x")
        await settle(pilot)
        assert composer(app).text == "try"
        assert "not sent" not in conversation_text(app)


# ----------------------------------------------------------------- drafts and restarts


async def test_drafts_survive_switching_chats_and_a_restart(tmp_path: Path) -> None:
    first = make_desk(tmp_path)
    async with run_desk(first) as pilot:
        app, inbox = first.app, first.inbox
        a = await open_next_waiting(pilot)
        await type_text(pilot, "half")
        await pilot.press("ctrl+n")
        assert inbox.open_chat_id != a
        assert composer(app).text == ""
        await pilot.press("alt+1")
        assert inbox.open_chat_id == a
        assert composer(app).text == "half"
        await pilot.press("alt+2")
        await pilot.press("ctrl+q")

    again = make_desk(tmp_path, clock=first.clock)
    async with run_desk(again) as pilot:
        app, inbox = again.app, again.inbox
        assert inbox.slots.get(1) == a, "the working set survives too"
        await pilot.press("alt+1")
        assert inbox.open_chat_id == a
        assert composer(app).text == "half"


async def test_a_reply_left_unsent_by_a_crash_is_sent_after_restart(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        chat_id = desk.inbox.order()[0]
        await pilot.press("ctrl+q")
    store = await Store.open(desk.db_path, clock=desk.clock)
    item = await store.outbox_add(chat_id, "typed just before the crash", None)
    await store.close()
    assert item.state is OutboxState.PENDING

    again = make_desk(tmp_path, clock=desk.clock)
    async with run_desk(again) as pilot:
        inbox = again.inbox
        await wait_for(pilot, lambda: not inbox.outbox.get(chat_id), "the resumed delivery")
        await again.app.open_chat(chat_id)
        await settle(pilot)
        assert conversation_text(again.app).count("typed just before the crash") == 1
        assert chat_id not in waiting_ids(again.app)
