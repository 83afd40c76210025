"""The desk's one path to the store: every write, and every read that must see them, in order."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

_T = TypeVar("_T")
Write = Callable[[], Awaitable[object]]


class StoreWriter:
    """Runs queued store operations one after another on one task.

    Actions change the live state at once and `enqueue` their write, so a key never waits
    for the store; the event applier `call`s (and awaits) the writes whose results it needs,
    in order with everything queued before. A queued write with the same key (a draft being
    typed) is replaced by the newer one.
    """

    def __init__(self, on_failure: Callable[[Exception], None]) -> None:
        """A writer with nothing queued; `on_failure` hears of writes that failed."""
        self._queue: deque[tuple[Hashable, Write]] = deque()
        self._idle: deque[Write] = deque()  # run only when nothing else waits
        self._task: asyncio.Future[None] | None = None
        self._on_failure = on_failure

    def enqueue(self, write: Write, key: Hashable = None, *, first: bool = False) -> None:
        """Queue a write to run after everything queued before it (replacing one with `key`),
        or with `first` before them (a read whose result later writes are applied to)."""
        if key is not None:
            for index, (queued, _) in enumerate(self._queue):
                if queued == key:
                    self._queue[index] = (key, write)
                    return
        if first:
            self._queue.appendleft((key, write))
        else:
            self._queue.append((key, write))
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())

    def enqueue_idle(self, read: Write) -> None:
        """Queue a background read that runs only when no write or call is waiting."""
        self._idle.append(read)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())

    async def call(self, operation: Callable[[], Awaitable[_T]]) -> _T:
        """Run `operation` in turn after the queued writes and return its result (or raise)."""
        result: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        async def run() -> None:
            try:
                value = await operation()
            except Exception as exc:
                if not result.done():
                    result.set_exception(exc)
            else:
                if not result.done():
                    result.set_result(value)

        self.enqueue(run)
        return await result

    async def _run(self) -> None:
        """Run the queued operations one after another; a failed write is reported, not raised."""
        while self._queue or self._idle:
            write = self._queue.popleft()[1] if self._queue else self._idle.popleft()
            try:
                await write()
            except Exception as exc:
                log.exception("store write failed")
                self._on_failure(exc)

    async def flushed(self) -> None:
        """Wait until every queued operation (background reads too) has run."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
