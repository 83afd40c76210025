"""Chats a teammate handed to this engineer: they lead the list (`→ from Alex`) until opened here,
and each one alerts once (core/desk/alert_watch.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .team import TeamDesk


def handed_to_me(team: TeamDesk) -> list[int]:
    """Chats handed to this engineer whose claim is still the handoff's and which this desk has
    not opened since, newest handoff first."""
    me = team.me_id
    if me is None or not team.active:
        return []
    found: list[tuple[int, int]] = []
    for chat_id, handoff in team.state.handoffs.items():
        if handoff.taker != me or handoff.giver == me:
            continue
        claim = team.holder(chat_id)
        if claim is None or claim.owner != me or claim.msg_id != handoff.msg_id:
            continue
        if team.opened_handoffs.get(chat_id, 0) >= handoff.msg_id:
            continue
        found.append((handoff.msg_id, chat_id))
    return [chat_id for _, chat_id in sorted(found, reverse=True)]


def first_handed(team: TeamDesk, order: list[int]) -> list[int]:
    """`order` with the chats handed to this engineer moved to the front."""
    handed = [chat_id for chat_id in handed_to_me(team) if chat_id in set(order)]
    if not handed:
        return order
    lead = set(handed)
    return [*handed, *(chat_id for chat_id in order if chat_id not in lead)]


def opened(team: TeamDesk, chat_id: int) -> bool:
    """The engineer opened `chat_id`: a handoff of it no longer leads the list; True if it did."""
    handoff = team.state.handoffs.get(chat_id)
    if handoff is None or team.opened_handoffs.get(chat_id, 0) >= handoff.msg_id:
        return False
    led = chat_id in handed_to_me(team)
    team.opened_handoffs[chat_id] = handoff.msg_id
    return led
