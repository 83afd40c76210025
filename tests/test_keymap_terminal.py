"""Every default key of the desk must arrive as itself from a real terminal.

Textual's own xterm parser reads the bytes xterm and tmux send for a key. Some keys never
arrive under their name: Alt+F and Alt+B come as Ctrl+→ / Ctrl+← ("natural editing"), Shift+F3
reads as a cursor report, Alt+digit becomes ¡™£…. A default binding that only such a spelling
would fire is a key that does nothing for the user, so each action needs one spelling that the
parser produces from what the terminal sends.
"""

from __future__ import annotations

import contextlib

import pytest
from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from tgtriage.tui import keymap as km
from tgtriage.tui import textual_compat

textual_compat.apply()  # as the desk does on import: ESC+digit is read as Alt+digit

# What xterm (and tmux with its default xterm keys) sends for the named keys the desk uses.
NAMED = {
    "escape": "\x1b",
    "enter": "\r",
    "tab": "\t",
    "up": "\x1b[A",
    "down": "\x1b[B",
    "alt+up": "\x1b[1;3A",
    "alt+down": "\x1b[1;3B",
    "ctrl+up": "\x1b[1;5A",
    "ctrl+down": "\x1b[1;5B",
    "f1": "\x1bOP",
    "f2": "\x1bOQ",
    "f3": "\x1bOR",
    "f4": "\x1bOS",
    "f5": "\x1b[15~",
    "f6": "\x1b[17~",
    "f7": "\x1b[18~",
    "f8": "\x1b[19~",
    "f9": "\x1b[20~",
    "f10": "\x1b[21~",
    "shift+f3": "\x1b[1;2R",
    "pageup": "\x1b[5~",
    "pagedown": "\x1b[6~",
    "home": "\x1b[H",
    "end": "\x1b[F",
    "slash": "/",
    "plus": "+",
}


def terminal_bytes(key: str) -> str | None:
    """The bytes a terminal sends for a Textual key name (None: not a key a terminal sends)."""
    if key in NAMED:
        return NAMED[key]
    if key.startswith("ctrl+") and len(key) == 6 and key[5].isalpha():
        return chr(ord(key[5]) - ord("a") + 1)
    if key.startswith("alt+shift+") and len(key) == 11:
        return "\x1b" + key[10].upper()
    if key.startswith("alt+") and len(key) == 5:
        return "\x1b" + key[4]
    return None


def parsed(data: str) -> list[str]:
    """The key names Textual's parser makes of `data` (flushing a lone trailing ESC)."""
    parser = XTermParser()
    events = list(parser.feed(data))
    with contextlib.suppress(ParseError):
        events += list(parser.feed(""))
    return [event.key for event in events if hasattr(event, "key")]


def test_the_parser_reads_what_this_test_sends() -> None:
    """The table above matches Textual: a plain Alt+letter and the known remappings."""
    assert parsed("\x1bh") == ["alt+h"]
    assert parsed("\x1bf") == ["ctrl+right"]  # Alt+F is lost: never bind it alone
    assert parsed("\x1b1") == ["alt+1"]  # tui/textual_compat/: ESC+digit is Alt+digit
    assert parsed("£•™") == ["pound_sign", "bullet", "trade_mark_sign"]  # typed: text
    assert parsed(NAMED["shift+f3"]) == []  # a cursor position report, not a key


@pytest.mark.parametrize(
    "action", [*km.ACTIONS, *km.LOGIN_ACTIONS, *km.MESSAGE_ACTIONS], ids=lambda a: a.id
)
def test_each_action_has_a_default_key_a_terminal_can_send(action: km.Action) -> None:
    spellings = [k.strip() for k in action.keys.split(",")]
    reachable = []
    for key in spellings:
        data = terminal_bytes(key)
        if data is None and len(key) == 1:
            data = key
        if data is not None and parsed(data) == [key]:
            reachable.append(key)
    assert reachable, f"{action.id}: none of {spellings} arrives from a terminal as itself"
