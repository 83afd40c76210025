"""Message mode's keys are shown while it is on (issue 16): the footer puts them first — at 80
columns too, where the desk's own keys give way but F1 stays — and F1 opens help at them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Static
from tgtriage.tui.screens import HelpScreen

from tests.desk_harness import make_desk, run_desk, screen_text, settle


def footer(app: object) -> str:
    """The screen's last line: the key footer."""
    return screen_text(app).splitlines()[-1]  # type: ignore[arg-type]


@pytest.mark.parametrize("size", [(80, 24), (120, 35)])
async def test_the_footer_shows_message_modes_keys_while_it_is_on(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk, size=size) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert "R Reply" not in footer(app)
        await pilot.press("up")
        await settle(pilot)
        shown = footer(app)
        for key in (
            "R Reply",
            "C Copy",
            "E Edit",
            "D / Del Delete",
            "+ React",
            "O Open",
            "Esc Back",
        ):
            assert key in shown, (key, shown)
        assert shown.rstrip().endswith("F1 Help"), "help stays in sight"
        assert len(shown.rstrip()) <= size[0]
        await pilot.press("escape")
        await settle(pilot)
        assert "R Reply" not in footer(app), "back in the composer: the desk's keys again"
        assert "^N Next" in footer(app)


async def test_f1_in_message_mode_opens_help_at_message_modes_keys(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        await settle(pilot)
        await pilot.press("up", "f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=100, file=io.StringIO())
        console.print(app.screen.query_one("#help-text", Static).content)
        help_text = console.file.getvalue()  # type: ignore[attr-defined]
        groups = [line.strip() for line in help_text.splitlines()[1:] if line and line[0] != " "]
        assert groups[0] == "Message mode", groups
        assert "Reply to it (quoted above the composer)" in help_text
        await pilot.press("escape", "ctrl+n", "f1")
        await settle(pilot)
        console = Console(width=100, file=io.StringIO())
        console.print(app.screen.query_one("#help-text", Static).content)
        groups = [
            line.strip()
            for line in console.file.getvalue().splitlines()[1:]  # type: ignore[attr-defined]
            if line and line[0] != " "
        ]
        assert groups[0] != "Message mode", "outside message mode the desk's keys come first"
