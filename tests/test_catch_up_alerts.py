"""Alerts after a catch-up: nothing while it runs, then only the waits still open (at the level
of their real wait) and one summary line for the rest, never an alert per chat that got messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tgtriage.core.desk import events as ev
from tgtriage.core.desk.alert_watch import AlertWatcher
from tgtriage.core.rules.alerts import AlertKind, away_summary

from tests.inbox_harness import (
    ACME,
    ALICE,
    BOB,
    GLOBEX,
    INITECH,
    ME,
    T0,
    UMBRELLA,
    Desk,
    FakeClock,
    new,
    running_desk,
)

START = T0 + 100_000
HOUR = 3600


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Desk]:
    """A started desk whose clock stands at START."""
    async with running_desk(tmp_path / "desk.sqlite3", clock=FakeClock(START)) as desk:
        yield desk


def fired(watcher: AlertWatcher) -> list[tuple[int, AlertKind, int]]:
    """Check now and list what fired."""
    return [(a.chat_id, a.kind, a.level) for a in watcher.check()]


def night(offset_hours: float) -> int:
    """A moment of the night, as the harness's offset from T0 (the desk slept from START)."""
    return START - T0 + int(offset_hours * HOUR)


async def test_the_desk_awake_all_night_alerts_only_what_still_waits(live: Desk) -> None:
    watcher = AlertWatcher(live.inbox, started_at=START)
    live.clock.now = START + 8 * HOUR  # the laptop opens in the morning
    await live.feed(ev.CatchingUp(active=True))
    # Acme: asked at 1:00, answered at 1:20 — began and ended while away.
    await live.feed(new(ACME, 1, ALICE, night(1), "server down?"))
    assert fired(watcher) == [], "nothing alerts while the catch-up runs"
    await live.feed(new(ACME, 2, ME, night(1.33), "fixed"))
    # Globex: asked at 3:00, still waiting. Initech: asked at 7:55, still waiting (due only).
    await live.feed(new(GLOBEX, 1, BOB, night(3), "invoice?"))
    await live.feed(new(INITECH, 1, ALICE, night(7.92), "hello"))
    assert fired(watcher) == []
    await live.feed(ev.CatchingUp(active=False))
    assert sorted(fired(watcher)) == sorted(
        [(GLOBEX.id, AlertKind.LEVEL, 3)]  # five hours: breached; Initech's 5 minutes: fresh
    ), "only what still waits, at the level of its real wait"
    assert watcher.summaries == [away_summary(3, 2)]
    assert fired(watcher) == [], "each once"
    live.clock.now = START + 8 * HOUR + 600  # Initech now waits 14 minutes
    assert fired(watcher) == [(INITECH.id, AlertKind.LEVEL, 1)]
    assert watcher.summaries == [away_summary(3, 2)], "one summary per catch-up"


async def test_a_wait_first_heard_of_in_a_catch_up_alerts_although_older_than_start_up(
    live: Desk,
) -> None:
    # Known at start-up: Umbrella waits since yesterday evening (seen on screen: stays quiet).
    await live.feed(new(UMBRELLA, 1, BOB, START - T0 - 10 * HOUR, "still broken"))
    watcher = AlertWatcher(live.inbox, started_at=START)
    assert fired(watcher) == []
    await live.feed(ev.CatchingUp(active=True))
    await live.feed(new(UMBRELLA, 2, BOB, START - T0 - 2 * HOUR, "hello??"))
    await live.feed(new(GLOBEX, 1, ALICE, START - T0 - 2 * HOUR, "can't log in"))
    await live.feed(new(ACME, 1, ALICE, START - T0 - 3 * HOUR, "question"))
    await live.feed(new(ACME, 2, ME, START - T0 - 2 * HOUR, "answer"))
    await live.feed(ev.CatchingUp(active=False))
    assert fired(watcher) == [(GLOBEX.id, AlertKind.LEVEL, 3)], (
        "the night's wait that still waits alerts; the one seen at start-up and the one "
        "answered do not"
    )
    assert watcher.summaries == [away_summary(3, 2)]


async def test_a_catch_up_that_never_ends_stops_holding_alerts(live: Desk) -> None:
    watcher = AlertWatcher(live.inbox, started_at=START)
    await live.feed(ev.CatchingUp(active=True))
    await live.feed(new(GLOBEX, 1, BOB, START - T0 - 400, "hello"))
    live.clock.now = START + 100
    assert fired(watcher) == [], "held while the catch-up runs"
    live.clock.now = START + 1000
    assert fired(watcher) == [(GLOBEX.id, AlertKind.LEVEL, 2)]


def test_the_summary_line_reads_right() -> None:
    assert away_summary(212, 37) == "While you were away: 212 chats got messages, 37 still wait"
    assert away_summary(1, 1) == "While you were away: 1 chat got messages, 1 still waits"
    assert away_summary(4, 0) == "While you were away: 4 chats got messages, none still waits"
