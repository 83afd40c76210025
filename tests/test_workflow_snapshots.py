"""SVG snapshots of the workflow screens: views, note mode, in development, tags, the view
chooser and a reminder, on the seeded demo with a fixed clock.

Update after an intended change with `pytest tests/test_workflow_snapshots.py --snapshot-update`,
then look at the new SVGs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.desk_harness import Desk, composer, make_desk, ready, settle, type_text

SnapCompare = Callable[..., bool]
Steps = Callable[[Desk, Pilot[Any]], Awaitable[None]]
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


pytestmark = pytest.mark.usefixtures("utc_times")  # times on screen in UTC


def snapshot(
    snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int], steps: Steps
) -> bool:
    """Open the longest-waiting chat, run `steps`, compare the screen."""
    desk = make_desk(tmp_path)

    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        composer(desk.app).cursor_blink = False
        await pilot.press("ctrl+n")
        await settle(pilot)
        await steps(desk, pilot)
        await settle(pilot)

    return snap_compare(desk.app, terminal_size=size, run_before=run_before)


async def waiting_view(desk: Desk, pilot: Pilot[Any]) -> None:
    """F3: the Waiting view."""
    await pilot.press("f3")


async def note_saved(desk: Desk, pilot: Pilot[Any]) -> None:
    """Alt+N, a note saved, a second one being typed."""
    await pilot.press("alt+n")
    await type_text(pilot, "Called Lena: restore must not touch db-main. Ticket OPS-4711.")
    await pilot.press("enter")
    await type_text(pilot, "She is on the legacy plan")


async def development_screen(desk: Desk, pilot: Pilot[Any]) -> None:
    """Alt+D with a due date typed."""
    await pilot.press("alt+d")
    await type_text(pilot, "OPS-4711")
    await pilot.press("enter")
    await type_text(pilot, "fri")


async def marked_up_chat(desk: Desk, pilot: Pilot[Any]) -> None:
    """In development with a due date, tagged, VIP targets, a note: header and rows show it."""
    inbox = desk.inbox
    chat_id = inbox.open_chat_id
    assert chat_id is not None
    await inbox.set_in_development(chat_id, "OPS-4711", int(desk.clock.now) + 3 * 86_400)
    await inbox.set_tags(chat_id, {"vip", "backups"})
    await inbox.set_levels(chat_id, (120, 300, 900))
    await pilot.press("alt+n")
    await type_text(pilot, "Restore runs on db-main-restore; see OPS-4711")
    await pilot.press("enter")
    await pilot.press("alt+n")


async def tag_screen(desk: Desk, pilot: Pilot[Any]) -> None:
    """Alt+G with a completion offered from the tags in use."""
    await desk.inbox.set_tags(desk.inbox.order()[3], {"billing", "vip"})
    await pilot.press("alt+g")
    await type_text(pilot, "vip, bi")


async def view_chooser(desk: Desk, pilot: Pilot[Any]) -> None:
    """Alt+V: every view with its count (after a postponement and a tag)."""
    await desk.inbox.set_tags(desk.inbox.order()[1], {"vip"})
    await pilot.press("alt+p", "2")
    await settle(pilot)
    await pilot.press("alt+v")


async def reminder(desk: Desk, pilot: Pilot[Any]) -> None:
    """A quiet chat postponed for 15 minutes; the time passes; it is back with ◷."""
    soylent = next(c for c, chat in desk.inbox.chats.items() if "Soylent" in chat.title)
    await desk.app.open_chat(soylent)
    await pilot.press("alt+p", "1")
    await settle(pilot)
    desk.clock.advance(15 * 60)
    await settle(pilot)
    desk.app._tick()


@pytest.mark.parametrize("size", SIZES)
def test_waiting_view(snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]) -> None:
    """F3: only the chats whose customer waits; the bar above the list names the view."""
    assert snapshot(snap_compare, tmp_path, size, waiting_view)


@pytest.mark.parametrize("size", SIZES)
def test_note_mode(snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]) -> None:
    """Alt+N: the composer's heavy yellow NOTE frame; the saved note in its own style."""
    assert snapshot(snap_compare, tmp_path, size, note_saved)


@pytest.mark.parametrize("size", SIZES)
def test_in_development_screen(
    snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]
) -> None:
    """Alt+D: ticket and due date."""
    assert snapshot(snap_compare, tmp_path, size, development_screen)


@pytest.mark.parametrize("size", SIZES)
def test_a_chat_in_development_tagged_with_targets_and_a_note(
    snap_compare: SnapCompare, tmp_path: Path, size: tuple[int, int]
) -> None:
    """The header's second line (due, tags, targets, notes), ⚙ and the ticket in the row."""
    assert snapshot(snap_compare, tmp_path, size, marked_up_chat)


def test_tag_screen(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """Alt+G: the tags, the completion from the tags in use."""
    assert snapshot(snap_compare, tmp_path, (120, 40), tag_screen)


def test_view_chooser(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """Alt+V: the views with their counts, the current one marked."""
    assert snapshot(snap_compare, tmp_path, (120, 40), view_chooser)


def test_reminder_back_at_the_top(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """A postponement that ran out: ◷ in the row, after the waiting chats, and in the header."""
    assert snapshot(snap_compare, tmp_path, (120, 40), reminder)
