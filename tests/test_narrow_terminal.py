"""The desk at 80×24 (issue 15): the footer's keys, help among them, the composer's hint and
the waits in a customer's history are whole, never cut at the right edge."""

from __future__ import annotations

import re
from pathlib import Path

from tgtriage.tui.composer import NARROW_REPLY_PLACEHOLDER, REPLY_PLACEHOLDER
from tgtriage.tui.search_screen import HistoryScreen

from tests.desk_harness import make_desk, run_desk, screen_text, settle, wait_for


async def test_at_80_columns_every_footer_key_and_the_composer_hint_are_whole(
    tmp_path: Path,
) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk, size=(80, 24)) as pilot:
        await pilot.press("ctrl+n")
        await settle(pilot)
        lines = screen_text(desk.app).splitlines()
        footer = lines[-1]
        for key in ("^N Next", "^K Find", "^S Send+next", "Alt+P Postpone", "F1 Help"):
            assert key in footer, f"{key!r} is whole in the footer: {footer!r}"
        assert any(NARROW_REPLY_PLACEHOLDER in line for line in lines)
        await pilot.resize_terminal(120, 35)
        await settle(pilot)
        lines = screen_text(desk.app).splitlines()
        assert "^N Next waiting" in lines[-1] and "F1 Help" in lines[-1]
        assert any(REPLY_PLACEHOLDER in line for line in lines), "wide again: the full hint"


async def test_at_80_columns_customer_history_shows_each_wait_whole(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk, size=(80, 24)) as pilot:
        await pilot.press("ctrl+n")
        await settle(pilot)
        await desk.inbox.flushed()
        await pilot.press("alt+u")
        await wait_for(pilot, lambda: isinstance(desk.app.screen, HistoryScreen), "history")
        screen = desk.app.screen
        assert isinstance(screen, HistoryScreen)
        await wait_for(pilot, lambda: screen.painted > 0, "history painted")
        shown = screen_text(desk.app)
        waits = re.findall(r"(?:waiting|answered in) \d+ (?:min|h|d)\b", shown)
        assert waits, f"the waits are whole at 80 columns: {shown}"
        assert "1 chats" not in shown
