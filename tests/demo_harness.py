"""A started demo source on a fake clock, and readers of what it has said (no Textual here)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

from tgtriage.core.desk.events import Event, NewMessage
from tgtriage.core.desk.models import Message
from tgtriage.core.sources import demo_script
from tgtriage.core.sources.demo import DemoSource

START = 1_700_000_000.0
SCRIPT = demo_script.default_script()
ME, PRIYA, TOM = 1001, 1002, 1003
STAFF = {ME, PRIYA, TOM}
ACME = SCRIPT.scenarios[0].chat_id
INITECH = next(s.chat_id for s in SCRIPT.scenarios if s.key == "initech")
NUDGES = {text for texts in SCRIPT.nudges.values() for text in texts}


class FakeTime:
    """A clock that moves only when the source sleeps; it stops the source at a deadline."""

    def __init__(self) -> None:
        """Start at START with no deadline."""
        self.now = START
        self.deadline = math.inf
        self.source: DemoSource | None = None

    def clock(self) -> float:
        """The fake now."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Jump the clock forward instead of waiting; stop the source past the deadline."""
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)
        if self.now >= self.deadline and self.source is not None:
            await self.source.stop()


async def started(seed: int | None = 7, **kwargs: float) -> tuple[DemoSource, FakeTime]:
    """A started demo source on a fake clock."""
    fake = FakeTime()
    source = DemoSource(seed=seed, clock=fake.clock, sleep=fake.sleep, **kwargs)  # type: ignore[arg-type]
    fake.source = source
    await source.start()
    return source, fake


async def run_for(source: DemoSource, fake: FakeTime, seconds: float) -> list[tuple[float, Event]]:
    """Every event of the next `seconds` of (fake) time, with its time since START."""
    fake.deadline = fake.now + seconds
    return [(fake.now - START, event) async for event in source.events()]


async def until(stream: AsyncIterator[Event], wanted: type, check: object = None) -> Event:
    """Pull events until one of type `wanted` (and passing `check`) arrives."""
    async for event in stream:
        if isinstance(event, wanted) and (check is None or check(event)):  # type: ignore[operator]
            return event
    raise AssertionError(f"the stream ended before a {wanted.__name__}")


async def backlog(source: DemoSource) -> dict[int, list[Message]]:
    """Every visible chat's whole history."""
    return {c.id: await source.history(c.id, None, 10_000) for c in await source.dialogs()}


def waiting_since(messages: list[Message]) -> int | None:
    """First customer message after the last staff message (DESIGN §3), for checking the backlog."""
    since = None
    for msg in messages:
        if msg.service:
            continue
        if msg.sender_id in STAFF:
            since = None
        elif since is None:
            since = msg.date
    return since


def messages_of(events: list[tuple[float, Event]], chat_id: int) -> list[tuple[float, Message]]:
    """The new messages of one chat in a recorded run."""
    return [
        (t, e.message)
        for t, e in events
        if isinstance(e, NewMessage) and e.message.chat_id == chat_id
    ]
