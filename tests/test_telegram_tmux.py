"""The login screen in a real terminal: tmux types the keys (F2, F3, F5, Esc, Enter) as bytes.

The pane runs the login screen over the fake client (tests/telegram_login_pane.py), so no
network is needed; what is checked is that the keys arrive and the screens read right.
"""

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


def qr_rows(screen: str) -> list[str]:
    """The lines of the screen that are part of the drawn QR code."""
    return [line for line in screen.splitlines() if "▀" in line or "▄" in line]


def test_login_keys_in_tmux(tmp_path: Path) -> None:
    skip = ("TGTRIAGE_", "TMUX", "COLUMNS", "LINES", "NO_COLOR")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    env.update(LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="xterm-256color")
    data = tmp_path / "data"
    command = (
        f"cd {ROOT} && env -u COLUMNS -u LINES {sys.executable} -m tests.telegram_login_pane "
        f"{data}; echo EXITED:$?; sleep 30"
    )
    term = Terminal(command, env, data / "tgtriage.log")
    try:
        term.wait_for(lambda s: "Phone number, in international format" in s, "the phone step")
        # F2: the QR code, redrawn when its token expires (every 2 s here)
        term.keys("F2")
        screen = term.wait_for(lambda s: len(qr_rows(s)) > 10, "the QR code")
        assert "Scan to log in" in screen and "This code renews in" in screen
        first = qr_rows(screen)
        term.wait_for(lambda s: qr_rows(s) and qr_rows(s) != first, "a renewed QR code")
        # F2 again: back to the phone number
        term.keys("F2")
        term.wait_for(lambda s: "Phone number" in s and not qr_rows(s), "the phone step again")
        term.type("+1 555 867 5309")
        term.keys("Enter")
        term.wait_for(lambda s: "Telegram sent the 5-digit code" in s, "the code step")
        # F3 asks for the code again; Esc goes back to the number, which is kept
        term.keys("F3")
        term.wait_for(lambda s: "Telegram sent the 5-digit code" in s, "the code step after F3")
        term.keys("Escape")
        term.wait_for(lambda s: "Phone number" in s and "867" in s, "the number kept after Esc")
        term.keys("Enter")
        term.wait_for(lambda s: "Login code" in s, "the code step once more")
        term.type("11111")
        term.keys("Enter")
        term.wait_for(lambda s: "That code is not right" in s, "the wrong-code message")
        term.type("24680")
        term.keys("Enter")
        screen = term.wait_for(lambda s: "EXITED:0" in s, "the login to finish")
        assert "Logged in as Erin Engineer (@erin). Run `tgtriage` to open the desk." in screen
    finally:
        term.close()
