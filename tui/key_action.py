"""One entry of the key registry (an action, its default keys and its help line) and how keys are shown."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Action:
    """One thing the engineer can do, with its default keys and where it is documented."""

    id: str
    keys: str
    action: str
    description: str
    group: str
    show: bool = False
    priority: bool = True
    key_display: str | None = None


_KEY_NAMES = {
    "up": "↑",
    "down": "↓",
    "left": "←",
    "right": "→",
    "escape": "Esc",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "delete": "Del",
    "backspace": "Backspace",
}


def key_label(keys: str) -> str:
    """A Textual key string as help and the footer show it (`ctrl+n` → `^N`, `f2` → `F2`)."""
    labels = []
    for key in (part.strip() for part in keys.split(",")):
        *modifiers, name = key.split("+")
        shown = _KEY_NAMES.get(name, name.upper() if len(name) <= 3 else name.title())
        if modifiers == ["ctrl"]:
            labels.append(f"^{shown}")
        else:
            labels.append("+".join([*(m.title() for m in modifiers), shown]))
    return " / ".join(labels)


def display_keys(action: Action, keymap: Mapping[str, str]) -> str:
    """How to show an action's keys in help and the footer, honouring the user's remapping."""
    if action.id in keymap:
        return key_label(keymap[action.id])
    return action.key_display or action.keys
