"""The desk's one path to the store: every write, and every read that must see them, in order.

A store found damaged at run time (SQLite's CORRUPT or NOTADB) is written no more: the first
such error stops the writer, later writes are dropped unattempted and later calls raise
StoreDamaged, so the desk goes on from memory (core/desk/damage.py saves its marks).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from ..storage.integrity import SQLITE_CORRUPT, SQLITE_NOTADB, sqlite_primary_code

log = logging.getLogger(__name__)

_T = TypeVar("_T")
Write = Callable[[], Awaitable[object]]
HOLD_LIMIT = 0.25  # seconds a write waits at most for the frame it follows


class StoreDamaged(Exception):
    """The store was found damaged: this operation was not made (the desk works from memory)."""


def is_damage(error: BaseException) -> bool:
    """Whether `error` is SQLite saying the file is damaged or not a database."""
    return sqlite_primary_code(error) in (SQLITE_CORRUPT, SQLITE_NOTADB)


class _Call:
    """A queued operation whose result (or error) a caller awaits."""

    def __init__(self, operation: Callable[[], Awaitable[Any]], result: asyncio.Future[Any]):
        """Run `operation` in turn and hand its outcome to `result`."""
        self.operation = operation
        self.result = result


class StoreWriter:
    """Runs queued store operations one after another on one task.

    Actions change the live state at once and `enqueue` their write, so a key never waits
    for the store; the event applier `call`s (and awaits) the writes whose results it needs,
    in order with everything queued before. A queued write with the same key (a draft being
    typed) is replaced by the newer one, which runs after everything queued before it.

    With `start_after_paint` set (the screen's "after the next frame" scheduler), queued
    writes and background reads wait for the frame the key asked for: the paint comes first,
    the write right after it. An awaited `call`, a `first` read or `flushed()` runs them at once.
    """

    def __init__(
        self,
        on_failure: Callable[[Exception], None],
        on_damage: Callable[[Exception], None] = lambda _error: None,
        on_dropped: Callable[[], None] = lambda: None,
    ) -> None:
        """A writer with nothing queued; `on_failure` hears of writes that failed, `on_damage`
        (once) that the store is damaged, `on_dropped` of each write dropped after that."""
        self._queue: deque[tuple[Hashable, Write | _Call]] = deque()
        self._idle: deque[Write] = deque()  # run only when nothing else waits
        self._task: asyncio.Future[None] | None = None
        self._on_failure = on_failure
        self._on_damage = on_damage
        self._on_dropped = on_dropped
        self.damage: Exception | None = None  # the error that showed the store damaged
        self.start_after_paint: Callable[[Callable[[], None]], None] | None = None
        self._held = False  # writes wait for the frame being painted (start_after_paint)

    def enqueue(self, write: Write, key: Hashable = None, *, first: bool = False) -> None:
        """Queue a write to run after everything queued before it (replacing one with `key`),
        or with `first` before them (a read whose result later writes are applied to)."""
        if self.damage is not None:
            self._on_dropped()
            return
        self._add(key, write, first)

    def _add(self, key: Hashable, write: Write | _Call, first: bool = False) -> None:
        """Queue an operation and make sure the queue runs."""
        if key is not None:  # the newer write replaces the queued one, after all queued since:
            for index, (queued, _) in enumerate(self._queue):  # in its old place it would be
                if queued == key:  # undone by a write queued in between (a stale summary)
                    del self._queue[index]
                    break
        if first:
            self._queue.appendleft((key, write))
        else:
            self._queue.append((key, write))
        if first or isinstance(write, _Call):
            self._held = False  # wanted now: everything queued before runs first, in order
        elif not self._held and self.start_after_paint is not None and not self._running():
            self._held = True
            # At the latest after HOLD_LIMIT: a frame that never comes must not keep the write.
            asyncio.get_running_loop().call_later(HOLD_LIMIT, self._release)
            self.start_after_paint(self._release)
        self._start()

    def _running(self) -> bool:
        """Whether the queue is being run."""
        return self._task is not None and not self._task.done()

    def _start(self) -> None:
        """Run the queue unless it runs already or waits for the frame."""
        if not self._held and not self._running():
            self._task = asyncio.ensure_future(self._run())

    def _release(self) -> None:
        """The frame is painted (or the writes are wanted now): run what waited for it."""
        if self._held:
            self._held = False
            if self._queue or self._idle:
                self._start()

    def enqueue_idle(self, read: Write) -> None:
        """Queue a background read that runs only when no write or call is waiting."""
        if self.damage is not None:
            return
        self._idle.append(read)
        self._start()

    async def call(self, operation: Callable[[], Awaitable[_T]]) -> _T:
        """Run `operation` in turn after the queued writes and return its result (or raise;
        StoreDamaged once the store is damaged)."""
        if self.damage is not None:
            raise StoreDamaged(str(self.damage))
        result: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._add(None, _Call(operation, result))
        return await result

    async def _run_call(self, call: _Call) -> None:
        """Run one awaited operation (not once the store is damaged) and hand over its outcome."""
        if self.damage is not None:
            outcome: BaseException | None = StoreDamaged(str(self.damage))
        else:
            try:
                value = await call.operation()
            except Exception as exc:
                outcome = exc
                if is_damage(exc):
                    self._damaged(exc)
                    outcome = StoreDamaged(str(exc))
            else:
                outcome = None
                if not call.result.done():
                    call.result.set_result(value)
        if outcome is not None and not call.result.done():
            call.result.set_exception(outcome)

    def _damaged(self, error: Exception) -> None:
        """The store is damaged: stop writing to it and say so (once)."""
        if self.damage is not None:
            return
        log.error("the store is damaged; no more writes to it: %s", error)
        self.damage = error
        self._idle.clear()
        self._on_damage(error)

    async def _run(self) -> None:
        """Run the queued operations one after another; a failed write is reported, not raised."""
        while (self._queue or self._idle) and not self._held:
            write = self._queue.popleft()[1] if self._queue else self._idle.popleft()
            if isinstance(write, _Call):
                await self._run_call(write)
                continue
            if self.damage is not None:
                continue  # not attempted: nothing more is written to a damaged file
            try:
                await write()
            except Exception as exc:
                if is_damage(exc):
                    self._damaged(exc)
                    continue
                log.exception("store write failed")
                self._on_failure(exc)

    async def flushed(self) -> None:
        """Wait until every queued operation (background reads too) has run."""
        self._release()
        task = self._task
        while task is not None and not task.done():
            await asyncio.shield(task)
            self._release()  # queued while it ran and held for a frame: wanted now
            task = self._task
