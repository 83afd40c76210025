"""The garbage-collector policy, all of it: when the cyclic collector may run, and when not.

Two tools. `paused()` keeps the collector off while a batch of long-lived or acyclic objects is
built (start-up imports, an export read, a report): collecting them again and again only costs
time. `DeskCollector` keeps it off the path from a key to its frame for as long as the desk
runs: nothing is collected while the desk loads; after the first frame that heap is frozen out
of the collector's generations; an older-generation collection the next allocations would set
off runs right after a frame is painted (while the engineer reads it) instead of inside the
next key press, and a full collection freezes what survives it; every quarter of an hour of
work, at a quiet moment, everything is thawed and collected once, which also frees garbage
among the frozen.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

IDLE_AFTER = 3.0  # seconds without input before the thorough tidy-up may run
THOROUGH_EVERY = 15 * 60.0  # seconds between thorough tidy-ups


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collections inside the block; the collector is as it was afterwards."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def settle_bulk() -> None:
    """Between slices of a bulk load into the live state (a catch-up's thousands of messages):
    collect the young generations once half-way to the next such collection and freeze what
    survives, so the full collection those survivors would set off never walks them in the
    middle of a slice; garbage among them waits for the thorough tidy-up (`when_idle`)."""
    if not gc.isenabled():
        return
    _, threshold1, _ = gc.get_threshold()
    if gc.get_count()[1] >= max(1, threshold1 // 2):
        gc.collect(1)
        gc.freeze()


def pause() -> None:
    """No cyclic collections from now until someone (the desk's first frame) turns them on."""
    gc.disable()


class DeskCollector:
    """The desk's collector policy over its lifetime: load, frames, quiet moments, close."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.thorough_at = clock()  # when the last thorough tidy-up ran

    def __enter__(self) -> DeskCollector:
        """The desk starts loading: `start`."""
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """The desk closed: `thaw`."""
        self.thaw()

    def start(self) -> None:
        """The desk starts loading: no collections until `freeze_startup_heap`."""
        gc.disable()

    def freeze_startup_heap(self) -> None:
        """After the first frame: move every live object out of the collector's generations
        (a full collection would otherwise walk them all, a frozen screen in the middle of a
        key press); what dies among them is still freed by reference counting.

        No collection first: walking the whole start-up heap would delay what the next
        frame shows (a demo's first timers); the few cycles left over from start-up wait for
        the first thorough tidy-up (`when_idle`)."""
        gc.freeze()
        gc.enable()

    def after_frame(self) -> str | None:
        """After a frame: run an older-generation collection the next allocations would trigger.

        CPython collects generation 1 after `threshold1` young collections and generation 2
        after `threshold2` generation-1 ones; a frame allocates thousands of short-lived
        objects, so those collections otherwise fire in the middle of painting the next key's
        frame. A full collection then freezes its survivors.
        """
        if not gc.isenabled():
            return None
        _, threshold1, threshold2 = gc.get_threshold()
        _, young_runs, middle_runs = gc.get_count()
        if middle_runs >= threshold2:
            gc.collect(2)
            gc.freeze()
            return "full"
        if young_runs >= max(1, threshold1 // 2):  # half-way: a busy key could reach it alone
            gc.collect(1)
            return "middle"
        return None

    def when_idle(self, idle_for: float, now: float | None = None) -> bool:
        """At a quiet moment, every THOROUGH_EVERY seconds: thaw, collect everything, freeze.

        Garbage among frozen objects (a dialog that was open at a freeze, say) is only freed
        this way. True when it ran.
        """
        now = self._clock() if now is None else now
        if idle_for < IDLE_AFTER or not gc.isenabled() or now - self.thorough_at < THOROUGH_EVERY:
            return False
        self.thorough_at = now
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        return True

    def thaw(self) -> None:
        """Give the frozen objects back to the collector and turn it on."""
        gc.unfreeze()
        gc.enable()
