"""The workflow keys in a real terminal: `tgtriage demo` inside tmux, typed with send-keys, and
the alert bytes the desk really writes to the pane, recorded with tmux's pipe-pane.

Alt+letter arrives as ESC + letter, Shift+F3 as ESC [1;2R (which Textual reads as a cursor
position report, hence Alt+Shift+V for the previous view): this is where keys get lost.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_tmux_e2e import ROOT, Terminal

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(os.name != "posix", reason="tmux runs on POSIX terminals"),
]

CONFIG = """
[levels]            # seconds-long targets, so that live messages reach 'due' within the test
due = 0.05
late = 0.5
breached = 30

[tickets]
url = "https://jira.example.com/browse/{ticket}"

[alerts]            # no toasts: they would cover the parts of the screen the test reads
level_1 = ["bell", "osc"]
level_2 = ["bell"]
level_3 = ["bell"]
osc = ["777", "9"]
"""
# The bell, then OSC 777 and OSC 9 each inside tmux's DCS passthrough with doubled ESCs.
ALERT = re.compile(
    rb"\x07"
    rb"\x1bPtmux;\x1b\x1b\]777;notify;tgtriage \xc2\xb7 (?P<title>[^;\x1b\x07]+);"
    rb"Waiting \d+s: due\x1b\x1b\\\x1b\\"
    rb"\x1bPtmux;\x1b\x1b\]9;tgtriage \xc2\xb7 (?P=title): Waiting \d+s: due\x1b\x1b\\\x1b\\"
)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[tuple[Terminal, Path]]:
    """The demo at 20× in tmux, no display (as over SSH), its output recorded to a file."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text(CONFIG, encoding="utf-8")
    skip = ("TGTRIAGE_", "TMUX", "COLUMNS", "LINES", "NO_COLOR", "DISPLAY", "WAYLAND_DISPLAY")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    env.update(
        TGTRIAGE_CONFIG_DIR=str(config),
        TGTRIAGE_DATA_DIR=str(tmp_path / "data"),
        LANG="C.UTF-8",
        LC_ALL="C.UTF-8",
        TERM="xterm-256color",
    )
    command = (
        f"cd {ROOT} && env -u COLUMNS -u LINES -u DISPLAY -u WAYLAND_DISPLAY "
        f"{sys.executable} -m tgtriage demo --seed 3 --speed 20; echo EXITED:$?; sleep 30"
    )
    term = Terminal(command, env, tmp_path / "data" / "tgtriage.log")
    raw = tmp_path / "pane.bin"
    term._tmux("pipe-pane", "-o", "-t", term.session, f"cat >> {raw}")
    try:
        yield term, raw
    finally:
        term.close()


def right(screen: str, line: int) -> str:
    """Screen line `line` right of the chat list's border."""
    text = screen.splitlines()[line]
    return text.split("▕", 1)[1] if "▕" in text else text


def view_bar(screen: str) -> str:
    """The bar above the chat list."""
    return screen.splitlines()[1].split("▕", 1)[0].strip()


def test_workflow_keys_and_alert_bytes_in_tmux(terminal: tuple[Terminal, Path]) -> None:
    term, raw = terminal
    term.wait_for(lambda s: "waiting:" in s and "All · 17 chats" in s, "the desk and its view bar")

    # A live customer message reaches 'due' after 3 s: bell + OSC 777 + OSC 9, wrapped for tmux.
    deadline = time.monotonic() + 20
    found = None
    while time.monotonic() < deadline and found is None:
        found = ALERT.search(raw.read_bytes()) if raw.exists() else None
        time.sleep(0.1)
    assert found is not None, "no alert written: " + repr(raw.read_bytes()[-400:])
    data = raw.read_bytes()
    assert b"\x1b]777;" not in data.replace(b"\x1b\x1b]777;", b""), "never unwrapped inside tmux"

    term.keys("C-n")
    term.wait_for(lambda s: "waiting" in right(s, 1), "a waiting chat")

    # Alt+N: note mode, a note saved, back to replying.
    term.keys("M-n")
    term.wait_for(lambda s: "┏━ NOTE · shared with the team" in s, "the NOTE frame")
    term.type("Called them, see OPS-4711")
    term.keys("Enter")
    term.wait_for(lambda s: "▌1 note" in right(s, 2), "the note counted in the header")
    assert "Called them, see OPS-4711" in term.screen()
    term.keys("M-N")  # Alt+Shift+N: the notes to delete (none deleted here)
    term.wait_for(lambda s: "Delete which note?" in s, "the note chooser")
    term.keys("Escape")
    term.wait_for(lambda s: "Delete which note?" not in s, "the chooser closed")
    term.keys("M-n")
    term.wait_for(lambda s: "Write a reply" in s, "reply mode again")

    # Alt+D: in development; the ticket comes from the note, the due date is typed.
    term.keys("M-d")
    term.wait_for(lambda s: "In development:" in s and "OPS-4711" in s, "the in-development form")
    term.type("fri")
    term.wait_for(lambda s: "→ Fri" in s, "what 'fri' means")
    term.keys("Enter")
    term.wait_for(lambda s: "[in development]" in right(s, 1), "the status in the header")
    assert "due Fri 09:00" in right(term.screen(), 2)

    # Alt+G: a tag; Alt+L: VIP targets.
    term.keys("M-g")
    term.wait_for(lambda s: "Tags of" in s, "the tag form")
    term.type("vip")
    term.keys("Enter")
    term.wait_for(lambda s: "#vip" in right(s, 2), "the tag in the header")
    term.keys("M-l")
    term.wait_for(lambda s: "Response targets for this chat" in s, "the targets chooser")
    term.keys("2")
    term.wait_for(lambda s: "targets 2/5/15 min" in right(s, 2), "VIP targets")

    # Alt+J: no display here, so the URL is shown (the chat's own ticket comes first when the
    # chat mentions others, like Globex's "#48213").
    term.keys("M-j")
    screen = term.wait_for(
        lambda s: "Open which ticket?" in s or "Ticket OPS-4711" in s, "Alt+J to react"
    )
    if "Open which ticket?" in screen:
        assert screen.index("1  OPS-4711") < screen.index("2  #")
        term.keys("1")
    term.wait_for(
        lambda s: "Ticket OPS-4711" in s and "https://jira.example.com/browse/OPS-4711" in s,
        "the ticket URL",
    )
    term.keys("Escape")
    term.wait_for(lambda s: "Ticket OPS-4711" not in s, "the ticket screen closed")

    # Views: F3 forward, Alt+Shift+V back, Alt+V to choose; the tag view lists the chat.
    term.keys("F3")
    term.wait_for(lambda s: view_bar(s).startswith("Waiting ·"), "F3 to the Waiting view")
    term.keys("M-V")
    term.wait_for(lambda s: view_bar(s).startswith("All ·"), "Alt+Shift+V back to All")
    term.keys("M-v")
    term.wait_for(lambda s: "Show which chats?" in s and "7  #vip (1)" in s, "the view chooser")
    term.keys("7")  # 1 All … 6 Closed, 7 #vip
    screen = term.wait_for(lambda s: view_bar(s).startswith("#vip · 1 chat"), "the #vip view")
    assert "⚙OPS-4711" in screen.splitlines()[2]

    term.keys("C-q")
    term.wait_for(lambda s: "EXITED:0" in s, "tgtriage to exit with status 0")
