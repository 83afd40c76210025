"""The desk over the workload: key → painted, a 5,000-event burst, idle CPU and peak RSS.

Run by `bench/run.py` in a process of its own (so its peak RSS is the desk's, not the workload
builder's): `python -m bench.desk_bench STORE --json OUT [--presses N] [--burst N] [--idle S]`.

What "key → painted" means here. The desk is the real `DeskApp` (as `MeasuredDesk`, which only
logs frames) running under `App.run_test(size=(120, 35))` on a `CacheSource` — the store's
chats, no live traffic. For each press:

  t0  = perf_counter() immediately before `pilot.press(key)` hands the key event to Textual;
  t1  = the moment the first frame is ready for the terminal (Textual's `App._display`, with
        the escape sequence actually built) in which the conversation pane is redrawn AND shows
        the chat the key was meant to open.

The figure is t1 − t0: key dispatch, the action, the store queries (on aiosqlite's thread),
wrapping the messages, Textual's layout/compositor, and building the terminal output. It does
not include the terminal's own drawing. Textual refreshes the screen at most 60 times a second,
so a key that lands just after a frame can wait for the next one; presses are spaced by a
random 0–17 ms after the previous one settled so they sample every phase of that clock. The
"settled" figure is the last frame that redrew the conversation as a consequence of the key
(e.g. a repaint one frame later when the Inbox's coalesced change notification arrives).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tgtriage.core.desk.inbox import Inbox
from tgtriage.core.storage.store import Store
from tgtriage.core.system.config import Config
from tgtriage.tui.composer import BLINK_FOR

from bench import gclog
from bench import phases as ph
from bench.cache_source import CacheSource
from bench.desk_keys import (
    bench_dialogs,
    bench_next_waiting,
    bench_popup,
    bench_slots,
    bench_switch,
)
from bench.desk_load import bench_burst, bench_idle
from bench.desk_timing import wait_for
from bench.measured import MeasuredDesk
from bench.rss import peak_rss_mb

SIZE = (120, 35)


def _rss_mb() -> float:
    """Peak resident set size of this process so far, in MB."""
    return peak_rss_mb()


async def run(
    store_path: Path,
    presses: int,
    burst: int,
    idle: float,
    seed: int = 3,
    phases: bool = False,
    gc_mode: str = "default",
    keys_only: bool = False,
) -> dict[str, Any]:
    """Open the desk on the store and run every measurement in one session.

    `gc_mode` is an experiment, not the product's behaviour: "freeze" calls `gc.freeze()` once
    the cache is painted (startup objects leave the collector's view); "tuned" also raises the
    collection thresholds.
    """
    rng = random.Random(seed)
    gclog.watch()
    if phases:
        ph.instrument()
    store = await Store.open(store_path)
    result: dict[str, Any] = {}
    try:
        source = await CacheSource.from_store(store)
        config = Config()

        async def factory() -> Inbox:
            """The Inbox filled from the cache, as the CLI builds it."""
            inbox = Inbox(store, source, config)
            await inbox.load_cached()
            return inbox

        app = MeasuredDesk(factory, source_label="cache")
        started = time.perf_counter()
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(lambda: app.ready and any(p.ready for p in app.paints), limit=30)
            result["mount_s"] = time.perf_counter() - started
            await pilot.pause(0.5)
            result["rss_after_mount_mb"] = _rss_mb()
            if gc_mode in ("freeze", "tuned"):
                gc.collect()
                gc.freeze()
            if gc_mode == "tuned":
                gc.set_threshold(20_000, 20, 100)
            result["gc_mode"] = gc_mode
            session = time.perf_counter()
            switch, opens, typing, opens_cpu = await bench_switch(app, pilot, presses, rng)
            slots = await bench_slots(app, pilot, presses, rng)
            waiting = await bench_next_waiting(app, pilot, presses, rng)
            words = [
                t.key.split("-")[0][:5]
                for t in app.replies.library.templates[: max(1, presses // 5)]
            ]
            popup = await bench_popup(app, pilot, words, rng)
            dialogs = await bench_dialogs(app, pilot, presses, rng)
            result["templates_loaded"] = len(app.replies.library)
            result["keys"] = {
                "switch_enter": [asdict(s) for s in switch],
                "switcher_open": opens,
                "switcher_open_cpu": opens_cpu,
                "switcher_typing": typing,
                "slot": [asdict(s) for s in slots],
                "next_waiting": [asdict(s) for s in waiting],
                "template_popup": popup,
                "dialog_postpone": dialogs["alt+p"],
                "dialog_tags": dialogs["alt+g"],
                "dialog_escape": dialogs["escape"],
                "dialog_postpone_cpu": dialogs["cpu:alt+p"],
                "dialog_tags_cpu": dialogs["cpu:alt+g"],
                "dialog_escape_cpu": dialogs["cpu:escape"],
            }
            result["open_chat_log_ms"] = [s * 1000 for kind, s in app.paint_log if kind == "open"]
            if not keys_only:
                result["burst"] = await bench_burst(app, pilot, burst, rng)
                result["idle"] = await bench_idle(app, idle)
                # The same desk left alone longer: the composer's cursor has stopped blinking
                # (BLINK_FOR after the last key), so only the 1 s timers remain.
                await asyncio.sleep(max(0.0, BLINK_FOR - idle))  # a short idle: wait out the blink
                result["idle_quiet"] = await bench_idle(app, idle)
            result["chats"] = len(app.inbox.chats)
            result["paints"] = len(app.paints)
            result["paint_cost_max_ms"] = max(p.cost for p in app.paints) * 1000
            result["phase_calls"] = ph.per_call() if ph.LOG else {}
            result["gc"] = gclog.summary(session)
            result["gc_full"] = [
                {"at_s": round(began - session, 3), "ms": round(took * 1000, 1)}
                for gen, began, took in gclog.LOG
                if gen == 2 and began >= session
            ]
            result["gc_tracked_objects"] = len(gc.get_objects())
        result["rss_peak_mb"] = _rss_mb()
    finally:
        await store.close()
    return result


def main() -> None:
    """Command line: measure and write JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("store", type=Path)
    parser.add_argument("--json", type=Path, required=True)
    parser.add_argument("--presses", type=int, default=60)
    parser.add_argument("--burst", type=int, default=5000)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--phases", action="store_true", help="time each step (diagnosis)")
    parser.add_argument("--keys-only", action="store_true", help="the key rows alone")
    parser.add_argument(
        "--gc",
        choices=("default", "freeze", "tuned"),
        default="default",
        help="experiment: gc.freeze() after mount (freeze), plus higher thresholds (tuned)",
    )
    args = parser.parse_args()
    result = asyncio.run(
        run(
            args.store,
            args.presses,
            args.burst,
            args.idle,
            phases=args.phases,
            gc_mode=args.gc,
            keys_only=args.keys_only,
        )
    )
    args.json.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
