"""SVG snapshots of each desk screen at 80×24 and 120×40, on the seeded demo with a fixed clock.

Update after an intended change with `pytest tests/test_snapshots.py --snapshot-update`, then
look at the new SVGs (e.g. in the report pytest-textual-snapshot writes on failure).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.desk_harness import composer, make_desk, ready, settle, type_text

SnapCompare = Callable[..., bool]
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


pytestmark = pytest.mark.usefixtures("utc_times")  # times on screen in UTC


def snapshot(
    snap_compare: SnapCompare,
    tmp_path: Path,
    size: tuple[int, int],
    keys: tuple[str, ...] = (),
    typed: str = "",
) -> bool:
    """Open the longest-waiting chat, press `keys`, type `typed`, compare the screen."""
    desk = make_desk(tmp_path)

    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        composer(desk.app).cursor_blink = False
        await pilot.press("ctrl+n")
        await settle(pilot)
        if keys:
            await pilot.press(*keys)
        if typed:
            await type_text(pilot, typed)
        await settle(pilot)

    return snap_compare(desk.app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_main_screen_with_a_chat_open(
    snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]
) -> None:
    """List with levels and waits, the open chat's messages, composer, slot strip, status."""
    assert snapshot(snap_compare, tmp_path, size)


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]) -> None:
    """F1: every key grouped by what it is for."""
    assert snapshot(snap_compare, tmp_path, size, keys=("f1",))


@pytest.mark.parametrize("size", SIZES)
def test_switcher_with_a_query(
    snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]
) -> None:
    """Ctrl+K then "sup": fuzzy matches with the matched letters marked."""
    assert snapshot(snap_compare, tmp_path, size, keys=("ctrl+k",), typed="sup")


@pytest.mark.parametrize("size", SIZES)
def test_postpone_chooser(snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]) -> None:
    """Alt+P: 15 minutes, 1 hour, 4 hours, tomorrow, custom."""
    assert snapshot(snap_compare, tmp_path, size, keys=("alt+p",))
