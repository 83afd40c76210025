"""The Telegram source against a fake Telethon client: start-up, reconnects, staff, folders, files and the desk on top."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from telethon.tl import types
from tgtriage.core.desk import events as ev
from tgtriage.core.desk.events import Connection
from tgtriage.core.sources.base import ChatSource
from tgtriage.core.sources.telegram import chats as chats_module
from tgtriage.core.sources.telegram.client import (
    CredentialsMissing,
    LoginRequired,
    build_client,
    credentials,
    session_path,
)
from tgtriage.core.sources.telegram.source import TelegramSource
from tgtriage.core.system.config import Config
from tgtriage.core.system.paths import Paths

from tests.fake_telethon import FakeClient
from tests.fake_tl import T0, channel, flood, folder, when
from tests.telegram_world import (
    ACME_ID,
    ALICE,
    BOB,
    CATS,
    CATS_ID,
    FORUM_ID,
    INITECH_ID,
    NOW,
    TESS,
    Sleeper,
    config,
    make,
    of,
    pending,
    queued,
    started,
    until,
    world,
)
from tests.virtual_time import run_on_virtual_time

# --------------------------------------------------------------------------- start-up


async def test_start_returns_account_and_selects_support_chats_newest_first(paths: Paths) -> None:
    fake = world()
    source = make(fake, paths)
    assert isinstance(source, ChatSource)
    me = await source.start()
    assert (me.id, me.name) == (1000, "Erin Engineer")
    chats = await source.dialogs()
    assert [c.id for c in chats] == [INITECH_ID, FORUM_ID, ACME_ID]
    assert [c.kind for c in chats] == ["group", "forum", "supergroup"]
    assert chats[1].topic_title(200) == "Billing" and chats[1].topic_title(1) == "General"
    await source.wait_synced()
    events = queued(source)
    states = [e.state for e in of(events, ev.ConnectionState)]
    assert states == [Connection.CONNECTING, Connection.CONNECTED]
    reads = of(events, ev.ReadUpTo)
    assert (
        ev.ReadUpTo(ACME_ID, 1, outbox=False) in reads
        and ev.ReadUpTo(ACME_ID, 0, outbox=True) in reads
    )
    await source.stop()


async def test_backfill_newest_chats_first_oldest_messages_first_as_new_messages(
    paths: Paths,
) -> None:
    source = await started(world(), paths)
    events = queued(source)
    news = of(events, ev.NewMessage)
    assert [(m.message.chat_id, m.message.text) for m in news] == [
        (INITECH_ID, "printer broken"),
        (FORUM_ID, "billing question"),
        (ACME_ID, "Hello"),
        (ACME_ID, "anyone there?"),
    ]
    assert news[0].sender is not None and news[0].sender.name == "Bob Buyer"
    assert news[1].message.topic_id == 200
    progress = of(events, ev.SyncProgress)
    assert progress[-1] == ev.SyncProgress("history", 3, 3, done=True)
    assert [p.current for p in progress if p.what == "history"] == [0, 1, 2, 3]
    assert all(e.message.chat_id != CATS_ID for e in news)
    await source.stop()


async def test_backfill_respects_history_limit_and_what_the_store_has(paths: Paths) -> None:
    fake = world()
    for n in range(5):  # "more 2" is ours: the window of 3 need not reach further back
        fake.message(ACME_ID, f"more {n}", sender=ALICE, out=n == 2, date=T0 + 140 + n)
    cfg = config()
    cfg.telegram.history_limit = 3
    source = make(fake, paths, cfg)
    await source.start()
    await source.wait_synced()
    acme = [
        e.message.text for e in of(queued(source), ev.NewMessage) if e.message.chat_id == ACME_ID
    ]
    assert acme == ["more 2", "more 3", "more 4"]
    await source.stop()

    source = make(fake, paths, cfg)
    source.set_hints(last_known_id=lambda chat: 6 if chat == ACME_ID else None)
    await source.start()
    await source.wait_synced()
    acme = [e.message.id for e in of(queued(source), ev.NewMessage) if e.message.chat_id == ACME_ID]
    assert acme == [7]
    await source.stop()


class Timed(FakeClient):
    """The fake client noting the loop time at which each history request is sent."""

    def __init__(self) -> None:
        super().__init__()
        self.history_sent: list[float] = []

    async def __call__(self, request: Any) -> Any:
        if type(request).__name__ == "GetHistoryRequest":
            self.history_sent.append(asyncio.get_running_loop().time())
        return await super().__call__(request)


def test_backfill_is_rate_limited_also_with_several_workers(paths: Paths) -> None:
    async def backfill() -> list[float]:
        fake = world(Timed())
        loop = asyncio.get_running_loop()
        source = TelegramSource(
            config(),
            paths,
            lambda: fake,
            clock=lambda: NOW,
            monotonic=loop.time,
            history_interval=1.0,
        )
        await source.start()
        await source.wait_synced()
        await source.stop()
        return fake.history_sent  # type: ignore[attr-defined]

    sent = run_on_virtual_time(backfill())
    assert len(sent) == 3  # the three support chats, where customers spoke last
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent)]
    assert all(gap >= 1.0 for gap in gaps), gaps


async def test_flood_wait_during_dialog_paging_resumes_at_the_same_offset(
    paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chats_module, "DIALOG_PAGE", 2)
    fake = world()
    for n in range(5):
        chat = channel(300 + n, f"Customer {n} Support")
        chat_id = fake.add_chat(chat)
        fake.message(chat_id, "hi", sender=ALICE, date=T0 + 1000 + n)
    calls = {"n": 0}

    def second_page(request: Any) -> bool:
        calls["n"] += 1
        return not isinstance(request.offset_peer, types.InputPeerEmpty)

    fake.fail_next("GetDialogsRequest", flood(37), second_page)
    sleeper = Sleeper()
    source = make(fake, paths, sleep=sleeper)
    await source.start()
    chats = await source.dialogs()
    assert len(chats) == 8
    pages = [snap for name, snap in fake.snapshots if name == "GetDialogsRequest"]
    offsets = [
        (p["offset_id"], p["offset_peer"].get("channel_id") or p["offset_peer"].get("chat_id"))
        for p in pages
    ]
    assert offsets[0] == (0, None)
    assert offsets[1] == offsets[2], "the page that hit the flood wait is asked again"
    assert (0, None) not in offsets[1:], "paging never restarts from the first page"
    assert len(pages) == 6  # 5 pages of 2 for 10 dialogs, one of them asked twice
    waits = of(queued(source), ev.FloodWait)
    assert waits == [ev.FloodWait(37, NOW + 37, "chat list page 2")]
    assert 37 in sleeper.calls
    await source.stop()


async def test_not_logged_in(paths: Paths) -> None:
    fake = world()
    fake.authorized = False
    with pytest.raises(LoginRequired, match="tgtriage login"):
        await make(fake, paths).start()


async def test_offline_at_start_retries_and_says_so(paths: Paths) -> None:
    fake = world()
    fake.connect_failures = 2
    sleeper = Sleeper()
    source = make(fake, paths, sleep=sleeper, reconnect_delays=(1.0, 5.0))
    await source.start()
    states = of(queued(source), ev.ConnectionState)
    assert [s.state for s in states] == [
        Connection.CONNECTING,
        Connection.OFFLINE,
        Connection.CONNECTING,
        Connection.OFFLINE,
        Connection.CONNECTING,
        Connection.CONNECTED,
    ]
    assert states[3].detail == "cannot reach Telegram" and states[3].retry_in == 5.0
    assert sleeper.calls[:2] == [1.0, 5.0]
    await source.stop()


def test_cold_start_does_not_import_telethon() -> None:
    code = (
        "import sys, tgtriage.core.sources.telegram.source, tgtriage.core.sources.telegram.login;"
        "sys.exit(1 if any(m.startswith('telethon') for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --------------------------------------------------------------------------- reconnects


async def test_reconnect_catches_up_then_fills_gaps_without_doubles(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    source.set_hints(watched=lambda: [ACME_ID, CATS_ID])
    queued(source)
    fake.connect_failures = 1
    fake.drop()
    # while offline: one new message Telethon's catch-up delivers, one it lost, an edit and a deletion
    caught = fake.message(ACME_ID, "caught up by getDifference", sender=ALICE)
    fake.missed.append(fake.new_message_update(caught))
    fake.message(ACME_ID, "lost update", sender=ALICE)
    fake.history[ACME_ID][1].message = "anyone there?? (edited)"
    fake.history[ACME_ID][1].edit_date = when(NOW)
    deleted = fake.history[ACME_ID].pop(0)
    await until(
        lambda: fake.difference_runs == 2 and len(fake.requests_named("GetHistoryRequest")) > 3
    )
    await until(lambda: any(isinstance(e, ev.MessagesDeleted) for e in pending(source)))
    events = queued(source)
    states = [e.state for e in of(events, ev.ConnectionState)]
    assert states == [
        Connection.OFFLINE,
        Connection.CONNECTING,
        Connection.OFFLINE,
        Connection.CONNECTING,
        Connection.CONNECTED,
    ]
    assert "connection lost" in of(events, ev.ConnectionState)[0].detail
    texts = [e.message.text for e in of(events, ev.NewMessage)]
    assert texts == ["caught up by getDifference", "lost update"], (
        "each missed message exactly once"
    )
    assert [e.message.text for e in of(events, ev.MessageEdited)] == ["anyone there?? (edited)"]
    assert of(events, ev.MessagesDeleted) == [ev.MessagesDeleted(ACME_ID, (deleted.id,))]
    assert fake.catch_ups == 0, "Telethon catches up by itself after connect (catch_up=True)"
    assert fake.max_update_loops == 1
    await source.stop()


async def test_gap_fill_checks_only_support_chats(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    queued(source)
    fake.message(INITECH_ID, "missed", sender=BOB)
    fake.message(CATS_ID, "missed too", sender=BOB)
    assert await source.gap_fill([INITECH_ID, CATS_ID, INITECH_ID]) == 1
    assert [e.message.text for e in of(queued(source), ev.NewMessage)] == ["missed"]
    assert await source.gap_fill([INITECH_ID]) == 0
    await source.stop()


async def test_history_pages_older_messages_oldest_first(paths: Paths) -> None:
    fake = world()
    for n in range(5):
        fake.message(ACME_ID, f"m{n}", sender=ALICE)
    source = await started(fake, paths)
    older = await source.history(ACME_ID, before=5, limit=2)
    assert [m.id for m in older] == [3, 4]
    assert [m.id for m in await source.history(ACME_ID, None, 3)] == [5, 6, 7]
    await source.stop()


# --------------------------------------------------------------------------- staff, folders, files


async def test_staff_usernames_are_resolved_once_and_cached_privately(paths: Paths) -> None:
    fake = world()
    cfg = Config(
        chats={"title_patterns": ["* Support"]}, staff={"ids": [777, "@Tess", "@nosuchuser"]}
    )
    source = make(fake, paths, cfg)
    await source.start()
    assert source.staff_ids() == frozenset({1000, 777, 600})
    assert any("@nosuchuser" in w for w in source.warnings)
    cache = paths.data_dir / "staff_usernames.json"
    assert json.loads(cache.read_text()) == {"tess": 600}
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    await source.stop()
    lookups = len([c for c in fake.calls if c[0] == "get_entity"])
    again = make(fake, paths, cfg)
    await again.start()
    assert 600 in again.staff_ids()
    assert (
        len([c for c in fake.calls if c[0] == "get_entity"]) == lookups + 1
    )  # only the unknown one
    await again.stop()


async def test_folder_selects_chats_by_telegram_folder_name(paths: Paths) -> None:
    fake = world()
    fake.folders = [folder(4, "Customers", include=[CATS]), folder(5, "Work", groups=True)]
    source = make(fake, paths, Config(chats={"folder": "customers", "private_chats": False}))
    await source.start()
    chats = await source.dialogs()
    assert [c.id for c in chats] == [CATS_ID]
    assert chats[0].folder_ids == (4, 5)
    await source.stop()
    source = make(fake, paths, Config(chats={"folder": "Clients"}))
    await source.start()
    await source.dialogs()
    assert any("'Clients'" in w for w in source.warnings)
    await source.stop()


def test_session_file_is_private(paths: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = Config(telegram={"api_id": 12345, "api_hash": "0123456789abcdef0123456789abcdef"})
    client = build_client(cfg, paths)
    path = session_path(paths)
    assert path.exists() and path.name == "telegram.session"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.data_dir.stat().st_mode) == 0o700
    assert client.flood_sleep_threshold == 0  # type: ignore[attr-defined]
    client.session.close()  # type: ignore[attr-defined]


def test_credentials_come_from_config_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TGTRIAGE_API_ID", raising=False)
    monkeypatch.delenv("TGTRIAGE_API_HASH", raising=False)
    with pytest.raises(CredentialsMissing, match=r"my\.telegram\.org"):
        credentials(Config())
    monkeypatch.setenv("TGTRIAGE_API_ID", "999")
    monkeypatch.setenv("TGTRIAGE_API_HASH", "abc")
    assert credentials(Config()) == (999, "abc")
    assert credentials(Config(telegram={"api_id": 5, "api_hash": "x"})) == (5, "x")
    monkeypatch.setenv("TGTRIAGE_API_ID", "not-a-number")
    with pytest.raises(CredentialsMissing, match="must be a number"):
        credentials(Config())
    assert os.environ["TGTRIAGE_API_HASH"] == "abc"


# --------------------------------------------------------------------------- the desk on top


async def test_the_desk_on_a_telegram_account(paths: Paths, tmp_path: Path) -> None:
    """Inbox + Store + TelegramSource: waits appear, a teammate clears one, replies send once."""
    from tgtriage.core.desk.inbox import Inbox
    from tgtriage.core.desk.outbox import is_queued
    from tgtriage.core.storage.store import Store

    fake = world()
    cfg = Config(
        chats={"title_patterns": ["* Support"], "private_chats": False}, staff={"ids": ["@tess"]}
    )
    source = make(fake, paths, cfg)
    store = await Store.open(tmp_path / "desk.sqlite3", clock=lambda: NOW)
    inbox = Inbox(store, source, cfg, clock=lambda: NOW)
    try:
        await inbox.start()
        await until(
            lambda: (
                inbox.triage.get(ACME_ID) is not None and inbox.triage[ACME_ID].last_msg_id == 2
            ),
            5000,
        )
        assert set(inbox.chats) == {ACME_ID, INITECH_ID, FORUM_ID}
        assert inbox.triage[ACME_ID].waiting_since == T0 + 100
        assert inbox.triage[INITECH_ID].waiting_since == T0 + 300
        # a teammate answers from their own Telegram: the wait clears on this desk
        await fake.deliver(fake.new_message_update(fake.message(INITECH_ID, "on it", sender=TESS)))
        await until(lambda: inbox.triage[INITECH_ID].waiting_since is None, 5000)
        # the engineer replies; the first answer is lost (a timeout: queued), Alt+R posts nothing new
        fake.fail_next("SendMessageRequest", TimeoutError(), after=True)
        item = await inbox.send(ACME_ID, "Hi Alice, looking into it", reply_to=2)
        assert item is not None
        await until(lambda: any(is_queued(i) for i in inbox.outbox.get(ACME_ID, [])), 5000)
        await inbox.retry(item.local_id)
        await until(lambda: inbox.triage[ACME_ID].waiting_since is None, 5000)
        assert not inbox.outbox.get(ACME_ID)
        assert (
            len([m for m in fake.history[ACME_ID] if m.message == "Hi Alice, looking into it"]) == 1
        )
        # the customer writes again: waiting from that message
        await fake.deliver(
            fake.new_message_update(fake.message(ACME_ID, "thanks!", sender=ALICE, date=NOW))
        )
        await until(lambda: inbox.triage[ACME_ID].waiting_since == NOW, 5000)
    finally:
        await inbox.stop()
        await store.close()
