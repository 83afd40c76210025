"""Nearest-rank percentiles and p50/p95/max summaries of timing samples."""

from __future__ import annotations

import math


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
