"""Every desk key under Pilot, on the seeded demo with a fixed clock: what the engineer would see."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.color import Color as RichColor
from textual.color import Color
from textual.command import CommandList, CommandPalette
from textual.widgets import OptionList
from tgtriage.core.desk import events as ev
from tgtriage.core.desk.models import Chat, Message, OutboxState, User
from tgtriage.core.rules.triage import format_wait
from tgtriage.core.storage.store import Store
from tgtriage.tui.chat_list import ChatList
from tgtriage.tui.dialogs import ChoiceDialog
from tgtriage.tui.screens import HelpScreen
from tgtriage.tui.switcher import Switcher

from tests.desk_harness import (
    FIXED_NOW,
    Desk,
    chat_id_by_title,
    composer,
    conversation_text,
    list_text,
    make_desk,
    run_desk,
    screen_text,
    settle,
    slot_strip,
    status_line,
    switcher_rows,
    type_text,
    wait_for,
    waiting_ids,
)

# What Alt+1 … Alt+0 arrive as in a Linux terminal under Textual 8 (ESC + digit).
TERMINAL_ALT_DIGITS = "¡™£¢∞§¶•ªº"  # what Alt+1 … Alt+0 type on a Mac keyboard


pytestmark = pytest.mark.usefixtures("utc_times")  # times on screen in UTC


def row_of(app: object, chat_id: int) -> str:
    """The visible list row of a chat (by title), as plain text."""
    from tgtriage.tui.app import DeskApp

    assert isinstance(app, DeskApp)
    title = app.inbox.chats[chat_id].title
    rows = [r for r in list_text(app) if title in r]
    assert rows, f"{title!r} is not visible in the list"
    return rows[0]


def palette_rows(app: object) -> list[str]:
    """What the open command palette lists, as plain text."""
    from tgtriage.tui.app import DeskApp

    assert isinstance(app, DeskApp)
    options = app.screen.query_one(CommandList)
    return [str(o.prompt) for o in options.options]


def header(app: object) -> str:
    """The conversation header's two lines (second and third screen lines, with the list)."""
    from tgtriage.tui.app import DeskApp

    assert isinstance(app, DeskApp)
    return "\n".join(screen_text(app).splitlines()[1:3])


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


# ----------------------------------------------------------------- working set


async def test_opening_fills_the_first_free_slot_and_ctrl_w_frees_it(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        assert "Working set is empty" in slot_strip(app)
        order = inbox.order()
        await pilot.press("ctrl+n", "ctrl+n", "ctrl+n")
        a, b, c = order[:3]
        assert inbox.slots == {1: a, 2: b, 3: c}
        strip = slot_strip(app)
        for slot, chat_id in ((1, a), (2, b), (3, c)):
            short = inbox.chats[chat_id].title.replace(" · Support", "")[:8]
            assert f" {slot} {short}" in strip
            assert row_of(app, chat_id).startswith(str(slot)), "slot digit at the row's start"

        await pilot.press("alt+2")
        assert inbox.open_chat_id == b
        await pilot.press("ctrl+w")
        assert inbox.slot_of(b) is None
        short_b = inbox.chats[b].title.replace(" · Support", "")[:8]
        assert short_b not in slot_strip(app)
        assert not row_of(app, b).startswith("2")

        await pilot.press("alt+2")
        assert any("Slot 2 is empty" in n.message for n in app._notifications)
        d = order[3]
        await app.open_chat(d)
        await settle(pilot)
        assert inbox.slot_of(d) == 2, "the freed slot is the first free one"


async def test_the_working_set_fills_by_intent_not_by_browsing(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        first = inbox.open_chat_id
        assert first is not None and inbox.slots == {1: first}
        for _ in range(12):
            await pilot.press("alt+down")
        await pilot.press("escape", "down", "down", "enter")
        browsed = inbox.open_chat_id
        assert browsed not in (None, first)
        assert inbox.slots == {1: first}, "browsing past chats takes no slot"

        await type_text(pilot, "Thanks, looking.")
        await pilot.press("ctrl+s")
        assert browsed in inbox.slots.values(), "a reply puts the chat in the working set"
        went_on = inbox.open_chat_id  # Ctrl+S goes on to the next waiting chat
        assert went_on is not None and went_on not in (first, browsed)
        assert set(inbox.slots.values()) == {first, browsed, went_on}
        used = [first, browsed, went_on]

        for chat_id in inbox.order():
            if len(inbox.slots) == 10:
                break
            if chat_id not in used:
                await app.open_chat(chat_id)
                used.append(chat_id)
        assert len(inbox.slots) == 10
        await type_text(pilot, "draft kept")
        await settle(pilot)
        newcomer = next(c for c in inbox.order() if c not in used)
        slotted = set(inbox.slots.values())
        now = inbox.now()
        busy = set(waiting_ids(app)) | set(inbox.drafts)
        quiet = [c for c in used if c in slotted and c not in busy]
        assert quiet, "the demo leaves some slotted chats quiet"
        await pilot.press("ctrl+k")
        await type_text(pilot, inbox.chats[newcomer].title.split(" ·")[0].lower())
        await pilot.press("enter")
        await settle(pilot)
        assert inbox.open_chat_id == newcomer
        assert len(inbox.slots) == 10
        assert newcomer in inbox.slots.values(), "the switcher puts the chat in the working set"
        assert quiet[0] not in inbox.slots.values(), "the least recently used quiet chat left"
        assert slotted - {quiet[0]} <= set(inbox.slots.values()), "only that one left"
        assert inbox.now() == now


async def test_alt_digits_open_slots_and_never_reach_the_composer(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        for chat_id in inbox.order()[:10]:
            await app.open_chat(chat_id)
        assert sorted(inbox.slots) == list(range(1, 11)), "ten chats opened fill all ten slots"
        await type_text(pilot, "hi")
        # Ordered so that each press changes the open chat.
        presses = [(slot, f"alt+{slot % 10}") for _ in (0, 1) for slot in range(1, 11)]
        for slot, key in presses:
            assert app.focused is composer(app)
            before = inbox.open_chat_id
            assert before is not None
            await pilot.press(key)
            assert inbox.open_chat_id == inbox.slots[slot] != before, f"{key!r} opens {slot}"
            assert inbox.chats[inbox.slots[slot]].title in header(app)
            assert app.focused is composer(app)
            assert composer(app).text in ("", "hi"), f"{key!r} typed into the composer"
        assert inbox.drafts == {inbox.slots[10]: "hi"}, "only the typed draft, nothing else"


async def test_a_key_that_opens_a_chat_paints_it_once(desk: Desk) -> None:
    """The open is painted by the key itself; the Inbox's change notification leaves the chat,
    its row and the slot strip out instead of repainting them a frame later."""
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        for chat_id in inbox.order()[:3]:
            await app.open_chat(chat_id)
        await settle(pilot)
        for key in ("alt+1", "alt+2", "alt+3", "ctrl+n"):
            start = len(app.paint_log)
            await pilot.press(key)
            await settle(pilot)
            kinds = [kind for kind, _ in app.paint_log[start:]]
            assert kinds == ["open"], f"{key}: {kinds}"


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


async def test_alt_w_pins_the_open_chat_to_the_chosen_slot(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        inbox = desk.inbox
        await pilot.press("ctrl+n")
        chat_id = inbox.open_chat_id
        assert chat_id is not None
        assert inbox.slots == {1: chat_id}
        await pilot.press("alt+w")
        assert isinstance(desk.app.dialog, ChoiceDialog)
        assert "Pin to slot" in screen_text(desk.app)
        await pilot.press("5")
        await settle(pilot)
        assert inbox.slots == {5: chat_id}
        assert " 5 " in slot_strip(desk.app)
        await pilot.press("alt+5")
        assert inbox.open_chat_id == chat_id


# ----------------------------------------------------------------- switcher, help, palette


async def test_ctrl_k_finds_a_chat_by_fuzzy_text_enter_opens_esc_cancels(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        before = desk.inbox.open_chat_id
        await pilot.press("ctrl+k")
        await type_text(pilot, "hooli")
        await pilot.press("escape")
        assert not isinstance(app.dialog, Switcher)
        assert desk.inbox.open_chat_id == before, "Esc leaves the switcher without a change"

        await pilot.press("ctrl+k")
        assert isinstance(app.dialog, Switcher)
        assert len(switcher_rows(app)) == len(desk.inbox.chats), "all chats before typing"
        await type_text(pilot, "oscp")
        rows = switcher_rows(app)
        assert rows and rows[0].startswith("Oscorp · Support")
        assert not any("Acme" in row for row in rows), "non-matching chats are filtered out"
        await pilot.press("enter")
        assert not isinstance(app.dialog, Switcher)
        assert desk.inbox.open_chat_id == chat_id_by_title(app, "Oscorp")
        assert "Oscorp · Support" in header(app)


async def test_question_mark_outside_the_composer_and_f1_open_help(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = screen_text(app)
        for words in ("Open the chat that has waited longest", "Alt+1 … Alt+0", "Find a chat"):
            assert words in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)

        await pilot.press("ctrl+n")
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen), "F1 works from the composer too"
        await pilot.press("escape")
        assert app.focused is composer(app)


async def test_single_letters_typed_in_the_composer_are_text_and_fire_nothing(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        opened = inbox.open_chat_id
        assert opened is not None
        cursor = app.query_one(ChatList).current_chat_id
        await type_text(pilot, "jkq? lhJ")
        assert composer(app).text == "jkq? lhJ"
        assert not isinstance(app.screen, HelpScreen)
        assert not app._exit, "q did not quit"
        assert inbox.open_chat_id == opened
        assert app.query_one(ChatList).current_chat_id == cursor
        assert inbox.drafts[opened] == "jkq? lhJ"


async def test_ctrl_p_palette_lists_desk_actions_and_runs_them(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        chat_id = inbox.open_chat_id
        assert chat_id is not None
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


# ----------------------------------------------------------------- replying


async def test_enter_sends_and_the_chat_stops_waiting(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        waiting_before = len(waiting_ids(app))
        await pilot.press("ctrl+n")
        chat_id = inbox.open_chat_id
        assert chat_id is not None
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
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        chat_id = inbox.open_chat_id
        assert chat_id is not None
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
        await pilot.press("ctrl+n")
        chat_id = inbox.open_chat_id
        assert chat_id is not None
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
        await pilot.press("ctrl+n")
        first = inbox.open_chat_id
        assert first is not None
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
        await pilot.press("ctrl+n")
        chat_id = inbox.open_chat_id
        assert chat_id is not None
        await type_text(pilot, "Checking")
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(inbox.failed_items()), "the send to fail")
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
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        await type_text(pilot, "try")
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(inbox.failed_items()), "the send to fail")
        await pilot.press("alt+x")
        await settle(pilot)
        assert composer(app).text == "try"
        assert "not sent" not in conversation_text(app)


# ----------------------------------------------------------------- triage keys


async def test_alt_h_marks_handled_without_a_reply(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        chat_id = inbox.open_chat_id
        assert chat_id is not None
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
        await pilot.press("ctrl+n")
        chat_id = inbox.open_chat_id
        assert chat_id is not None
        title = inbox.chats[chat_id].title
        await pilot.press("alt+p")
        assert isinstance(app.dialog, ChoiceDialog)
        shown = screen_text(app)
        for choice in ("15 minutes", "1 hour", "Tomorrow", "Custom"):
            assert choice in shown
        await pilot.press("2")
        await settle(pilot)
        assert not isinstance(app.dialog, ChoiceDialog)
        assert inbox.triage[chat_id].postponed_until == int(FIXED_NOW) + 3600
        rows = [r for r in list_text(app) if r.strip()]
        assert title in rows[-1] and "⏸" in rows[-1], "parked at the bottom"
        assert "postponed until Tue 11:30" in header(app)
        assert chat_id not in waiting_ids(app)
        assert inbox.next_waiting() != chat_id


async def test_alt_p_custom_duration_is_typed(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        chat_id = inbox.open_chat_id
        assert chat_id is not None
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


# ----------------------------------------------------------------- drafts, keymap


async def test_drafts_survive_switching_chats_and_a_restart(tmp_path: Path) -> None:
    first = make_desk(tmp_path)
    async with run_desk(first) as pilot:
        app, inbox = first.app, first.inbox
        await pilot.press("ctrl+n")
        a = inbox.open_chat_id
        assert a is not None
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
        help_lines = [line for line in screen_text(app).splitlines() if "waited longest" in line]
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
        await pilot.press("ctrl+n")
        chat_id = inbox.open_chat_id
        assert chat_id is not None
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


# ----------------------------------------------------------------- untrusted text, small terminal

EVIL_CHAT = 990_001
EVIL_TITLE = "[bold]x[/] [@click=app.quit]Evil\x1b[2J Corp"
EVIL_TEXT = (
    "[@click=app.quit]click me[/] [link=https://evil.example]link[/link] "
    "\x1b]52;c;ZXZpbA==\x07clip \x1b[31mred\x1b[0m \x1b]8;;https://evil.example\x07osc8\x1b]8;;\x07"
)


async def test_untrusted_titles_and_messages_are_shown_literally_and_do_not_quit(
    desk: Desk,
) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        mallory = User(id=4242, first_name="[red]Mallory[/]")
        inbox.submit(ev.ChatUpdated(Chat(id=EVIL_CHAT, title=EVIL_TITLE, kind="private")))
        message = Message(
            chat_id=EVIL_CHAT,
            id=1,
            date=int(FIXED_NOW) - 90,
            sender_id=mallory.id,
            sender_name=mallory.first_name,
            text=EVIL_TEXT,
        )
        inbox.submit(ev.NewMessage(message, mallory))
        await wait_for(pilot, lambda: EVIL_CHAT in waiting_ids(app), "the evil chat to wait")
        await pilot.press("ctrl+k")
        await type_text(pilot, "evil")
        assert switcher_rows(app)[0].startswith("[bold]x[/] [@click=app.quit]Evil")
        await pilot.press("enter")
        assert inbox.open_chat_id == EVIL_CHAT
        await settle(pilot)

        shown = screen_text(app)
        assert "[bold]x[/] [@click=app.quit]Evil" in shown
        assert "[red]Mallory[/]" in shown
        assert "[@click=app.quit]click me[/]" in shown
        assert "[link=https://evil.example]link[/link]" in shown
        assert "\x1b" not in shown and "\x07" not in shown
        assert "ZXZpbA==" not in shown, "the OSC 52 payload is dropped with its sequence"
        for strip in app.screen._compositor.render_strips():
            for segment in strip:
                meta = segment.style.meta if segment.style else {}
                assert "@click" not in meta, f"clickable markup leaked: {segment.text!r}"

        await pilot.press("alt+w")
        pin_choices = [
            str(o.prompt) for o in app.screen.query_one("#choice-list", OptionList).options
        ]
        assert any("[bold]x[/] [@click=app.quit]Evil Corp" in c for c in pin_choices)
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await type_text(pilot, "evil")
        await wait_for(
            pilot,
            lambda: any("[@click=app.quit]Evil" in r for r in palette_rows(app)),
            "the pinned evil chat in the palette, shown literally",
        )
        await pilot.press("escape")
        await pilot.press("escape")

        for y, line in enumerate(shown.splitlines()):
            x = line.find("[@click")
            if x >= 0:
                await pilot.click(offset=(x + 3, y))
        await settle(pilot)
        assert not app._exit, "clicking the text did not quit"


def brightness(color: RichColor) -> float:
    """A Rich colour's brightness, 0 (black) … 1 (white)."""
    return Color.from_rich_color(color).brightness


async def test_no_color_at_80x24_renders_every_level_mark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    desk = make_desk(tmp_path)
    async with run_desk(desk, size=(80, 24)) as pilot:
        app, inbox = desk.app, desk.inbox
        assert app.no_color
        quiet = [c for c in inbox.order() if inbox.wait(c) is None][:4]
        for n, (chat_id, ago) in enumerate(zip(quiet, (30, 400, 1200, 4000), strict=True)):
            customer = User(id=880_000 + n, first_name=f"Customer{n}")
            msg = Message(
                chat_id=chat_id,
                id=10**7 + n,
                date=int(FIXED_NOW) - ago,
                sender_id=customer.id,
                sender_name=customer.first_name,
                text="hello?",
            )
            inbox.submit(ev.NewMessage(msg, customer))
        await wait_for(pilot, lambda: set(quiet) <= waiting_ids(app), "the new waits")
        await pilot.press("ctrl+n")
        await settle(pilot)
        shown = screen_text(app)
        lines = shown.splitlines()
        assert len(lines) == 24 and max(len(line) for line in lines) <= 80
        for mark in ("•", "!", "‼", "⚠"):
            assert any(line[:4].count(mark) for line in lines[1:-2]), f"no {mark} row"
        assert "waiting:" in lines[-2]
        assert app.export_screenshot()
        # Every character drawn is a grey far enough from its background to be read.
        faint = []
        for y, strip in enumerate(app.screen._compositor.render_strips(app.size)):
            for text, style, _ in strip:
                if style is None or style.color is None or not text.strip():
                    continue
                fore, back = style.color, style.bgcolor or style.color
                if style.reverse:
                    fore, back = back, fore
                gap = abs(Color.from_rich_color(fore).brightness - brightness(back))
                if gap < 0.35:
                    faint.append((y, text.strip(), round(gap, 2)))
        assert not faint, f"hard to read under NO_COLOR: {faint[:8]}"


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


async def test_with_no_chat_open_the_whole_hint_is_readable_at_80x24(desk: Desk) -> None:
    async with run_desk(desk, size=(80, 24)) as pilot:
        assert desk.app.inbox.open_chat_id is None
        await settle(pilot)
        right = [
            line.split("▕", 1)[1] for line in screen_text(desk.app).splitlines()[2:] if "▕" in line
        ]
        shown = " ".join(" ".join(right).split())
        assert (
            "Pick a chat on the left (↑ ↓ Enter), or press Ctrl+N for the one waiting longest."
            in shown
        )
