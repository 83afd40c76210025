"""Timing one key press on the measured desk: from just before `pilot.press` to the first frame showing its result."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from textual.pilot import Pilot

from bench import gclog
from bench import phases as ph
from bench.measured import MeasuredDesk, Paint

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


async def wait_for(check: Callable[[], bool], limit: float = WAIT_LIMIT) -> None:
    """Poll `check` every millisecond until it holds; fail loudly after `limit` seconds."""
    deadline = time.perf_counter() + limit
    while not check():
        if time.perf_counter() > deadline:
            raise TimeoutError("the desk did not paint what was expected in time")
        await asyncio.sleep(0.001)


async def settle(pilot: Pilot[Any], rng: random.Random) -> None:
    """Let every consequence of the last key land, then wait a random part of a frame."""
    await pilot.pause()
    await asyncio.sleep(0.05)
    await pilot.pause()
    await asyncio.sleep(rng.uniform(0, 1 / 60))


async def first_frame(app: MeasuredDesk, mark: int, wanted: Callable[[Paint], bool]) -> Paint:
    """The first frame logged since `mark` that satisfies `wanted` (waiting for it if need be)."""
    await wait_for(lambda: any(wanted(p) for p in app.paints[mark:]))
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
    frame = await first_frame(app, mark, lambda p: p.probe == expected)
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
    await first_frame(app, mark, shown)
    await settle(pilot, rng)
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
