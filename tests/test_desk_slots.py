"""The working set under Pilot: slots filled by intent, Alt+digits, Ctrl+W and Alt+W pinning."""

from __future__ import annotations

import pytest
from tgtriage.tui.screens import ChoiceScreen

from tests.desk_harness import (
    Desk,
    composer,
    header,
    open_next_waiting,
    row_of,
    run_desk,
    screen_text,
    settle,
    slot_strip,
    type_text,
    waiting_ids,
)

pytestmark = pytest.mark.usefixtures("utc_times")  # times on screen in UTC


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


async def test_alt_w_pins_the_open_chat_to_the_chosen_slot(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        inbox = desk.inbox
        chat_id = await open_next_waiting(pilot)
        assert inbox.slots == {1: chat_id}
        await pilot.press("alt+w")
        assert isinstance(desk.app.screen, ChoiceScreen)
        assert "Pin to slot" in screen_text(desk.app)
        await pilot.press("5")
        await settle(pilot)
        assert inbox.slots == {5: chat_id}
        assert " 5 " in slot_strip(desk.app)
        await pilot.press("alt+5")
        assert inbox.open_chat_id == chat_id
