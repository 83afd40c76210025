"""Issue 15's composer leftovers under Pilot: Ctrl+U clears at once (Ctrl+Z undoes it), and
Shift+Tab reaches a template field that is already filled."""

from __future__ import annotations

from pathlib import Path

from tgtriage.core.templates import Field, fields_after_edit, tab_stop

from tests.desk_harness import composer, make_desk, run_desk, screen_text, settle, type_text


async def test_ctrl_u_clears_the_composer_and_ctrl_z_brings_the_text_back(
    tmp_path: Path,
) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        chat_id = inbox.open_chat_id
        assert chat_id is not None
        await type_text(pilot, "first line")
        await pilot.press("ctrl+j")
        await type_text(pilot, "second line")
        typed = "first line\nsecond line"
        assert composer(app).text == typed
        await pilot.press("ctrl+u")
        await settle(pilot)
        assert composer(app).text == "", "Ctrl+U empties the whole composer at once"
        assert inbox.drafts.get(chat_id, "") == "", "the draft is empty too"
        toasts = [str(note.message) for note in app._notifications]
        assert any("Ctrl+Z brings the text back" in toast for toast in toasts)
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert composer(app).text == typed, "one Ctrl+Z gives all of it back"
        assert inbox.drafts.get(chat_id) == typed
        await pilot.press("f1")
        await settle(pilot)
        assert "^U" in screen_text(app) and "Clear the composer" in screen_text(app)


async def test_shift_tab_selects_a_field_already_filled_to_type_over_it(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        await type_text(pilot, "/maint")
        await pilot.press("tab")
        await settle(pilot)
        assert composer(app).selected_text == "‹date›"
        await type_text(pilot, "March 9")
        await pilot.press("tab")
        await type_text(pilot, "02:00 UTC")
        await pilot.press("shift+tab")
        await settle(pilot)
        assert composer(app).selected_text == "March 9", "Shift+Tab reaches the filled date"
        await type_text(pilot, "March 10")
        assert composer(app).text.startswith("Heads-up: we have planned maintenance on March 10, ")
        await pilot.press("tab")
        await settle(pilot)
        assert composer(app).selected_text == "02:00 UTC", "Tab goes on to the filled time"
        await pilot.press("tab")
        await settle(pilot)
        assert composer(app).selected_text == "‹impact›"


def test_fields_move_with_edits_around_them_and_grow_with_typing_inside() -> None:
    date, time = Field("date", 10, 16), Field("time", 18, 24)
    typed_over = fields_after_edit([date, time], 10, 16, 1)  # "M" over the selected ‹date›
    assert typed_over == [Field("date", 10, 11), Field("time", 13, 19)]
    typed_on = fields_after_edit(typed_over, 11, 11, 1)  # the next key, at the field's end
    assert typed_on == [Field("date", 10, 12), Field("time", 14, 20)]
    assert fields_after_edit([date], 0, 0, 3) == [Field("date", 13, 19)]
    assert fields_after_edit([date], 10, 10, 2) == [Field("date", 12, 18)], "typed in front"
    assert fields_after_edit([date], 8, 12, 0) == [], "an edit across the field drops it"
    text = "on March 9, ‹time›."
    filled = Field("date", 3, 10)
    assert tab_stop(text, [filled], 12, 18, backwards=True) == filled
    assert tab_stop(text, [filled], 3, 10, backwards=False) == Field("time", 12, 18)
