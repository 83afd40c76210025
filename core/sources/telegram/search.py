"""Telegram's second search tier: `messages.search` in one chat, `messages.searchGlobal` across.

The desk's own store answers first (core/storage/search.py); this asks Telegram for what the
store may not hold, a page at a time (the next page starts after the last message of this one):
a FloodWait or a network error is raised to the caller (the search screen shows one line),
never waited out, since the next keystroke asks again. A sender (`from:`) goes to
`messages.search` as `from_id`; `messages.searchGlobal` has no such field, so across chats the
desk filters by name (core/desk/reads.py). Telethon and the converters are imported on the first
search, not with the module.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import ChainMap
from typing import Any

from ...rules.search_query import Hit, SourceFound, SourcePage
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
    sender_id: int | None = None,
    page: SourcePage | None = None,
) -> SourceFound:
    """Messages holding `text`, newest first, in chat `chat_id` (by `sender_id` when given) or
    in every chat (None), from `page` on (None: the newest); and where the next page starts."""
    from telethon.tl import functions, types

    from . import convert as conv

    request: Any
    if chat_id is not None:
        peer = await state.peer(chat_id)
        if peer is None:
            return [], None
        sender = await state.peer(sender_id) if sender_id is not None else None
        request = functions.messages.SearchRequest(
            peer=peer,
            q=text,
            filter=types.InputMessagesFilterEmpty(),
            min_date=_date(after),
            max_date=_date(before),
            offset_id=page.offset_id if page else 0,
            add_offset=0,
            limit=limit,
            max_id=0,
            min_id=0,
            hash=0,
            from_id=sender,
        )
    else:
        offset_peer = None
        if page is not None and page.offset_chat is not None:
            offset_peer = await state.peer(page.offset_chat)
        request = functions.messages.SearchGlobalRequest(
            q=text,
            filter=types.InputMessagesFilterEmpty(),
            min_date=_date(after),
            max_date=_date(before),
            offset_rate=page.offset_rate if page else 0,
            offset_peer=offset_peer or types.InputPeerEmpty(),
            offset_id=page.offset_id if page and offset_peer else 0,
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
        sender_name = "You" if found.out else found.sender_name
        hits.append(Hit(found, title, sender_name))
    return _newest_first(hits), _next_page(result, hits, limit)


def _newest_first(hits: list[Hit]) -> list[Hit]:
    """The hits sorted newest first."""
    return sorted(hits, key=lambda hit: (hit.message.date, hit.message.id), reverse=True)


def _next_page(result: Any, hits: list[Hit], limit: int) -> SourcePage | None:
    """Where the page after `result` starts, or None when it was the last (a short page)."""
    if len(result.messages) < limit or not hits:
        return None
    last = min(hits, key=lambda hit: (hit.message.date, hit.message.id)).message
    rate = getattr(result, "next_rate", None)
    return SourcePage(last.id, last.chat_id, rate if rate is not None else last.date)
