"""The start-up backfill's work list: the support chats that need history, in order, by a few workers.

The dialog list is paged once (core/sources/telegram/chats.py); each page's support chats come
here as soon as the page is in, so history loads while later pages are still asked for (and
while a FloodWait on the dialog list runs: Telegram counts its waits per method). Chats where a
customer may be waiting go first; `BACKFILL_WORKERS` fetch at once, each request still paced
by `SourceState.pace` (core/sources/telegram/state.py), so the request rate stays bounded.
Once the last page is in, `SyncProgress("history", done, total)` counts the chats loaded.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from ...desk.events import SyncProgress
from .state import SourceState

log = logging.getLogger(__name__)

BACKFILL_WORKERS = 3
"""How many chats' history is fetched at once."""


class BackfillQueue:
    """Chats waiting for their start-up history, urgent ones first (see the module docstring)."""

    def __init__(
        self,
        state: SourceState,
        backfill_chat: Callable[[int], Awaitable[None]],
        workers: int = BACKFILL_WORKERS,
    ) -> None:
        """Work for `backfill_chat(chat_id)` on the source's shared state."""
        self.state = state
        self._backfill_chat = backfill_chat
        self._workers = max(1, workers)
        self._urgent: deque[int] = deque()
        self._later: deque[int] = deque()
        self._queued: set[int] = set()
        self._more = asyncio.Event()
        self._closed = False
        self.done = 0

    @property
    def total(self) -> int:
        """How many chats were queued so far."""
        return len(self._queued)

    def add(self, chat_id: int, *, urgent: bool) -> None:
        """Queue a chat once; `urgent` when a customer may be waiting in it."""
        if chat_id in self._queued or self._closed:
            return
        self._queued.add(chat_id)
        (self._urgent if urgent else self._later).append(chat_id)
        self._more.set()

    def close(self) -> None:
        """No more chats will come (the dialog list is in): the workers end when it is empty."""
        self._closed = True
        self._more.set()
        self._progress()

    def _next(self) -> int | None:
        """The next chat to load, urgent ones first."""
        if self._urgent:
            return self._urgent.popleft()
        if self._later:
            return self._later.popleft()
        return None

    def _progress(self) -> None:
        """Count the chats loaded, once every chat to load is known."""
        if self._closed:
            total = self.total
            self.state.emit(SyncProgress("history", self.done, total, done=self.done >= total))

    async def _work(self) -> None:
        """Load chats until the queue is closed and empty."""
        while not self.state.stopping:
            chat_id = self._next()
            if chat_id is None:
                if self._closed:
                    return
                self._more.clear()
                await self._more.wait()
                continue
            try:
                await self._backfill_chat(chat_id)
            except Exception:
                log.exception("the history of chat %d could not be loaded", chat_id)
            self.done += 1
            self._progress()

    async def run(self) -> None:
        """Run the workers until the queue is closed and every chat in it loaded."""
        await asyncio.gather(*(self._work() for _ in range(self._workers)))
