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
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from textual.errors import NoWidget
from textual.pilot import Pilot
from textual.widgets import OptionList
from tgtriage.core.desk import events as ev
from tgtriage.core.desk.inbox import Changes, Inbox
from tgtriage.core.desk.models import Message
from tgtriage.core.storage.store import Store
from tgtriage.core.system.config import Config
from tgtriage.tui.composer import BLINK_FOR, Composer
from tgtriage.tui.keymap import ALT_DIGIT_KEYS
from tgtriage.tui.template_views import TemplatePopup

from bench import gclog
from bench import phases as ph
from bench.cache_source import CacheSource
from bench.measured import MeasuredDesk, Paint
from bench.rss import peak_rss_mb

SIZE = (120, 35)
WAIT_LIMIT = 5.0


@dataclass
class KeySample:
    """One key press and when its result was painted (seconds after the press)."""

    key: str
    first: float
    settled: float
    at_bottom: bool
    frames: int
    cpu: float  # process CPU time from the press to the first frame (contention-free cost)
    gc: float  # time the garbage collector paused the process in that interval
    phases: dict[str, float] = field(default_factory=dict)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) by nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def summary(samples: list[float]) -> dict[str, float]:
    """p50 / p95 / max in milliseconds."""
    return {
        "n": len(samples),
        "p50_ms": percentile(samples, 50) * 1000,
        "p95_ms": percentile(samples, 95) * 1000,
        "max_ms": max(samples) * 1000 if samples else float("nan"),
    }


async def _wait_for(check: Callable[[], bool], limit: float = WAIT_LIMIT) -> None:
    """Poll `check` every millisecond until it holds; fail loudly after `limit` seconds."""
    deadline = time.perf_counter() + limit
    while not check():
        if time.perf_counter() > deadline:
            raise TimeoutError("the desk did not paint what was expected in time")
        await asyncio.sleep(0.001)


async def _settle(pilot: Pilot[Any], rng: random.Random) -> None:
    """Let every consequence of the last key land, then wait a random part of a frame."""
    await pilot.pause()
    await asyncio.sleep(0.05)
    await pilot.pause()
    await asyncio.sleep(rng.uniform(0, 1 / 60))


async def _frame(app: MeasuredDesk, mark: int, wanted: Callable[[Paint], bool]) -> Paint:
    """The first frame logged since `mark` that satisfies `wanted` (waiting for it if need be)."""
    await _wait_for(lambda: any(wanted(p) for p in app.paints[mark:]))
    return next(p for p in app.paints[mark:] if wanted(p))


async def press_typed(
    app: MeasuredDesk, pilot: Pilot[Any], key: str, probe: Callable[[], object]
) -> float | None:
    """Type one key; time until the first frame showing what `probe` sees once all has settled.

    Returns None when the probe sees nothing (e.g. the list closed because nothing matches).
    """
    mark = len(app.paints)
    t0 = time.perf_counter()
    await pilot.press(key)
    await pilot.pause()
    await asyncio.sleep(0.03)
    expected = probe()
    if not expected:
        return None
    frame = await _frame(app, mark, lambda p: p.probe == expected)
    return frame.at - t0


async def press_open(
    app: MeasuredDesk, pilot: Pilot[Any], keys: tuple[str, ...], target: int, rng: random.Random
) -> KeySample:
    """Press `keys` (the last one opens `target`) and time the frame that shows `target`."""
    mark = len(app.paints)

    def shown(paint: Paint) -> bool:
        """Whether this frame redrew the conversation showing the target chat."""
        return paint.chat_id == target and paint.conversation

    cpu0 = time.process_time()
    t0 = time.perf_counter()
    await pilot.press(*keys)
    await _frame(app, mark, shown)
    await _settle(pilot, rng)
    frames = [p for p in app.paints[mark:] if shown(p)]
    return KeySample(
        keys[-1],
        frames[0].at - t0,
        frames[-1].at - t0,
        frames[0].at_bottom,
        len(app.paints) - mark,
        frames[0].cpu - cpu0,
        gclog.paused(t0, frames[0].at),
        ph.breakdown(t0, frames[0].at) if ph.LOG else {},
    )


async def bench_slots(
    app: MeasuredDesk, pilot: Pilot[Any], presses: int, rng: random.Random
) -> list[KeySample]:
    """Alt+1 … Alt+0, round and round."""
    slots = dict(app.inbox.slots)
    await app.open_chat(slots[max(slots)])
    await _settle(pilot, rng)
    samples = []
    order = sorted(slots)
    for i in range(presses):
        slot = order[i % len(order)]
        key = ALT_DIGIT_KEYS[slot].split(",")[0]
        samples.append(await press_open(app, pilot, (key,), slots[slot], rng))
    return samples


async def bench_next_waiting(
    app: MeasuredDesk, pilot: Pilot[Any], presses: int, rng: random.Random
) -> list[KeySample]:
    """Ctrl+N, then (untimed) mark the chat handled — the engineer's loop through the queue."""
    samples = []
    for _ in range(presses):
        inbox = app.inbox
        target, _ = inbox.walk()  # where Ctrl+N goes (core/rules/walk.py)
        if target is None:
            break
        samples.append(await press_open(app, pilot, ("ctrl+n",), target, rng))
        await inbox.mark_handled(target)
        await _settle(pilot, rng)
    return samples


def _switcher_ids(app: MeasuredDesk) -> tuple[str, ...]:
    """The first few chat ids the switcher lists (or () when it is not drawn)."""
    if "switcher-box" not in _boxes_shown(app):
        return ()
    options = app.screen.query_one("#switcher-list", OptionList)
    return tuple(
        str(options.get_option_at_index(i).id) for i in range(min(3, options.option_count))
    )


async def bench_switch(
    app: MeasuredDesk, pilot: Pilot[Any], presses: int, rng: random.Random
) -> tuple[list[KeySample], list[float], list[float], list[float]]:
    """Ctrl+K, type part of a title, Enter: time Enter → conversation, plus the other two keys
    (and the CPU seconds of Ctrl+K → switcher painted)."""
    enters: list[KeySample] = []
    opens: list[float] = []
    opens_cpu: list[float] = []
    typing: list[float] = []
    chats = list(app.inbox.chats.values())
    app.probe = lambda: _switcher_ids(app)
    try:
        while len(enters) < presses:
            chat = rng.choice(chats)
            if chat.id == app.inbox.open_chat_id:
                continue
            # Ctrl+K → the switcher is painted with its list.
            mark = len(app.paints)
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            await pilot.press("ctrl+k")
            first = await _frame(app, mark, lambda p: bool(p.probe))
            opens.append(first.at - t0)
            opens_cpu.append(first.cpu - cpu0)
            await _settle(pilot, rng)
            # Type the chat's number (e.g. "417"), a key at a time: keystroke → filtered list painted.
            for char in chat.title.split(" ")[1] if " " in chat.title else chat.title[:4]:
                if not char.isalnum():
                    continue
                took = await press_typed(app, pilot, char, app.probe)
                if took is not None:
                    typing.append(took)
                await asyncio.sleep(rng.uniform(0, 1 / 60))
            ids = _switcher_ids(app)
            target = int(ids[0]) if ids else None
            if target is None or target == app.inbox.open_chat_id:
                await pilot.press("escape")
                await _settle(pilot, rng)
                continue
            enters.append(await press_open(app, pilot, ("enter",), target, rng))
    finally:
        app.probe = None
    return enters, opens, typing, opens_cpu


DIALOGS = ("alt+p", "alt+g")  # postpone, tags
BOXES = ("switcher-box", "choice-box", "tag-box", "dev-box", "ticket-box")


def _boxes_shown(app: MeasuredDesk) -> tuple[str, ...]:
    """The ids of the dialog boxes the last layout of the top screen placed: a pushed dialog
    screen's box, or a dialog drawn over the desk (tui/dialogs.py)."""
    screen = app.screen
    shown = []
    for box in screen.query(", ".join(f"#{name}" for name in BOXES)):
        try:
            screen.find_widget(box)
        except NoWidget:
            continue  # hidden: not in the frame's layout
        shown.append(str(box.id))
    return tuple(shown)


async def bench_dialogs(
    app: MeasuredDesk, pilot: Pilot[Any], presses: int, rng: random.Random
) -> dict[str, list[float]]:
    """Alt+P (postpone) and Alt+G (tags) → the dialog painted; Esc → the desk painted again
    without it. Wall-clock seconds per key, and the process's CPU seconds under `cpu:KEY`."""
    samples: dict[str, list[float]] = {}
    app.probe = lambda: _boxes_shown(app)
    try:
        for press in range(presses):
            key = DIALOGS[press % len(DIALOGS)]
            for pressed, opens in ((key, True), ("escape", False)):
                mark = len(app.paints)
                cpu0 = time.process_time()
                t0 = time.perf_counter()
                await pilot.press(pressed)
                frame = await _frame(app, mark, lambda p, opens=opens: bool(p.probe) == opens)
                samples.setdefault(pressed, []).append(frame.at - t0)
                samples.setdefault(f"cpu:{pressed}", []).append(frame.cpu - cpu0)
                await _settle(pilot, rng)
    finally:
        app.probe = None
    return samples


def _popup_probe(app: MeasuredDesk) -> tuple[str, ...]:
    """The keys the template popup lists (first three), or () when it is hidden."""
    popup = app.query_one(TemplatePopup)
    if not popup.display:
        return ()
    return tuple(t.key for t in popup.templates[:3])


async def bench_popup(
    app: MeasuredDesk, pilot: Pilot[Any], words: list[str], rng: random.Random
) -> list[float]:
    """Type `/word` in the composer a key at a time: keystroke → popup painted with its matches."""
    samples: list[float] = []
    composer = app.query_one(Composer)
    app.probe = lambda: _popup_probe(app)
    try:
        for word in words:
            composer.focus()
            composer.load("")
            await _settle(pilot, rng)
            for char in "/" + word:
                took = await press_typed(app, pilot, char, app.probe)
                if took is None:
                    break  # nothing matches any more: the popup closed
                samples.append(took)
                await asyncio.sleep(rng.uniform(0, 1 / 60))
            await pilot.press("escape")
        composer.load("")
        await _settle(pilot, rng)
    finally:
        app.probe = None
    return samples


def burst_events(inbox: Inbox, count: int, rng: random.Random, now: int) -> list[ev.Event]:
    """`count` NewMessage events over many chats, newer than everything stored (a catch-up)."""
    chat_ids = list(inbox.chats)
    rng.shuffle(chat_ids)
    touched = chat_ids[: max(1, min(len(chat_ids), count // 10))]
    if inbox.open_chat_id is not None and inbox.open_chat_id not in touched:
        touched[0] = inbox.open_chat_id
    next_id = {c: inbox.triage[c].last_msg_id + 1 for c in touched}
    staff = sorted(inbox.rule.staff_ids | {inbox.rule.me_id})
    out: list[ev.Event] = []
    for i in range(count):
        chat_id = touched[i % len(touched)]
        mid = next_id[chat_id]
        next_id[chat_id] = mid + 1
        state = inbox.triage[chat_id]
        customer = state.last_customer_id or 900_000 + abs(chat_id) % 1000
        sender = rng.choice(staff) if rng.random() < 0.3 else customer
        text = " ".join(
            rng.choice(
                ("sorry", "still", "down", "please", "check", "thanks", "the", "server", "again")
            )
            for _ in range(rng.randint(3, 25))
        )
        message = Message(
            chat_id=chat_id,
            id=mid,
            date=now - count + i,
            sender_id=sender,
            out=sender == inbox.rule.me_id,
            text=text,
        )
        out.append(ev.NewMessage(message))
    return out


async def bench_burst(
    app: MeasuredDesk, pilot: Pilot[Any], count: int, rng: random.Random
) -> dict[str, Any]:
    """Submit `count` events at once; time until all are applied and painted; watch the loop stall."""
    inbox = app.inbox
    events = burst_events(inbox, count, rng, inbox.now())
    delivered = 0
    applied_at: float | None = None

    def listener(changes: Changes) -> None:
        """Count the burst's messages as the Inbox hands them to the screen."""
        nonlocal delivered, applied_at
        delivered += sum(len(v) for v in changes.messages.values())
        if delivered >= count and applied_at is None:
            applied_at = time.perf_counter()

    inbox.subscribe(listener)
    lateness: list[tuple[float, float]] = []
    period = 0.005
    running = True

    async def heartbeat() -> None:
        """Sleep 5 ms at a time and note how late each wake-up is."""
        expected = time.perf_counter() + period
        while running:
            await asyncio.sleep(max(0.0, expected - time.perf_counter()))
            now = time.perf_counter()
            lateness.append((now, now - expected))
            expected = now + period

    beat = asyncio.create_task(heartbeat())
    await asyncio.sleep(0.1)
    mark = len(app.paints)
    batches = inbox.batches
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    for event in events:
        inbox.submit(event)
    await _wait_for(lambda: applied_at is not None, limit=60)
    assert applied_at is not None
    await _wait_for(lambda: any(p.at >= applied_at for p in app.paints[mark:]), limit=10)
    painted = next(p for p in app.paints[mark:] if p.at >= applied_at)
    await asyncio.sleep(0.1)
    running = False
    await beat
    beats = [(at, late) for at, late in lateness if t0 <= at <= painted.at + 0.05]
    window = [late for _, late in beats]
    frames = [p.at for p in app.paints[mark:] if p.at <= painted.at]
    gaps = [b - a for a, b in zip([t0, *frames], frames, strict=False)]
    return {
        "events": count,
        "chats": len({e.message.chat_id for e in events if isinstance(e, ev.NewMessage)}),
        "applied_s": applied_at - t0,
        "painted_s": painted.at - t0,
        "cpu_s": painted.cpu - cpu0,
        "gc": gclog.summary(t0, painted.at),
        "worst_stall_ms": max(window, default=0.0) * 1000,
        "heartbeats": len(window),
        "frames": len(frames),
        "longest_frame_gap_ms": max(gaps, default=0.0) * 1000,
        "batches": inbox.batches - batches,
        "app_changes_max_ms": max(
            (s for kind, s in app.paint_log if kind == "changes"), default=0.0
        )
        * 1000,
        "phases": ph.breakdown(t0, painted.at) if ph.LOG else {},
        "phase_max": _longest_calls(t0, painted.at),
        "worst_stalls": [
            _stall(at, late, t0, period) for at, late in sorted(beats, key=lambda b: -b[1])[:3]
        ],
    }


def _stall(at: float, late: float, t0: float, period: float) -> dict[str, Any]:
    """One heartbeat stall and (with --phases) the wrapped calls that ran inside it."""
    start = at - late - period
    inside = sorted(
        (
            (name, began, took)
            for name, began, took in ph.LOG
            if began < at and began + took > start
        ),
        key=lambda c: -min(c[1] + c[2], at) + max(c[1], start),
    )
    return {
        "ends_at_ms": (at - t0) * 1000,
        "stall_ms": late * 1000,
        "calls": [
            {
                "step": name,
                "overlap_ms": (min(began + took, at) - max(began, start)) * 1000,
                "call_ms": took * 1000,
            }
            for name, began, took in inside[:8]
        ],
    }


def _longest_calls(start: float, end: float) -> dict[str, float]:
    """The longest single call of each wrapped step inside [start, end] (with --phases)."""
    longest: dict[str, float] = {}
    for name, began, took in ph.LOG:
        if start <= began <= end:
            longest[name] = max(longest.get(name, 0.0), took)
    return longest


async def bench_idle(app: MeasuredDesk, seconds: float) -> dict[str, Any]:
    """CPU the open desk uses while nothing happens (its once-a-second timers still tick)."""
    await asyncio.sleep(1.0)
    mark = len(app.paints)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return {
        "seconds": wall,
        "cpu_ms_per_s": cpu / wall * 1000,
        "frames": len(app.paints) - mark,
        "phases": ph.breakdown(wall0, wall0 + wall) if ph.LOG else {},
    }


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
    """Open the desk on the store and run every measurement in one session (`keys_only`: the
    key rows alone, without the burst and the idle windows).

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
            await _wait_for(lambda: app.ready and any(p.ready for p in app.paints), limit=30)
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
