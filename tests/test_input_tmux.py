"""Issue 15's input items in a real terminal (tmux, 120×35): typed £ and Alt+digit, keys behind
a dialog, Ctrl+P Ctrl+K Ctrl+P, Ctrl+Z after a multi-line template, PgUp from the composer."""

from __future__ import annotations

import time

from tests.test_tmux_e2e import (
    WAITING,
    Terminal,
    composer_line,
    header,
    header_title,
)
from tests.test_tmux_e2e import pytestmark as tmux_marks

pytestmark = tmux_marks


def last_box_line(screen: str) -> str:
    """The first text line of the lowest box: the composer, under the popup when it shows."""
    lines = screen.splitlines()
    tops = [i for i, line in enumerate(lines) if "╭" in line]
    if not tops or tops[-1] + 1 >= len(lines) or "│" not in lines[tops[-1] + 1]:
        return ""
    return lines[tops[-1] + 1].split("│")[1]


def conversation_lines(screen: str) -> list[str]:
    """The conversation pane: right of the list's border, between header and composer."""
    lines = screen.splitlines()
    top = next((i for i, line in enumerate(lines) if "╭" in line), len(lines))
    return [line.split("▕", 1)[1] for line in lines[3:top] if "▕" in line]


def test_typed_characters_alt_digits_dialogs_palette_undo_and_paging(terminal: Terminal) -> None:
    term = terminal
    term.wait_for(lambda s: "waiting:" in s and "Acme · Support" in s, "the desk")
    term.keys("C-n")
    screen = term.wait_for(lambda s: WAITING.search(header(s)) is not None, "a waiting chat")
    first = header_title(screen)

    # 1. £ • ™ … typed literally are text in this chat's composer; the chat stays.
    term.type("price £9 • ™ ¡ º")
    screen = term.wait_for(lambda s: "price £9 • ™ ¡ º" in composer_line(s), "the typed text")
    assert header_title(screen) == first
    term.keys("C-n")
    term.wait_for(lambda s: header_title(s) != first, "a second chat")
    term.keys("M-1")  # ESC+1: slot 1, with its draft
    screen = term.wait_for(lambda s: header_title(s) == first, "Alt+1 to open slot 1")
    assert "price £9 • ™ ¡ º" in composer_line(screen)

    # 2. Behind the tags dialog, Alt+N (note mode) and Alt+2 (slot 2) do nothing.
    term.keys("M-g")
    term.wait_for(lambda s: "Tags of" in s, "the tags dialog")
    term.keys("M-n")
    time.sleep(0.3)  # a lone ESC followed at once by a key would read as Alt+key
    term.keys("M-2")
    term.type("billing")
    screen = term.wait_for(lambda s: "billing" in s, "the tag typed into the dialog")
    assert "Tags of" in screen and "NOTE" not in screen
    assert "nbilling" not in screen, "the n of Alt+N is not typed into the dialog"
    term.keys("Escape")
    screen = term.wait_for(lambda s: "Tags of" not in s, "the dialog closed")
    assert header_title(screen) == first and "NOTE" not in screen

    # 3. Ctrl+P, Ctrl+K, Ctrl+P in one burst: the palette, no crash.
    term.keys("C-p", "C-k", "C-p")
    term.wait_for(lambda s: "Search for commands" in s, "the command palette")
    term.keys("Escape")
    screen = term.wait_for(lambda s: "Search for commands" not in s, "the palette closed")
    assert "EXITED" not in screen and header_title(screen) == first

    # 4. Ctrl+Z after a multi-line template gives the typed word back.
    term.keys("C-n")
    screen = term.wait_for(lambda s: header_title(s) not in (first,), "another chat")
    term.type("/details")
    term.wait_for(lambda s: "/details" in composer_line(s), "the /word")
    term.keys("Tab")
    term.wait_for(lambda s: "Send whatever you have" in s, "the template")
    term.keys("C-z")
    screen = term.wait_for(lambda s: last_box_line(s).strip() == "/details", "the undo")
    assert "EXITED" not in screen

    # 9. PgUp from the composer scrolls the conversation; the text stays.
    newest = [line for line in conversation_lines(term.screen()) if line.strip()][-1]
    term.keys("PPage")
    term.wait_for(lambda s: newest not in conversation_lines(s), "PgUp to scroll up")
    term.keys("C-End")
    screen = term.wait_for(
        lambda s: [line for line in conversation_lines(s) if line.strip()][-1] == newest,
        "Ctrl+End to the newest",
    )
    assert last_box_line(screen).strip() == "/details"

    term.keys("C-q")
    term.wait_for(lambda s: "EXITED:0" in s, "tgtriage to exit with status 0")
