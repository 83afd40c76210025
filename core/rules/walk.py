"""Ctrl+N's walk through the waiting chats: each in triage order once, a skipped one after the rest.

A pure rule over the waiting chats (triage order, each with a marker that changes when its
customer writes again) and the chats already passed in this round; the Inbox keeps the round
(core/desk/actions.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def next_waiting(
    waiting: Sequence[tuple[int, int]], open_id: int | None, passed: Mapping[int, int]
) -> tuple[int | None, dict[int, int]]:
    """The waiting chat Ctrl+N opens from `open_id`, and the round's passed chats after it.

    `waiting` holds (chat id, marker) in triage order; `passed` maps each chat already visited
    this round to its marker then. A passed chat whose marker changed (its customer wrote
    again) or that no longer waits counts as new. The walk goes on after the open chat's place
    in the order, takes the first chat not passed, and starts a new round (everyone but the open
    chat again) only when every other waiting chat has been passed.
    """
    marker_of = dict(waiting)
    kept = {chat_id: mark for chat_id, mark in passed.items() if marker_of.get(chat_id) == mark}
    open_waits = open_id is not None and open_id in marker_of
    if open_id is not None and open_waits:
        kept[open_id] = marker_of[open_id]
        start = [chat_id for chat_id, _ in waiting].index(open_id) + 1
        ring = [chat_id for chat_id, _ in (*waiting[start:], *waiting[: start - 1])]
    else:
        ring = [chat_id for chat_id, _ in waiting]
    fresh = [chat_id for chat_id in ring if chat_id not in kept]
    if not fresh:
        kept = {open_id: marker_of[open_id]} if open_id is not None and open_waits else {}
        fresh = ring
    if not fresh:
        return None, kept
    chosen = fresh[0]
    kept[chosen] = marker_of[chosen]
    return chosen, kept


def walkable(claimed_by_other: bool, level: int | None) -> bool:
    """A chat a teammate holds (core/team/state.py) is left to them until it breaches (level 3)."""
    return not claimed_by_other or (level is not None and level >= 3)
