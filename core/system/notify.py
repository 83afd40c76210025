"""Getting an alert out of the desk: the terminal bell, OSC 777 / OSC 9 notifications written to
the terminal (wrapped in tmux's DCS passthrough when $TMUX is set) and notify-send.

The escape sequences are built by pure functions; `TerminalNotifier` and `DesktopNotifier` are
the small objects with a lifetime that write them or run the command. Notification text comes
from chat titles, which are untrusted: every control character is removed (so a title cannot
end the OSC string early and smuggle in its own sequence), as is ';', the OSC field separator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from ..rules.sanitize import clean_line

log = logging.getLogger(__name__)

ESC = "\x1b"
ST = ESC + "\\"  # string terminator
BEL = "\x07"
TITLE_LIMIT = 60
BODY_LIMIT = 160
Write = Callable[[str], None]


def notification_text(text: str, limit: int) -> str:
    """Text safe inside an OSC string: one line, no controls or escapes, no ';'."""
    cleaned = clean_line(text, limit).replace(";", ",")
    return "".join(ch if ch.isprintable() else " " for ch in cleaned)


def osc_777(title: str, body: str) -> str:
    """OSC 777 ('notify'), as urxvt, foot, WezTerm, Ghostty and VTE read it."""
    return f"{ESC}]777;notify;{notification_text(title, TITLE_LIMIT)};" + (
        f"{notification_text(body, BODY_LIMIT)}{ST}"
    )


def osc_9(title: str, body: str) -> str:
    """OSC 9 (iTerm2, Windows Terminal, ConEmu): one line of text."""
    text = f"{notification_text(title, TITLE_LIMIT)}: {notification_text(body, BODY_LIMIT)}"
    # ConEmu reads "9;<digit>;…" as a sub-command; the text never starts with a digit.
    if text[:1].isdigit():
        text = "tgtriage " + text
    return f"{ESC}]9;{text}{ST}"


def tmux_passthrough(sequence: str) -> str:
    """Wrap a sequence so tmux hands it to the outer terminal (needs `allow-passthrough on`)."""
    return f"{ESC}Ptmux;{sequence.replace(ESC, ESC + ESC)}{ST}"


def osc_sequences(title: str, body: str, codes: Iterable[str], tmux: bool) -> list[str]:
    """The notification sequences to write for one alert, in order."""
    builders = {"777": osc_777, "9": osc_9}
    result = []
    for code in codes:
        sequence = builders[code](title, body)
        result.append(tmux_passthrough(sequence) if tmux else sequence)
    return result


class TerminalNotifier:
    """Writes the bell and OSC notifications through the app's terminal writer until closed."""

    def __init__(self, write: Write, env: Mapping[str, str], codes: Sequence[str]) -> None:
        """`write` puts text on the terminal between frames (Textual's driver.write)."""
        self._write: Write | None = write
        self.tmux = bool(env.get("TMUX"))
        self.codes = tuple(codes)

    def bell(self) -> None:
        """Ring the terminal bell (tmux marks the window; it is not wrapped)."""
        if self._write is not None:
            self._write(BEL)

    def notify(self, title: str, body: str) -> None:
        """Show a desktop notification through the terminal, where it supports one."""
        if self._write is None:
            return
        for sequence in osc_sequences(title, body, self.codes, self.tmux):
            self._write(sequence)

    def close(self) -> None:
        """Stop writing (the terminal is being handed back)."""
        self._write = None


class _Process(Protocol):
    """The part of asyncio.subprocess.Process the desktop notifier uses."""

    async def wait(self) -> int:
        """Wait for the process to end."""
        ...

    def kill(self) -> None:
        """Stop the process."""
        ...


Spawn = Callable[..., Awaitable[Any]]


class DesktopNotifier:
    """Runs `notify-send` for an alert without waiting for it; reaps what it started."""

    def __init__(self, command: str | None = None, spawn: Spawn | None = None) -> None:
        """`command` defaults to notify-send on PATH; `spawn` to asyncio's subprocess exec."""
        self.command = command if command is not None else shutil.which("notify-send")
        self._spawn: Spawn = spawn or asyncio.create_subprocess_exec
        self._running: set[asyncio.Task[None]] = set()

    @property
    def available(self) -> bool:
        """Whether there is a notify-send to run."""
        return bool(self.command)

    def notify(self, title: str, body: str, urgent: bool) -> None:
        """Start notify-send in the background (arguments only, never a shell)."""
        if not self.command:
            return
        args = [
            self.command,
            "--app-name=tgtriage",
            f"--urgency={'critical' if urgent else 'normal'}",
            "--",
            notification_text(title, TITLE_LIMIT),
            notification_text(body, BODY_LIMIT),
        ]
        task = asyncio.ensure_future(self._run(args))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _run(self, args: list[str]) -> None:
        """Run one notify-send and wait for it; a failure is logged, never raised."""
        try:
            process: _Process = await self._spawn(
                *args,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
        except OSError as exc:
            log.warning("notify-send could not start: %s", exc)
            return
        try:
            await asyncio.wait_for(process.wait(), timeout=10)
        except TimeoutError:
            log.warning("notify-send did not finish within 10 s; stopped it")
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            raise

    async def aclose(self) -> None:
        """Wait briefly for running notify-sends, then cancel what is left."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=1)
        for task in list(self._running):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
