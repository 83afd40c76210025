"""A handoff through the simulated Telegram: the room message mentions the taker (so Telegram
alerts their phone), every other team event goes silently, and on the taker's desk the chat
leads the list with `→ from Alex` and alerts once."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from telethon.tl import types
from tgtriage.core.desk.alert_watch import AlertWatcher
from tgtriage.core.rules.alerts import AlertKind
from tgtriage.core.team.codec import decode

from tests.test_team_room import ALEX, PRIYA, Desk, SharedRoom, world
from tests.virtual_time import run_on_virtual_time

ACME, GLOBEX = -1_000_000_000_077, -1_000_000_000_088


def room_sends(desk: Desk) -> list[Any]:
    """The SendMessageRequests this desk made to the team room."""
    room = SharedRoom().room_id
    return [
        r
        for r in desk.sim.requests
        if type(r).__name__ == "SendMessageRequest"
        and decode(r.message) is not None
        and getattr(r.peer, "channel_id", None) == -room - 1_000_000_000_000
    ]


def utf16(text: str) -> list[int]:
    """Each UTF-16 code unit's character index (to read an entity's span back)."""
    out: list[int] = []
    for index, char in enumerate(text):
        out.extend([index] * (2 if ord(char) > 0xFFFF else 1))
    return out


class Seen:
    """What the scenario saw on both desks."""

    sends: list[Any]
    order_before: list[int]
    order_after: list[int]
    order_opened: list[int]
    marker: str
    alerts: list[list[Any]]


def test_a_handoff_mentions_the_taker_and_leads_their_list_with_one_alert() -> None:
    async def scenario(folder: Path) -> Seen:
        seen = Seen()
        room = SharedRoom()
        desks = [Desk(world(room, me, i), folder / f"d{i}") for i, me in enumerate((PRIYA, ALEX))]
        for desk in desks:
            await desk.start()
        priya, alex = (d.inbox for d in desks)
        assert priya is not None and alex is not None
        try:
            for _ in range(60):
                await asyncio.sleep(1)
                if {ACME, GLOBEX} <= set(priya.order()) and priya.team.active:
                    break
            watcher = AlertWatcher(priya)
            seen.order_before = priya.order()
            await alex.team.claim(ACME)
            await alex.team.hand_off(ACME, PRIYA.id, "refund approved, tell them")
            for _ in range(60):
                await asyncio.sleep(1)
                if ACME in priya.team.state.handoffs:
                    break
            seen.order_after = priya.order()
            seen.marker = priya.team.marker(ACME)
            seen.alerts = [watcher.check(), watcher.check()]
            priya.open(ACME)
            seen.order_opened = priya.order()
            seen.alerts.append(watcher.check())
            seen.sends = room_sends(desks[1])
            return seen
        finally:
            for desk in desks:
                await desk.stop()

    with tempfile.TemporaryDirectory() as folder:
        seen = run_on_virtual_time(scenario(Path(folder)))
    claim, handoff = seen.sends
    assert claim.silent is True, "a claim goes to the room silently"
    assert not handoff.silent, "a handoff notifies"
    mentions = [e for e in handoff.entities if isinstance(e, types.InputMessageEntityMentionName)]
    assert len(mentions) == 1 and mentions[0].user_id.user_id == PRIYA.id
    units = utf16(handoff.message)
    span = handoff.message[
        units[mentions[0].offset] : units[mentions[0].offset + mentions[0].length - 1] + 1
    ]
    assert span == "Priya Patel"
    assert handoff.message.startswith("→ Priya Patel, over to you: Acme Support")

    assert seen.order_before[0] != ACME, "Acme does not lead the list by itself"
    assert seen.order_after[0] == ACME, "the handed chat jumps to the top"
    assert "→ from Alex" in seen.marker
    first, again, after_open = seen.alerts
    assert [a.kind for a in first] == [AlertKind.HANDOFF]
    assert first[0].chat_id == ACME and "Alex Kim handed Acme Support to you" in first[0].body
    assert again == [] and after_open == [], "the alert is raised once"
    assert seen.order_opened == seen.order_before, "once opened, it goes back to its place"
