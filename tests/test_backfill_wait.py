"""Backfill that knows when the wait began: reaching back, bounded waits, the dialog's unread count."""

from __future__ import annotations

from pathlib import Path

import pytest
from tgtriage.core.sources.telegram import history as history_module
from tgtriage.core.system.paths import Paths
from tgtriage.tui.rows import row_model

from tests.fake_telethon import FakeClient
from tests.telegram_world import ACME, ACME_ID, ALICE, NOW, config, until
from tests.test_telegram_inbox import desk


def acme_with(customers: int, *, first_at: int, unread: int = 0) -> FakeClient:
    """Acme: our answer (id 1), then `customers` customer messages ten seconds apart."""
    fake = FakeClient()
    fake.add_user(ALICE)
    fake.add_chat(ACME, read_inbox_max_id=1, unread_count=unread)
    fake.message(ACME_ID, "we are looking into it", out=True, date=first_at - 600)
    for n in range(customers):
        fake.message(ACME_ID, f"still broken ({n})", sender=ALICE, date=first_at + 10 * n)
    return fake


async def test_a_wait_older_than_the_window_is_found_by_paging_back(
    paths: Paths, tmp_path: Path
) -> None:
    fake = acme_with(150, first_at=NOW - 7200, unread=322)
    cfg = config()
    cfg.telegram.history_limit = 100
    async with desk(fake, paths, tmp_path / "d.sqlite3", cfg) as (inbox, _source):
        await until(lambda: inbox.triage[ACME_ID].unread == 322)  # the last event of the backfill
        assert inbox.wait(ACME_ID, NOW) == 7200  # not the 1h48m of the oldest fetched message
        assert not inbox.wait_bounded(ACME_ID)
        assert row_model(inbox, ACME_ID, NOW).wait == "2h"
        assert inbox.triage[ACME_ID].unread == 322  # Telegram's count, not the 150 fetched
    assert len(fake.requests_named("GetHistoryRequest")) == 2  # the window, one page back


async def test_a_wait_beyond_the_reach_shows_as_a_lower_bound_until_older_pages_load(
    paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "REACH_BACK_PAGES", 2)
    fake = acme_with(400, first_at=NOW - 3 * 3600)
    cfg = config()
    cfg.telegram.history_limit = 100
    async with desk(fake, paths, tmp_path / "d.sqlite3", cfg) as (inbox, _source):
        await until(lambda: inbox.triage[ACME_ID].history_cut != 0)
        # 300 of the 400 customer messages: the wait began before the oldest one fetched
        assert inbox.triage[ACME_ID].history_cut == 102
        assert inbox.wait_bounded(ACME_ID)
        assert row_model(inbox, ACME_ID, NOW).wait == "≥2h43m"

        await inbox.history(ACME_ID, before_id=102, limit=100)  # scrolling up: 100 more
        assert inbox.triage[ACME_ID].history_cut == 2
        assert row_model(inbox, ACME_ID, NOW).wait == "≥3h"

        await inbox.history(ACME_ID, before_id=2, limit=100)  # our answer: the beginning
        assert inbox.triage[ACME_ID].history_cut == 0
        assert not inbox.wait_bounded(ACME_ID)
        assert inbox.wait(ACME_ID, NOW) == 3 * 3600
        assert row_model(inbox, ACME_ID, NOW).wait == "3h"


async def test_a_short_chat_reaches_its_beginning_and_is_exact(
    paths: Paths, tmp_path: Path
) -> None:
    fake = FakeClient()
    fake.add_user(ALICE)
    fake.add_chat(ACME)
    for n in range(30):
        fake.message(ACME_ID, f"hello? ({n})", sender=ALICE, date=NOW - 900 + n)
    cfg = config()
    cfg.telegram.history_limit = 20
    async with desk(fake, paths, tmp_path / "d.sqlite3", cfg) as (inbox, _source):
        await until(lambda: inbox.triage[ACME_ID].last_msg_id == 30)
        assert inbox.triage[ACME_ID].history_cut == 0
        assert inbox.wait(ACME_ID, NOW) == 900
        assert row_model(inbox, ACME_ID, NOW).wait == "15m"
