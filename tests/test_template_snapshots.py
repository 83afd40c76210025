"""SVG snapshots (120×35) of the template popup after typing `/gre` and of the Ctrl+T picker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.desk_harness import make_desk, ready, settle

SIZE = (120, 35)
SnapCompare = Callable[..., bool]


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Draw times in UTC for the test, then give the process its own zone back."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def snapshot_desk(snap_compare: SnapCompare, tmp_path: Path, keys: tuple[str, ...]) -> bool:
    """Open the longest-waiting chat of the seeded demo, press `keys`, compare the screen."""
    desk = make_desk(tmp_path)

    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot, rounds=1)
        await settle(pilot)

    try:
        return snap_compare(desk.app, terminal_size=SIZE, run_before=run_before)
    finally:
        asyncio.run(desk.close())


def test_popup_after_typing_slash_gre(snap_compare: SnapCompare, tmp_path: Path, utc: None) -> None:
    """The popup lists the greetings above the composer, English first for Lena's chat."""
    assert snapshot_desk(snap_compare, tmp_path, ("slash", "g", "r", "e"))


def test_picker_with_preview(snap_compare: SnapCompare, tmp_path: Path, utc: None) -> None:
    """Ctrl+T: categories on the left, the first template rendered for Lena on the right."""
    assert snapshot_desk(snap_compare, tmp_path, ("ctrl+t",))
