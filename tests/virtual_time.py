"""Virtual time for tests (looptime) that also waits for the store's thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import aiosqlite.core
import looptime

T = TypeVar("T")


@contextmanager
def virtual_time_waits_for_the_store() -> Iterator[None]:
    """Keep virtual time from racing ahead while SQLite works on aiosqlite's thread.

    looptime jumps to the next timer whenever the loop has nothing to run, unless an executor
    future is pending. aiosqlite answers from a thread of its own, so on a loaded machine a
    slow commit let half an hour of virtual time pass in a few hundred store calls: the suite
    then saw a desk that was merely busy as one that never converged (CI, missing [47, 48, 49]).
    Each store call therefore holds an executor future until it returns.
    """
    original = aiosqlite.core.Connection._execute

    async def execute(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        finished = threading.Event()
        in_flight = asyncio.get_running_loop().run_in_executor(None, finished.wait)
        try:
            return await original(self, fn, *args, **kwargs)
        finally:
            finished.set()
            await in_flight

    aiosqlite.core.Connection._execute = execute  # type: ignore[method-assign]
    try:
        yield
    finally:
        aiosqlite.core.Connection._execute = original  # type: ignore[method-assign]


def run_on_virtual_time(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` on a fresh looptime loop starting at 0, the store's calls holding time."""
    loop = looptime.new_event_loop(start=0)
    try:
        with virtual_time_waits_for_the_store():
            return loop.run_until_complete(coro)
    finally:
        loop.close()
