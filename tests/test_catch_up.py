"""The overnight catch-up over the simulated Telegram, through Telethon's own MessageBox.

The desk (Inbox, SQLite store, TelegramSource, its reconciler) runs; the network goes away for
a night of random customer, teammate and phone messages; then it heals. The catch-up comes as
GetDifference slices plus GetChannelDifference per channel, `channelDifferenceTooLong` for some
(tests/sim_difference.py). Checked, on looptime's virtual clock, with the alert watcher looking
after every change the desk delivers:

- the waiting set, and every chat's newest messages, equal the truth (the too-long channels too);
- alerts only for what still waits, at the level of its real wait, each once, and one summary.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tgtriage.core.desk.alert_watch import AlertWatcher
from tgtriage.core.desk.changes import Changes
from tgtriage.core.desk.inbox import Inbox
from tgtriage.core.desk.models import ChatTriage
from tgtriage.core.rules import triage
from tgtriage.core.rules.alerts import AlertKind, away_summary
from tgtriage.core.sources.telegram import convert as conv
from tgtriage.core.sources.telegram.source import TelegramSource
from tgtriage.core.storage.store import Store
from tgtriage.core.system.config import Config
from tgtriage.core.system.paths import Paths

from tests.fake_tl import channel, group, user
from tests.sim_difference import DifferenceSim
from tests.sim_telegram import EPOCH, Faults
from tests.virtual_time import run_on_virtual_time
from tgtriage.cli.telegram import hint_source

ALICE = user(501, "Alice", "Customer")
BOB = user(502, "Bob", "Buyer")
TESS = user(600, "Tess", "Teammate")
NIGHT = 8 * 3600
ROUND_TRIP = 0.1
"""Seconds every request to the simulated Telegram takes after the start-up."""
TOO_LONG = (0, 1)
"""Indexes of the channels whose catch-up is a channelDifferenceTooLong."""

Post = tuple[int, int, str]
"""(second of the night, chat index, who: customer / teammate / phone)."""

nights = st.lists(
    st.tuples(
        st.integers(0, NIGHT - 600),  # a message of the last minutes arrives live, not late
        st.integers(0, 9),
        st.sampled_from(["customer", "customer", "teammate", "phone"]),
    ),
    min_size=5,
    max_size=60,
)


def world(slice_size: int) -> tuple[DifferenceSim, list[int]]:
    """Eight support channels, a basic group and a private chat; nobody waits at first."""
    sim = DifferenceSim(seed=1, slice_size=slice_size)
    sim.inline_channel_updates = 2  # a channel with one or two news: inline in the difference
    for person in (ALICE, BOB, TESS):
        sim.add_user(person)
    chats = [sim.add_chat(channel(70 + i, f"Shop {i} Support")) for i in range(8)]
    chats += [sim.add_chat(group(42, "Initech Support")), sim.add_chat(ALICE)]
    for chat in chats:
        sim.post(chat, "Hello", sender=ALICE if chat > 0 else BOB)
        sim.post(chat, "how can we help?", out=True)
    return sim, chats


def config() -> Config:
    """Support chats are '* Support' groups and private chats; Tess is a teammate."""
    return Config.model_validate(
        {
            "chats": {"title_patterns": ["* Support"], "private_chats": True},
            "staff": {"ids": [TESS.id]},
            "telegram": {"history_limit": 100},
        }
    )


def true_waits(sim: DifferenceSim, chats: list[int]) -> dict[int, int | None]:
    """Since when each chat's customer waits, derived from Telegram's truth."""
    rule = triage.StaffRule(me_id=sim.me.id, staff_ids=frozenset({TESS.id}))
    waits: dict[int, int | None] = {}
    for chat in chats:
        messages = [
            conv.convert_message(m, sim.entities, self_id=sim.me.id) for m in sim.truth(chat)
        ]
        waits[chat] = triage.derive(ChatTriage(chat_id=chat), messages, rule).waiting_since
    return waits


@dataclass
class Outcome:
    """What the desk did after the night."""

    alerts: list[tuple[int, AlertKind, int, int]] = field(default_factory=list)
    summaries: list[str] = field(default_factory=list)
    desk_waits: dict[int, int | None] = field(default_factory=dict)
    truth_waits: dict[int, int | None] = field(default_factory=dict)
    night_chats: set[int] = field(default_factory=set)
    missing: dict[int, list[int]] = field(default_factory=dict)
    served: list[str] = field(default_factory=list)
    thresholds: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    checked_at: int = 0


async def overnight(
    night: list[Post], folder: Path, slice_size: int, round_trip: float = ROUND_TRIP
) -> Outcome:
    """Run the desk, take the network away for the night, heal, and let it catch up."""
    loop = asyncio.get_running_loop()
    sim, chats = world(slice_size)
    sim.round_trip = round_trip
    sim.too_long = {chats[i] for i in TOO_LONG}
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
    outcome = Outcome()
    try:
        await inbox.start()
        await source.wait_synced()
        await asyncio.sleep(60)  # the first reconcile round
        watcher = AlertWatcher(inbox)

        def look(_: Changes) -> None:
            """The watcher checks after every change the desk delivers (stricter than 1/s)."""
            now = inbox.now()
            outcome.alerts += [(a.chat_id, a.kind, a.level, now) for a in watcher.check(now)]

        inbox.subscribe(look)
        sim.faults = Faults(delay=1.0, delay_seconds=round_trip)  # every request takes a while
        sim.cut()
        started = loop.time()
        for second, index, who in sorted(night):
            await asyncio.sleep(max(0.0, started + second - loop.time()))
            chat = chats[index]
            customer = ALICE if chat > 0 else BOB
            if who == "customer":
                sim.post(chat, f"customer at {second}", sender=customer)
            elif who == "teammate" and chat < 0:
                sim.post(chat, f"teammate at {second}", sender=TESS)
            else:
                sim.post(chat, f"from the phone at {second}", out=True)
            outcome.night_chats.add(chat)
        await asyncio.sleep(max(0.0, started + NIGHT - loop.time()))
        sim.heal()
        marks = source.catch_up_marks
        assert marks is not None
        for _ in range(600):
            await asyncio.sleep(1)
            look(Changes())
            if marks.opened and not marks.active and not inbox.catch_up.active:
                break
        await asyncio.sleep(5)
        await inbox.flushed()
        look(Changes())
        outcome.checked_at = inbox.now()
        outcome.summaries = list(watcher.summaries)
        outcome.desk_waits = {c: inbox.triage[c].waiting_since for c in chats}
        outcome.truth_waits = true_waits(sim, chats)
        outcome.thresholds = {c: inbox.thresholds_for(c) for c in chats}
        for chat in chats:
            held = {m.id for m in await store.messages(chat, limit=200)}
            lost = [m.id for m in sim.truth(chat) if m.id not in held]
            if lost:
                outcome.missing[chat] = lost
        outcome.served = list(sim.served)
        return outcome
    finally:
        await inbox.stop()
        await store.close()


def catch_up(night: list[Post], slice_size: int = 10, round_trip: float = ROUND_TRIP) -> Outcome:
    """One night on a fresh looptime loop."""
    with tempfile.TemporaryDirectory() as folder:
        return run_on_virtual_time(overnight(night, Path(folder), slice_size, round_trip))


def check(outcome: Outcome) -> None:
    """Every property of a correct catch-up (see the module docstring)."""
    assert outcome.missing == {}, "every message of the night is on the desk"
    assert outcome.desk_waits == outcome.truth_waits, "the waiting set equals the truth"
    waiting = {c for c, since in outcome.truth_waits.items() if since is not None}
    alerted = [a for a in outcome.alerts if a[1] is AlertKind.LEVEL]
    assert {a[0] for a in alerted} <= waiting, "no alert for a wait that ended while away"
    assert len({a[0] for a in alerted}) == len(alerted), "each chat alerts once"
    for chat, _, level, at in alerted:
        since = outcome.truth_waits[chat]
        assert since is not None
        assert level == triage.level_for(at - since, outcome.thresholds[chat]), (
            "the level of its real wait"
        )
    due = {
        c
        for c in waiting
        if triage.level_for(
            outcome.checked_at - (outcome.truth_waits[c] or 0), outcome.thresholds[c]
        )
    }
    assert {a[0] for a in alerted} == due, "every wait still open past its first level alerts"
    night_waiting = waiting & outcome.night_chats
    assert outcome.summaries == [away_summary(len(outcome.night_chats), len(night_waiting))]


def test_a_night_in_slices_with_too_long_channels_ends_right_and_quiet() -> None:
    night: list[Post] = [
        (600, 0, "customer"),  # a too-long channel: still waits
        (700, 1, "customer"),  # the other one: answered later
        (5000, 1, "teammate"),
        (1000, 2, "customer"),  # began and ended while away
        (1200, 2, "phone"),
        *((2000 + i * 60, 3, "customer") for i in range(30)),  # a chatty customer, no answer
        *((1500 + i * 30, 8, "customer") for i in range(15)),  # the basic group: answered
        (2500, 8, "teammate"),
        (3000, 9, "customer"),  # the private chat: answered from the phone
        (3100, 9, "phone"),
        (NIGHT - 100, 4, "customer"),  # a minute before the desk is back: fresh, no alert
    ]
    outcome = catch_up(night)
    assert "DifferenceSlice" in outcome.served and "ChannelDifferenceTooLong" in outcome.served
    check(outcome)
    alerted = {a[0] for a in outcome.alerts}
    assert len(alerted) == 2, "Shop 0 and Shop 3 still wait for hours; Shop 4 is fresh"


def test_a_slow_catch_up_with_empty_channel_differences_is_one_catch_up() -> None:
    # Every channel misses a little; at 0.7 s a request, the too-long channels' answers (no
    # updates) take longer than the quiet time: the catch-up must still be one, not two.
    night: list[Post] = [(600 + 60 * i, i % 8, "customer") for i in range(24)]
    night += [(9000, 5, "phone"), (9100, 8, "customer"), (9200, 9, "customer")]
    outcome = catch_up(night, round_trip=0.7)
    check(outcome)


@settings(
    max_examples=int(os.environ.get("CATCH_UP_NIGHTS", "5")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(night=nights)
def test_random_nights_end_right_and_quiet(night: list[Post]) -> None:
    check(catch_up(night, slice_size=7))
