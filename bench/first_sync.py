"""The first sync of a big account over the simulated Telegram, on virtual time.

    .venv/bin/python -m bench.first_sync            # 2,000 dialogs, 200 support chats
    .venv/bin/python -m bench.first_sync --json     # the figures as JSON

The real TelegramSource, Inbox and SQLite store (wired like `tgtriage` wires them, by
`tgtriage.cli.telegram.hint_source`) sync an empty desk from tests/sync_world.py's account:
thousands of dialogs, support chats with history, a round trip per request, FloodWaits of
20–30 s on GetDialogs every 600 dialogs and on GetHistory now and then. Time is looptime's
virtual clock (tests/virtual_time.py, which also holds it while the store's thread works), so
the simulated seconds are what a user would wait with this server; wall and CPU time say what
the run cost this machine. Reported: simulated seconds until the desk's waiting set (who waits,
and since when) equals the truth, until the start-up sync and its first reconcile round end,
the requests by type and the FloodWaits met.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # `python bench/first_sync.py`
    sys.path.insert(0, str(REPO))

from bench.rows import Row  # noqa: E402

LIMIT = 3_600.0
"""Simulated seconds after which a sync that never converged is reported as such."""


@dataclass
class SyncFigures:
    """What one first sync cost."""

    dialogs: int
    support: int
    waiting: int
    converged_s: float | None
    synced_s: float | None
    requests: dict[str, int] = field(default_factory=dict)
    """Asked until the start-up sync and its first reconcile round were done."""
    floods: int = 0
    flood_seconds: int = 0
    progress_events: int = 0
    """How many different progress figures the desk's status line had to show."""
    wall_s: float = 0.0
    cpu_s: float = 0.0

    @property
    def total_requests(self) -> int:
        """Every request sent, of all kinds."""
        return sum(self.requests.values())


async def _sync(folder: Path, dialogs: int, support: int, seed: int) -> SyncFigures:
    """One first sync of an empty desk (see the module docstring)."""
    from tgtriage.core.desk import events as ev
    from tgtriage.core.desk.inbox import Inbox
    from tgtriage.core.sources.telegram.source import TelegramSource
    from tgtriage.core.storage.store import Store
    from tgtriage.core.system.paths import Paths

    from tests.sim_telegram import EPOCH
    from tests.sync_world import build, config, desk_waiting
    from tgtriage.cli.telegram import hint_source

    loop = asyncio.get_running_loop()
    world = build(dialogs=dialogs, support=support, seed=seed)
    truth = world.truth()
    cfg = config()
    store = await Store.open(folder / "desk.sqlite3", clock=lambda: EPOCH + loop.time())
    source = TelegramSource(
        cfg,
        Paths(config_dir=folder / "config", data_dir=folder / "data"),
        lambda: world.sim,
        clock=lambda: EPOCH + loop.time(),
        monotonic=loop.time,
    )
    inbox = Inbox(store, source, cfg, clock=lambda: EPOCH + loop.time())
    progress: list[ev.SyncProgress] = []

    def note_progress(_changes: object) -> None:
        if inbox.sync is not None and (not progress or progress[-1] != inbox.sync):
            progress.append(inbox.sync)

    inbox.subscribe(note_progress)
    await inbox.load_cached()
    hint_source(source, inbox)
    figures = SyncFigures(dialogs, support, len(truth), None, None)
    began = loop.time()
    starting = asyncio.ensure_future(inbox.start())
    try:
        while loop.time() - began < LIMIT:
            await asyncio.sleep(0.25)
            if figures.converged_s is None and desk_waiting(inbox) == truth:
                figures.converged_s = loop.time() - began
            reconciling = source.reconciling
            if (
                figures.synced_s is None
                and source._state is not None
                and source._state.synced.is_set()
                and reconciling is not None
                and reconciling.reports
            ):
                figures.synced_s = loop.time() - began
                figures.requests = dict(sorted(world.sim.record.asked.items()))
                figures.floods = len(world.sim.record.floods)
            if figures.converged_s is not None and figures.synced_s is not None:
                break
        await starting
    finally:
        await inbox.stop()
        await store.close()
    record = world.sim.record
    if figures.synced_s is None:  # never synced: everything asked until the limit
        figures.requests = dict(sorted(record.asked.items()))
        figures.floods = len(record.floods)
    figures.flood_seconds = sum(seconds for _name, seconds in record.floods[: figures.floods])
    figures.progress_events = len(progress)
    return figures


def measure(dialogs: int = 2_000, support: int = 200, seed: int = 0) -> SyncFigures:
    """Run one first sync on virtual time; wall and CPU time around the whole run."""
    from tests.virtual_time import run_on_virtual_time

    wall, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory(prefix="tgtriage-sync-") as folder:
        figures = run_on_virtual_time(_sync(Path(folder), dialogs, support, seed))
    figures.wall_s = time.perf_counter() - wall
    figures.cpu_s = time.process_time() - cpu
    return figures


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f} s"


def rows(figures: SyncFigures) -> list[Row]:
    """The first sync's rows of bench/run.py's table."""
    requests = ", ".join(
        f"{name.removesuffix('Request')} {count}" for name, count in figures.requests.items()
    )
    return [
        Row(
            f"first sync: {figures.dialogs:,} dialogs, {figures.support} support chats, "
            f"{figures.waiting} waiting → waiting set equals the truth (simulated time)",
            _seconds(figures.converged_s),
            "as small as Telegram allows",
            None if figures.converged_s is not None else False,
        ),
        Row(
            "  … start-up sync and first reconcile round done (simulated time)",
            _seconds(figures.synced_s),
            "",
            None,
        ),
        Row(
            f"  … requests ({figures.total_requests}): {requests}",
            f"{figures.floods} FloodWaits ({figures.flood_seconds} s)",
            "",
            None,
        ),
        Row(
            "  … cost of the simulated run on this machine",
            f"wall {figures.wall_s:.1f} s, CPU {figures.cpu_s:.1f} s",
            "",
            None,
        ),
    ]


def main() -> int:
    """Run the first sync alone and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dialogs", type=int, default=2_000)
    parser.add_argument("--support", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = measure(args.dialogs, args.support, args.seed)
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    if args.json:
        print(json.dumps({**asdict(figures), "load_average": load}, indent=2))
    else:
        for row in rows(figures):
            print(f"{row.metric}: {row.measured}")
        print(f"load average: {load}")
    return 0 if figures.converged_s is not None else 1


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["SyncFigures", "main", "measure", "rows"]
