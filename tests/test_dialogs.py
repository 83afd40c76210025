"""The desk's dialogs drawn over it (tui/dialogs.py): what they repaint, where the focus goes,
and that the desk behind them rests."""

from __future__ import annotations

from typing import Any

from textual._compositor import ChopsUpdate, LayoutUpdate
from textual.widgets import Input, OptionList
from tgtriage.tui.app import DeskApp
from tgtriage.tui.chat_list import ChatList
from tgtriage.tui.conversation import Conversation
from tgtriage.tui.dialogs import ChoiceDialog
from tgtriage.tui.switcher import Switcher
from tgtriage.tui.template_views import TemplatePopup
from tgtriage.tui.workflow_dialogs import DevelopmentDialog, TagDialog

from tests.desk_harness import Desk, composer, run_desk, settle, type_text

SIZE = (120, 35)


def record_frames(app: DeskApp) -> list[int]:
    """Log how many cells each frame handed to the terminal redraws (the whole screen: all)."""
    cells: list[int] = []
    display = app._display

    def logged(screen: Any, renderable: Any) -> None:
        display(screen, renderable)
        if isinstance(renderable, ChopsUpdate):
            cells.append(sum(x2 - x1 for _, x1, x2 in renderable.spans))
        elif isinstance(renderable, LayoutUpdate):
            cells.append(renderable.region.area)

    app._display = logged  # type: ignore[method-assign]
    return cells


async def test_a_dialog_opens_and_closes_without_repainting_the_whole_desk(desk: Desk) -> None:
    """A pushed screen repainted all 4,200 cells on open and again on close; a dialog over the
    desk redraws its own box (and the few cells whose focus look changes)."""
    async with run_desk(desk, SIZE) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        await settle(pilot)
        whole = SIZE[0] * SIZE[1]
        cells = record_frames(app)
        for key in ("alt+p", "escape", "alt+g", "escape", "ctrl+k", "escape"):
            cells.clear()
            await pilot.press(key)
            await settle(pilot)
            assert cells, f"{key}: something was painted"
            assert max(cells) < whole / 2, f"{key} repainted {max(cells)} of {whole} cells"
        assert len(app.screen_stack) == 1, "no screen was pushed"


async def test_a_dialog_shown_again_keeps_the_box_it_drew_and_still_shows_it(desk: Desk) -> None:
    """Showing a dialog again draws its frame from the lines it drew the first time (its size and
    styles are the same); the frame still reaches the screen each time it opens."""
    async with run_desk(desk, SIZE) as pilot:
        app = desk.app
        box = app.query_one(Switcher)
        drawn: list[int] = []
        render_line = box.render_line

        def counted(y: int) -> Any:
            drawn.append(y)
            return render_line(y)

        box.render_line = counted  # type: ignore[method-assign]
        for opened in range(3):
            await pilot.press("ctrl+k")
            await settle(pilot)
            screen = [strip.text for strip in app.screen._compositor.render_strips()]
            assert any("╭" in line and "╮" in line for line in screen), "the box is drawn"
            if opened == 0:
                assert drawn, "the box drew its lines the first time"
                drawn.clear()
            else:
                assert drawn == [], f"open {opened + 1} drew the box's lines again"
            await pilot.press("escape")
            await settle(pilot)
            screen = [strip.text for strip in app.screen._compositor.render_strips()]
            assert not any("Jump to chat" in line for line in screen), "the box is gone"


async def test_focus_goes_back_where_it_was_when_a_dialog_closes(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        assert app.focused is composer(app)
        await pilot.press("alt+g")
        assert isinstance(app.focused, Input) and app.focused.id == "tag-input"
        await pilot.press("escape")
        await settle(pilot)
        assert app.dialog is None and app.focused is composer(app)
        await pilot.press("escape")  # back to the list
        assert isinstance(app.focused, ChatList)
        await pilot.press("alt+p")
        assert isinstance(app.focused, OptionList)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.focused, ChatList)


async def test_tab_stays_inside_the_open_dialog(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        await pilot.press("alt+d")
        dialog = app.dialog
        assert isinstance(dialog, DevelopmentDialog)
        seen = set()
        for _ in range(4):
            await pilot.press("tab")
            focused = app.focused
            assert focused is not None and dialog.holds(focused), "Tab left the dialog"
            assert app.dialog is dialog
            seen.add(focused.id)
        assert seen == {"dev-ticket", "dev-due"}


async def test_a_click_on_the_desk_behind_a_dialog_cancels_it(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        chat_id = inbox.open_chat_id
        assert chat_id is not None
        await pilot.press("alt+g")
        await type_text(pilot, "lost")
        await pilot.click(ChatList)
        await settle(pilot)
        assert app.dialog is None and not app.query_one(TagDialog).display
        assert inbox.tags.get(chat_id, set()) == set(), "a cancelled dialog saves nothing"


async def test_a_dialog_opened_over_another_replaces_it(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        await pilot.press("ctrl+k")
        assert isinstance(app.dialog, Switcher)
        app.action_postpone()  # e.g. from the command palette's list of actions
        await settle(pilot)
        assert isinstance(app.dialog, ChoiceDialog)
        assert not app.query_one(Switcher).display
        await pilot.press("escape")
        await settle(pilot)
        assert app.dialog is None and app.focused is composer(app)


async def test_the_template_popup_sits_over_the_conversation_without_resizing_it(
    desk: Desk,
) -> None:
    """The popup used to take its rows from the conversation, which re-wrapped and repainted
    on every keystroke that changed the number of matches."""
    async with run_desk(desk, SIZE) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        await settle(pilot)
        conversation = app.query_one(Conversation)
        before = conversation.region
        await type_text(pilot, "/g")
        await settle(pilot)
        popup = app.query_one(TemplatePopup)
        assert popup.display and popup.templates
        assert conversation.region == before, "the conversation kept its size"
        composer_top = composer(app).region.y
        assert popup.region.bottom == composer_top, "right above the composer"
        assert popup.region.y > before.y
        await pilot.press("escape")
        await settle(pilot)
        assert not popup.display and conversation.region == before


async def test_typing_in_the_switcher_paints_one_frame_and_lays_out_nothing(desk: Desk) -> None:
    """The switcher's box has a fixed size: a keystroke repaints its field and list in one
    frame, and neither the field (QuietInput) nor the refilled list lays the desk out."""
    async with run_desk(desk, SIZE) as pilot:
        app = desk.app
        await pilot.press("ctrl+k")
        await settle(pilot)
        layouts: list[int] = []
        original = app.screen._refresh_layout

        def counted(*args: Any, **kwargs: Any) -> None:
            layouts.append(1)
            original(*args, **kwargs)

        app.screen._refresh_layout = counted  # type: ignore[method-assign]
        cells = record_frames(app)
        switcher = app.query_one(Switcher)
        listed = []
        for char in "acz":  # fewer results each time, down to none
            cells.clear()
            await pilot.press(char)
            await settle(pilot)
            assert len(cells) == 1, f"{char!r}: {len(cells)} frames"
            listed.append(app.query_one("#switcher-list", OptionList).option_count)
        assert layouts == [], "no layout while typing"
        assert listed[0] > 0 and listed[-1] == 0 and switcher.is_open


async def test_a_choice_asked_again_keeps_its_drawn_list_and_starts_afresh(desk: Desk) -> None:
    """Alt+P asked twice keeps the options it drew (no refill, no re-render of each row), yet
    opens on the first choice with an empty field, as a new dialog would."""
    async with run_desk(desk, SIZE) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        await settle(pilot)
        await pilot.press("alt+p")
        await settle(pilot)
        options = app.query_one("#choice-list", OptionList)
        drawn = list(options.options)
        await pilot.press("down", "down", "escape")
        await settle(pilot)
        await pilot.press("alt+p")
        await settle(pilot)
        assert app.query_one(ChoiceDialog).is_open
        assert [id(o) for o in options.options] == [id(o) for o in drawn]  # kept, not refilled
        assert options.highlighted == 0
        assert app.query_one("#choice-input", Input).value == ""
        await pilot.press("escape")
        await settle(pilot)
        app.choose("Another question", [("a", "1  first"), ("b", "2  second")], lambda _: None)
        await settle(pilot)
        assert [o.id for o in options.options] == ["a", "b"]  # a new question is drawn anew
