"""The desk's garbage-collector policy: keep the collector off the path from a key to its frame.

While the desk loads nothing is collected (everything made then lives on); after the first
frame that heap is frozen out of the collector's generations. The older-generation collections
the next allocations would set off are run right after a frame is painted — while the engineer
reads it — instead of inside the next key press, and a full collection freezes what survives
it, so the next one only walks what is new. Every quarter of an hour of work, at a quiet
moment, everything is thawed and collected once, which also frees garbage among the frozen.
"""

from __future__ import annotations

import gc
import time

IDLE_AFTER = 3.0  # seconds without input before the thorough tidy-up may run
THOROUGH_EVERY = 15 * 60.0  # seconds between thorough tidy-ups
_thorough_at = time.monotonic()


def pause_for_startup() -> None:
    """No collections while the desk loads."""
    gc.disable()


def freeze_startup_heap() -> None:
    """Collect once, then move every object alive now out of the collector's generations.

    Once the cache is loaded the desk holds ~90,000 long-lived objects (1,000 chats and their
    summaries, users, templates, widgets, styles). A full (generation 2) collection walks all
    of them — 150–250 ms here, a frozen screen in the middle of a key press. Frozen, they are
    never walked again; what dies among them is still freed by reference counting.
    """
    gc.collect()
    gc.freeze()
    gc.enable()


def collect_if_due() -> str | None:
    """After a frame: run an older-generation collection the next allocations would trigger.

    CPython collects generation 1 after `threshold1` young collections and generation 2 after
    `threshold2` generation-1 ones; a frame allocates thousands of short-lived objects, so
    those collections otherwise fire in the middle of painting the next key's frame. A full
    collection then freezes its survivors (only what is new is walked next time).
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


def tidy_when_idle(idle_for: float, now: float | None = None) -> bool:
    """At a quiet moment, every THOROUGH_EVERY seconds: thaw, collect everything, freeze.

    Garbage among frozen objects (a dialog that was open at a freeze, say) is only freed this
    way. About 0.1–0.2 s, with nothing on screen waiting for it. True when it ran.
    """
    global _thorough_at
    now = time.monotonic() if now is None else now
    if idle_for < IDLE_AFTER or not gc.isenabled() or now - _thorough_at < THOROUGH_EVERY:
        return False
    _thorough_at = now
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return True


def thaw() -> None:
    """Give the frozen objects back to the collector (the desk is closing)."""
    gc.unfreeze()
    gc.enable()
