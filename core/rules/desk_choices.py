"""What the desk's keys decide, as pure functions: the UI (tui/desk_*.py) asks, then draws."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .targets import VIP, Targets, parse_targets

TYPED = "="  # a dialog's typed value is passed on after this mark (a chosen one without it)


def enter_takes_template(word: str, keys: Iterable[str], moved: bool) -> bool:
    """Whether Enter in the `/word` popup inserts the highlighted template (else it sends).

    Only when the typed word is itself a template's key, or the engineer moved the highlight:
    `/start` + Enter sends `/start` even while a `/st…` template is listed.
    """
    return moved or word.casefold() in {key.casefold() for key in keys}


def typed_value(value: str) -> str:
    """A dialog's value without the mark that says it was typed."""
    return value.removeprefix(TYPED)


def ticket_choices(current: str | None, mentioned: Sequence[str]) -> list[str]:
    """The tickets a chat can open: its own first, then those mentioned (latest first), once."""
    if not current:
        return list(dict.fromkeys(mentioned))
    return [current, *dict.fromkeys(ref for ref in mentioned if ref != current)]


def chosen_targets(value: str) -> Targets | None:
    """The response targets a choice means: None for the configured ones (ValueError if typed
    targets cannot be read)."""
    if value == "default":
        return None
    if value == "vip":
        return VIP
    return parse_targets(typed_value(value))
