"""A catch-up over many channels: newest pages a few at once, not one channel difference at a time.

The desk (Inbox, SQLite store, TelegramSource) runs over the simulated Telegram whose catch-up
goes through Telethon's own MessageBox (tests/sim_difference.py); a night of random messages
over a dozen support channels, a basic group and a private chat piles up while the network is
away. Checked after it, on looptime's virtual clock:

- the waiting set equals the truth, and every chat's newest messages are on the desk, also
  when FloodWaits and a dropped connection (seeded) hit the catch-up's requests;
- no message reaches the screen twice;
- Telethon's channel differences are answered by the desk itself, and the catch-up asks for
  at most a page per touched chat (plus the account's difference slices and the chat states).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from telethon import utils
from tgtriage.core.desk.changes import Changes
from tgtriage.core.desk.inbox import Inbox
from tgtriage.core.sources.telegram.channel_catch_up import PAGE, SHORTCUT_CHANNELS
from tgtriage.core.sources.telegram.source import TelegramSource
from tgtriage.core.storage.store import Store
from tgtriage.core.system.paths import Paths

from tests.fake_tl import channel, group, user
from tests.sim_difference import DifferenceSim
from tests.sim_telegram import EPOCH, Faults
from tests.test_catch_up import config, true_waits
from tests.virtual_time import run_on_virtual_time
from tgtriage.cli.telegram import hint_source

ALICE = user(501, "Alice", "Customer")
TESS = user(600, "Tess", "Teammate")
CHANNELS = 12
NIGHT = 8 * 3600
ROUND_TRIP = 0.1


@dataclass
class Night:
    """What the desk did with one night."""

    desk_waits: dict[int, int | None] = field(default_factory=dict)
    truth_waits: dict[int, int | None] = field(default_factory=dict)
    missing: dict[int, list[int]] = field(default_factory=dict)
    shown: Counter[tuple[int, int]] = field(default_factory=Counter)
    touched: set[int] = field(default_factory=set)
    asked: Counter[str] = field(default_factory=Counter)
    answered_locally: int = 0
    floods: int = 0
    drops: int = 0


def world(rng: random.Random) -> tuple[DifferenceSim, list[int]]:
    """A dozen support channels (two answered `channelDifferenceTooLong`), a group, a private
    chat; nobody waits at first."""
    sim = DifferenceSim(seed=rng.randrange(1000), slice_size=40)
    sim.inline_channel_updates = 2
    for person in (ALICE, TESS):
        sim.add_user(person)
    chats = [sim.add_chat(channel(70 + i, f"Shop {i} Support")) for i in range(CHANNELS)]
    chats += [sim.add_chat(group(42, "Initech Support")), sim.add_chat(ALICE)]
    for chat in chats:
        sim.post(chat, "Hello", sender=ALICE)
        sim.post(chat, "how can we help?", out=True)
    sim.too_long = set(rng.sample(chats[:CHANNELS], 2))
    return sim, chats


def play(sim: DifferenceSim, chats: list[int], rng: random.Random) -> set[int]:
    """The night's messages (dated over the night): most channels get more than a page."""
    touched: set[int] = set()
    posts = [(chat, rng.random()) for chat in chats for _ in range(rng.randrange(0, 3 * PAGE))]
    rng.shuffle(posts)
    for chat, roll in posts:
        if roll < 0.7:
            sim.post(chat, "customer: still broken", sender=ALICE)
        elif roll < 0.85 and chat < 0:
            sim.post(chat, "teammate: on it", sender=TESS)
        else:
            sim.post(chat, "answer from the phone", out=True)
        touched.add(chat)
    return touched


def faults(sim: DifferenceSim, rng: random.Random, night: Night) -> None:
    """Seeded faults on the catch-up's requests: FloodWaits and one dropped connection."""
    drop_at = rng.randrange(2, 10)
    seen = 0

    def inject(request: Any) -> None:
        nonlocal seen
        seen += 1
        if type(request).__name__ == "GetHistoryRequest" and rng.random() < 0.1:
            sim.script.floods.append(rng.randrange(5, 30))
            night.floods += 1
        if seen == drop_at:
            sim.script.drops_mid_request += 1
            night.drops += 1

    sim.on_request = inject


async def overnight(seed: int, folder: Path, *, faulty: bool) -> Night:
    """Sync the desk, take the network away for a night, heal, let it catch up."""
    loop = asyncio.get_running_loop()
    rng = random.Random(seed)
    sim, chats = world(rng)
    sim.round_trip = ROUND_TRIP
    cfg = config()
    clock = lambda: EPOCH + loop.time()  # noqa: E731
    store = await Store.open(folder / "desk.sqlite3", clock=clock)
    source = TelegramSource(
        cfg,
        Paths(config_dir=folder / "config", data_dir=folder / "data"),
        lambda: sim,
        clock=clock,
        monotonic=loop.time,
        history_interval=0,
    )
    inbox = Inbox(store, source, cfg, clock=clock)
    await inbox.load_cached()
    hint_source(source, inbox)
    night = Night()
    try:
        await inbox.start()
        await source.wait_synced()
        await asyncio.sleep(60)  # the first reconcile round

        def shown(changes: Changes) -> None:
            for chat, messages in changes.messages.items():
                night.shown.update((chat, m.id) for m in messages)

        inbox.subscribe(shown)
        sim.faults = Faults(delay=1.0, delay_seconds=ROUND_TRIP)
        sim.cut()
        await asyncio.sleep(NIGHT / 2)
        night.touched = play(sim, chats, rng)
        await asyncio.sleep(NIGHT / 2)
        before = len(sim.requests)
        if faulty:
            faults(sim, rng, night)
        sim.heal()
        marks = source.catch_up_marks
        assert marks is not None
        for _ in range(900):
            await asyncio.sleep(1)
            if marks.opened and not marks.active and not inbox.catch_up.active:
                break
        await asyncio.sleep(5)
        await inbox.flushed()
        sim.on_request = None
        night.asked = Counter(type(r).__name__ for r in sim.requests[before:])
        night.answered_locally = sim.answered_locally
        night.desk_waits = {c: inbox.triage[c].waiting_since for c in chats}
        night.truth_waits = true_waits(sim, chats)
        for chat in chats:
            held = {m.id for m in await store.messages(chat, limit=4 * PAGE)}
            lost = [m.id for m in sim.truth(chat)[-PAGE:] if m.id not in held]
            if lost:
                night.missing[chat] = lost
        return night
    finally:
        await inbox.stop()
        await store.close()


def catch_up(seed: int, *, faulty: bool = False) -> Night:
    """One night on a fresh looptime loop."""
    with tempfile.TemporaryDirectory() as folder:
        return run_on_virtual_time(overnight(seed, Path(folder), faulty=faulty))


def check(night: Night) -> None:
    """The desk's picture equals the truth and nothing reached the screen twice."""
    assert night.missing == {}, "every chat's newest messages are on the desk"
    assert night.desk_waits == night.truth_waits, "the waiting set equals the truth"
    twice = [key for key, count in night.shown.items() if count > 1]
    assert twice == [], "no message applied twice"


def test_channel_differences_are_answered_from_pages_fetched_a_few_at_once() -> None:
    night = catch_up(seed=3)
    check(night)
    touched_channels = {
        c for c in night.touched if utils.resolve_id(c)[1].__name__ == "PeerChannel"
    }
    assert len(touched_channels) >= SHORTCUT_CHANNELS
    assert night.answered_locally >= len(touched_channels) - 2, (
        "Telethon's channel differences are answered by the desk"
    )
    assert night.asked["GetChannelDifferenceRequest"] <= 2 * 2, "none asked page by page"
    slices = night.asked["GetDifferenceRequest"]
    pages = night.asked["GetHistoryRequest"]
    watched = 10  # the reconnect's gap fill looks at the working set (or the 10 busiest chats)
    assert pages <= len(night.touched) + watched, f"{pages} history pages for {len(night.touched)}"
    assert slices + pages + night.asked["GetPeerDialogsRequest"] <= 2 * len(night.touched) + 40


@pytest.mark.parametrize("seed", range(4))
def test_a_catch_up_hit_by_flood_waits_and_a_drop_ends_at_the_truth(seed: int) -> None:
    night = catch_up(seed, faulty=True)
    assert night.drops == 1
    check(night)


def test_the_real_client_offers_every_request_to_the_answer_locally_hook_first() -> None:
    from telethon.sessions import MemorySession
    from telethon.tl import functions
    from tgtriage.core.sources.telegram.client import _desk_client_class, answer_locally

    async def run() -> None:
        client = _desk_client_class()(MemorySession(), 1, "0" * 32)
        asked: list[Any] = []
        answer = object()

        async def hook(request: Any) -> Any:
            asked.append(request)
            return answer if isinstance(request, functions.updates.GetStateRequest) else None

        assert answer_locally(client, hook)
        state = functions.updates.GetStateRequest()
        assert await client(state) is answer, "answered without a connection"
        with pytest.raises(ConnectionError):  # anything else goes to Telegram (not connected)
            await client(functions.help.GetConfigRequest())
        assert [type(r).__name__ for r in asked] == ["GetStateRequest", "GetConfigRequest"]

    asyncio.run(run())
