"""A catch-up's channels, fetched a few at once instead of one `GetChannelDifference` at a time.

After a night away Telethon's update loop asks `updates.GetChannelDifference` for every
channel that missed more than a few updates, one channel and one page of 100 updates per
request, in a row: hundreds of round trips before the desk knows who waits. The triage needs
only each chat's newest messages, so when Telethon asks for a support channel's difference
while at least `SHORTCUT_CHANNELS` channels wait in its box, `ChannelCatchUp` starts fetching
the newest page of each of those support channels (`messages.GetHistory`, `WORKERS` at once,
each request paced by `SourceState.pace` in core/sources/telegram/state.py), hands the desk
the messages it lacks as `NewMessage` events, and answers Telethon's request itself (through
the client's `answer_locally` seam, core/sources/telegram/client.py) with an empty difference
at the pts the page came with: Telethon's state moves on as after a `channelDifferenceTooLong`.
A page of only customer messages pages further back (up to `REACH_BACK_PAGES`) to find where
the wait began. The channels it fetched are vouched for to the reconciler at that pts
(core/sources/telegram/reconcile.py), so the round after the reconnect spares them a deep
check. Any other request, a channel outside the desk, or a fetch that failed is Telethon's own.
"""

from __future__ import annotations

import asyncio
import logging
from collections import ChainMap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...desk.events import NewMessage
from ...desk.models import Message, User
from ...rules.triage import Role, StaffRule
from . import convert as conv
from .state import SourceState

log = logging.getLogger(__name__)

SHORTCUT_CHANNELS = 4
"""Support channels waiting in Telethon's box before their newest pages are fetched instead."""
WORKERS = 4
"""How many channels' newest pages are fetched at once."""
PAGE = 50
"""Messages per page (what the desk keeps of each chat in memory, core/desk/windows.py)."""
REACH_BACK_PAGES = 3
"""More pages a channel of only customer messages reads to find where the wait began."""
PREFETCH_EVERY = 50
"""Updates between two looks at the channels Telethon's box waits for."""
CHANNEL_FLOOR = -1_000_000_000_000
FRESH_SECONDS = 60.0
"""A fetched page answers Telethon's request for that channel for this long (monotonic)."""


@dataclass(slots=True)
class _Fetch:
    """One channel's newest page: the task that fetches it and when it was started."""

    task: asyncio.Future[int | None]
    started: float


class ChannelCatchUp:
    """Answers a catch-up's channel differences from newest pages fetched in parallel."""

    def __init__(
        self, state: SourceState, vouch: Callable[[int, int], None], workers: int = WORKERS
    ) -> None:
        """Work on the source's shared state; `vouch(chat_id, pts)` tells the reconciler."""
        self.state = state
        self._vouch = vouch
        self._slots = asyncio.Semaphore(max(1, workers))
        self._fetches: dict[int, _Fetch] = {}
        self.answered = 0
        """Channel differences answered without asking Telegram."""
        self.pages = 0
        """History pages fetched for them."""
        self._updates = 0

    async def on_update(self, update: Any) -> None:
        """A raw update handler: while Telethon applies a difference, start the pages of the
        channels it will ask for next (every `PREFETCH_EVERY` updates), so they are in by then."""
        self._updates += 1
        if self._updates % PREFETCH_EVERY == 0:
            waiting = self._telethon_waiting()
            if len(waiting) >= SHORTCUT_CHANNELS:
                for chat_id in sorted(waiting):
                    self._start(chat_id)

    async def answer(self, request: Any) -> Any:
        """The client's `answer_locally` hook: an empty channel difference, or None."""
        from telethon.tl import functions, types

        if not isinstance(request, functions.updates.GetChannelDifferenceRequest):
            return None
        chat_id = conv.marked_id(types.PeerChannel(request.channel.channel_id))
        if chat_id not in self.state.selected:
            return None
        fetch = self._fetches.get(chat_id)
        if fetch is None or self.state.monotonic() - fetch.started > FRESH_SECONDS:
            waiting = self._telethon_waiting()
            if len(waiting | {chat_id}) < SHORTCUT_CHANNELS:
                return None
            for other in [chat_id, *sorted(waiting - {chat_id})]:
                self._start(other)
        fetch = self._fetches.pop(chat_id)
        try:
            pts = await asyncio.shield(fetch.task)
        except Exception as exc:
            log.info("channel %d: newest page failed (%s)", chat_id, type(exc).__name__)
            return None
        if pts is None or pts < request.pts:
            return None
        self.answered += 1
        return types.updates.ChannelDifferenceEmpty(pts=pts, final=True)

    def _telethon_waiting(self) -> set[int]:
        """The support channels whose difference Telethon's MessageBox still has to fetch (its
        `getting_diff_for`; a client without one answers none)."""
        box = getattr(self.state.client, "_message_box", None)
        entries = getattr(box, "getting_diff_for", None) or ()
        marked = {CHANNEL_FLOOR - entry for entry in entries if isinstance(entry, int)}
        return {c for c in marked if c in self.state.selected}

    def _start(self, chat_id: int) -> None:
        """Fetch a channel's newest page in the background, unless a fresh fetch runs."""
        fetch = self._fetches.get(chat_id)
        now = self.state.monotonic()
        if fetch is not None and now - fetch.started <= FRESH_SECONDS:
            return
        task = self.state.spawn(self._fetch(chat_id), "channel catch-up")
        self._fetches[chat_id] = _Fetch(task, now)

    async def _fetch(self, chat_id: int) -> int | None:
        """Emit what the desk lacks of a channel's newest messages; return the page's pts."""
        state = self.state
        async with self._slots:
            newest = self._newest_known(chat_id)
            pairs, pts, whole = await self._page(chat_id, 0, newest)
            rule = StaffRule(me_id=state.self_id or 0, staff_ids=frozenset(state.staff))
            for _ in range(REACH_BACK_PAGES):
                if whole or not pairs or any(rule.role(m) is Role.STAFF for m, _ in pairs):
                    break
                older, _, whole = await self._page(chat_id, pairs[0][0].id, newest)
                pairs = [*older, *pairs]
        seen = state.seen.get(chat_id, {})
        fresh = [(m, s) for m, s in pairs if m.id not in seen]
        state.remember(chat_id, [m for m, _ in fresh])
        for message, sender in fresh:
            state.emit(NewMessage(message, sender))
        if pts is not None:
            self._vouch(chat_id, pts)
        return pts

    def _newest_known(self, chat_id: int) -> int:
        """The newest message id the desk holds of a chat (from the desk's hint, else what
        this source handed it), 0 when none."""
        hint = self.state.hints.last_known_id
        known = max(self.state.seen.get(chat_id, {}), default=0)
        if hint is not None:
            try:
                known = max(known, int(hint(chat_id) or 0))
            except Exception:
                log.exception("the last-known-id hint failed")
        return known

    async def _page(
        self, chat_id: int, offset_id: int, min_id: int
    ) -> tuple[list[tuple[Message, User | None]], int | None, bool]:
        """One page older than `offset_id` (0: the newest) and newer than `min_id`, oldest
        first; the channel's pts; whether nothing newer than `min_id` is left below it."""
        from telethon.tl import functions

        state = self.state
        peer = await state.peer(chat_id)
        if peer is None:
            return [], None, True
        request = functions.messages.GetHistoryRequest(
            peer=peer,
            offset_id=offset_id,
            offset_date=None,
            add_offset=0,
            limit=PAGE,
            max_id=0,
            min_id=min_id,
            hash=0,
        )
        result = await state.call(request, "catch-up", wait_network=False, paced=True)
        self.pages += 1
        entities = conv.entity_map(result.users, result.chats)
        state.known.update(entities)
        lookup = ChainMap(entities, state.known)
        chat = state.selected.get(chat_id)
        forum = chat is not None and chat.kind == "forum"
        pairs = [
            (
                conv.convert_message(msg, lookup, self_id=state.self_id, forum=forum),
                conv.sender_user(msg, lookup, state.self_id),
            )
            for msg in result.messages
            if hasattr(msg, "peer_id") and msg.id > min_id
        ]
        pairs.sort(key=lambda pair: pair[0].id)
        pts = getattr(result, "pts", None)
        return pairs, int(pts) if pts is not None else None, len(result.messages) < PAGE
