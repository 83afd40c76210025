"""Search in a real terminal: Ctrl+F in `tgtriage demo` inside tmux, type, Enter opens the
message marked; `/` from the list and Esc come back to where the desk was."""

from __future__ import annotations

import re
import shutil
import time

import pytest

from tests.test_tmux_e2e import WAITING, Terminal, header, header_title

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def conversation_words(screen: str) -> list[str]:
    """Long words of the messages' bodies (indented lines right of the list), top to bottom."""
    right = [line.split("▕", 1)[1] for line in screen.splitlines()[3:-4] if "▕" in line]
    bodies = [line for line in right if line.startswith("  ") and not line.startswith("  ↪")]
    return re.findall(r"\b[a-z]{7,}\b", "\n".join(bodies))


def test_ctrl_f_types_a_search_and_enter_opens_the_message(terminal: Terminal) -> None:
    term = terminal
    term.wait_for(lambda s: "Acme · Support" in s and "waiting:" in s, "the demo's desk")
    term.keys("C-n")
    screen = term.wait_for(
        lambda s: WAITING.search(header(s)) is not None and bool(conversation_words(s)),
        "a waiting chat with words",
    )
    word = conversation_words(screen)[-1]

    term.keys("C-f")
    term.wait_for(lambda s: "Search messages" in s, "the search prompt")
    term.type(word.upper() + " ")
    screen = term.wait_for(lambda s: "newest matches" in s, f"results for {word}")
    assert word in screen.lower()

    term.keys("Enter")
    screen = term.wait_for(lambda s: "▶ found" in s, "the chosen message, marked")
    assert "Search messages" not in screen
    assert word in screen.lower()


def test_slash_from_the_list_and_escape_come_back(terminal: Terminal) -> None:
    term = terminal
    term.wait_for(lambda s: "Acme · Support" in s and "waiting:" in s, "the demo's desk")
    term.keys("C-n")
    screen = term.wait_for(lambda s: WAITING.search(header(s)) is not None, "a waiting chat")
    title = header_title(screen)
    term.keys("Escape")  # to the list
    time.sleep(0.5)  # ESC then "/" at once would read as Alt+/
    term.keys("/")
    term.wait_for(lambda s: "Search messages" in s, "the search prompt from the list")
    term.type("qqzzxx")
    term.wait_for(lambda s: "no messages match" in s, "nothing found")
    term.keys("Escape")
    screen = term.wait_for(lambda s: "Search messages" not in s, "the desk again")
    assert header_title(screen) == title
