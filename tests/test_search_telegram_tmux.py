"""Telegram's search tier in a real terminal: the Telegram desk over the fake client inside tmux
(tests/telegram_search_pane.py); Ctrl+F shows the store's results, then Telegram's marked
"from Telegram" below them, a "more" row Enter pages through, and Enter opens a result."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from tests.test_tmux_e2e import ROOT, Terminal

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(os.name != "posix", reason="tmux runs on POSIX terminals"),
]


def test_telegram_results_show_below_the_stored_ones_and_page_in_tmux(tmp_path: Path) -> None:
    skip = ("TGTRIAGE_", "TMUX", "COLUMNS", "LINES", "NO_COLOR")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    env.update(LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="xterm-256color", TZ="UTC")
    data = tmp_path / "data"
    command = (
        f"cd {ROOT} && env -u COLUMNS -u LINES {sys.executable} -m tests.telegram_search_pane "
        f"{data}; echo EXITED:$?; sleep 30"
    )
    term = Terminal(command, env, data / "tgtriage.log")
    try:
        term.wait_for(lambda s: "Initech Support" in s and "3 waiting" in s, "the desk")
        term.keys("C-f")
        term.wait_for(lambda s: "Search messages" in s, "the search prompt")
        term.type("printer")
        screen = term.wait_for(lambda s: "more from Telegram" in s, "Telegram's results")
        lines = screen.splitlines()
        stored = next(i for i, line in enumerate(lines) if "printer broken" in line)
        remote = next(i for i, line in enumerate(lines) if "printer jammed last winter" in line)
        assert stored < remote, "the store's result first, Telegram's below it"
        assert "from Telegram" in lines[remote - 1] and "from Telegram" not in lines[stored - 1]

        term.keys("C-a", "C-k")
        term.type("toner")
        screen = term.wait_for(lambda s: "50 more from Telegram" in s, "the first page")
        assert "next page" in screen
        term.keys(*["Down"] * 50)
        term.wait_for(lambda s: "⋯ more from Telegram" in s, "the more row in view")
        term.keys("Enter")
        screen = term.wait_for(lambda s: "60 more from Telegram" in s, "the second page")
        assert "toner low on floor 9" in screen, "the cursor on the first of the new page"
        term.keys("Enter")
        screen = term.wait_for(lambda s: "Search messages" not in s, "the chat opened")
        assert "Initech Support" in screen
    finally:
        term.close()
