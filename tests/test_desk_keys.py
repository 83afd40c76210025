"""Desk keys under Pilot, on the seeded demo with a fixed clock: moving between chats, the
switcher, help and palette, triage keys and the keymap."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandPalette
from tgtriage.core.rules.triage import format_wait
from tgtriage.tui.chat_list import ChatList
from tgtriage.tui.screens import ChoiceScreen, HelpScreen, SwitcherScreen

from tests.desk_harness import (
    FIXED_NOW,
    Desk,
    chat_id_by_title,
    composer,
    header,
    list_text,
    make_desk,
    open_next_waiting,
    row_of,
    run_desk,
    screen_text,
    settle,
    status_line,
    switcher_rows,
    type_text,
    wait_for,
    waiting_ids,
)

pytestmark = pytest.mark.usefixtures("utc_times")  # times on screen in UTC


# ----------------------------------------------------------------- navigation


async def test_ctrl_n_walks_every_waiting_chat_in_triage_order_without_ping_pong(
    desk: Desk,
) -> None:
    async with run_desk(desk) as pilot:
        inbox = desk.inbox
        waiting = [c for c in inbox.order() if c in waiting_ids(desk.app)]
        assert len(waiting) >= 3, "the demo has several chats waiting"
        assert inbox.order()[0] == waiting[0], "the list starts with a waiting chat"
        await pilot.press("ctrl+n")
        assert inbox.open_chat_id == waiting[0]
        assert inbox.chats[waiting[0]].title in header(desk.app)
        assert desk.app.focused is composer(desk.app), "ready to type the reply"

        visited = [waiting[0]]
        for _ in waiting[1:]:
            await pilot.press("ctrl+n")
            assert inbox.open_chat_id != visited[-1], "never the open chat while others wait"
            visited.append(inbox.open_chat_id)
        assert visited == waiting, "each waiting chat once, in triage order, none skipped back to"
        await pilot.press("ctrl+n")
        assert inbox.open_chat_id == waiting[0], "the skipped ones come round again after the rest"


async def test_alt_down_and_alt_up_follow_the_list_order(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        inbox = desk.inbox
        order = inbox.order()
        await pilot.press("ctrl+n")
        assert inbox.open_chat_id == order[0]
        for expected in order[1:4]:
            await pilot.press("alt+down")
            assert inbox.open_chat_id == expected
            assert inbox.chats[expected].title in header(desk.app)
        await pilot.press("alt+up")
        assert inbox.open_chat_id == order[2]
        cursor = desk.app.query_one(ChatList)
        assert cursor.current_chat_id == order[2], "the list follows the open chat"


async def test_escape_goes_back_to_the_list_where_letters_move_and_enter_opens(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        order = inbox.order()
        await pilot.press("ctrl+n")
        assert app.focused is composer(app)
        await pilot.press("escape")
        chat_list = app.query_one(ChatList)
        assert app.focused is chat_list
        assert inbox.open_chat_id == order[0], "the chat stays open on the right"
        await pilot.press("j", "j", "k")
        assert chat_list.current_chat_id == order[1]
        await pilot.press("enter")
        assert inbox.open_chat_id == order[1]


# ----------------------------------------------------------------- switcher, help, palette


async def test_ctrl_k_finds_a_chat_by_fuzzy_text_enter_opens_esc_cancels(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        before = desk.inbox.open_chat_id
        await pilot.press("ctrl+k")
        await type_text(pilot, "hooli")
        await pilot.press("escape")
        assert not isinstance(app.screen, SwitcherScreen)
        assert desk.inbox.open_chat_id == before, "Esc leaves the switcher without a change"

        await pilot.press("ctrl+k")
        assert isinstance(app.screen, SwitcherScreen)
        assert len(switcher_rows(app)) == len(desk.inbox.chats), "all chats before typing"
        await type_text(pilot, "oscp")
        rows = switcher_rows(app)
        assert rows and rows[0].startswith("Oscorp · Support")
        assert not any("Acme" in row for row in rows), "non-matching chats are filtered out"
        await pilot.press("enter")
        assert not isinstance(app.screen, SwitcherScreen)
        assert desk.inbox.open_chat_id == chat_id_by_title(app, "Oscorp")
        assert "Oscorp · Support" in header(app)


async def test_question_mark_outside_the_composer_and_f1_open_help(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = screen_text(app)
        for words in ("Next waiting chat in triage order", "Alt+1 … Alt+0", "Find a chat"):
            assert words in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)

        await pilot.press("ctrl+n")
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen), "F1 works from the composer too"
        await pilot.press("escape")
        assert app.focused is composer(app)


async def test_ctrl_p_palette_lists_desk_actions_and_runs_them(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        chat_id = await open_next_waiting(pilot)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await type_text(pilot, "handled")
        await wait_for(
            pilot,
            lambda: "Mark handled: no reply needed (Alt+H)" in screen_text(app),
            "the palette to list the desk action with its key",
        )
        await pilot.press("enter")
        await settle(pilot)
        assert chat_id not in waiting_ids(app)


# ----------------------------------------------------------------- triage keys


async def test_alt_h_marks_handled_without_a_reply(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        chat_id = await open_next_waiting(pilot)
        wait = format_wait(inbox.wait(chat_id) or 0)
        count = len(waiting_ids(app))
        await pilot.press("alt+h")
        await settle(pilot)
        assert chat_id not in waiting_ids(app)
        assert wait not in row_of(app, chat_id)
        assert f"{count - 1} waiting" in status_line(app)
        assert not inbox.outbox.get(chat_id), "nothing was sent"
        assert inbox.next_waiting() != chat_id


async def test_alt_p_postpones_for_an_hour_to_the_bottom_of_the_list(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        chat_id = await open_next_waiting(pilot)
        title = inbox.chats[chat_id].title
        await pilot.press("alt+p")
        assert isinstance(app.screen, ChoiceScreen)
        shown = screen_text(app)
        for choice in ("15 minutes", "1 hour", "Tomorrow", "Custom"):
            assert choice in shown
        await pilot.press("2")
        await settle(pilot)
        assert not isinstance(app.screen, ChoiceScreen)
        assert inbox.triage[chat_id].postponed_until == int(FIXED_NOW) + 3600
        rows = [r for r in list_text(app) if r.strip()]
        assert title in rows[-1] and "⏸" in rows[-1], "parked at the bottom"
        assert "postponed until Tue 11:30" in header(app)
        assert chat_id not in waiting_ids(app)
        assert inbox.next_waiting() != chat_id


async def test_alt_p_custom_duration_is_typed(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        chat_id = await open_next_waiting(pilot)
        await pilot.press("alt+p", "5")
        await type_text(pilot, "[/]")
        await pilot.press("enter")
        assert any("can't read '[/]'" in n.message for n in app._notifications)
        assert inbox.triage[chat_id].postponed_until is None
        await pilot.press("alt+p", "5")
        await type_text(pilot, "45m")
        await pilot.press("enter")
        await settle(pilot)
        assert inbox.triage[chat_id].postponed_until == int(FIXED_NOW) + 45 * 60
        assert "until Tue 11:15" in header(app)


# ----------------------------------------------------------------- keymap, time


async def test_keymap_remaps_next_waiting_to_f2(tmp_path: Path) -> None:
    desk = make_desk(tmp_path, keymap={"next_waiting": "f2"})
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        expected = inbox.next_waiting()
        await pilot.press("ctrl+n")
        assert inbox.open_chat_id is None, "Ctrl+N was remapped away"
        await pilot.press("f2")
        assert inbox.open_chat_id == expected
        await pilot.press("f1")
        help_lines = [
            line for line in screen_text(app).splitlines() if "Next waiting chat in" in line
        ]
        assert help_lines and "F2" in help_lines[0]


async def test_the_footer_shows_a_remapped_key_as_help_does_in_its_own_place(
    tmp_path: Path,
) -> None:
    footers = []
    for keymap in ({}, {"next_waiting": "f2"}):
        desk = make_desk(tmp_path / str(len(footers)), keymap=keymap)
        async with run_desk(desk) as pilot:
            await settle(pilot)
            footers.append(screen_text(desk.app).splitlines()[-1])
    plain, remapped = footers
    assert "^N Next waiting" in plain
    assert remapped == plain.replace("^N Next waiting", "F2 Next waiting"), remapped


async def test_time_passing_moves_the_timers_and_brings_live_messages(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        chat_id = await open_next_waiting(pilot)
        before = inbox.wait(chat_id) or 0
        assert format_wait(before) in row_of(app, chat_id)
        stored = await inbox.store.message_count()
        for _ in range(4):  # two minutes of the demo, half a minute at a time
            desk.clock.advance(30)
            await settle(pilot)
        app._tick()
        await settle(pilot)
        assert format_wait(before + 120) in row_of(app, chat_id), "the timer moved on"
        assert await inbox.store.message_count() > stored, "customers and teammates wrote"
