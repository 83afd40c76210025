"""Presence through the simulated Telegram with drops: the first presence is one silent post,
later ones edit it at most once per presence_seconds, a presence asked for offline waits as the
latest wish only and goes out after the reconnect (unless it has grown stale)."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tgtriage.core.desk.events import Connection
from tgtriage.core.team.codec import Kind, TeamEvent, decode

from tests.test_team_room import PRIYA, Desk, SharedRoom, world
from tests.virtual_time import run_on_virtual_time

ACME, GLOBEX = -1_000_000_000_077, -1_000_000_000_088
EVERY = 30  # the default [team] presence_seconds


@dataclass
class Wire:
    """The presence requests the desk made, with their loop times."""

    posts: list[Any] = field(default_factory=list)
    edits: list[tuple[float, Any]] = field(default_factory=list)


def watch(desk: Desk, wire: Wire) -> None:
    """Record every presence post and edit the desk sends to Telegram."""
    loop = asyncio.get_running_loop()

    def seen(request: Any) -> None:
        name = type(request).__name__
        event = decode(getattr(request, "message", None))
        if event is None or event.kind is not Kind.PRESENCE:
            return
        if name == "SendMessageRequest":
            wire.posts.append(request)
        elif name == "EditMessageRequest":
            wire.edits.append((loop.time(), request))

    desk.sim.on_request = seen


async def until(check: Any, limit: int = 120) -> None:
    """Let virtual time run until `check()` holds."""
    for _ in range(limit):
        if check():
            return
        await asyncio.sleep(1)


def room_presence(desk: Desk) -> TeamEvent | None:
    """Priya's presence as the room holds it now."""
    room = SharedRoom().room_id
    ours = [decode(m.message) for m in desk.sim.truth(room) if getattr(m, "out", False)]
    return next((e for e in reversed(ours) if e and e.kind is Kind.PRESENCE), None)


def test_presence_is_rate_limited_and_the_latest_waits_out_a_drop() -> None:
    async def scenario(folder: Path) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        room = SharedRoom()
        desk = Desk(world(room, PRIYA, 5), folder)
        await desk.start()
        inbox = desk.inbox
        assert inbox is not None
        team = inbox.team
        wire = Wire()
        watch(desk, wire)
        try:
            await until(lambda: team.active and inbox.connection is Connection.CONNECTED)
            for _ in range(90):  # typing in Acme for a minute and a half, a key a second
                team.typing(ACME)
                await asyncio.sleep(1)
            await asyncio.sleep(EVERY)  # the last key's presence, once the rate allows
            seen["posts"] = list(wire.posts)
            seen["edit_times"] = [t for t, _ in wire.edits]
            seen["room_after_typing"] = room_presence(desk)

            desk.sim.cut()  # the network goes: what is typed now waits
            await until(lambda: inbox.connection is not Connection.CONNECTED)
            await asyncio.sleep(EVERY)
            team.typing(ACME)
            await asyncio.sleep(2)
            team.typing(GLOBEX)  # the latest wish replaces Acme's
            await asyncio.sleep(5)
            seen["edits_offline"] = len(wire.edits)
            desk.sim.heal()
            await until(lambda: room_presence(desk) == TeamEvent(Kind.PRESENCE, GLOBEX))
            await asyncio.sleep(EVERY * 2)
            seen["edits_after_heal"] = [decode(r.message) for _, r in wire.edits][
                seen["edits_offline"] :
            ]

            desk.sim.cut()  # offline for longer than a teammate would show the presence
            await until(lambda: inbox.connection is not Connection.CONNECTED)
            team.typing(ACME)
            await asyncio.sleep(EVERY * 3)
            before = len(wire.edits)
            desk.sim.heal()
            await until(lambda: inbox.connection is Connection.CONNECTED)
            await asyncio.sleep(EVERY * 2)
            seen["stale_edits"] = len(wire.edits) - before

            desk.sim.script.drops_mid_request = 1  # the next edit dies on the wire
            team.typing(ACME)  # nothing typed after it: the desk itself must send it again
            await until(lambda: desk.sim.cancelled_requests > 0)
            await until(lambda: room_presence(desk) == TeamEvent(Kind.PRESENCE, ACME))
            seen["after_drop"] = room_presence(desk)
            return seen
        finally:
            await desk.stop()

    with tempfile.TemporaryDirectory() as folder:
        seen = run_on_virtual_time(scenario(Path(folder)))
    (post,) = seen["posts"]
    assert post.silent is True, "the first presence is posted silently"
    times = seen["edit_times"]
    assert len(times) == 3, "one presence every 30 s, kept fresh while typing (edits)"
    assert all(b - a >= EVERY for a, b in itertools.pairwise(times))
    assert seen["room_after_typing"] == TeamEvent(Kind.PRESENCE, ACME)
    assert seen["edits_offline"] == len(times), "nothing goes out while offline"
    assert seen["edits_after_heal"] == [TeamEvent(Kind.PRESENCE, GLOBEX)], (
        "after the reconnect only the latest presence is sent, once"
    )
    assert seen["stale_edits"] == 0, "a presence older than teammates would show is dropped"
    assert seen["after_drop"] == TeamEvent(Kind.PRESENCE, ACME), "an edit lost in a drop is redone"
