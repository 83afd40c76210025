"""Benchmark: a reply-time report over 200,000 synthetic messages in 1,000 chats (budget < 2 s).

Run: .venv/bin/python bench/report_bench.py [--messages N] [--chats N] [--repeat N]
Times the pure computation (wall clock and business hours), then the whole `report` command on a
synthetic Telegram Desktop export and on a synthetic store, then the stats screen's figures
(three ranges from the store's narrow rows), each in a temporary folder. Each line is the best
of --repeat runs (the machine is shared: the best run is the one least disturbed).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from tgtriage.core.desk.models import Chat, Message, User
from tgtriage.core.reports.report import ReportStaff, build_report
from tgtriage.core.rules.business_hours import business_seconds
from tgtriage.core.system.config import BusinessHours

from tgtriage.cli.report import run_report

ME, MATE = 1, 2
START = 1_700_000_000


def workload(
    messages: int, chats: int, seed: int = 7
) -> tuple[list[Chat], dict[int, list[Message]]]:
    """Chats of customers and two staff members, with replies after random waits."""
    rng = random.Random(seed)
    chat_list = [
        Chat(id=-1_000_000_000_000 - i, title=f"Customer {i} · Support") for i in range(chats)
    ]
    by_chat: dict[int, list[Message]] = {c.id: [] for c in chat_list}
    per_chat = messages // chats
    for chat in chat_list:
        t = START + rng.randrange(86400)
        customer = 1000 + rng.randrange(100_000)
        out = by_chat[chat.id]
        for mid in range(1, per_chat + 1):
            t += rng.choice((0, 5, 30, 120, 600, 3600, 20000))
            staff = rng.random() < 0.4
            sender = (ME if rng.random() < 0.7 else MATE) if staff else customer
            out.append(
                Message(
                    chat_id=chat.id,
                    id=mid,
                    date=t,
                    sender_id=sender,
                    out=sender == ME,
                    sender_name="staff" if staff else "customer",
                )
            )
    return chat_list, by_chat


REPEAT = 3


def timed(label: str, func: Callable[[], object]) -> float:
    """Run `func()` REPEAT times and print the best wall and CPU time."""
    walls, cpus = [], []
    for _ in range(REPEAT):
        began, cpu = time.perf_counter(), time.process_time()
        func()
        walls.append(time.perf_counter() - began)
        cpus.append(time.process_time() - cpu)
    print(f"{label:<48} {min(walls):6.3f} s wall {min(cpus):6.3f} s cpu (best of {REPEAT})")
    return min(walls)


def write_export(path: Path, chats: list[Chat], by_chat: dict[int, list[Message]]) -> None:
    """The workload as a full-account Telegram Desktop export."""
    data = {
        "personal_information": {"user_id": ME, "first_name": "Me"},
        "chats": {
            "list": [
                {
                    "name": chat.title,
                    "type": "private_supergroup",
                    "id": -chat.id - 1_000_000_000_000,
                    "messages": [
                        {
                            "id": m.id,
                            "type": "message",
                            "date": "",
                            "date_unixtime": str(m.date),
                            "from": m.sender_name,
                            "from_id": f"user{m.sender_id}",
                            "text": "x",
                        }
                        for m in by_chat[chat.id]
                    ],
                }
                for chat in chats
            ]
        },
    }
    path.write_text(json.dumps(data), encoding="utf-8")


async def write_store(path: Path, chats: list[Chat], by_chat: dict[int, list[Message]]) -> None:
    """The workload in a tgtriage store."""
    from tgtriage.core.storage.store import Store

    store = await Store.open(path)
    try:
        await store.upsert_chats(chats)
        await store.upsert_users([User(id=ME, first_name="Me"), User(id=MATE, first_name="Mate")])
        await store.add_messages([m for ms in by_chat.values() for m in ms])
    finally:
        await store.close()


def main() -> None:
    """Build the workload and time each way of reporting on it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--chats", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=REPEAT)
    args = parser.parse_args()
    globals()["REPEAT"] = max(1, args.repeat)
    chats, by_chat = workload(args.messages, args.chats)
    total = sum(map(len, by_chat.values()))
    print(f"workload: {total:,} messages in {len(chats):,} chats")
    staff = ReportStaff(ids=frozenset({ME, MATE}))
    now = max(m.date for ms in by_chat.values() for m in ms)
    timed("build_report (wall clock)", lambda: build_report(by_chat, staff, now))
    bh = BusinessHours(enabled=True, timezone="Europe/Berlin")
    timed(
        "build_report (business hours, Europe/Berlin)",
        lambda: build_report(by_chat, staff, now, duration=partial(business_seconds, bh=bh)),
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["TGTRIAGE_CONFIG_DIR"] = str(folder / "config")
        os.environ["TGTRIAGE_DATA_DIR"] = str(folder / "data")
        export = folder / "result.json"
        write_export(export, chats, by_chat)
        sink = io.StringIO()
        timed(
            "report --from-export (load + compute + json)",
            lambda: run_report(
                ["--from-export", str(export), "--staff", str(MATE), "--format", "json"],
                stdout=sink,
            ),
        )
        try:
            asyncio.run(write_store(folder / "data" / "demo.sqlite3", chats, by_chat))
        except ImportError:
            print("store: core/storage/store.py not available, skipped")
            return
        timed(
            "report --profile demo (store + compute + json)",
            lambda: run_report(
                ["--profile", "demo", "--staff", str(MATE), "--format", "json"], stdout=sink
            ),
        )
        timed(
            "stats screen figures (store rows + 3 ranges)",
            lambda: asyncio.run(stats_from_store(folder / "data" / "demo.sqlite3", staff, now)),
        )


async def stats_from_store(path: Path, staff: ReportStaff, now: int) -> None:
    """What F3 computes: the store's narrow rows, then today / 7 days / 30 days."""
    from tgtriage.core.reports.report import group_by_chat
    from tgtriage.core.reports.stats import desk_stats
    from tgtriage.core.storage.store import Store

    store = await Store.open(path)
    try:
        rows = await store.report_rows()
    finally:
        await store.close()
    desk_stats(group_by_chat(rows), staff, now)


if __name__ == "__main__":
    main()
