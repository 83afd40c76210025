"""When the Telegram source reconciles, and with what (the rounds are core/sources/telegram/reconcile.py).

A round runs after the start-up backfill, after every reconnect, and every
`[telegram] reconcile_minutes` on the event loop's clock. It covers the open chat and the
working set first, then the waiting chats, then every other support chat: the dialog check
costs one request per hundred chats, and only chats that differ cost more. Live updates that
arrive without a pts gap spare the next round its deep checks (`note_update`). Telethon is
imported by the reconciler only inside its methods.
"""

from __future__ import annotations

import asyncio
import logging
from collections import ChainMap
from collections.abc import Mapping
from typing import Any

from ...desk.models import Message, User
from .reconcile import Held, Reconciler, RoundReport
from .state import SourceState

log = logging.getLogger(__name__)

CHANNEL_FLOOR = -1_000_000_000_000
REPORTS_KEPT = 10


class ReconcileLoop:
    """Runs reconcile rounds for the source (see the module docstring)."""

    def __init__(self, state: SourceState, watched: Any) -> None:
        """Reconcile for the source's shared state; `watched()` gives the open and slot chats."""
        self.state = state
        self._watched = watched
        self._lock = asyncio.Lock()
        self.reports: list[RoundReport] = []
        """The last rounds' reports, newest last."""
        self.reconciler = Reconciler(
            call=lambda request, what: state.call(request, what, wait_network=False),
            peer_of=state.peer,
            convert=self._convert,
            held=self._held,
            emit=state.emit,
            sleep=state.sleep,
            clock=state.clock,
        )

    def chats(self) -> list[int]:
        """The chats of a round: open and working set, waiting, then every other support chat."""
        state = self.state
        first = list(self._watched())
        waiting: list[int] = []
        if state.hints.waiting is not None:
            try:
                waiting = list(state.hints.waiting())
            except Exception:
                log.exception("the waiting-chats hint failed")
        ordered = dict.fromkeys([*first, *waiting, *state.selected])
        return [c for c in ordered if c in state.selected]

    async def run_round(self) -> RoundReport | None:
        """One round; None when the desk gave no `held` hint or the round was cut short."""
        state = self.state
        if state.hints.held is None or state.stopping or not state.dialogs_ready.is_set():
            return None
        async with self._lock:
            self._take_vouches()
            try:
                report = await self.reconciler.run(self.chats())
            except Exception as exc:
                log.info("reconcile round cut short (%s); the next one resumes", exc)
                return None
        self.reports = [*self.reports[-(REPORTS_KEPT - 1) :], report]
        if report.new or report.edited or report.deleted:
            log.info("reconcile repaired %s", report)
        return report

    def _take_vouches(self) -> None:
        """What the start-up sync loaded fresh needs no deep check (never over a verification)."""
        state, reconciler = self.state, self.reconciler
        for chat_id, pts in state.vouched.items():
            reconciler.verified_pts.setdefault(chat_id, pts)
        state.vouched.clear()
        if state.vouched_account_pts is not None and reconciler.verified_account_pts is None:
            reconciler.verified_account_pts = state.vouched_account_pts
        state.vouched_account_pts = None

    async def loop(self) -> None:
        """A round every `[telegram] reconcile_minutes` (none when 0) while the source runs.

        The first waits for the start-up sync: a round in the middle of it would hand the desk
        only the newest window of chats not backfilled yet, and their backfill would then
        fetch nothing older (the desk already holds their newest message).
        """
        minutes = self.state.config.telegram.reconcile_minutes
        if minutes <= 0:
            return
        await self.state.synced.wait()
        while not self.state.stopping:
            await asyncio.sleep(minutes * 60)  # the event loop's clock, not the injected sleep
            await self.state.online.wait()
            await self.run_round()

    async def note_update(self, update: Any) -> None:
        """A raw update arrived (registered after the update router): note its pts."""
        pts = getattr(update, "pts", None)
        if pts is None:
            return
        channel_id = getattr(update, "channel_id", None)
        peer = getattr(getattr(update, "message", None), "peer_id", None)
        chat_id: int | None = None
        if channel_id is not None:
            chat_id = CHANNEL_FLOOR - channel_id
        elif peer is not None:
            from . import convert as conv

            chat_id = conv.marked_id(peer)
        self.reconciler.note_pts(chat_id, pts, getattr(update, "pts_count", 0))

    def _held(self, chat_id: int) -> Held:
        """What the desk holds of a chat (the `held` hint)."""
        held = self.state.hints.held
        return held(chat_id) if held is not None else Held()

    def _convert(
        self, chat_id: int, msg: Any, entities: Mapping[int, Any]
    ) -> tuple[Message, User | None]:
        """A raw message of a chat as a desk Message and its sender."""
        from . import convert as conv

        state = self.state
        state.known.update(entities)
        lookup = ChainMap(dict(entities), state.known)
        chat = state.selected.get(chat_id)
        forum = chat is not None and chat.kind == "forum"
        message = conv.convert_message(msg, lookup, self_id=state.self_id, forum=forum)
        state.remember(chat_id, [message])
        return message, conv.sender_user(msg, lookup, state.self_id)
