"""SVG snapshots of the stats screen at 80×24 and 120×40 on the seeded demo with a fixed clock.

Update after an intended change with `pytest tests/test_stats_snapshots.py --snapshot-update`,
then look at the new SVGs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from tgtriage.tui.stats import StatsScreen

from tests.desk_harness import make_desk, ready, settle, wait_for

SnapCompare = Callable[..., bool]
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


pytestmark = pytest.mark.usefixtures("utc_times")  # times on screen in UTC


def stats_snapshot(
    snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int], keys: tuple[str, ...] = ()
) -> bool:
    """F4 on the demo desk (clock fixed at Tuesday 10:30 UTC), then `keys`; compare the screen."""
    desk = make_desk(tmp_path)

    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("f4")
        app = pilot.app
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, StatsScreen) and app.screen.loads > 0,
            "the stats",
        )
        if keys:
            await pilot.press(*keys)
        await settle(pilot)

    return snap_compare(desk.app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_stats_7_days(snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]) -> None:
    """The default range: staff bars, the daily sparkline and the weekday × hour heat map."""
    assert stats_snapshot(snap_compare, tmp_path, size)


@pytest.mark.parametrize("size", SIZES)
def test_stats_today(snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]) -> None:
    """Key 1: today, with the sparkline per hour."""
    assert stats_snapshot(snap_compare, tmp_path, size, keys=("1",))


def test_stats_30_days_80x24(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """Tab: 30 days; at 80 columns the daily sparkline labels only Mondays."""
    assert stats_snapshot(snap_compare, tmp_path, (80, 24), keys=("tab",))
