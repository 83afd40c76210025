"""The switcher keeps its list between Ctrl+K presses, yet always lists the desk as it is now."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import OptionList

from tests.desk_harness import make_desk, run_desk, settle

pytestmark = pytest.mark.usefixtures("utc_times")


async def test_a_renamed_chat_shows_its_new_title_at_the_next_ctrl_k(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+k", "escape")
        await settle(pilot)
        chat_id = app.inbox.order()[0]
        renamed = app.inbox.chats[chat_id].model_copy(update={"title": "Renamed Ltd · Support"})
        app.inbox.chats[chat_id] = renamed  # the order stays, the title changes
        await pilot.press("ctrl+k")
        await settle(pilot)
        listed = app.screen.query_one(OptionList)
        first = listed.get_option_at_index(0)
        assert int(first.id or 0) == chat_id
        assert "Renamed Ltd" in str(first.prompt)
        await pilot.press("r", "e", "n", "a", "m")
        await settle(pilot)
        assert int(listed.get_option_at_index(0).id or 0) == chat_id
