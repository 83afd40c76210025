"""The exact bytes an alert writes to the terminal (bell, OSC 777, OSC 9, tmux passthrough) and
the notify-send command line — with hostile chat titles that try to break out of the OSC."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tgtriage.core.system.notify import (
    DesktopNotifier,
    TerminalNotifier,
    notification_text,
    osc_9,
    osc_777,
    osc_sequences,
    tmux_passthrough,
)

ESC, ST, BEL = "\x1b", "\x1b\\", "\x07"
EVIL = "Acme\x1b\\\x1b]52;c;ZXZpbA==\x07\x9d;rm -rf\x07 · Support\n"


def test_osc_777_and_9_are_written_exactly() -> None:
    assert osc_777("tgtriage · Acme", "Waiting 15m: late") == (
        "\x1b]777;notify;tgtriage · Acme;Waiting 15m: late\x1b\\"
    )
    assert osc_9("tgtriage · Acme", "Waiting 15m: late") == (
        "\x1b]9;tgtriage · Acme: Waiting 15m: late\x1b\\"
    )


def test_osc_9_text_never_starts_with_a_digit() -> None:
    """ConEmu reads 'OSC 9 ; 4 ; …' as a progress-bar command."""
    assert osc_9("4 customers", "waiting") == "\x1b]9;tgtriage 4 customers: waiting\x1b\\"


def test_tmux_passthrough_doubles_every_escape() -> None:
    wrapped = tmux_passthrough(osc_777("T", "B"))
    assert wrapped == "\x1bPtmux;\x1b\x1b]777;notify;T;B\x1b\x1b\\\x1b\\"
    assert osc_sequences("T", "B", ["777", "9"], tmux=True) == [
        wrapped,
        "\x1bPtmux;\x1b\x1b]9;T: B\x1b\x1b\\\x1b\\",
    ]
    assert osc_sequences("T", "B", ["9"], tmux=False) == ["\x1b]9;T: B\x1b\\"]


@pytest.mark.parametrize("text", [EVIL, "\x9b31m\x9c\x1bP…", "a;b;c", "\u202eevil\u202c"])
def test_hostile_titles_cannot_end_the_osc_or_add_fields(text: str) -> None:
    clean = notification_text(text, 60)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in clean)
    assert ";" not in clean and ESC not in clean and BEL not in clean
    assert "\u202e" not in clean
    sequence = osc_777(text, text)
    # Exactly one OSC, exactly one terminator, exactly the three fields notify;title;body.
    assert sequence.count(ESC) == 2 and sequence.endswith(ST) and BEL not in sequence
    assert sequence[len("\x1b]777;") : -2].count(";") == 2


def test_a_hostile_title_is_stripped_to_its_text() -> None:
    assert notification_text(EVIL, 60) == "Acme · Support"


def test_the_terminal_notifier_writes_bell_and_notifications_until_closed() -> None:
    written: list[str] = []
    outside = TerminalNotifier(written.append, {}, ["777", "9"])
    outside.bell()
    outside.notify("tgtriage · Acme", "Waiting 5m: due")
    assert written == [
        BEL,
        "\x1b]777;notify;tgtriage · Acme;Waiting 5m: due\x1b\\",
        "\x1b]9;tgtriage · Acme: Waiting 5m: due\x1b\\",
    ]
    written.clear()
    inside = TerminalNotifier(written.append, {"TMUX": "/tmp/tmux-1000/default,1,0"}, ["777"])
    inside.bell()
    inside.notify("T", "B")
    assert written == [BEL, "\x1bPtmux;\x1b\x1b]777;notify;T;B\x1b\x1b\\\x1b\\"], (
        "the bell is not wrapped: tmux itself flags the window"
    )
    inside.close()
    inside.bell()
    inside.notify("T", "B")
    assert len(written) == 2, "nothing is written after close"


class FakeProcess:
    """A finished process."""

    def __init__(self) -> None:
        self.killed = False

    async def wait(self) -> int:
        return 0

    def kill(self) -> None:
        self.killed = True


async def test_notify_send_gets_sanitised_arguments_and_no_shell() -> None:
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    async def spawn(*args: Any, **kwargs: Any) -> FakeProcess:
        calls.append((args, kwargs))
        return FakeProcess()

    desktop = DesktopNotifier("/usr/bin/notify-send", spawn)
    assert desktop.available
    desktop.notify("tgtriage · " + EVIL, "-u critical; Waiting 1h: breached", urgent=True)
    desktop.notify("tgtriage · Acme", "Waiting 5m: due", urgent=False)
    await desktop.aclose()
    assert [args for args, _ in calls] == [
        (
            "/usr/bin/notify-send",
            "--app-name=tgtriage",
            "--urgency=critical",
            "--",
            "tgtriage · Acme · Support",
            "-u critical, Waiting 1h: breached",
        ),
        (
            "/usr/bin/notify-send",
            "--app-name=tgtriage",
            "--urgency=normal",
            "--",
            "tgtriage · Acme",
            "Waiting 5m: due",
        ),
    ]
    assert all(kw["stdin"] == asyncio.subprocess.DEVNULL for _, kw in calls)


async def test_a_missing_or_failing_notify_send_never_raises() -> None:
    async def broken(*args: Any, **kwargs: Any) -> FakeProcess:
        raise FileNotFoundError("notify-send")

    desktop = DesktopNotifier("/nowhere/notify-send", broken)
    desktop.notify("a", "b", urgent=False)
    await desktop.aclose()
    absent = DesktopNotifier("", broken)
    assert not absent.available
    absent.notify("a", "b", urgent=False)
    await absent.aclose()


async def test_a_real_notify_send_command_runs_with_the_arguments(tmp_path: Any) -> None:
    """A real process (a script standing in for notify-send) receives exactly the arguments."""
    out = tmp_path / "argv.txt"
    script = tmp_path / "notify-send"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {out}\n')
    script.chmod(0o755)
    desktop = DesktopNotifier(str(script))
    desktop.notify("tgtriage · Globex", "Waiting 1h: breached", urgent=True)
    await desktop.aclose()
    for _ in range(100):
        if out.exists() and out.read_text():
            break
        await asyncio.sleep(0.02)
    assert out.read_text().splitlines() == [
        "--app-name=tgtriage",
        "--urgency=critical",
        "--",
        "tgtriage · Globex",
        "Waiting 1h: breached",
    ]
