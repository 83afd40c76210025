"""Message history for the Telegram source: the start-up backfill, older pages and gap checks.

After the chat list is known (core/sources/telegram/chats.py) each support chat's recent
history is fetched, newest chats first and rate-limited, and handed to the desk as ordinary
`NewMessage` events framed by `SyncProgress` (the Inbox dedupes by chat and id). A window
of only customer messages pages further back (up to `REACH_BACK_PAGES`) to find where the
wait began; a `HistoryCut` event tells the desk how far back it got, so a wait that began
earlier shows as a lower bound, and a `ReadUpTo` carries the dialog's unread count. After a
reconnect `gap_fill` compares the watched chats with their latest history.
`[telegram] history_limit = 0` loads no history at all.
"""

from __future__ import annotations

import contextlib
import logging
from collections import ChainMap
from collections.abc import Awaitable, Callable, Iterable

from telethon.tl import functions

from ...desk.events import (
    HistoryCut,
    MessageEdited,
    MessagesDeleted,
    NewMessage,
    ReadUpTo,
    SyncProgress,
    UnreadMarked,
)
from ...desk.models import Message, User
from ...rules.triage import Role, StaffRule
from . import convert as conv
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

    async def start_up(
        self, chats: ChatDirectory, release_backlog: Callable[[], Awaitable[None]]
    ) -> None:
        """Page dialogs, apply the updates held meanwhile, then backfill every support chat."""
        state = self.state
        try:
            await chats.load_dialogs()
        except Exception as exc:
            message = f"the chat list could not be loaded ({type(exc).__name__}); restart to retry"
            state.warnings.append(message)
            log.exception("%s", message)
        finally:
            state.dialogs_ready.set()
        await release_backlog()
        try:
            await self.backfill()
        finally:
            state.synced.set()

    async def backfill(self) -> None:
        """Fetch recent history of every support chat, newest chats first, as NewMessage events."""
        state = self.state
        limit = state.config.telegram.history_limit
        chats = sorted(state.selected, key=lambda c: state.order.get(c, 0), reverse=True)
        total = len(chats)
        if limit <= 0 or not chats:
            state.emit(SyncProgress("history", total, total, done=True))
            return
        for index, chat_id in enumerate(chats):
            if state.stopping:
                return
            state.emit(SyncProgress("history", index, total))
            await self.backfill_chat(chat_id)
        state.emit(SyncProgress("history", total, total, done=True))

    async def backfill_chat(self, chat_id: int) -> None:
        """Emit one chat's recent history (newer than what the store has) oldest first."""
        state = self.state
        limit = state.config.telegram.history_limit
        if chat_id not in state.selected or limit <= 0:
            return
        min_id = 0
        if state.hints.last_known_id is not None:
            with contextlib.suppress(Exception):
                min_id = int(state.hints.last_known_id(chat_id) or 0)
        cut: int | None = None
        try:
            pairs = await self.fetch(chat_id, limit=limit, min_id=min_id)
            if not min_id:
                pairs, cut = await self.reach_back(chat_id, pairs, complete=len(pairs) < limit)
        except Exception as exc:
            log.warning("history of chat %d could not be loaded: %s", chat_id, type(exc).__name__)
            return
        state.remember(chat_id, [m for m, _ in pairs])
        for message, sender in pairs:
            state.emit(NewMessage(message, sender))
        if cut is not None:
            state.emit(HistoryCut(chat_id, cut))
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
            await state.pace()
            result = await state.call(request, "history", wait_network=wait_network)
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
