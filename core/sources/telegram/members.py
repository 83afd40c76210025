"""The members of a group as Telegram lists them (the team room's roster, core/desk/team_members.py).

A supergroup's members come from `channels.getParticipants` (the recent-members filter, paged
`PAGE` at a time up to `LIMIT`: Telegram itself caps what it lists, and a team room is small);
a basic group's from `messages.getFullChat`. Bots and deleted accounts are left out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from ...desk.models import User
from . import convert as conv
from .state import SourceState

PAGE = 200
LIMIT = 1000


Call = Callable[[Any], Awaitable[Any]]


async def list_members(state: SourceState, chat_id: int) -> list[User]:
    """The human members of group `chat_id` (raises on network errors and refusals)."""
    peer = await state.peer(chat_id)
    if peer is None:
        return []

    async def call(request: Any) -> Any:
        return await state.call(request, "team room members", wait_network=False)

    found = await fetch_members(call, peer)
    state.known.update(found)
    return humans(found.values())


async def fetch_members(call: Call, peer: Any) -> dict[int, Any]:
    """Every member Telegram lists for the group behind input peer `peer`, by user id."""
    from telethon import utils
    from telethon.tl import functions, types

    found: dict[int, Any] = {}
    if isinstance(peer, types.InputPeerChannel):
        channel = utils.get_input_channel(peer)
        while len(found) < LIMIT:
            request = functions.channels.GetParticipantsRequest(
                channel=channel,
                filter=types.ChannelParticipantsRecent(),
                offset=len(found),
                limit=PAGE,
                hash=0,
            )
            page = await call(request)
            users = [u for u in page.users if isinstance(u, types.User) and u.id not in found]
            found.update((u.id, u) for u in users)
            if len(page.participants) < PAGE or not users:
                break
    elif isinstance(peer, types.InputPeerChat):
        full = await call(functions.messages.GetFullChatRequest(chat_id=peer.chat_id))
        found.update((u.id, u) for u in full.users if isinstance(u, types.User))
    return found


def humans(users: Iterable[Any]) -> list[User]:
    """The desk's users for `users` (TL), bots and deleted accounts left out."""
    return [conv.convert_user(u) for u in users if not u.bot and not getattr(u, "deleted", False)]
