"""core/desk/writer.py: writes queued by a key wait for its frame, then run in order; an
awaited call or flushed() never waits for a frame."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tgtriage.core.desk.writer import HOLD_LIMIT, StoreWriter


def _writer(made: list[str]) -> tuple[StoreWriter, list[Callable[[], None]]]:
    """A writer whose frames are painted when the test says so."""
    writer = StoreWriter(on_failure=lambda error: made.append(f"failed {error}"))
    frames: list[Callable[[], None]] = []
    writer.start_after_paint = frames.append
    return writer, frames


def _write(made: list[str], name: str) -> Callable[[], asyncio.Future[None]]:
    async def write() -> None:
        made.append(name)

    return write  # type: ignore[return-value]


async def test_writes_wait_for_the_frame_then_run_in_order() -> None:
    made: list[str] = []
    writer, frames = _writer(made)
    writer.enqueue(_write(made, "slot"))
    writer.enqueue(_write(made, "triage"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert made == [] and len(frames) == 1  # one frame asked for, nothing written before it
    frames[0]()  # the frame is painted
    await writer.flushed()
    assert made == ["slot", "triage"]


async def test_a_call_runs_the_held_writes_first() -> None:
    made: list[str] = []
    writer, _frames = _writer(made)
    writer.enqueue(_write(made, "draft"))

    async def read() -> str:
        made.append("read")
        return "row"

    assert await writer.call(read) == "row"
    assert made == ["draft", "read"]


async def test_held_writes_are_made_when_no_frame_comes() -> None:
    made: list[str] = []
    writer, _frames = _writer(made)
    writer.enqueue(_write(made, "note"))
    await writer.flushed()  # shutting down: nothing more is painted
    assert made == ["note"]
    writer.enqueue(_write(made, "tags"))
    await asyncio.sleep(HOLD_LIMIT * 2)  # the frame never came
    assert made == ["note", "tags"]
