"""The stats screen in a real terminal: `tgtriage demo` in tmux, F4, range keys, Esc."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.test_tmux_e2e import Terminal

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(os.name != "posix", reason="tmux runs on POSIX terminals"),
]


def strip(screen: str) -> str:
    """The range strip: the screen's first line."""
    return screen.splitlines()[0]


def test_stats_keys_in_tmux(terminal: Terminal) -> None:
    term = terminal
    term.wait_for(lambda s: "waiting:" in s and "Acme · Support" in s, "the desk")
    term.keys("F4")
    screen = term.wait_for(
        lambda s: "[7 days]" in strip(s) and "replies ·" in s, "F4 to show the 7-day stats"
    )
    assert "Reply time per staff member" in screen and "█" in screen
    assert "Customer messages by hour" in screen
    for key, label in (("Tab", "[30 days]"), ("1", "[Today]"), ("Left", "[30 days]")):
        term.keys(key)
        screen = term.wait_for(lambda s, label=label: label in strip(s), f"{key} → {label}")
    assert "Median reply time per day" in screen
    term.keys("Escape")
    term.wait_for(lambda s: "waiting:" in s and "Reply times" not in s, "Esc back to the desk")
    term.keys("C-q")
    term.wait_for(lambda s: "EXITED:0" in s, "tgtriage to exit with status 0")
