"""The `[keys]` table checked before the desk starts: known actions, readable keys, no key twice.

The action registry (ids and default keys) lives with the TUI (tui/keymap.py) and is passed in
as plain mappings, so the rules here stay free of Textual. Key names follow Textual's: optional
modifiers (`ctrl+`, `alt+`, `shift+`, `meta+`, `super+`, `hyper+`) then one key: a character,
a named key (`f1`…`f24`, `escape`, `pageup`, …) or a character's Unicode name in lower case with
underscores (`pound_sign`, `question_mark`).
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MODIFIERS = ("ctrl", "alt", "shift", "meta", "super", "hyper")
NAMED_KEYS = frozenset(
    {
        "backspace",
        "delete",
        "down",
        "end",
        "enter",
        "escape",
        "home",
        "insert",
        "left",
        "pagedown",
        "pageup",
        "return",
        "right",
        "space",
        "tab",
        "up",
        "newline",
        "slash",
        "backslash",
        "at",
        "minus",
        "plus",
        "underscore",
        *(f"f{n}" for n in range(1, 25)),
    }
)


@dataclass(frozen=True, slots=True)
class KeyProblem:
    """One problem in `[keys]`: the action id it is written under and the fix, as one line."""

    action: str
    message: str


def split_keys(value: str) -> list[str]:
    """The keys of one binding value: 'ctrl+n, f2' → ['ctrl+n', 'f2']."""
    return [part.strip() for part in value.split(",") if part.strip()]


def key_error(key: str) -> str | None:
    """Why `key` is not a key Textual can bind ("ctrl+nn" → unknown key 'nn'), or None."""
    *modifiers, base = key.split("+")
    for modifier in modifiers:
        if modifier not in MODIFIERS:
            close = difflib.get_close_matches(modifier, MODIFIERS, n=1)
            hint = f"did you mean {close[0]}+?" if close else f"use {', '.join(MODIFIERS)}"
            return f"{key!r} has an unknown modifier {modifier!r}; {hint}"
    if len(base) == 1 or base in NAMED_KEYS or _unicode_name(base):
        return None
    close = difflib.get_close_matches(base, sorted(NAMED_KEYS), n=1)
    example = "+".join([*modifiers, close[0]]) if close else "ctrl+n"
    return f"{key!r} is not a key ({base!r} is unknown); write a key like {example!r} or 'f2'"


def _unicode_name(name: str) -> bool:
    """Whether `name` spells one character's Unicode name (`pound_sign`)."""
    try:
        unicodedata.lookup(name.replace("_", " ").upper())
    except KeyError:
        return False
    return True


def key_problems(keys: Mapping[str, str], groups: Sequence[Mapping[str, str]]) -> list[KeyProblem]:
    """Every problem of a `[keys]` table against the actions of `groups` (id → default keys).

    Each group is one screen's actions (the desk, the login screen): an unknown action id, a key
    that cannot be read, and a key that two actions of the same group would share after the
    remapping are each one problem naming the fix.
    """
    known = {action for group in groups for action in group}
    problems: list[KeyProblem] = []
    for action, value in keys.items():
        if action not in known:
            close = difflib.get_close_matches(action, sorted(known), n=1)
            hint = (
                f"did you mean {close[0]}?" if close else f"use one of {', '.join(sorted(known))}"
            )
            problems.append(KeyProblem(action, f"unknown action {action!r}; {hint}"))
            continue
        if not split_keys(value):
            problems.append(KeyProblem(action, "no key given; write e.g. 'ctrl+n' or 'f2'"))
            continue
        for key in split_keys(value):
            error = key_error(key)
            if error is not None:
                problems.append(KeyProblem(action, error))
                break
    if problems:
        return problems
    for group in groups:
        problems.extend(_clashes(keys, group))
    return problems


def _clashes(keys: Mapping[str, str], group: Mapping[str, str]) -> list[KeyProblem]:
    """Keys that two actions of one group would share once `keys` remaps some of them."""
    owner: dict[str, str] = {}
    problems: list[KeyProblem] = []
    # Remapped actions last, so the message is written under the line the user wrote.
    order = sorted(group, key=lambda action: action in keys)
    for action in order:
        for key in split_keys(keys.get(action, group[action])):
            first = owner.setdefault(key, action)
            if first == action:
                continue
            other = first if action in keys else action
            mine = action if action in keys else first
            problems.append(
                KeyProblem(
                    mine,
                    f"{key!r} is already the key of {other!r}; pick another key, or remap "
                    f"{other} too (keys.{other} = '…')",
                )
            )
    return problems
