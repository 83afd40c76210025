"""Issue 15 at 80×24 in a real terminal (tmux): the footer ends with F1 Help, the composer's
hint is whole, the tags dialog takes no `n` from Alt+N, and Alt+Shift+U (ESC U) marks unread."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_tmux_e2e import WAITING, Terminal, header, start_demo
from tests.test_tmux_e2e import pytestmark as tmux_marks

pytestmark = tmux_marks


@pytest.fixture
def narrow(tmp_path: Path) -> Iterator[Terminal]:
    """The demo in tmux, resized to 80×24."""
    term = start_demo(tmp_path)
    try:
        term.resize(80, 24)
        yield term
    finally:
        term.close()


def test_at_80x24_the_footer_hint_dialog_and_unread_mark_are_whole(narrow: Terminal) -> None:
    term = narrow
    term.wait_for(lambda s: "waiting:" in s and len(s.splitlines()[0]) <= 80, "the narrow desk")
    term.keys("C-n")
    screen = term.wait_for(lambda s: WAITING.search(header(s)) is not None, "a waiting chat")
    lines = screen.splitlines()
    assert lines[-1].rstrip().endswith("F1 Help"), lines[-1]
    assert "Reply · Enter sends · Ctrl+J line · Alt+N note" in screen

    term.keys("M-g")
    term.wait_for(lambda s: "Tags of" in s, "the tags dialog")
    term.keys("M-n")
    time.sleep(0.3)  # a lone ESC followed at once by a key would read as Alt+key
    term.type("vip")
    screen = term.wait_for(lambda s: "vip" in s.split("Tags of")[1], "the typed tag")
    assert "nvip" not in screen and "NOTE" not in screen
    term.keys("Escape")
    term.wait_for(lambda s: "Tags of" not in s, "the dialog closed")

    term.keys("M-U")
    screen = term.wait_for(lambda s: "◉" in s, "the unread mark in the open chat's row")
    row = next(line for line in screen.splitlines() if "◉" in line)
    assert row.startswith("1"), f"the open chat (slot 1) is marked: {row!r}"
    term.keys("C-q")
    term.wait_for(lambda s: "EXITED:0" in s, "tgtriage to exit with status 0")
