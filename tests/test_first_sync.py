"""A big account's first sync on the simulated Telegram (tests/sync_world.py), on virtual time.

The real TelegramSource, Inbox and SQLite store sync an empty desk from hundreds of dialogs
while Telegram answers GetDialogs with a FloodWait every 200 dialogs and GetHistory now and
then. Checked, never timed: paging resumes at the offset that met the wait and asks every page
once; history is asked only of chats where a customer may wait; the desk ends with the waiting
set (who, and since when) that the triage rules compute from every message Telegram holds;
progress and each wait reach the desk; a reconcile round due in the middle changes nothing.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tgtriage.core.desk import events as ev
from tgtriage.core.desk.inbox import Inbox
from tgtriage.core.rules import triage
from tgtriage.core.sources.telegram import convert as conv
from tgtriage.core.sources.telegram.reconcile import RoundReport
from tgtriage.core.sources.telegram.source import TelegramSource
from tgtriage.core.storage.store import Store
from tgtriage.core.system.config import Config
from tgtriage.core.system.paths import Paths

from tests.sim_telegram import EPOCH
from tests.sync_world import TEAMMATE, SyncWorld, build, config, desk_waiting
from tests.virtual_time import run_on_virtual_time
from tgtriage.cli.telegram import hint_source

DIALOGS = 700
SUPPORT = 70
FLOOD_EVERY = 200


class RecordingQueue(asyncio.Queue[Any]):
    """The source's event queue, keeping a copy of every event put in."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Any] = []

    def put_nowait(self, item: Any) -> None:
        self.seen.append(item)
        super().put_nowait(item)


@dataclass
class Synced:
    """What a first sync left: the desk's waiting set, the events and the reconcile rounds."""

    waiting: dict[int, int]
    events: list[Any]
    reports: list[RoundReport]
    history_during_sync: int
    history_after_sync: int


async def _first_sync(
    world: SyncWorld, cfg: Config, folder: Path, history_interval: float
) -> Synced:
    """Sync an empty desk, then let the first reconcile round run."""
    loop = asyncio.get_running_loop()
    store = await Store.open(folder / "desk.sqlite3", clock=lambda: EPOCH + loop.time())
    source = TelegramSource(
        cfg,
        Paths(config_dir=folder / "config", data_dir=folder / "data"),
        lambda: world.sim,
        clock=lambda: EPOCH + loop.time(),
        monotonic=loop.time,
        history_interval=history_interval,
    )
    queue = RecordingQueue()
    source._queue = queue
    inbox = Inbox(store, source, cfg, clock=lambda: EPOCH + loop.time())
    await inbox.load_cached()
    hint_source(source, inbox)
    history_before = world.sim.record.asked["GetHistoryRequest"]
    try:
        starting = asyncio.ensure_future(inbox.start())
        while source._state is None:
            await asyncio.sleep(0)
        await source._state.synced.wait()  # before the first reconcile round asks anything
        history_at_sync = world.sim.record.asked["GetHistoryRequest"]
        reconciling = source.reconciling
        assert reconciling is not None
        while not reconciling.reports:
            await asyncio.sleep(1)
        await starting
        await inbox.flushed()
        return Synced(
            waiting=desk_waiting(inbox),
            events=queue.seen,
            reports=list(reconciling.reports),
            history_during_sync=history_at_sync - history_before,
            history_after_sync=world.sim.record.asked["GetHistoryRequest"] - history_at_sync,
        )
    finally:
        await inbox.stop()
        await store.close()


def first_sync(
    world: SyncWorld, tmp_path: Path, *, history_interval: float = 0.35, **telegram: Any
) -> Synced:
    """A first sync on virtual time (tests/virtual_time.py)."""
    return run_on_virtual_time(_first_sync(world, config(**telegram), tmp_path, history_interval))


def small_world(**kw: Any) -> SyncWorld:
    """700 dialogs, 70 support chats, a FloodWait on GetDialogs every 200 dialogs."""
    return build(dialogs=DIALOGS, support=SUPPORT, dialog_flood_every=FLOOD_EVERY, **kw)


def staff_on_top(world: SyncWorld) -> set[int]:
    """The support chats whose newest message is ours or a teammate's (nobody waits there)."""
    sim = world.sim
    rule = triage.StaffRule(me_id=sim.me.id, staff_ids=frozenset({TEAMMATE.id}))
    found = set()
    for chat_id in world.support:
        top = conv.convert_message(sim.truth(chat_id)[-1], sim.entities, self_id=sim.me.id)
        if rule.role(top) is triage.Role.STAFF:
            found.add(chat_id)
    return found


def customers_on_top(world: SyncWorld, chat_id: int) -> int:
    """How many messages came after the chat's last one by staff."""
    sim = world.sim
    staff = {sim.me.id, TEAMMATE.id}
    messages = sim.truth(chat_id)
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if message.out or getattr(message.from_id, "user_id", None) in staff:
            return len(messages) - 1 - index
    return len(messages)


def test_paging_resumes_after_each_flood_wait_and_asks_every_page_once(tmp_path: Path) -> None:
    world = small_world()
    first_sync(world, tmp_path)
    record = world.sim.record
    dialog_floods = [s for name, s in record.floods if name == "GetDialogsRequest"]
    assert len(dialog_floods) == 3  # at 200, 400 and 600 dialogs
    asked = record.dialogs_asked
    assert asked == sorted(asked), "paging never goes back"
    assert asked.count(0) == 1, "the first page is asked once"
    assert sorted(set(asked)) == list(range(0, DIALOGS, 100)), "every page is asked"
    again = sorted(offset for offset, n in Counter(asked).items() if n > 1)
    assert again == [200, 400, 600], "only the page that met a wait is asked again, once"


def test_a_first_sync_ends_with_the_true_waiting_set_asking_history_only_where_needed(
    tmp_path: Path,
) -> None:
    world = small_world()
    truth = world.truth()
    synced = first_sync(world, tmp_path)
    assert synced.waiting == truth
    assert len(truth) > 10
    asked = {
        conv.marked_id(r.peer)
        for r in world.sim.requests
        if type(r).__name__ == "GetHistoryRequest"
    }
    assert not asked & staff_on_top(world), "where staff spoke last the top message is enough"
    assert set(truth) <= asked
    # what the sync loaded is vouched for: the first reconcile round needs no deep check
    assert synced.reports[0].deep_checks == 0
    assert synced.history_after_sync == 0


def test_the_desk_hears_of_progress_and_of_every_wait(tmp_path: Path) -> None:
    world = small_world(history_flood_rate=0.15)
    synced = first_sync(world, tmp_path)
    assert any(name == "GetHistoryRequest" for name, _s in world.sim.record.floods)
    progress = [e for e in synced.events if isinstance(e, ev.SyncProgress)]
    chats = [(e.current, e.total) for e in progress if e.what == "chats"]
    assert chats == [(n, DIALOGS) for n in range(100, DIALOGS + 1, 100)]
    history = [e for e in progress if e.what == "history"]
    assert history and history[-1].done and history[-1].current == history[-1].total
    waits = [e for e in synced.events if isinstance(e, ev.FloodWait)]
    assert [w.seconds for w in waits] == [seconds for _name, seconds in world.sim.record.floods]
    assert sum(1 for w in waits if w.what.startswith("chat list page")) == 3
    assert len(waits) == world.sim.record.windows, "no request is sent into a running wait"


def test_a_reconcile_round_due_in_the_middle_of_the_sync_leaves_every_wait_right(
    tmp_path: Path,
) -> None:
    world = small_world(seed=3)
    truth = world.truth()
    assert any(customers_on_top(world, c) > 50 for c in truth), "waits longer than its window"
    synced = first_sync(world, tmp_path, reconcile_minutes=0.25, history_interval=2.0)
    assert synced.waiting == truth


def test_a_second_start_asks_no_history_of_chats_where_nothing_new_was_said(
    tmp_path: Path,
) -> None:
    world = small_world()
    truth = world.truth()
    first = first_sync(world, tmp_path)
    assert first.history_during_sync > 0
    second = first_sync(world, tmp_path)  # the same store: the desk's cache
    assert second.history_during_sync == 0
    assert second.waiting == truth
