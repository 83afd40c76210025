"""End to end in a real terminal: `tgtriage demo` inside tmux, driven by real key sequences.

Pilot hands Textual ready-made key events; a terminal sends bytes (Alt+1 is ESC then "1"),
which is where keys get lost. So this test types into tmux with `send-keys` and reads the
screen back with `capture-pane`, polling until what should appear does.
"""

from __future__ import annotations

import contextlib
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
TIMEOUT = 15.0
WAITING = re.compile(r"waiting \d")  # the header's "waiting 4m (fresh)" while a customer waits


class Terminal:
    """One tmux session on a private tmux server, running a command in a 120×35 pane."""

    def __init__(self, command: str, env: dict[str, str], log: Path) -> None:
        self.socket = f"tgtriage-test-{uuid.uuid4().hex[:8]}"
        self.session = "desk"
        self.env = env
        self.log = log
        self._tmux(
            "new-session", "-d", "-s", self.session, "-x", str(WIDTH), "-y", str(HEIGHT), command
        )
        self.socket_path = Path(self._tmux("display-message", "-p", "#{socket_path}").strip())

    def _tmux(self, *args: str) -> str:
        """Run a tmux command against the private server."""
        done = subprocess.run(
            ["tmux", "-u", "-L", self.socket, "-f", "/dev/null", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def keys(self, *keys: str) -> None:
        """Send key names as tmux spells them (C-n, M-1, Enter, Escape, F1)."""
        self._tmux("send-keys", "-t", self.session, *keys)

    def resize(self, width: int, height: int) -> None:
        """Resize the pane, as a user does with their terminal window."""
        self._tmux("resize-window", "-t", self.session, "-x", str(width), "-y", str(height))

    def type(self, text: str) -> None:
        """Type literal text."""
        self._tmux("send-keys", "-t", self.session, "-l", text)

    def screen(self) -> str:
        """The pane as plain text."""
        return self._tmux("capture-pane", "-p", "-t", self.session)

    def lines(self) -> list[str]:
        """The pane's lines."""
        return self.screen().splitlines()

    def wait_for(self, check: Callable[[str], bool], what: str) -> str:
        """Poll the pane until `check(screen)` holds; fail with the screen and the log if not."""
        deadline = time.monotonic() + TIMEOUT
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.05)
        log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else "(no log)"
        raise AssertionError(
            f"timed out waiting for {what}\n--- screen ---\n{screen}\n--- log ---\n{log}"
        )

    def close(self) -> None:
        """Kill the session and this test's private tmux server."""
        for args in (("kill-session", "-t", self.session), ("kill-server",)):
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._tmux(*args)
        self.socket_path.unlink(missing_ok=True)


def header(screen: str) -> str:
    """The conversation header: line 2, right of the list's border."""
    line = screen.splitlines()[1]
    return line.split("▕", 1)[1] if "▕" in line else line


def header_details(screen: str) -> str:
    """The header's second line: who answered last, typing, tags, notes."""
    line = screen.splitlines()[2]
    return line.split("▕", 1)[1] if "▕" in line else line


def header_title(screen: str) -> str:
    """The open chat's title as the header shows it."""
    return header(screen).strip().split("  ")[0]


def composer_line(screen: str) -> str:
    """The composer's text line (inside its rounded box)."""
    lines = screen.splitlines()
    for index, line in enumerate(lines):
        if "╭" in line and index + 1 < len(lines):
            candidate = lines[index + 1]
            if "│" in candidate:
                return candidate.split("│")[1]
    return ""


def start_demo(tmp_path: Path, size_env: str = "-u COLUMNS -u LINES") -> Terminal:
    """`tgtriage demo --seed 3` in tmux with private config and data dirs."""
    # The tmux server hands its environment to the pane. COLUMNS/LINES from here would
    # override the pane's real size, NO_COLOR would change the screen, TMUX* would nest.
    skip = ("TGTRIAGE_", "TMUX", "COLUMNS", "LINES", "NO_COLOR")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    env.update(
        TGTRIAGE_CONFIG_DIR=str(tmp_path / "config"),
        TGTRIAGE_DATA_DIR=str(tmp_path / "data"),
        LANG="C.UTF-8",
        LC_ALL="C.UTF-8",
        TERM="xterm-256color",
        TGTRIAGE_UNDO_SEND_SECONDS="0",  # replies leave at once, as the tests expect
    )
    command = (
        f"cd {ROOT} && env {size_env} {sys.executable} -m tgtriage demo --seed 3; "
        "echo EXITED:$?; sleep 30"
    )
    return Terminal(command, env, tmp_path / "data" / "tgtriage.log")


@contextlib.contextmanager
def demo_terminal(tmp_path: Path, size_env: str = "-u COLUMNS -u LINES") -> Iterator[Terminal]:
    """`start_demo` for the duration: the pane and its tmux server go away afterwards."""
    term = start_demo(tmp_path, size_env)
    try:
        yield term
    finally:
        term.close()


def test_stale_exported_terminal_size_is_ignored(tmp_path: Path) -> None:
    """A shell that exported COLUMNS=80 LINES=24 must not shrink the desk inside 120×35."""
    with demo_terminal(tmp_path, size_env="COLUMNS=80 LINES=24") as term:
        screen = term.wait_for(
            lambda s: "Acme · Support" in s and len(s.splitlines()) >= HEIGHT - 1,
            "the desk drawn over the whole pane",
        )
        widest = max(len(line.rstrip()) for line in screen.splitlines())
        assert widest > 100, f"the desk kept the exported 80 columns:\n{screen}"


@pytest.mark.skipif(os.name != "posix", reason="tmux runs on POSIX terminals")
def test_real_keys_in_tmux(terminal: Terminal) -> None:
    term = terminal
    screen = term.wait_for(
        lambda s: "waiting:" in s and "no chat open" in s and "Acme · Support" in s,
        "the desk with the demo's chats",
    )
    assert "Working set is empty" in screen

    # Ctrl+N: the longest-waiting chat opens in slot 1.
    term.keys("C-n")
    screen = term.wait_for(lambda s: WAITING.search(header(s)) is not None, "a waiting chat")
    first = header_title(screen)
    assert first and f" 1 {first.replace(' · Support', '')[:8]}" in screen.splitlines()[0]

    # A reply + Enter: it shows in the conversation and the chat stops waiting.
    term.type("Looking into it now")
    assert "Looking into it now" in term.wait_for(
        lambda s: "Looking into it now" in composer_line(s), "the typed reply in the composer"
    )
    term.keys("Enter")
    screen = term.wait_for(
        lambda s: (
            "Write a reply" in composer_line(s)
            and "Looking into it now" in s
            and WAITING.search(header(s)) is None
        ),
        "the reply sent and the wait cleared",
    )
    assert "last answer: you" in header_details(screen)

    # Ctrl+N again: the next waiting chat takes slot 2.
    term.keys("C-n")
    screen = term.wait_for(lambda s: header_title(s) != first, "the second waiting chat")
    second = header_title(screen)
    assert " 2 " in screen.splitlines()[0]

    # Alt+1 / Alt+2 arrive as ESC+digit; they switch slots and type nothing.
    term.keys("M-1")
    term.wait_for(lambda s: header_title(s) == first, "Alt+1 to open slot 1")
    term.keys("M-2")
    screen = term.wait_for(lambda s: header_title(s) == second, "Alt+2 to open slot 2")
    assert "Write a reply" in composer_line(screen), "the composer stayed empty"
    assert not set("¡™£¢∞§¶•ªº") & set(composer_line(screen))

    # Alt+H: handled without a reply.
    term.keys("M-h")
    term.wait_for(lambda s: WAITING.search(header(s)) is None, "Alt+H to clear the wait")

    # Ctrl+K, a fuzzy query, Enter.
    term.keys("C-k")
    term.wait_for(lambda s: "Jump to chat" in s, "the switcher")
    term.type("oscp")
    term.wait_for(lambda s: "oscp" in s, "the query in the switcher")
    term.keys("Enter")
    term.wait_for(lambda s: header_title(s) == "Oscorp · Support", "Oscorp opened")

    # Esc leaves the composer: now "?" opens help instead of being typed.
    term.keys("Escape")
    time.sleep(0.3)  # a lone ESC followed at once by "?" would read as Alt+?
    term.type("?")
    screen = term.wait_for(lambda s: "tgtriage — keys" in s, "? to open help outside the composer")
    term.keys("Escape")
    screen = term.wait_for(lambda s: "tgtriage — keys" not in s, "Esc to close help")
    assert "?" not in composer_line(screen)

    # F1 opens help too; Esc closes it.
    term.keys("F1")
    term.wait_for(lambda s: "tgtriage — keys" in s and "Alt+1 … Alt+0" in s, "F1 help")
    term.keys("Escape")
    term.wait_for(lambda s: "tgtriage — keys" not in s, "Esc to close help")

    # Ctrl+Q quits cleanly.
    term.keys("C-q")
    term.wait_for(lambda s: "EXITED:0" in s, "tgtriage to exit with status 0")


def slot_strip(screen: str) -> str:
    """The working-set strip: the first line."""
    return screen.splitlines()[0]


@pytest.mark.skipif(os.name != "posix", reason="tmux runs on POSIX terminals")
def test_list_order_newline_send_next_pin_unpin_and_postpone_keys_in_tmux(
    terminal: Terminal,
) -> None:
    """Alt+↓/↑, Ctrl+J, Ctrl+S, Alt+W, Ctrl+W and Alt+P as a terminal sends them."""
    term = terminal
    term.wait_for(lambda s: "Acme · Support" in s and "waiting:" in s, "the demo desk")
    term.keys("C-n")
    screen = term.wait_for(lambda s: WAITING.search(header(s)) is not None, "a waiting chat")
    first = header_title(screen)

    # Alt+Down opens the next chat in list order, Alt+Up comes back.
    term.keys("M-Down")
    term.wait_for(lambda s: header_title(s) not in ("", first), "Alt+Down")
    term.keys("M-Up")
    term.wait_for(lambda s: header_title(s) == first, "Alt+Up back to the first chat")

    # Ctrl+J is a new line in the composer, not a send.
    term.type("line one")
    term.keys("C-j")
    term.type("line two")
    screen = term.wait_for(lambda s: "line two" in s, "the second line typed")
    lines = screen.splitlines()
    one = next(i for i, line in enumerate(lines) if "line one" in line)
    assert "line two" in lines[one + 1], "Ctrl+J did not start a new line in the composer"
    assert header_title(screen) == first

    # Ctrl+S sends both lines and opens the next waiting chat.
    term.keys("C-s")
    screen = term.wait_for(lambda s: header_title(s) not in ("", first), "Ctrl+S to move on")
    assert "line one" not in composer_line(screen)
    term.keys("M-1")
    screen = term.wait_for(
        lambda s: header_title(s) == first and WAITING.search(header(s)) is None,
        "slot 1 again, its wait cleared by the reply once delivered",
    )
    assert "line one" in screen and "line two" in screen, "the two-line reply is in the chat"

    # Alt+W pins the open chat to a chosen slot; Ctrl+W takes it out again.
    term.keys("M-w")
    term.wait_for(lambda s: "Pin to slot" in s, "the slot chooser")
    term.keys("7")
    screen = term.wait_for(lambda s: " 7 " in slot_strip(s), "the chat pinned to slot 7")
    assert " 1 " not in slot_strip(screen), "pinning moved the chat out of slot 1"
    term.keys("C-w")
    term.wait_for(lambda s: " 7 " not in slot_strip(s), "Ctrl+W to empty slot 7")

    # Alt+P postpones the open chat by a typed duration.
    term.keys("M-Down")
    term.wait_for(lambda s: header_title(s) != first, "another chat")
    term.keys("M-p")
    term.wait_for(lambda s: "Postpone until" in s, "the postpone chooser")
    term.keys("2")
    term.wait_for(lambda s: "postponed" in header(s), "the chat postponed")
