"""A fake Telegram account in support chats and the helpers that drive a TelegramSource on it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tgtriage.core.desk import events as ev
from tgtriage.core.sources.telegram.source import TelegramSource
from tgtriage.core.system.config import Config
from tgtriage.core.system.paths import Paths

from tests.fake_telethon import FakeClient
from tests.fake_tl import T0, channel, forum_topic, group, user

ALICE = user(501, "Alice", "Customer", username="alice")
BOB = user(502, "Bob", "Buyer")
TESS = user(600, "Tess", "Teammate", username="tess")
ACME = channel(77, "Acme · Support")
INITECH = group(42, "Initech Support")
FORUM = channel(88, "Globex Support", forum=True)
CATS = channel(99, "Cat pictures")
ACME_ID, INITECH_ID, FORUM_ID, CATS_ID = -1000000000077, -42, -1000000000088, -1000000000099
NOW = T0 + 5000


def world(fake: FakeClient | None = None) -> FakeClient:
    """An account in three support chats (one a forum), a private chat and a hobby group
    (built into `fake` when given, e.g. a subclass that watches requests)."""
    fake = fake if fake is not None else FakeClient()
    for person in (ALICE, BOB, TESS):
        fake.add_user(person)
    fake.add_chat(ACME, read_inbox_max_id=1, read_outbox_max_id=0, unread_count=1)
    fake.add_chat(INITECH)
    fake.add_chat(FORUM)
    fake.add_chat(CATS)
    fake.add_chat(ALICE)
    fake.message(ACME_ID, "Hello", sender=ALICE, date=T0 + 100)
    fake.message(ACME_ID, "anyone there?", sender=ALICE, date=T0 + 130)
    fake.message(FORUM_ID, "billing question", sender=ALICE, topic=200, msg_id=201, date=T0 + 200)
    fake.message(INITECH_ID, "printer broken", sender=BOB, date=T0 + 300)
    fake.message(CATS_ID, "meow", sender=BOB, date=T0 + 400)
    fake.topics[FORUM_ID] = [forum_topic(200, "Billing", FORUM)]
    return fake


def config(**chats: Any) -> Config:
    """Support chats are '* Support' groups unless told otherwise."""
    rules: dict[str, Any] = {"title_patterns": ["* Support"], "private_chats": False}
    rules.update(chats)
    # Replies leave at once: the undo window has tests of its own (tests/test_undo_send.py).
    return Config(chats=rules, staff={"ids": [600]}, undo_send_seconds=0)


class Sleeper:
    """Records requested sleeps and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await asyncio.sleep(0)


def make(fake: FakeClient, paths: Paths, cfg: Config | None = None, **kw: Any) -> TelegramSource:
    """A source on the fake client with instant sleeps and a fixed clock."""
    kw.setdefault("sleep", Sleeper())
    return TelegramSource(
        cfg or config(), paths, lambda: fake, clock=lambda: NOW, history_interval=0, **kw
    )


def queued(source: TelegramSource, *, marks: bool = False) -> list[ev.Event]:
    """Every event emitted so far (consumed); the `CatchingUp` marks only with `marks`
    (the fake's messages are dated long before the source's clock: each opens a catch-up,
    which tests/test_catch_up_source.py checks)."""
    out: list[ev.Event] = []
    while not source._queue.empty():
        event = source._queue.get_nowait()
        if event is not None and (marks or not isinstance(event, ev.CatchingUp)):
            out.append(event)
    return out


def pending(source: TelegramSource) -> list[Any]:
    """The events queued right now (not consumed)."""
    return list(source._queue._queue)  # type: ignore[attr-defined]


def of(events: list[ev.Event], kind: type) -> list[Any]:
    """Events of one kind."""
    return [e for e in events if isinstance(e, kind)]


async def until(condition: Callable[[], bool], rounds: int = 500) -> None:
    """Let background tasks run until `condition` holds.

    The Inbox spaces its change notifications a real frame apart, so after the first `rounds`
    turns of the loop this also gives the wall clock a millisecond per try (up to 10 s): a busy
    machine makes the test slower, never wrong.
    """
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0)
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition never became true")


async def started(
    fake: FakeClient, paths: Paths, cfg: Config | None = None, **kw: Any
) -> TelegramSource:
    """A source that has started and finished its start-up sync."""
    source = make(fake, paths, cfg, **kw)
    await source.start()
    await source.wait_synced()
    return source
