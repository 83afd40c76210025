"""Python's cyclic garbage collector, watched: every collection's generation and pause."""

from __future__ import annotations

import gc
import time
from typing import Any

LOG: list[tuple[int, float, float]] = []  # (generation, started at perf_counter, seconds)
_started: list[float] = []


def _callback(phase: str, info: dict[str, Any]) -> None:
    """gc.callbacks hook: time each collection."""
    if phase == "start":
        _started.append(time.perf_counter())
    elif _started:
        began = _started.pop()
        LOG.append((int(info["generation"]), began, time.perf_counter() - began))


def watch() -> None:
    """Start logging collections (idempotent)."""
    if _callback not in gc.callbacks:
        gc.callbacks.append(_callback)


def paused(start: float, end: float) -> float:
    """Seconds spent collecting between `start` and `end`."""
    return sum(took for _, began, took in LOG if start <= began <= end)


def summary(start: float = 0.0, end: float = float("inf")) -> dict[str, dict[str, float]]:
    """Per generation: collections, total and longest pause (ms) between `start` and `end`."""
    out: dict[str, dict[str, float]] = {}
    for gen, began, took in LOG:
        if start <= began <= end:
            row = out.setdefault(f"gen{gen}", {"count": 0, "total_ms": 0.0, "max_ms": 0.0})
            row["count"] += 1
            row["total_ms"] += took * 1000
            row["max_ms"] = max(row["max_ms"], took * 1000)
    return out
