"""Telegram's second search tier: `messages.search` in one chat, `messages.searchGlobal` across.

The desk's own store answers first (core/storage/search.py); this asks Telegram for what the
store may not hold. One page only, asked once: a FloodWait or a network error is raised to the
caller (the search screen shows one line), never waited out, since the next keystroke asks again.
Telethon and the converters are imported on the first search, not with the module.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import ChainMap
from typing import Any

from ...rules.search_query import Hit
from .state import SourceState, guarded


def _date(stamp: int | None) -> dt.datetime | None:
    """A unix time as the aware datetime Telethon sends (None: no bound)."""
    return None if stamp is None else dt.datetime.fromtimestamp(stamp, dt.UTC)


async def search_messages(
    state: SourceState,
    text: str,
    chat_id: int | None,
    limit: int,
    after: int | None = None,
    before: int | None = None,
) -> list[Hit]:
    """Messages holding `text`, newest first, in chat `chat_id` or in every chat (None)."""
    from telethon.tl import functions, types

    from . import convert as conv

    request: Any
    if chat_id is not None:
        peer = await state.peer(chat_id)
        if peer is None:
            return []
        request = functions.messages.SearchRequest(
            peer=peer,
            q=text,
            filter=types.InputMessagesFilterEmpty(),
            min_date=_date(after),
            max_date=_date(before),
            offset_id=0,
            add_offset=0,
            limit=limit,
            max_id=0,
            min_id=0,
            hash=0,
        )
    else:
        request = functions.messages.SearchGlobalRequest(
            q=text,
            filter=types.InputMessagesFilterEmpty(),
            min_date=_date(after),
            max_date=_date(before),
            offset_rate=0,
            offset_peer=types.InputPeerEmpty(),
            offset_id=0,
            limit=limit,
        )
    result = await guarded(asyncio.wait_for(state.client(request), state.request_timeout))
    state.touch()
    entities = conv.entity_map(result.users, result.chats)
    state.known.update(entities)
    lookup = ChainMap(entities, state.known)
    hits: list[Hit] = []
    for msg in result.messages:
        if not isinstance(msg, types.Message):
            continue
        found = conv.convert_message(msg, lookup, self_id=state.self_id)
        chat = state.selected.get(found.chat_id)
        entity = lookup.get(found.chat_id)
        title = chat.title if chat is not None else conv.user_name(entity) if entity else ""
        sender = "You" if found.out else found.sender_name
        hits.append(Hit(found, title, sender))
    hits.sort(key=lambda hit: (hit.message.date, hit.message.id), reverse=True)
    return hits
