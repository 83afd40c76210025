"""The team room in a real terminal: `tgtriage demo` in tmux, where the demo's teammates claim
chats and hand one over, and Alt+A (ESC a as the terminal sends it) takes a chat."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_tmux_e2e import ROOT, Terminal, header_title

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(os.name != "posix", reason="tmux runs on POSIX terminals"),
]


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    """The demo at 20× in a 120×35 tmux pane (the team's morning takes a few seconds)."""
    skip = ("TGTRIAGE_", "TMUX", "COLUMNS", "LINES", "NO_COLOR")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    env.update(
        TGTRIAGE_CONFIG_DIR=str(tmp_path / "config"),
        TGTRIAGE_DATA_DIR=str(tmp_path / "data"),
        LANG="C.UTF-8",
        LC_ALL="C.UTF-8",
        TERM="xterm-256color",
    )
    command = (
        f"cd {ROOT} && env -u COLUMNS -u LINES {sys.executable} -m tgtriage demo --seed 3 "
        "--speed 20; echo EXITED:$?; sleep 30"
    )
    term = Terminal(command, env, tmp_path / "data" / "tgtriage.log")
    try:
        yield term
    finally:
        term.close()


def row(screen: str, title: str) -> str:
    """The list row of a chat (left of the list's border)."""
    for line in screen.splitlines()[2:]:  # below the slot strip and the view bar
        left = line.split("▕", 1)[0]
        if title in left:
            return left
    return ""


def test_the_demo_team_claims_and_alt_a_takes_a_chat(terminal: Terminal) -> None:
    term = terminal
    screen = term.wait_for(
        lambda s: (
            "✋ Priya" in row(s, "Globex")
            and "✋ Tom" in row(s, "Acme")
            and "→ from Priya" in row(s, "Northwind")
        ),
        "the teammates' claims and the handoff on the rows",
    )
    assert "✋ you" in row(screen, "Northwind")

    # Ctrl+N passes Tom's Acme (his until it breaches); Alt+A takes the chat it opens.
    term.keys("C-n")
    screen = term.wait_for(lambda s: "no chat open" not in s, "a chat opened by Ctrl+N")
    title = header_title(screen).replace(" · Support", "")
    assert "Acme" not in title
    if "Globex" in title or "Northwind" in title:  # held already: the next one
        term.keys("C-n")
        screen = term.wait_for(
            lambda s: header_title(s).replace(" · Support", "") != title, "the next waiting chat"
        )
        title = header_title(screen).replace(" · Support", "")
    term.keys("M-a")
    term.wait_for(lambda s: "✋ you" in row(s, title[:10]), f"our claim on {title}'s row")
