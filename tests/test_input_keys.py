"""Issue 15's input items under Pilot: keys behind overlays, the palette, scrolling from the
composer, typing in the list, and a large paste sent as keys."""

from __future__ import annotations

from textual import events
from textual.command import CommandPalette
from textual.widgets import Input
from tgtriage.core.desk.inbox import Inbox
from tgtriage.tui.chat_list import ChatList
from tgtriage.tui.conversation import Conversation
from tgtriage.tui.stats import StatsScreen
from tgtriage.tui.switcher import Switcher
from tgtriage.tui.workflow_dialogs import TagDialog

from tests.desk_harness import Desk, composer, run_desk, settle, type_text


async def test_alt_keys_do_nothing_behind_the_tags_dialog(desk: Desk) -> None:
    """Alt+N behind Alt+G switched the composer to note mode and the note became tags."""
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        opened = inbox.open_chat_id
        await pilot.press("alt+g")
        assert isinstance(app.dialog, TagDialog)
        await pilot.press("alt+n", "alt+j", "ctrl+n", "alt+1", "ctrl+k", "alt+h")
        await settle(pilot)
        assert isinstance(app.dialog, TagDialog), "the dialog stays, alone on top"
        assert len(app.screen_stack) == 1
        assert not composer(app).note_mode
        assert inbox.open_chat_id == opened
        await type_text(pilot, "billing")
        assert app.screen.query_one("#tag-input", Input).value == "billing"
        await pilot.press("enter")
        await settle(pilot)
        assert opened is not None and inbox.tags[opened] == {"billing"}
        await pilot.press("alt+n")  # the dialog is closed: the desk's keys act again
        assert composer(app).note_mode


async def test_the_switcher_takes_its_own_keys_only(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        opened = inbox.open_chat_id
        await pilot.press("ctrl+k")
        assert isinstance(app.dialog, Switcher)
        await pilot.press("alt+2", "ctrl+n", "alt+down")
        await settle(pilot)
        assert isinstance(app.dialog, Switcher) and inbox.open_chat_id == opened
        await pilot.press("escape")
        await settle(pilot)
        assert app.dialog is None and len(app.screen_stack) == 1


async def test_palette_switcher_palette_in_a_row_does_not_crash(desk: Desk) -> None:
    """Ctrl+P, Ctrl+K, Ctrl+P: `DuplicateIds: '--command-palette'` closed the desk."""
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+p", "ctrl+k", "ctrl+p")
        await settle(pilot)
        assert app.return_code is None and app.is_running
        assert isinstance(app.screen, CommandPalette)
        assert sum(isinstance(s, CommandPalette) for s in app.screen_stack) == 1
        assert app.dialog is None, "the switcher did not open behind the palette"
        await pilot.press("escape")
        await settle(pilot)
        assert len(app.screen_stack) == 1


async def test_the_stats_key_still_closes_the_stats_screen(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        app.action_stats()
        await settle(pilot)
        assert isinstance(app.screen, StatsScreen)
        assert app.check_action("stats", ()) is True
        assert app.check_action("next_waiting", ()) is None
        assert app.check_action("quit", ()) is True


async def test_page_keys_scroll_the_conversation_from_the_composer(desk: Desk) -> None:
    async with run_desk(desk, size=(80, 24)) as pilot:
        app, inbox = desk.app, desk.inbox
        conversation = app.query_one(Conversation)
        for chat_id in inbox.order():
            await app.open_chat(chat_id)
            await settle(pilot)
            if conversation.max_scroll_y > 3:
                break
        assert app.focused is composer(app)
        assert conversation.max_scroll_y > 0, "a chat longer than the pane"
        await type_text(pilot, "draft")

        def from_bottom() -> float:
            return conversation.max_scroll_y - conversation.scroll_y

        assert from_bottom() == 0
        await pilot.press("pageup")
        await settle(pilot)
        paged = from_bottom()
        assert paged > 0
        await pilot.press("pagedown")
        await settle(pilot)
        assert from_bottom() < paged
        await pilot.press("ctrl+home")
        await settle(pilot)
        assert from_bottom() > paged
        await pilot.press("ctrl+end")
        await settle(pilot)
        assert from_bottom() == 0
        assert app.focused is composer(app) and composer(app).text == "draft"


async def test_a_letter_typed_in_the_list_goes_to_the_highlighted_chats_composer(
    desk: Desk,
) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        chat_list = app.query_one(ChatList)
        chat_list.focus()
        await pilot.press("down")  # a list key still moves the cursor
        highlighted = chat_list.current_chat_id
        assert highlighted is not None
        await type_text(pilot, "Hello")
        await settle(pilot)
        assert inbox.open_chat_id == highlighted
        assert app.focused is composer(app)
        assert composer(app).text.endswith("Hello")
        assert inbox.drafts[highlighted].endswith("Hello")


async def test_a_large_paste_typed_as_keys_costs_bounded_work_per_key(desk: Desk) -> None:
    """128 KB arriving as key events (no bracketed paste) is not a draft write per key."""
    calls = {"drafts": 0}
    original = Inbox.set_draft

    def counted(self: Inbox, chat_id: int, text: str) -> None:
        calls["drafts"] += 1
        original(self, chat_id, text)

    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        opened = inbox.open_chat_id
        assert opened is not None
        Inbox.set_draft = counted  # type: ignore[method-assign]
        try:
            text = "lorem ipsum dolor sit amet " * 40  # ~1 KB here; the bound is per key
            for char in text:
                app.post_message(events.Key(char if char.isalnum() else "space", char))
            await settle(pilot, rounds=4)
        finally:
            Inbox.set_draft = original  # type: ignore[method-assign]
        assert composer(app).text == text
        assert inbox.drafts[opened] == text
        assert calls["drafts"] <= len(text) // 20, calls
