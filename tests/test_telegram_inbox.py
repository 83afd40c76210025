"""The Inbox on the Telegram source (fake client): start-up order, reconciling, mark-read policy.

These are the points where the desk and the Telethon source meet: what the status line can
show while the source connects and pages its chats, which cached chats survive a start, and
what is marked read in Telegram when.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from telethon.tl import types
from tgtriage.core.desk import events as ev
from tgtriage.core.desk.events import Connection
from tgtriage.core.desk.inbox import Inbox
from tgtriage.core.sources.telegram import chats as telegram_chats
from tgtriage.core.sources.telegram.client import LoginRequired, TelegramClientLike
from tgtriage.core.sources.telegram.source import TelegramSource
from tgtriage.core.storage.store import Store
from tgtriage.core.system.config import Config
from tgtriage.core.system.paths import Paths

from tests.fake_telethon import FakeClient
from tests.fake_tl import T0, channel, flood, folder
from tests.telegram_world import (
    ACME,
    ACME_ID,
    ALICE,
    FORUM_ID,
    INITECH_ID,
    NOW,
    TESS,
    Sleeper,
    config,
    until,
    world,
)


class GatedSleeper(Sleeper):
    """Records sleeps; long ones (flood waits, reconnect delays) wait until `release()`."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if seconds >= 1:
            await self.gate.wait()
        await asyncio.sleep(0)

    def release(self) -> None:
        """Let every long sleep return."""
        self.gate.set()


class Prompt:
    """A LoginPrompt answering with `answer(client)` (the desk shows its login screen there)."""

    def __init__(self, answer: Callable[[TelegramClientLike], Any]) -> None:
        self.answer = answer

    async def log_in(self, client: TelegramClientLike) -> bool:
        return bool(await self.answer(client))


@asynccontextmanager
async def desk(
    fake: FakeClient,
    paths: Paths,
    db: Path,
    cfg: Config | None = None,
    *,
    sleep: Any = None,
    authorize: Callable[[TelegramClientLike], Any] | None = None,
    start: bool = True,
) -> AsyncIterator[tuple[Inbox, TelegramSource]]:
    """An Inbox over a real Store at `db` and a TelegramSource on the fake client."""
    cfg = cfg or config()
    source = TelegramSource(
        cfg,
        paths,
        lambda: fake,
        sleep=sleep or Sleeper(),
        clock=lambda: NOW,
        history_interval=0,
        login_prompt=Prompt(authorize) if authorize is not None else None,
    )
    store = await Store.open(db, clock=lambda: NOW)
    inbox = Inbox(store, source, cfg, clock=lambda: NOW)
    await inbox.load_cached()
    try:
        if start:
            await inbox.start()
            await source.wait_synced()
        yield inbox, source
    finally:
        await inbox.stop()
        await store.close()


# --------------------------------------------------------------------------- start-up


async def test_a_flood_wait_while_the_chat_list_pages_is_shown_then_resumes(
    paths: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telegram_chats, "DIALOG_PAGE", 2)
    fake = world()
    fake.fail_next(
        "GetDialogsRequest",
        flood(90),
        lambda r: not isinstance(r.offset_peer, types.InputPeerEmpty),
    )
    sleeper = GatedSleeper()
    async with desk(fake, paths, tmp_path / "d.sqlite3", sleep=sleeper, start=False) as (
        inbox,
        source,
    ):
        starting = asyncio.ensure_future(inbox.start())
        # the Inbox follows the source while it still pages: the countdown reaches the screen
        await until(lambda: inbox.flood_until == NOW + 90)
        assert inbox.connection is Connection.CONNECTED and not starting.done()
        sleeper.release()
        await starting
        await source.wait_synced()
        await until(lambda: inbox.triage.get(ACME_ID) is not None and inbox.triage[ACME_ID].unread)
        assert set(inbox.chats) == {ACME_ID, INITECH_ID, FORUM_ID}


async def test_offline_at_start_shows_offline_with_the_retry_delay(
    paths: Paths, tmp_path: Path
) -> None:
    fake = world()
    fake.connect_failures = 1
    sleeper = GatedSleeper()
    async with desk(fake, paths, tmp_path / "d.sqlite3", sleep=sleeper, start=False) as (
        inbox,
        _source,
    ):
        starting = asyncio.ensure_future(inbox.start())
        await until(lambda: inbox.connection is Connection.OFFLINE)
        assert inbox.connection_detail == "cannot reach Telegram"
        assert inbox.connection_retry_at == pytest.approx(inbox.clock() + 1, abs=0.5)
        sleeper.release()
        await starting
        await until(lambda: inbox.connection is Connection.CONNECTED)


async def test_a_connection_closed_mid_answer_counts_as_offline(
    paths: Paths, tmp_path: Path
) -> None:
    """A proxy answering instead of Telegram: Telethon raises IncompleteReadError, not OSError."""
    fake = world()
    real_connect = fake.connect
    answers = [asyncio.IncompleteReadError(b"HTTP/1.1 403", 1347703872)]

    async def connect() -> None:
        if answers:
            raise answers.pop()
        await real_connect()

    fake.connect = connect  # type: ignore[method-assign]
    sleeper = GatedSleeper()
    async with desk(fake, paths, tmp_path / "d.sqlite3", sleep=sleeper, start=False) as (
        inbox,
        _source,
    ):
        starting = asyncio.ensure_future(inbox.start())
        await until(lambda: inbox.connection is Connection.OFFLINE)
        sleeper.release()
        await starting
        assert inbox.me is not None and inbox.me.id == 1000


async def test_messages_for_chats_not_known_yet_are_held_until_the_chat_list_is_in(
    paths: Paths, tmp_path: Path
) -> None:
    async with desk(world(), paths, tmp_path / "d.sqlite3", start=False) as (inbox, _source):
        early = ev.NewMessage(_message(ACME_ID, 1, "Hello"))
        changes = await inbox.apply([early, ev.ReadUpTo(ACME_ID, 1)])
        assert not changes.messages and inbox.held == [early, ev.ReadUpTo(ACME_ID, 1)]
        await inbox.start()
        await until(lambda: inbox.triage[ACME_ID].last_msg_id >= 1)
        assert inbox.held == []


def _message(chat_id: int, msg_id: int, text: str) -> Any:
    """A desk Message from ALICE."""
    from tgtriage.core.desk.models import Message

    return Message(chat_id=chat_id, id=msg_id, date=T0 + 100, sender_id=ALICE.id, text=text)


async def test_cached_chats_that_are_gone_are_removed_and_renames_applied(
    paths: Paths, tmp_path: Path
) -> None:
    db = tmp_path / "d.sqlite3"
    fake = world()
    async with desk(fake, paths, db) as (inbox, _source):
        assert set(inbox.chats) == {ACME_ID, INITECH_ID, FORUM_ID}
    # between runs: the engineer left Initech, Acme was renamed
    del fake.dialog_meta[INITECH_ID]
    fake.entities[ACME_ID] = channel(77, "Acme Corp · Support")
    fake.add_chat(fake.entities[ACME_ID])
    async with desk(fake, paths, db, start=False) as (inbox, source):
        assert INITECH_ID in inbox.chats, "the cache opens with what it had"
        await inbox.start()
        await source.wait_synced()
        await until(lambda: INITECH_ID not in inbox.chats)
        assert inbox.chats[ACME_ID].title == "Acme Corp · Support"
    async with desk(fake, paths, db, start=False) as (inbox, _source):
        assert set(inbox.chats) == {ACME_ID, FORUM_ID}, "removed from the store too"


async def test_a_misspelt_folder_removes_nothing(paths: Paths, tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite3"
    fake = world()
    fake.folders = [folder(3, "Support", include=[ACME])]
    async with desk(fake, paths, db, config(title_patterns=[], folder="Support")) as (inbox, _s):
        assert set(inbox.chats) == {ACME_ID}
    async with desk(fake, paths, db, config(title_patterns=[], folder="Suport")) as (inbox, src):
        assert (
            not src.dialogs_complete
            and "no Telegram folder is called 'Suport'" in (src.warnings[0])
        )
        assert set(inbox.chats) == {ACME_ID}, "a config typo must not wipe the desk's chats"


async def test_the_login_hook_runs_on_the_connected_client(paths: Paths, tmp_path: Path) -> None:
    fake = world()
    fake.authorized = False
    seen: list[Any] = []

    async def authorize(client: TelegramClientLike) -> bool:
        seen.append((client, client.is_connected()))
        fake.authorized = True
        return True

    async with desk(fake, paths, tmp_path / "d.sqlite3", authorize=authorize) as (inbox, _s):
        assert seen == [(fake, True)]
        assert inbox.me is not None and set(inbox.chats) == {ACME_ID, INITECH_ID, FORUM_ID}


async def test_a_declined_login_leaves_the_source_not_started(paths: Paths) -> None:
    fake = world()
    fake.authorized = False

    async def decline(_client: TelegramClientLike) -> bool:
        return False

    source = TelegramSource(
        config(), paths, lambda: fake, sleep=Sleeper(), login_prompt=Prompt(decline)
    )
    with pytest.raises(LoginRequired, match="tgtriage login"):
        await source.start()


# --------------------------------------------------------------------------- mark read, forums


@pytest.mark.parametrize(
    ("policy", "after_open", "after_reply"),
    [("on_open", 1, 1), ("on_reply", 0, 1), ("never", 0, 0)],
)
async def test_mark_read_policy(
    paths: Paths, tmp_path: Path, policy: str, after_open: int, after_reply: int
) -> None:
    fake = world()
    cfg = config()
    cfg.telegram.mark_read = policy  # type: ignore[assignment]
    async with desk(fake, paths, tmp_path / "d.sqlite3", cfg) as (inbox, _source):
        await until(lambda: inbox.triage[ACME_ID].last_msg_id == 2)
        inbox.open(ACME_ID)
        await asyncio.sleep(0.05)
        acks = lambda: [a for a in fake.read_acks if getattr(a[0], "channel_id", 0) == 77]  # noqa: E731
        assert len(acks()) == after_open
        await inbox.send(ACME_ID, "Looking into it")
        await until(lambda: inbox.triage[ACME_ID].waiting_since is None)
        await asyncio.sleep(0.05)
        assert len(acks()) == after_reply
        if after_reply:
            assert acks()[-1][1] == 2, "read up to the customer's last message"


async def test_a_reply_in_a_forum_lands_in_the_topic_of_the_waiting_message(
    paths: Paths, tmp_path: Path
) -> None:
    fake = world()
    async with desk(fake, paths, tmp_path / "d.sqlite3") as (inbox, _source):
        await until(lambda: inbox.triage[FORUM_ID].waiting_msg_id == 201)
        item = await inbox.send(FORUM_ID, "Refund is on its way")
        assert item is not None and item.reply_to == 201
        await until(lambda: inbox.triage[FORUM_ID].waiting_since is None)
        request = fake.requests_named("SendMessageRequest")[-1]
        assert (request.reply_to.reply_to_msg_id, request.reply_to.top_msg_id) == (201, 200)
        # nobody waits any more: the next reply follows the chat's latest message (same topic)
        await inbox.send(FORUM_ID, "Anything else?")
        await until(lambda: len(fake.requests_named("SendMessageRequest")) == 2)
        assert fake.requests_named("SendMessageRequest")[-1].reply_to.top_msg_id == 200
        # elsewhere there is no anchor: a plain message
        await inbox.send(INITECH_ID, "On it")
        await until(lambda: len(fake.requests_named("SendMessageRequest")) == 3)
        assert fake.requests_named("SendMessageRequest")[-1].reply_to is None


async def test_a_teammates_reply_from_their_own_telegram_clears_the_wait(
    paths: Paths, tmp_path: Path
) -> None:
    fake = world()
    async with desk(fake, paths, tmp_path / "d.sqlite3") as (inbox, _source):
        await until(lambda: inbox.triage[INITECH_ID].waiting_since == T0 + 300)
        await fake.deliver(fake.new_message_update(fake.message(INITECH_ID, "on it", sender=TESS)))
        await until(lambda: inbox.triage[INITECH_ID].waiting_since is None)
        assert inbox.triage[INITECH_ID].last_staff_sender == TESS.id


async def test_forum_topic_names_are_in_the_cache_before_telegram_answers(
    paths: Paths, tmp_path: Path
) -> None:
    db = tmp_path / "d.sqlite3"
    async with desk(world(), paths, db) as (inbox, _source):
        assert inbox.chats[FORUM_ID].topic_title(200) == "Billing"
    async with desk(world(), paths, db, start=False) as (inbox, _source):
        assert inbox.chats[FORUM_ID].topic_title(200) == "Billing"
        assert inbox.chats[FORUM_ID].topic_title(1) == "General"
