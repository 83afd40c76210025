"""The desk's garbage-collector policy: keep the collector off the path from a key to its frame.

Three measures. While the desk loads, nothing is collected (everything made then lives on).
After the first frame, the start-up heap is frozen out of the collector's generations. And the
older-generation collections that the next allocations would set off are run right after a
frame is painted — while the engineer reads it — instead of inside the next key press.
"""

from __future__ import annotations

import gc
import os as _os


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


def collect_if_due() -> None:
    """Run an older-generation collection now if the next young collection would trigger it.

    CPython collects generation 1 after `threshold1` young collections and generation 2 after
    `threshold2` generation-1 ones; a frame allocates thousands of short-lived objects, so
    those collections otherwise fire in the middle of painting the next key's frame.
    """
    if not gc.isenabled() or _os.environ.get("TGT_NO_AFTER_FRAME"):
        return
    _, threshold1, threshold2 = gc.get_threshold()
    _, young_runs, middle_runs = gc.get_count()
    if middle_runs >= threshold2:
        gc.collect(2)
    elif young_runs >= threshold1:
        gc.collect(1)


def thaw() -> None:
    """Give the frozen objects back to the collector (the desk is closing)."""
    gc.unfreeze()
    gc.enable()
