"""The status line while the source is offline: what failed and a live countdown to the retry."""

from __future__ import annotations

from pathlib import Path

from tgtriage.core.desk import events as ev
from tgtriage.core.desk.events import Connection

from tests.desk_harness import make_desk, ready, run_desk, settle, status_line


async def test_offline_shows_why_and_counts_down_to_the_next_try(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        await ready(pilot)
        app.inbox.submit(
            ev.ConnectionState(Connection.OFFLINE, "cannot reach Telegram", retry_in=30)
        )
        await app.inbox.drain()
        await settle(pilot)
        assert "● offline" in status_line(app)
        assert "cannot reach Telegram; retrying in 30 s" in status_line(app)
        desk.clock.advance(12)
        app._tick()
        await settle(pilot)
        assert "retrying in 18 s" in status_line(app)
        desk.clock.advance(20)
        app._tick()
        await settle(pilot)
        assert "retrying now" in status_line(app)
        app.inbox.submit(ev.ConnectionState(Connection.CONNECTED))
        await app.inbox.drain()
        await settle(pilot)
        assert "● connected" in status_line(app) and "retrying" not in status_line(app)
