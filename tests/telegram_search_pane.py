"""The Telegram desk over the fake client, whose Telegram holds more than the store: for the
tmux test of Telegram's search tier (tests/test_search_telegram_tmux.py) and its screenshot.

Run as `python -m tests.telegram_search_pane DATA_DIR`. Telegram's search still finds an old
printer message of Initech the desk never stored, and sixty toner messages of which it answers
fifty a page, so the results end in a "more" row.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tgtriage.core.sources.telegram.source import TelegramSource
from tgtriage.core.storage.store import Store
from tgtriage.core.system.paths import Paths

from tests.fake_telethon import FakeClient
from tests.fake_tl import T0
from tests.telegram_world import BOB, INITECH_ID, NOW, Sleeper, config, world
from tgtriage.cli.telegram import TelegramDesk, build_desk

TONER = 60  # Telegram-only messages of one word: more than its page of fifty


def archived(fake: FakeClient, chat_id: int, text: str, date: int) -> None:
    """A message of `chat_id` that only Telegram's search still finds (not in the history the
    desk reads)."""
    old = fake.message(chat_id, text, sender=BOB, date=date)
    fake.history[chat_id].remove(old)
    fake.archive.setdefault(chat_id, []).append(old)


def searchable_world() -> FakeClient:
    """The usual world, plus Initech's old printer and toner messages only Telegram holds."""
    fake = world()
    archived(fake, INITECH_ID, "printer jammed last winter", T0 - 90_000)
    for index in range(TONER):
        archived(fake, INITECH_ID, f"toner low on floor {index}", T0 - 9000 + index)
    return fake


async def searchable_desk(data_dir: Path) -> tuple[TelegramDesk, Store]:
    """The Telegram desk over `searchable_world()` at the fixed clock, its store in `data_dir`."""
    fake = searchable_world()
    paths = Paths(config_dir=data_dir / "config", data_dir=data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    cfg = config()
    source = TelegramSource(
        cfg, paths, lambda: fake, sleep=Sleeper(), clock=lambda: NOW, history_interval=0
    )
    store = await Store.open(data_dir / "telegram.sqlite3", clock=lambda: NOW)
    return build_desk(cfg, paths, {}, store, source, tick=3600.0, clock=lambda: NOW), store


async def main(data_dir: Path) -> int:
    """Run the desk until it is quit."""
    app, store = await searchable_desk(data_dir)
    try:
        await app.run_async()
    finally:
        await store.close()
    return 0


if __name__ == "__main__":
    import asyncio

    sys.exit(asyncio.run(main(Path(sys.argv[1]))))
