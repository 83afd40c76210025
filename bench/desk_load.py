"""The desk under load and at rest: a burst of NewMessage events with a stall heartbeat, and idle CPU."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from textual.pilot import Pilot
from tgtriage.core.desk import events as ev
from tgtriage.core.desk.inbox import Changes, Inbox
from tgtriage.core.desk.models import Message

from bench import gclog
from bench import phases as ph
from bench.desk_timing import wait_for
from bench.measured import MeasuredDesk


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
    await wait_for(lambda: applied_at is not None, limit=60)
    assert applied_at is not None
    await wait_for(lambda: any(p.at >= applied_at for p in app.paints[mark:]), limit=10)
    painted = next(p for p in app.paints[mark:] if p.at >= applied_at)
    await inbox.flushed()  # the store is written behind the screen (core/desk/applier.py)
    stored_at = time.perf_counter()
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
        "stored_s": stored_at - t0,
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
    """CPU the open desk uses while nothing happens (its once-a-second timers still tick).

    Measured once the store has every write queued before (a burst's messages are written
    behind the screen: that is the burst's work, not the idle desk's)."""
    await app.inbox.flushed()
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
