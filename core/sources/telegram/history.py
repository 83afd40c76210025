"""Message history for the Telegram source: the start-up backfill, older pages and gap checks.

While the dialog list pages (core/sources/telegram/chats.py) each page's support chats are
planned at once (`plan`): where staff spoke last nobody waits, and the dialog's top message is
all the triage needs (it is handed over with a `HistoryCut`, older pages load when the chat is
scrolled); the others, customers first, go to the backfill queue
(core/sources/telegram/backfill.py), which fetches a page of each as ordinary `NewMessage`
events (the Inbox dedupes by chat and id). A window of only customer messages pages further
back (up to `REACH_BACK_PAGES`) to find where the wait began; a `HistoryCut` event tells the
desk how far back it got, so a wait that began earlier shows as a lower bound, and a
`ReadUpTo` carries the dialog's unread count. A chat the store already holds gets only what is
newer. What the sync loaded fresh is vouched for to the reconciler
(core/sources/telegram/reconciling.py), which then spares it a deep check. After a reconnect
`gap_fill` compares the watched chats with their latest history.
`[telegram] history_limit = 0` loads no history at all.
"""

from __future__ import annotations

import asyncio
import logging
from collections import ChainMap
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from telethon.tl import functions

from ...desk.events import (
    HistoryCut,
    MessageEdited,
    MessagesDeleted,
    NewMessage,
    ReadUpTo,
    UnreadMarked,
)
from ...desk.models import Message, User
from ...rules.triage import Role, StaffRule
from . import convert as conv
from .backfill import BackfillQueue
from .chats import ChatDirectory
from .state import SourceState

log = logging.getLogger(__name__)

HISTORY_PAGE = 100
GAP_FILL_LIMIT = 100
REACH_BACK_PAGES = 5
"""How many more history pages a backfill reads to find where a customer's wait began."""
WATCHED_FALLBACK = 10

Pairs = list[tuple[Message, User | None]]


class HistorySync:
    """Fetches history pages and turns them into desk events."""

    def __init__(self, state: SourceState) -> None:
        """Work on the source's shared state."""
        self.state = state
        self._planned: set[int] = set()
        self._fresh = True

    async def start_up(
        self, chats: ChatDirectory, release_backlog: Callable[[], Awaitable[None]]
    ) -> None:
        """Page dialogs while the support chats' history loads (core/sources/telegram/backfill.py),
        apply the updates held meanwhile, then load what is left."""
        state = self.state
        queue = BackfillQueue(state, self.backfill_chat)
        workers = asyncio.ensure_future(queue.run())
        try:
            await chats.load_dialogs(
                lambda ids, tops, entities: self.plan(queue, ids, tops, entities)
            )
        except Exception as exc:
            message = f"the chat list could not be loaded ({type(exc).__name__}); restart to retry"
            state.warnings.append(message)
            log.exception("%s", message)
        finally:
            state.dialogs_ready.set()
        try:
            await release_backlog()
            if state.config.telegram.history_limit > 0:
                ranked = sorted(state.selected, key=lambda c: state.order.get(c, 0), reverse=True)
                for chat_id in ranked:  # the team room, and chats only the whole list chose
                    if chat_id not in self._planned:
                        queue.add(chat_id, urgent=False)
            queue.close()
            await workers
            self._vouch_account()
        finally:
            if not workers.done():
                workers.cancel()
            state.synced.set()

    def plan(
        self,
        queue: BackfillQueue,
        chat_ids: list[int],
        tops: Mapping[int, Any],
        entities: Mapping[int, Any],
    ) -> None:
        """Decide how much history each new support chat needs (see the module docstring)."""
        state = self.state
        if state.config.telegram.history_limit <= 0:
            return
        rule = StaffRule(me_id=state.self_id or 0, staff_ids=frozenset(state.staff))
        lookup = ChainMap(dict(entities), state.known)
        for chat_id in chat_ids:
            self._planned.add(chat_id)
            if self._known_id(chat_id):
                queue.add(chat_id, urgent=True)
                continue
            top = tops.get(chat_id)
            if top is None or not hasattr(top, "peer_id"):
                queue.add(chat_id, urgent=True)
                continue
            chat = state.selected.get(chat_id)
            forum = chat is not None and chat.kind == "forum"
            message = conv.convert_message(top, lookup, self_id=state.self_id, forum=forum)
            role = rule.role(message)
            if role is not Role.STAFF:
                queue.add(chat_id, urgent=role is Role.CUSTOMER)
                continue
            # Staff spoke last: nobody waits, and the top message is all the triage needs.
            state.remember(chat_id, [message])
            state.emit(NewMessage(message, conv.sender_user(top, lookup, state.self_id)))
            state.emit(HistoryCut(chat_id, message.id))
            self._emit_marks(chat_id)
            self._vouch(chat_id)

    def _known_id(self, chat_id: int) -> int:
        """The newest message id the desk's store holds of a chat (0 when none)."""
        hint = self.state.hints.last_known_id
        if hint is None:
            return 0
        try:
            return int(hint(chat_id) or 0)
        except Exception:
            return 0

    def _vouch(self, chat_id: int) -> None:
        """The desk now holds this chat's newest messages as of its dialog: tell the reconciler."""
        dialog = self.state.dialogs.get(chat_id)
        pts = getattr(dialog, "pts", None)
        if pts is not None:
            self.state.vouched[chat_id] = int(pts)

    def _vouch_account(self) -> None:
        """Every chat was loaded fresh: the other chats match Telegram up to the account pts
        of the first round trip (taken before anything was fetched)."""
        if self._fresh and self.state.first_pts is not None:
            self.state.vouched_account_pts = self.state.first_pts

    async def backfill_chat(self, chat_id: int) -> None:
        """Emit one chat's recent history (newer than what the store has) oldest first.

        A chat the store holds nothing of gets a page, and more only while no staff message
        was found (`reach_back`): enough to know whether and since when a customer waits.
        """
        state = self.state
        limit = state.config.telegram.history_limit
        if chat_id not in state.selected or limit <= 0:
            return
        min_id = self._known_id(chat_id)
        self._fresh = self._fresh and not min_id
        dialog = state.dialogs.get(chat_id)
        if min_id and dialog is not None and dialog.top_message <= min_id:
            self._emit_marks(chat_id)  # the store already holds the newest message
            return
        cut: int | None = None
        try:
            if min_id:
                pairs = await self.fetch(chat_id, limit=limit, min_id=min_id)
            else:
                window = min(limit, HISTORY_PAGE)
                pairs = await self.fetch(chat_id, limit=window)
                pairs, cut = await self.reach_back(chat_id, pairs, complete=len(pairs) < window)
        except Exception as exc:
            log.warning("history of chat %d could not be loaded: %s", chat_id, type(exc).__name__)
            return
        state.remember(chat_id, [m for m, _ in pairs])
        for message, sender in pairs:
            state.emit(NewMessage(message, sender))
        if cut is not None:
            state.emit(HistoryCut(chat_id, cut))
            self._vouch(chat_id)
        self._emit_marks(chat_id)

    def _emit_marks(self, chat_id: int) -> None:
        """The dialog's read mark, unread count and unread mark (after the chat's messages)."""
        state = self.state
        dialog = state.dialogs.get(chat_id)
        if dialog is not None:
            # Telegram's unread count, not the number of messages fetched (after them)
            state.emit(
                ReadUpTo(
                    chat_id,
                    dialog.read_inbox_max_id,
                    unread=dialog.unread_count,
                    as_of=dialog.top_message,
                )
            )
            state.emit(UnreadMarked(chat_id, bool(dialog.unread_mark)))

    async def reach_back(self, chat_id: int, pairs: Pairs, *, complete: bool) -> tuple[Pairs, int]:
        """Page further back while the window holds no staff message, up to REACH_BACK_PAGES.

        Returns the longer window and the history cut: the oldest id fetched, or 0 when the
        chat's beginning was reached (a wait that began before the cut shows as a lower bound).
        """
        state = self.state
        rule = StaffRule(me_id=state.self_id or 0, staff_ids=frozenset(state.staff))
        for _ in range(REACH_BACK_PAGES):
            if complete or not pairs or any(rule.role(m) is Role.STAFF for m, _ in pairs):
                break
            older = await self.fetch(chat_id, limit=HISTORY_PAGE, offset_id=pairs[0][0].id)
            complete = len(older) < HISTORY_PAGE
            pairs = [*older, *pairs]
        return pairs, 0 if complete or not pairs else pairs[0][0].id

    async def older(self, chat_id: int, before: int | None, limit: int) -> list[Message]:
        """Up to `limit` messages older than id `before` (the newest if None), oldest first."""
        if limit <= 0:
            return []
        pairs = await self.fetch(chat_id, limit=limit, offset_id=before or 0, wait_network=False)
        self.state.remember(chat_id, [m for m, _ in pairs])
        return [m for m, _ in pairs]

    async def fetch(
        self,
        chat_id: int,
        *,
        limit: int,
        offset_id: int = 0,
        min_id: int = 0,
        wait_network: bool = True,
    ) -> Pairs:
        """Up to `limit` messages before `offset_id` (0 = newest) and after `min_id`, oldest first."""
        state = self.state
        peer = await state.peer(chat_id)
        if peer is None or limit <= 0:
            return []
        chat = state.selected.get(chat_id)
        forum = chat is not None and chat.kind == "forum"
        collected: Pairs = []
        offset = offset_id
        while len(collected) < limit:
            size = min(HISTORY_PAGE, limit - len(collected))
            request = functions.messages.GetHistoryRequest(
                peer=peer,
                offset_id=offset,
                offset_date=None,
                add_offset=0,
                limit=size,
                max_id=0,
                min_id=min_id,
                hash=0,
            )
            result = await state.call(request, "history", wait_network=wait_network, paced=True)
            entities = conv.entity_map(result.users, result.chats)
            state.known.update(entities)
            lookup = ChainMap(entities, state.known)
            batch = [m for m in result.messages if hasattr(m, "peer_id") and m.id > min_id]
            for msg in batch:
                message = conv.convert_message(msg, lookup, self_id=state.self_id, forum=forum)
                collected.append((message, conv.sender_user(msg, lookup, state.self_id)))
            if len(result.messages) < size or not batch:
                break
            offset = min(m.id for m in batch)
        collected.sort(key=lambda pair: pair[0].id)
        return collected

    def watched(self) -> list[int]:
        """The chats to check after a reconnect (from the desk, or the most active ones)."""
        state = self.state
        if state.hints.watched is not None:
            try:
                return [c for c in state.hints.watched() if c in state.selected]
            except Exception:
                log.exception("the watched-chats hint failed")
        ranked = sorted(state.selected, key=lambda c: state.order.get(c, 0), reverse=True)
        return ranked[:WATCHED_FALLBACK]

    async def gap_fill(self, chat_ids: Iterable[int], limit: int = GAP_FILL_LIMIT) -> int:
        """Check chats against their latest history; emit what this source has not seen.

        New messages become NewMessage events, changed edit dates MessageEdited, and messages
        this source saw that are missing from the fetched range MessagesDeleted. Returns the
        number of new messages found.
        """
        state = self.state
        found = 0
        for chat_id in dict.fromkeys(chat_ids):
            if chat_id not in state.selected or state.stopping or await state.peer(chat_id) is None:
                continue
            known = dict(state.seen.get(chat_id, {}))
            try:
                pairs = await self.fetch(chat_id, limit=limit, wait_network=False)
            except Exception as exc:
                log.warning("gap fill of chat %d failed: %s", chat_id, type(exc).__name__)
                continue
            fetched = {m.id for m, _ in pairs}
            for message, sender in pairs:
                if message.id not in known:
                    found += 1
                    state.emit(NewMessage(message, sender))
                elif known[message.id][0] != message.edit_date:
                    state.emit(MessageEdited(message))
            if fetched or known:
                # fewer than asked for: that was the whole history, so anything else is gone
                low = min(fetched) if len(pairs) >= limit else 0
                gone = tuple(sorted(i for i in known if i >= low and i not in fetched))
                if gone:
                    state.emit(MessagesDeleted(chat_id, gone))
                    state.forget(chat_id, gone)
            state.remember(chat_id, [m for m, _ in pairs])
        if found:
            log.info("gap fill found %d missed messages", found)
        return found

    async def after_reconnect(self) -> None:
        """Check the watched chats against history once the chat list is known."""
        await self.state.dialogs_ready.wait()
        await self.gap_fill(self.watched())
