"""The Telegram source against a fake Telethon client serving real TL objects."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from telethon import errors
from telethon.tl import types
from tgtriage.core.desk import events as ev
from tgtriage.core.desk.events import Connection
from tgtriage.core.sources.base import ChatSource, SendError
from tgtriage.core.sources.telegram import chats as chats_module
from tgtriage.core.sources.telegram.client import (
    CredentialsMissing,
    LoginRequired,
    build_client,
    credentials,
    session_path,
)
from tgtriage.core.sources.telegram.send import MAX_MESSAGE, part_random_id, split_text, utf16_len
from tgtriage.core.sources.telegram.source import TelegramSource
from tgtriage.core.system.config import Config
from tgtriage.core.system.paths import Paths

from tests.fake_telethon import FakeClient
from tests.fake_tl import (
    T0,
    channel,
    document,
    flood,
    folder,
    forum_topic,
    group,
    photo,
    user,
    when,
)

ALICE = user(501, "Alice", "Customer", username="alice")
BOB = user(502, "Bob", "Buyer")
TESS = user(600, "Tess", "Teammate", username="tess")
ACME = channel(77, "Acme · Support")
INITECH = group(42, "Initech Support")
FORUM = channel(88, "Globex Support", forum=True)
CATS = channel(99, "Cat pictures")
ACME_ID, INITECH_ID, FORUM_ID, CATS_ID = -1000000000077, -42, -1000000000088, -1000000000099
NOW = T0 + 5000


def world() -> FakeClient:
    """An account in three support chats (one a forum), a private chat and a hobby group."""
    fake = FakeClient()
    for person in (ALICE, BOB, TESS):
        fake.add_user(person)
    fake.add_chat(ACME, read_inbox_max_id=1, read_outbox_max_id=0, unread_count=1)
    fake.add_chat(INITECH)
    fake.add_chat(FORUM)
    fake.add_chat(CATS)
    fake.add_chat(ALICE)
    fake.message(ACME_ID, "Hello", sender=ALICE, date=T0 + 100)
    fake.message(ACME_ID, "anyone there?", sender=ALICE, date=T0 + 130)
    fake.message(FORUM_ID, "billing question", sender=ALICE, topic=200, msg_id=201, date=T0 + 200)
    fake.message(INITECH_ID, "printer broken", sender=BOB, date=T0 + 300)
    fake.message(CATS_ID, "meow", sender=BOB, date=T0 + 400)
    fake.topics[FORUM_ID] = [forum_topic(200, "Billing", FORUM)]
    return fake


def config(**chats: Any) -> Config:
    """Support chats are '* Support' groups unless told otherwise."""
    rules: dict[str, Any] = {"title_patterns": ["* Support"], "private_chats": False}
    rules.update(chats)
    # Replies leave at once: the undo window has tests of its own (tests/test_undo_send.py).
    return Config(chats=rules, staff={"ids": [600]}, undo_send_seconds=0)


class Sleeper:
    """Records requested sleeps and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await asyncio.sleep(0)


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    """A private data dir in tmp."""
    return Paths(config_dir=tmp_path / "config", data_dir=tmp_path / "data")


def make(fake: FakeClient, paths: Paths, cfg: Config | None = None, **kw: Any) -> TelegramSource:
    """A source on the fake client with instant sleeps and a fixed clock."""
    kw.setdefault("sleep", Sleeper())
    return TelegramSource(
        cfg or config(), paths, lambda: fake, clock=lambda: NOW, history_interval=0, **kw
    )


def queued(source: TelegramSource) -> list[ev.Event]:
    """Every event emitted so far (consumed)."""
    out: list[ev.Event] = []
    while not source._queue.empty():
        event = source._queue.get_nowait()
        if event is not None:
            out.append(event)
    return out


def pending(source: TelegramSource) -> list[Any]:
    """The events queued right now (not consumed)."""
    return list(source._queue._queue)  # type: ignore[attr-defined]


def of(events: list[ev.Event], kind: type) -> list[Any]:
    """Events of one kind."""
    return [e for e in events if isinstance(e, kind)]


async def until(condition: Callable[[], bool], rounds: int = 500) -> None:
    """Let background tasks run until `condition` holds.

    The Inbox spaces its change notifications a real frame apart, so after the first `rounds`
    turns of the loop this also gives the wall clock a millisecond per try (up to 10 s): a busy
    machine makes the test slower, never wrong.
    """
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0)
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition never became true")


async def started(
    fake: FakeClient, paths: Paths, cfg: Config | None = None, **kw: Any
) -> TelegramSource:
    """A source that has started and finished its start-up sync."""
    source = make(fake, paths, cfg, **kw)
    await source.start()
    await source.wait_synced()
    return source


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


async def test_backfill_is_rate_limited(paths: Paths) -> None:
    sleeper = Sleeper()
    fake = world()
    clock = iter(range(1000))
    source = TelegramSource(
        config(),
        paths,
        lambda: fake,
        sleep=sleeper,
        clock=lambda: NOW,
        monotonic=lambda: float(next(clock)) * 0.1,
        history_interval=1.0,
    )
    await source.start()
    await source.wait_synced()
    assert len(fake.requests_named("GetHistoryRequest")) == 3
    assert len([s for s in sleeper.calls if 0 < s <= 1.0]) >= 2
    await source.stop()


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


# --------------------------------------------------------------------------- live updates


async def test_live_messages_incoming_outgoing_teammate_and_other_chats(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    queued(source)
    await fake.deliver(fake.new_message_update(fake.message(ACME_ID, "still broken", sender=ALICE)))
    await fake.deliver(
        fake.new_message_update(fake.message(ACME_ID, "on it (from phone)", out=True))
    )
    await fake.deliver(fake.new_message_update(fake.message(INITECH_ID, "fixed it", sender=TESS)))
    await fake.deliver(fake.new_message_update(fake.message(CATS_ID, "meow", sender=BOB)))
    news = of(queued(source), ev.NewMessage)
    assert [
        (n.message.chat_id, n.message.text, n.message.out, n.message.sender_id) for n in news
    ] == [
        (ACME_ID, "still broken", False, 501),
        (ACME_ID, "on it (from phone)", True, 1000),
        (INITECH_ID, "fixed it", False, 600),
    ]
    assert news[2].sender is not None and news[2].sender.name == "Tess Teammate"
    assert {1000, 600} <= source.staff_ids()
    await source.stop()


async def test_short_updates_are_handled(paths: Paths) -> None:
    fake = world()
    fake.add_chat(ALICE)
    source = await started(fake, paths, config(private_chats=True))
    queued(source)
    await fake.deliver(
        types.UpdateShortMessage(
            id=900, user_id=501, message="psst", pts=1, pts_count=1, date=when(NOW)
        )
    )
    await fake.deliver(
        types.UpdateShortChatMessage(
            id=901, from_id=502, chat_id=42, message="me too", pts=2, pts_count=1, date=when(NOW)
        )
    )
    news = of(queued(source), ev.NewMessage)
    assert [
        (n.message.chat_id, n.message.id, n.message.sender_id, n.message.text) for n in news
    ] == [
        (501, 900, 501, "psst"),
        (-42, 901, 502, "me too"),
    ]
    assert news[1].message.sender_name == "Bob Buyer"
    await source.stop()


async def test_updates_before_the_chat_list_are_held_then_applied(paths: Paths) -> None:
    fake = world()
    source = make(fake, paths)
    await source.start()
    early = fake.message(ACME_ID, "early bird", sender=ALICE, store=False)
    await fake.deliver(fake.new_message_update(early))
    assert not source._state.dialogs_ready.is_set()
    await source.wait_synced()
    events = queued(source)
    texts = [e.message.text for e in of(events, ev.NewMessage)]
    assert texts.count("early bird") == 1
    first_read = next(i for i, e in enumerate(events) if isinstance(e, ev.ReadUpTo))
    held = next(
        i
        for i, e in enumerate(events)
        if isinstance(e, ev.NewMessage) and e.message.text == "early bird"
    )
    assert first_read < held, "held updates are applied once the chat list is known"
    await source.stop()


async def test_edits_deletions_and_reads(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    queued(source)
    edited = fake.history[ACME_ID][0]
    edited.message = "Hello (edited)"
    edited.edit_date = when(NOW)
    await fake.deliver(types.UpdateEditChannelMessage(message=edited, pts=9, pts_count=1))
    await fake.deliver(types.UpdateDeleteMessages(messages=[5, 6], pts=10, pts_count=2))
    await fake.deliver(
        types.UpdateDeleteChannelMessages(channel_id=77, messages=[2], pts=11, pts_count=1)
    )
    await fake.deliver(
        types.UpdateDeleteChannelMessages(channel_id=99, messages=[1], pts=12, pts_count=1)
    )
    await fake.deliver(
        types.UpdateReadHistoryInbox(
            peer=types.PeerChat(42), max_id=3, still_unread_count=0, pts=1, pts_count=1
        )
    )
    await fake.deliver(
        types.UpdateReadHistoryOutbox(peer=types.PeerChat(42), max_id=4, pts=1, pts_count=1)
    )
    await fake.deliver(
        types.UpdateReadChannelInbox(channel_id=77, max_id=2, still_unread_count=0, pts=1)
    )
    await fake.deliver(types.UpdateReadChannelOutbox(channel_id=77, max_id=2))
    events = queued(source)
    assert of(events, ev.MessageEdited)[0].message.model_dump(
        include={"chat_id", "id", "text", "edit_date"}
    ) == {"chat_id": ACME_ID, "id": 1, "text": "Hello (edited)", "edit_date": NOW}
    assert of(events, ev.MessagesDeleted) == [
        ev.MessagesDeleted(None, (5, 6)),
        ev.MessagesDeleted(ACME_ID, (2,)),
    ]
    assert of(events, ev.ReadUpTo) == [
        ev.ReadUpTo(INITECH_ID, 3, outbox=False),
        ev.ReadUpTo(INITECH_ID, 4, outbox=True),
        ev.ReadUpTo(ACME_ID, 2, outbox=False),
        ev.ReadUpTo(ACME_ID, 2, outbox=True),
    ]
    await source.stop()


async def test_typing_and_reactions(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    queued(source)
    typing = types.SendMessageTypingAction()
    await fake.deliver(
        types.UpdateChannelUserTyping(channel_id=77, from_id=types.PeerUser(600), action=typing)
    )
    await fake.deliver(
        types.UpdateChatUserTyping(
            chat_id=42, from_id=types.PeerUser(502), action=types.SendMessageCancelAction()
        )
    )
    await fake.deliver(types.UpdateUserTyping(user_id=501, action=typing))  # private chats are off
    reactions = types.MessageReactions(
        results=[types.ReactionCount(reaction=types.ReactionEmoji("👍"), count=1)],
        recent_reactions=[
            types.MessagePeerReaction(
                peer_id=types.PeerUser(600), date=when(NOW), reaction=types.ReactionEmoji("👍")
            )
        ],
    )
    await fake.deliver(
        types.UpdateMessageReactions(peer=types.PeerChannel(77), msg_id=2, reactions=reactions)
    )
    mine = types.MessageReactions(
        results=[types.ReactionCount(reaction=types.ReactionEmoji("✅"), count=1, chosen_order=0)]
    )
    await fake.deliver(
        types.UpdateMessageReactions(peer=types.PeerChat(42), msg_id=3, reactions=mine)
    )
    events = queued(source)
    assert of(events, ev.Typing) == [
        ev.Typing(ACME_ID, 600, NOW + 6),
        ev.Typing(INITECH_ID, 502, NOW),
    ]
    assert of(events, ev.ReactionChanged) == [
        ev.ReactionChanged(ACME_ID, 2, 600, "👍"),
        ev.ReactionChanged(INITECH_ID, 3, 1000, "✅"),
    ]
    await source.stop()


async def test_renames_joins_and_leaves_update_the_chat_list(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    queued(source)
    # a supergroup renamed out of the patterns, then back in
    renamed = channel(77, "Acme (archived)")
    await fake.deliver(types.UpdateChannel(channel_id=77), [renamed])
    back = channel(77, "Acme Corp Support")
    await fake.deliver(types.UpdateChannel(channel_id=77), [back])
    # a basic group renamed by a service message
    await fake.deliver(
        fake.new_message_update(
            fake.service(
                INITECH_ID, types.MessageActionChatEditTitle("Initech Ltd Support"), sender=BOB
            )
        )
    )
    # the cat group is renamed into a support chat
    await fake.deliver(types.UpdateChannel(channel_id=99), [channel(99, "Cats Support")])
    await until(
        lambda: any(
            isinstance(e, ev.NewMessage) and e.message.chat_id == CATS_ID for e in pending(source)
        )
    )
    events = queued(source)
    assert [type(e).__name__ for e in events if isinstance(e, ev.ChatUpdated | ev.ChatRemoved)] == [
        "ChatRemoved",
        "ChatUpdated",
        "ChatUpdated",
        "ChatUpdated",
    ]
    updated = of(events, ev.ChatUpdated)
    assert [c.chat.title for c in updated] == [
        "Acme Corp Support",
        "Initech Ltd Support",
        "Cats Support",
    ]
    assert of(events, ev.ChatRemoved) == [ev.ChatRemoved(ACME_ID)]
    service = [e.message for e in of(events, ev.NewMessage) if e.message.service]
    assert service[0].text == "changed the title to «Initech Ltd Support»"
    assert [e.message.text for e in of(events, ev.NewMessage) if e.message.chat_id == CATS_ID] == [
        "meow"
    ]
    assert {c.id for c in await source.dialogs()} == {ACME_ID, INITECH_ID, FORUM_ID, CATS_ID}

    # leaving: a basic group by service message, a supergroup by UpdateChannel(left)
    await fake.deliver(
        fake.new_message_update(
            fake.service(INITECH_ID, types.MessageActionChatDeleteUser(1000), sender=fake.me)
        )
    )
    await fake.deliver(
        types.UpdateChannel(channel_id=77), [channel(77, "Acme Corp Support", left=True)]
    )
    events = queued(source)
    assert of(events, ev.ChatRemoved) == [ev.ChatRemoved(INITECH_ID), ev.ChatRemoved(ACME_ID)]
    assert not of(events, ev.NewMessage)
    assert {c.id for c in await source.dialogs()} == {FORUM_ID, CATS_ID}
    await source.stop()


async def test_a_message_in_a_newly_joined_chat_announces_the_chat_first(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    queued(source)
    hooli = channel(123, "Hooli Support")
    fake.entities[-1000000000123] = hooli
    fake.history[-1000000000123] = []
    msg = fake.message(-1000000000123, "we just added you", sender=BOB)
    await fake.deliver(fake.new_message_update(msg), [hooli, BOB])
    events = queued(source)
    kinds = [type(e).__name__ for e in events if not isinstance(e, ev.SyncProgress)]
    assert kinds[:2] == ["ChatUpdated", "NewMessage"]
    assert events[0].chat.title == "Hooli Support"  # type: ignore[union-attr]
    await source.stop()


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


# --------------------------------------------------------------------------- sending


async def test_send_to_a_basic_group_with_reply(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    queued(source)
    sent = await source.send(
        INITECH_ID, "Have you tried turning it off and on?", reply_to=4, random_id=111
    )
    assert (sent.chat_id, sent.out, sent.reply_to, sent.sender_id) == (INITECH_ID, True, 4, 1000)
    request = fake.requests_named("SendMessageRequest")[0]
    assert request.random_id == 111
    assert (
        isinstance(request.reply_to, types.InputReplyToMessage)
        and request.reply_to.reply_to_msg_id == 4
    )
    assert request.reply_to.top_msg_id is None
    assert [e.message for e in of(queued(source), ev.NewMessage)] == [sent]
    await source.stop()


async def test_retry_with_the_same_random_id_never_posts_twice(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    fake.fail_next(
        "SendMessageRequest", TimeoutError(), after=True
    )  # Telegram got it, the answer was lost
    with pytest.raises(SendError) as failure:
        await source.send(ACME_ID, "On it!", reply_to=None, random_id=4242)
    assert not failure.value.permanent
    again = await source.send(ACME_ID, "On it!", reply_to=None, random_id=4242)
    posted = [m for m in fake.history[ACME_ID] if m.message == "On it!"]
    assert len(posted) == 1 and again.id == posted[0].id and again.out
    third = await source.send(ACME_ID, "On it!", reply_to=None, random_id=4242)
    assert third.id == again.id
    assert len([m for m in fake.history[ACME_ID] if m.message == "On it!"]) == 1
    await source.stop()


async def test_long_replies_are_split_and_a_retry_resends_no_part_twice(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    text = "\n\n".join(f"Paragraph {n}: " + "word " * 300 for n in range(6))
    parts = split_text(text)
    assert len(parts) == 3
    second_part = lambda r: r.random_id == part_random_id(77, 1)  # noqa: E731
    fake.fail_next("SendMessageRequest", ConnectionError("reset"), second_part)
    with pytest.raises(SendError, match="Part 2 of 3"):
        await source.send(INITECH_ID, text, reply_to=4, random_id=77)
    last = await source.send(INITECH_ID, text, reply_to=4, random_id=77)
    posted = [m for m in fake.history[INITECH_ID] if m.out]
    assert [m.message for m in posted] == parts
    assert last.id == posted[-1].id
    ids = [r.random_id for r in fake.requests_named("SendMessageRequest")]
    assert ids == [77, part_random_id(77, 1), 77, part_random_id(77, 1), part_random_id(77, 2)]
    replies = [r.reply_to for r in fake.requests_named("SendMessageRequest")]
    assert replies[0].reply_to_msg_id == 4 and replies[-1] is None
    await source.stop()


async def test_forum_reply_goes_to_the_topic_it_answers(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    sent = await source.send(FORUM_ID, "Refund issued", reply_to=201, random_id=5)
    request = fake.requests_named("SendMessageRequest")[0]
    assert (request.reply_to.reply_to_msg_id, request.reply_to.top_msg_id) == (201, 200)
    assert (sent.topic_id, sent.reply_to) == (200, 201)
    # a message not seen before is looked up to find its topic
    old = fake.message(FORUM_ID, "old question", sender=ALICE, topic=300, msg_id=301)
    await source.send(FORUM_ID, "answer", reply_to=old.id, random_id=6)
    assert fake.requests_named("SendMessageRequest")[1].reply_to.top_msg_id == 300
    # no reply in a forum: the General topic, no header
    await source.send(FORUM_ID, "hello all", reply_to=None, random_id=7)
    assert fake.requests_named("SendMessageRequest")[2].reply_to is None
    await source.stop()


@pytest.mark.parametrize(
    ("error", "retry_after", "permanent", "words"),
    [
        (errors.ChatWriteForbiddenError(request=None), None, True, "cannot write"),
        (errors.SlowModeWaitError(request=None, capture=30), 30, False, "Slow mode"),
        (errors.FloodWaitError(request=None, capture=120), 120, False, "wait 120 s"),
        (errors.UserBannedInChannelError(request=None), None, True, "restricts your account"),
        (errors.ChatAdminRequiredError(request=None), None, True, "Only admins"),
        (ConnectionError("reset"), None, False, "No connection"),
        (OSError("unreachable"), None, False, "No connection"),
        (
            errors.ServerError(request=None, message="INTERNAL", code=500),
            None,
            False,
            "internal problem",
        ),
    ],
)
async def test_send_errors_are_clear(
    paths: Paths, error: BaseException, retry_after: int | None, permanent: bool, words: str
) -> None:
    fake = world()
    source = await started(fake, paths)
    fake.fail_next("SendMessageRequest", error)
    with pytest.raises(SendError, match=words) as failure:
        await source.send(ACME_ID, "hi", reply_to=None, random_id=1)
    assert (failure.value.retry_after, failure.value.permanent) == (retry_after, permanent)
    assert not [m for m in fake.history[ACME_ID] if m.out]
    await source.stop()


async def test_empty_reply_is_refused(paths: Paths) -> None:
    source = await started(world(), paths)
    with pytest.raises(SendError, match="empty"):
        await source.send(ACME_ID, "  \n ", reply_to=None, random_id=1)
    await source.stop()


def test_split_text_prefers_paragraphs_then_lines_then_words() -> None:
    assert split_text("short") == ["short"]
    assert split_text("   ") == []
    para = "a" * 3000 + "\n\n" + "b" * 3000
    assert split_text(para) == ["a" * 3000, "b" * 3000]
    lines = "a" * 3000 + "\n" + "b" * 3000
    assert split_text(lines) == ["a" * 3000, "b" * 3000]
    words = ("word " * 2000).strip()
    parts = split_text(words)
    assert all(p.startswith("word") and p.endswith("word") for p in parts)
    assert " ".join(parts) == words
    hard = "x" * 9000
    assert [len(p) for p in split_text(hard)] == [4096, 4096, 808]


def test_split_text_counts_utf16_and_keeps_emoji_whole() -> None:
    text = "😀" * 3000
    parts = split_text(text)
    assert all(utf16_len(p) <= MAX_MESSAGE for p in parts)
    assert "".join(parts) == text
    family = "👩\u200d💻" * 2000
    parts = split_text(family)
    assert "".join(parts) == family and all(not p.startswith("\u200d") for p in parts)


def test_part_random_ids_are_deterministic_and_distinct() -> None:
    ids = [part_random_id(-5, i) for i in range(4)]
    assert ids[0] == -5 and len(set(ids)) == 4
    assert ids == [part_random_id(-5, i) for i in range(4)]
    assert all(-(2**63) <= i < 2**63 for i in ids)


# --------------------------------------------------------------------------- read, react, media


async def test_mark_read_and_react(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    await source.mark_read(ACME_ID, 2)
    assert fake.read_acks[0][1] == 2
    assert isinstance(fake.read_acks[0][0], types.InputPeerChannel)
    await source.react(ACME_ID, 2, "👍")
    request = fake.requests_named("SendReactionRequest")[0]
    assert (request.msg_id, request.reaction[0].emoticon) == (2, "👍")
    fake.fail_next("SendReactionRequest", errors.ReactionInvalidError(request=None))
    with pytest.raises(SendError, match="not allowed"):
        await source.react(ACME_ID, 2, "🦄")
    fake.connected = False
    await source.mark_read(ACME_ID, 2)  # offline: logged, not raised
    await source.stop()


async def test_download_media_uses_safe_unique_names(paths: Paths, tmp_path: Path) -> None:
    fake = world()
    evil = document([types.DocumentAttributeFilename("../../.bashrc")], mime="text/plain")
    m1 = fake.message(ACME_ID, "", sender=ALICE, media=evil)
    m2 = fake.message(ACME_ID, "", sender=ALICE, media=evil)
    m3 = fake.message(ACME_ID, "screenshot", sender=ALICE, media=photo())
    source = await started(fake, paths)
    dest = tmp_path / "downloads"
    first = await source.download_media(ACME_ID, m1.id, dest)
    second = await source.download_media(ACME_ID, m2.id, dest)
    shot = await source.download_media(ACME_ID, m3.id, dest)
    assert first == dest / "bashrc" and second == dest / "bashrc (1)"
    assert (
        shot.parent == dest and shot.suffix == ".jpg" and shot.read_bytes() == b"fake media bytes"
    )
    with pytest.raises(FileNotFoundError, match="no media"):
        await source.download_media(ACME_ID, 1, dest)
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
