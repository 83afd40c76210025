"""How many queued events the next slice applies: as many as fit the UI loop's work budget.

A burst (a reconnect's backlog, a busy group) is applied slice by slice so that the screen's
loop never holds still for long: each slice's own work on the loop's thread is measured (the
thread's CPU time, less what other tasks spent while the slice waited for the store), the cost
of one event is taken from it, and the next slice holds as many events as fit `SLICE_BUDGET`.
The size grows at most twofold per slice (one cheap slice says little) and shrinks at once.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

_T = TypeVar("_T")

SLICE_BUDGET = 0.008  # seconds of the loop thread's own work per slice
FIRST_SLICE = 64  # events in a slice before any was measured
MIN_SLICE = 16  # a slice never holds fewer (each costs a store round trip)
MAX_SLICE = 1000


@dataclass
class SliceSizer:
    """The size of the next slice, from the measured cost of the ones before."""

    budget: float = SLICE_BUDGET
    work_clock: Callable[[], float] = time.thread_time  # this thread's CPU time, not the wall
    size: int = FIRST_SLICE
    sizes: list[int] = field(default_factory=list)  # the sizes applied, newest last (a few)
    _elsewhere: float = 0.0  # work clock spent while the slice waited (other tasks' work)

    def started(self) -> float:
        """The work clock at the start of a slice."""
        self._elsewhere = 0.0
        return self.work_clock()

    async def waiting(self, awaitable: Awaitable[_T]) -> _T:
        """Await `awaitable` (the store) without counting what runs meanwhile as the slice's."""
        began = self.work_clock()
        try:
            return await awaitable
        finally:
            self._elsewhere += self.work_clock() - began

    def applied(self, count: int, began: float) -> None:
        """A slice of `count` events was applied since `began`: size the next one."""
        self.sizes.append(count)
        del self.sizes[:-64]
        spent = self.work_clock() - began - self._elsewhere
        fit = MAX_SLICE if spent <= 0 else int(self.budget * count / spent)
        self.size = max(MIN_SLICE, min(MAX_SLICE, fit, 2 * max(count, self.size)))
