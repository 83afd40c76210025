"""A big account's first sync: thousands of dialogs, support chats with history, FloodWaits.

`build()` makes a `FloodingTelegram` (the simulated Telegram of tests/sim_telegram.py with a
round trip per request and Telegram's flood rules, below) holding `dialogs` dialogs of which
`support` are support chats ("… Support" groups) with a seeded history: customers asking,
us and a teammate answering, sometimes a service message on top, and about a third of the
chats ending with customers still waiting (a few of them for more than a page of messages).
The other dialogs are private chats and news channels with one message each.

`FloodingTelegram` answers each request after `latency` simulated seconds and models flood
waits per method, as Telegram applies them: after `dialog_flood_every` dialogs served the
next GetDialogs meets a FloodWait of 20–30 s, a GetHistory meets one now and then
(`history_flood_rate`), and any request of that method sent before the wait is over meets
the rest of it. `truth()` is the waiting set that core/rules/triage.py computes from every
message Telegram holds; `desk_waiting()` the one the desk shows.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from telethon.tl import types
from tgtriage.core.desk.inbox import Inbox
from tgtriage.core.desk.models import ChatTriage
from tgtriage.core.rules import triage
from tgtriage.core.sources.telegram import convert as conv
from tgtriage.core.system.config import Config

from tests.fake_tl import channel, flood, group, user
from tests.sim_telegram import EPOCH, SimTelegram

TEAMMATE = user(600, "Tess", "Teammate")
DAY = 86_400


@dataclass
class FloodRecord:
    """What the flood rules did: every request asked and every FloodWait answered."""

    asked: Counter[str] = field(default_factory=Counter)
    floods: list[tuple[str, int]] = field(default_factory=list)
    windows: int = 0
    """How many of those floods opened a wait (the others were sent into one still running)."""
    dialogs_asked: list[int] = field(default_factory=list)
    """The offset (dialogs already served before it) of every GetDialogs sent, in order."""


class FloodingTelegram(SimTelegram):
    """The simulated Telegram with a round trip per request and per-method flood waits."""

    def __init__(
        self,
        *,
        seed: int = 0,
        latency: float = 0.1,
        dialog_flood_every: int = 600,
        history_flood_rate: float = 0.02,
        flood_seconds: tuple[int, int] = (20, 30),
    ) -> None:
        """Flood rules seeded by `seed` (apart from the sim's own random faults)."""
        super().__init__(seed=seed)
        self.latency = latency
        self.dialog_flood_every = dialog_flood_every
        self.history_flood_rate = history_flood_rate
        self.flood_seconds = flood_seconds
        self.flood_rng = random.Random(seed + 1)
        self.flood_until: dict[str, float] = {}
        self.record = FloodRecord()
        self._dialogs_served = 0
        self._flooded_at: set[int] = set()

    def _flood(self, name: str, now: float) -> None:
        """Open a flood window on one method and raise its FloodWait."""
        seconds = self.flood_rng.randint(*self.flood_seconds)
        self.flood_until[name] = now + seconds
        self.record.windows += 1
        self.record.floods.append((name, seconds))
        raise flood(seconds)

    def _check_floods(self, name: str, now: float) -> None:
        """Raise a FloodWait when this request meets one (see the module docstring)."""
        until = self.flood_until.get(name, 0.0)
        if now < until:
            seconds = math.ceil(until - now)
            self.record.floods.append((name, seconds))
            raise flood(seconds)
        if name == "GetDialogsRequest":
            served = self._dialogs_served
            every = self.dialog_flood_every
            if served and every and served % every < 100 and served not in self._flooded_at:
                self._flooded_at.add(served)
                self._flood(name, now)
        elif name == "GetHistoryRequest" and self.flood_rng.random() < self.history_flood_rate:
            self._flood(name, now)

    async def __call__(self, request: Any) -> Any:
        """Serve one request after the round trip, unless a flood rule answers first."""
        loop = asyncio.get_running_loop()
        name = type(request).__name__
        self.record.asked[name] += 1
        if name == "GetDialogsRequest":
            self.record.dialogs_asked.append(self._dialogs_served)
        await asyncio.sleep(self.latency)
        self._check_floods(name, loop.time())
        result = await super().__call__(request)
        if name == "GetDialogsRequest":
            self._dialogs_served += len(result.dialogs)
        return result


@dataclass
class SyncWorld:
    """The simulated account and what the desk must end up showing."""

    sim: FloodingTelegram
    support: list[int]
    dialogs: int

    def truth(self) -> dict[int, int]:
        """Chat id → when its customer began waiting, from every message Telegram holds."""
        sim = self.sim
        rule = triage.StaffRule(me_id=sim.me.id, staff_ids=frozenset({TEAMMATE.id}))
        waiting: dict[int, int] = {}
        for chat_id in self.support:
            messages = [
                conv.convert_message(m, sim.entities, self_id=sim.me.id) for m in sim.truth(chat_id)
            ]
            since = triage.derive(ChatTriage(chat_id=chat_id), messages, rule).waiting_since
            if since is not None:
                waiting[chat_id] = since
        return waiting


def desk_waiting(inbox: Inbox) -> dict[int, int]:
    """Chat id → when its customer began waiting, as the desk shows it."""
    now = inbox.now()
    return {
        chat_id: state.waiting_since
        for chat_id, state in inbox.triage.items()
        if state.waiting_since is not None and triage.is_awaiting(state, now)
    }


def config(**telegram: Any) -> Config:
    """Support chats are '* Support' groups; Tess is a teammate."""
    return Config.model_validate(
        {
            "chats": {"title_patterns": ["* Support"], "private_chats": False},
            "staff": {"ids": [TEAMMATE.id]},
            "telegram": telegram,
        }
    )


def _support_history(
    sim: FloodingTelegram, chat_id: int, customers: list[Any], rng: random.Random, last: int
) -> None:
    """Turns of customers asking and staff answering, ending at `last`; a third end waiting."""
    customer = rng.choice(customers)
    turns = rng.randint(1, 12)
    waiting = rng.random() < 0.35
    deep = waiting and rng.random() < 0.15
    moments = sorted(rng.sample(range(last - 20 * DAY, last), turns * 2 + 1))
    steps: list[tuple[str, int]] = []
    for _turn in range(turns):
        steps.append(("customer", rng.randint(1, 6)))
        steps.append(("staff", rng.randint(1, 3)))
    if waiting:
        steps.append(("customer", rng.randint(120, 260) if deep else rng.randint(1, 8)))
    at = iter(moments)
    for who, count in steps:
        start = next(at)
        for n in range(count):
            date = start + 30 * n
            if who == "customer":
                sim.message(chat_id, f"question {n}", sender=customer, date=date)
            elif rng.random() < 0.3:
                sim.message(chat_id, f"answer {n}", sender=TEAMMATE, date=date)
            else:
                sim.message(chat_id, f"answer {n}", out=True, date=date)
    if rng.random() < 0.1:
        top = max(int(m.date.timestamp()) for m in sim.history[chat_id])
        sim.service(chat_id, types.MessageActionPinMessage(), sender=TEAMMATE, date=top + 60)
    marks = [m.id for m in sim.history[chat_id] if m.out]
    sim.read_inbox[chat_id] = max(marks, default=0)


def build(
    *,
    dialogs: int = 2_000,
    support: int = 200,
    seed: int = 0,
    latency: float = 0.1,
    dialog_flood_every: int = 600,
    history_flood_rate: float = 0.02,
) -> SyncWorld:
    """An account of `dialogs` dialogs, `support` of them support chats (see the module doc)."""
    rng = random.Random(seed)
    sim = FloodingTelegram(
        seed=seed,
        latency=latency,
        dialog_flood_every=dialog_flood_every,
        history_flood_rate=history_flood_rate,
    )
    customers = [user(10_000 + n, f"Customer {n}") for n in range(max(1, support * 2))]
    for person in (*customers, TEAMMATE):
        sim.add_user(person)
    support_ids: list[int] = []
    slots = rng.sample(range(dialogs), support)
    chosen = set(slots)
    for index in range(dialogs):
        last = EPOCH - rng.randint(3 * 3600, 30 * DAY)
        if index in chosen:
            entity: Any = (
                group(5_000 + index, f"Client {index} Support")
                if index % 5 == 0
                else channel(5_000 + index, f"Client {index} Support")
            )
            chat_id = sim.add_chat(entity)
            _support_history(sim, chat_id, customers, rng, last)
            support_ids.append(chat_id)
        elif index % 2:
            person = user(100_000 + index, f"Friend {index}")
            chat_id = sim.add_chat(person)
            sim.message(chat_id, "see you", sender=person, date=last)
        else:
            chat_id = sim.add_chat(channel(200_000 + index, f"News {index}", megagroup=False))
            sim.message(chat_id, "today's news", date=last)
        sim._sync_meta(chat_id)
    return SyncWorld(sim=sim, support=support_ids, dialogs=dialogs)


__all__ = ["TEAMMATE", "FloodingTelegram", "SyncWorld", "build", "config", "desk_waiting"]
