"""End to end in a real terminal (tmux): `/greet-` + Tab, refusal on the empty field, fill, send."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 120, 35
TIMEOUT = 20.0
WAITING_MARK = "◀ waiting since here"
BOX = ("│", "╭", "╰")


class Terminal:
    """One tmux server of our own (private socket) running one program in a fixed-size window."""

    def __init__(self, env: dict[str, str]) -> None:
        self.socket = f"tgtriage-tpl-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.env = env

    def tmux(self, *args: str) -> str:
        """Run a tmux command against our server and return its output."""
        done = subprocess.run(
            ["tmux", "-u", "-L", self.socket, "-f", "/dev/null", *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
        return done.stdout

    def start(self, command: str) -> None:
        """Start `command` in a detached WIDTH×HEIGHT session."""
        self.tmux("new-session", "-d", "-s", "desk", "-x", str(WIDTH), "-y", str(HEIGHT), command)

    def keys(self, *keys: str) -> None:
        """Press named keys (C-n, Tab, Enter, …)."""
        self.tmux("send-keys", "-t", "desk", *keys)

    def type(self, text: str) -> None:
        """Type text literally."""
        self.tmux("send-keys", "-t", "desk", "-l", text)

    def screen(self) -> str:
        """What the terminal shows now."""
        return self.tmux("capture-pane", "-p", "-t", "desk")

    def wait_for(self, predicate: Callable[[str], bool], what: str) -> str:
        """Poll the screen until `predicate(screen)` holds; fail showing the screen if it never does."""
        deadline = time.monotonic() + TIMEOUT
        screen = ""
        while time.monotonic() < deadline:
            try:
                screen = self.screen()
            except subprocess.CalledProcessError:
                screen = "(the program exited)"
                break
            if predicate(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; the screen was:\n{screen}")

    def kill(self) -> None:
        """Stop our tmux server and the program in it, and remove the server's socket file."""
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"],
            env=self.env,
            capture_output=True,
            timeout=10,
            check=False,
        )
        folder = Path(self.env.get("TMUX_TMPDIR") or "/tmp") / f"tmux-{os.getuid()}"
        (folder / self.socket).unlink(missing_ok=True)


def right_pane(screen: str) -> list[str]:
    """The conversation side of the screen: each line's text right of the list's border."""
    return [line.split("▕", 1)[1] for line in screen.splitlines() if "▕" in line]


def conversation(screen: str) -> str:
    """The conversation's text (the composer box left out), lines joined with spaces."""
    lines = [line.strip() for line in right_pane(screen) if not line.startswith(BOX)]
    return " ".join(line for line in lines if line)


def composer_box(screen: str) -> str:
    """The composer's text (lines of the box at the bottom of the right pane), joined."""
    pane = right_pane(screen)
    top = max(i for i, line in enumerate(pane) if line.startswith("╭"))
    inner = [line.strip().strip("│").strip() for line in pane[top + 1 :] if line.startswith("│")]
    return " ".join(inner)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    """A private tmux server whose environment points tgtriage at tmp_path; always killed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TGTRIAGE_", "TMUX"))}
    env.update(
        TGTRIAGE_CONFIG_DIR=str(tmp_path / "config"),
        TGTRIAGE_DATA_DIR=str(tmp_path / "data"),
        LANG="C.UTF-8",
        LC_ALL="C.UTF-8",
        TERM="xterm-256color",
    )
    term = Terminal(env)
    try:
        yield term
    finally:
        term.kill()


def test_greet_issue_via_slash_tab_refuses_empty_field_then_sends(terminal: Terminal) -> None:
    command = f"cd {ROOT} && exec {sys.executable} -m tgtriage demo --seed 3"
    terminal.start(command)
    terminal.wait_for(lambda s: "connected" in s and "waiting" in s, "the demo desk")

    terminal.keys("C-n")
    screen = terminal.wait_for(lambda s: WAITING_MARK in s, "the longest-waiting chat")
    marked = next(line for line in right_pane(screen) if WAITING_MARK in line)
    first_name = marked.split()[0]
    assert first_name.isalpha(), marked

    terminal.type("/greet-")
    terminal.wait_for(lambda s: "/greet-issue" in s, "the template popup")
    terminal.keys("Tab")
    greeting = f"Hi {first_name}! This is"
    screen = terminal.wait_for(
        lambda s: greeting in composer_box(s) and "‹issue›" in composer_box(s),
        "the inserted greeting with its ‹issue› field",
    )
    assert "/greet-" not in composer_box(screen)

    terminal.keys("Enter")
    screen = terminal.wait_for(lambda s: "fill ‹issue›" in s, "the refusal naming ‹issue›")
    assert "Thanks for writing in" not in conversation(screen), "nothing may be sent"
    assert greeting in composer_box(screen), "the text stays in the composer"

    terminal.type("the restore")
    terminal.wait_for(lambda s: "about the restore;" in composer_box(s), "the filled field")
    terminal.keys("Enter")
    # The default undo window (5 s): the reply waits with a countdown, then leaves by itself.
    terminal.wait_for(lambda s: "⏳ sending in" in s and "Alt+Z undo" in s, "the countdown")
    screen = terminal.wait_for(
        lambda s: (
            "about the restore; I'm looking" in conversation(s)
            and "sending…" not in conversation(s)
            and "about to leave" not in conversation(s)
            and "Write a reply" in composer_box(s)
        ),
        "the reply sent into the conversation",
    )
    sent = conversation(screen)
    assert re.search(
        rf"You\s+\d\d:\d\d\s+{re.escape(greeting)} Alex\. Thanks for writing in", sent
    ), sent
