"""The replay source: an export played as live, time-compressed traffic on a fake clock."""

from __future__ import annotations

import asyncio
import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from tgtriage.core.desk.events import (
    Connection,
    ConnectionState,
    Event,
    MessageEdited,
    NewMessage,
)
from tgtriage.core.desk.models import Message
from tgtriage.core.sources.base import ChatSource, SendError
from tgtriage.core.sources.export import load_export, parse_peer_ids
from tgtriage.core.sources.replay import STAND_IN_ME_ID, ReplaySource, compressed_offsets

NOW = 1_700_000_000.0
CHAT_A = -1000000000555
CHAT_B = 43
EVE, TOM, ANN, BOB = 7, 8, 42, 43


class FakeTime:
    """A clock that only moves when the replay sleeps."""

    def __init__(self, now: float = NOW) -> None:
        """Start the clock at `now`."""
        self.now = now
        self.sleeps: list[float] = []

    def clock(self) -> float:
        """The current fake time."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Advance the fake time instead of waiting."""
        self.sleeps.append(seconds)
        self.now += seconds


def entry(id: int, date: int, who: tuple[int, str], text: str, **extra: Any) -> dict[str, Any]:
    """One export message."""
    data = {
        "id": id,
        "type": "message",
        "date_unixtime": str(date),
        "from": who[1],
        "from_id": f"user{who[0]}",
        "text": text,
    }
    data.update(extra)
    return data


def small_export(tmp_path: Path) -> Path:
    """Two chats; exported by Eve (7); Tom (8) is a teammate; Ann and Bob are customers.

    Global order and gaps (export seconds): A1 1000, B1 1060, A2 1120, A3 1240, B2 1360
    (edited 1380), A4 1600 (edited 1660, replies to A3), A5 5200 (a service message).
    """
    eve, tom, ann, bob = (EVE, "Eve"), (TOM, "Tom"), (ANN, "Ann"), (BOB, "Bob")
    chat_a = {
        "name": "Acme · Support",
        "type": "private_supergroup",
        "id": 555,
        "messages": [
            entry(1, 1000, ann, "hello"),
            entry(2, 1120, eve, "hi Ann"),
            entry(3, 1240, ann, "it broke"),
            entry(4, 1600, tom, "fixed", reply_to_message_id=3, edited_unixtime="1660"),
            {
                "id": 5,
                "type": "service",
                "date_unixtime": "5200",
                "actor": "Eve",
                "actor_id": "user7",
                "action": "pin_message",
                "text": "",
            },
        ],
    }
    chat_b = {
        "name": "Bob",
        "type": "personal_chat",
        "id": BOB,
        "messages": [
            entry(1, 1060, bob, "anyone there?"),
            entry(2, 1360, bob, "please", edited_unixtime="1380"),
        ],
    }
    data = {
        "personal_information": {"user_id": EVE, "first_name": "Eve", "last_name": ""},
        "chats": {"list": [chat_a, chat_b]},
    }
    path = tmp_path / "result.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


async def take(source: ReplaySource, count: int) -> list[Event]:
    """The first `count` events of the source."""
    events: list[Event] = []
    async for event in source.events():
        events.append(event)
        if len(events) == count:
            break
    return events


async def play_all(source: ReplaySource) -> list[Event]:
    """Every event up to the end of the replay (the stream itself stays open until stop)."""
    events: list[Event] = []
    await source.start()
    if source.finished:
        return await take(source, 1)
    async for event in source.events():
        events.append(event)
        if source.finished:
            break
    return events


def summary(event: Event) -> tuple[str, int, int, int]:
    """(kind, chat, id, date offset from NOW) of a message event."""
    assert isinstance(event, NewMessage | MessageEdited)
    message = event.message
    date = message.edit_date if isinstance(event, MessageEdited) else message.date
    assert date is not None
    kind = "new" if isinstance(event, NewMessage) else "edit"
    return kind, message.chat_id, message.id, date - int(NOW)


def replay(tmp_path: Path, fake: FakeTime, **options: Any) -> ReplaySource:
    """A ReplaySource over the small export on the fake clock, with Tom as staff."""
    options.setdefault("staff", [TOM])
    return ReplaySource(small_export(tmp_path), clock=fake.clock, sleep=fake.sleep, **options)


async def test_it_is_a_chat_source(tmp_path: Path) -> None:
    source = replay(tmp_path, FakeTime())
    assert isinstance(source, ChatSource)
    assert source.name == "replay"


async def test_backlog_is_there_at_start_and_ends_now(tmp_path: Path) -> None:
    source = replay(tmp_path, FakeTime())
    me = await source.start()
    assert me.id == EVE and me.name == "Eve"
    assert [chat.id for chat in await source.dialogs()] == [CHAT_A, CHAT_B]
    backlog_a = await source.history(CHAT_A, None, 50)
    backlog_b = await source.history(CHAT_B, None, 50)
    # half of the 7 messages: A1, B1, A2 — one compressed minute apart, A2 "just now"
    assert [(m.id, m.date - int(NOW), m.text) for m in backlog_a] == [
        (1, -2, "hello"),
        (2, 0, "hi Ann"),
    ]
    assert [(m.id, m.date - int(NOW)) for m in backlog_b] == [(1, -1)]
    assert [m.out for m in backlog_a] == [False, True]


async def test_events_arrive_in_order_at_compressed_times(tmp_path: Path) -> None:
    fake = FakeTime()
    source = replay(tmp_path, fake)
    events = await play_all(source)
    assert events[0] == ConnectionState(Connection.CONNECTED, detail="replay of result.json at 60×")
    assert [summary(event) for event in events[1:]] == [
        ("new", CHAT_A, 3, 2),  # 120 s after A2, at 60× → 2 s
        ("new", CHAT_B, 2, 4),
        ("edit", CHAT_B, 2, 4),  # 20 s after → 0.33 s
        ("new", CHAT_A, 4, 8),
        ("edit", CHAT_A, 4, 9),
        ("new", CHAT_A, 5, 18),  # an hour of silence is capped at 10 s
    ]
    assert fake.sleeps == pytest.approx([2, 2, 1 / 3, 4 - 1 / 3, 1, 9])
    edited = events[3]
    assert isinstance(edited, MessageEdited) and edited.message.text == "please"
    last = events[-1]
    assert isinstance(last, NewMessage)
    assert last.message.service and last.message.text == "pinned a message"
    assert source.finished and source.progress == (6, 6)


async def test_staff_flags(tmp_path: Path) -> None:
    source = replay(tmp_path, FakeTime())
    assert source.staff_ids() == frozenset({EVE, TOM})
    events = await play_all(source)
    new = {(e.message.chat_id, e.message.id): e for e in events if isinstance(e, NewMessage)}
    tom = new[(CHAT_A, 4)]
    assert tom.message.sender_id == TOM and not tom.message.out
    assert tom.sender is not None and tom.sender.name == "Tom"
    assert tom.message.reply_to == 3
    assert not new[(CHAT_A, 3)].message.out
    assert new[(CHAT_A, 5)].message.out  # Eve's own pin


async def test_speed_compresses_time(tmp_path: Path) -> None:
    arrivals = {}
    for speed in (60.0, 120.0):
        fake = FakeTime()
        source = replay(tmp_path, fake, speed=speed, max_gap=1000.0)
        events = await play_all(source)
        arrivals[speed] = [summary(e)[3] for e in events[1:] if isinstance(e, NewMessage)]
    # A3, B2, A4, A5 are 120, 240, 480, 4080 export seconds after A2
    assert arrivals[60.0] == [2, 4, 8, 68]
    assert arrivals[120.0] == [1, 2, 4, 34]


async def test_gaps_are_capped(tmp_path: Path) -> None:
    fake = FakeTime()
    source = replay(tmp_path, fake, max_gap=3.0)
    await play_all(source)
    assert max(fake.sleeps) <= 3.0
    assert compressed_offsets([0, 60, 60, 86_400], 60.0, 10.0) == [0.0, 1.0, 1.0, 11.0]


async def test_everything_in_the_backlog(tmp_path: Path) -> None:
    fake = FakeTime()
    source = replay(tmp_path, fake, start_fraction=1.0)
    await source.start()
    assert source.finished
    history = await source.history(CHAT_A, None, 10)
    assert [m.id for m in history] == [1, 2, 3, 4, 5]
    assert history[-1].date == int(NOW)
    assert history[3].edit_date is not None and history[3].edit_date < int(NOW)
    assert (await source.history(CHAT_B, None, 10))[1].edit_date is not None


async def test_nothing_in_the_backlog(tmp_path: Path) -> None:
    fake = FakeTime()
    source = replay(tmp_path, fake, start_fraction=0.0)
    await source.start()
    assert await source.history(CHAT_A, None, 10) == []
    events = await play_all(source)
    assert summary(events[1]) == ("new", CHAT_A, 1, 0)
    assert len([e for e in events if isinstance(e, NewMessage)]) == 7


async def test_history_pages_by_id(tmp_path: Path) -> None:
    source = replay(tmp_path, FakeTime(), start_fraction=1.0)
    await source.start()
    assert [m.id for m in await source.history(CHAT_A, None, 2)] == [4, 5]
    assert [m.id for m in await source.history(CHAT_A, 4, 2)] == [2, 3]
    assert [m.id for m in await source.history(CHAT_A, 2, 10)] == [1]
    assert await source.history(CHAT_A, 1, 10) == []
    assert await source.history(12345, None, 10) == []


async def test_send_delivers_once_and_keeps_ids_growing(tmp_path: Path) -> None:
    fake = FakeTime()
    source = replay(tmp_path, fake)
    await source.start()
    sent = await source.send(CHAT_A, "on it", reply_to=1, random_id=99)
    assert (sent.chat_id, sent.id, sent.date, sent.out, sent.sender_id) == (
        CHAT_A,
        3,
        int(NOW),
        True,
        EVE,
    )
    assert sent.reply_to == 1 and sent.text == "on it"
    again = await source.send(CHAT_A, "on it", reply_to=1, random_id=99)
    assert again == sent
    assert [m.id for m in await source.history(CHAT_A, None, 10)] == [1, 2, 3]
    events = await play_all(source)
    # the export's A3 (id 3) now arrives as id 4; A4 (id 4, a reply to A3) as id 5
    arrived = [e.message for e in events if isinstance(e, NewMessage | MessageEdited)]
    in_a = [(m.id, m.text, m.reply_to) for m in arrived if m.chat_id == CHAT_A]
    assert in_a == [
        (4, "it broke", None),
        (5, "fixed", 4),
        (5, "fixed", 4),
        (6, "pinned a message", None),
    ]
    history = await source.history(CHAT_A, None, 10)
    assert [m.id for m in history] == [1, 2, 3, 4, 5, 6]
    assert [m.text for m in history][2] == "on it"
    assert history[4].edit_date is not None


async def test_send_errors(tmp_path: Path) -> None:
    source = replay(tmp_path, FakeTime())
    await source.start()
    with pytest.raises(SendError) as caught:
        await source.send(999, "hi", reply_to=None, random_id=1)
    assert caught.value.permanent
    await source.stop()
    with pytest.raises(SendError):
        await source.send(CHAT_A, "hi", reply_to=None, random_id=2)


async def test_mark_read_and_react_are_remembered(tmp_path: Path) -> None:
    source = replay(tmp_path, FakeTime())
    await source.start()
    await source.mark_read(CHAT_A, 2)
    await source.mark_read(CHAT_A, 1)
    await source.react(CHAT_A, 1, "👍")
    assert source.read_upto == {CHAT_A: 2}
    assert source.reactions == {(CHAT_A, 1): "👍"}


async def test_stop_ends_the_stream_while_waiting(tmp_path: Path) -> None:
    never = asyncio.Event()

    async def sleep_forever(seconds: float) -> None:
        await never.wait()

    source = ReplaySource(small_export(tmp_path), clock=lambda: NOW, sleep=sleep_forever)
    seen: list[Event] = []

    async def consume() -> None:
        async for event in source.events():
            seen.append(event)

    task = asyncio.create_task(consume())
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(seen) == 1 and not task.done()
    await source.stop()
    await asyncio.wait_for(task, timeout=5)
    assert seen == [ConnectionState(Connection.CONNECTED, detail="replay of result.json at 60×")]


async def test_stream_stays_open_after_the_last_event_until_stop(tmp_path: Path) -> None:
    fake = FakeTime()
    source = replay(tmp_path, fake)
    seen: list[Event] = []

    async def consume() -> None:
        async for event in source.events():
            seen.append(event)

    task = asyncio.create_task(consume())
    for _ in range(50):
        await asyncio.sleep(0)
    assert len(seen) == 7 and source.finished and not task.done()
    await source.stop()
    await asyncio.wait_for(task, timeout=5)


@pytest.mark.parametrize(
    "options",
    [
        {"speed": 0},
        {"speed": -1.0},
        {"speed": float("inf")},
        {"start_fraction": 1.5},
        {"max_gap": 0},
    ],
)
def test_bad_settings(tmp_path: Path, options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ReplaySource(small_export(tmp_path), **options)


def test_a_bad_file_fails_at_construction(tmp_path: Path) -> None:
    from tgtriage.core.sources.export import ExportError

    with pytest.raises(ExportError, match="not found"):
        ReplaySource(tmp_path / "missing.json")


# --- real data ------------------------------------------------------------------------------


def ordered(messages: list[Message]) -> bool:
    """True when ids and dates both never go down."""
    return all(a.id < b.id and a.date <= b.date for a, b in pairwise(messages))


async def test_stripe_replay(stripe_export: Path) -> None:
    fake = FakeTime()
    staff = parse_peer_ids("user227703622,user805557969,user497406595,user19932276,user338083830")
    source = ReplaySource(stripe_export, staff=staff, clock=fake.clock, sleep=fake.sleep)
    me = await source.start()
    assert me.id == 62621544 and me.name == "karllekko"
    assert source.staff_ids() == frozenset({62621544, *staff})
    chats = await source.dialogs()
    assert len(chats) == 100
    backlog = [m for chat in chats for m in await source.history(chat.id, None, 10_000)]
    assert len(backlog) == 600
    assert max(m.date for m in backlog) == int(NOW)
    events = await play_all(source)
    new = [e.message for e in events if isinstance(e, NewMessage)]
    assert len(new) == 600 and len(events) == 601
    assert [m.date for m in new] == sorted(m.date for m in new)
    assert all(m.out == (m.sender_id == 62621544) for m in new)
    # the ~8 export hours of live traffic play in minutes at 60×
    assert 60 < fake.now - NOW < 8 * 3600 / 60
    for chat in chats:
        assert ordered(await source.history(chat.id, None, 10_000))


async def test_gitter_replay(gitter_export: Path) -> None:
    fake = FakeTime()
    staff = parse_peer_ids("user1785939661,user1408129230")
    source = ReplaySource(gitter_export, staff=staff, clock=fake.clock, sleep=fake.sleep)
    me = await source.start()
    assert me.id == STAND_IN_ME_ID  # a single-chat export does not say whose it is
    assert source.staff_ids() == frozenset({STAND_IN_ME_ID, *staff})
    (chat,) = await source.dialogs()
    assert len(await source.history(chat.id, None, 100_000)) == 7530
    events = await play_all(source)
    new = [e.message for e in events if isinstance(e, NewMessage)]
    assert len(new) == 7530
    assert (
        sum(m.service for m in new)
        + sum(m.service for m in await source.history(chat.id, 7531, 100_000))
        == 206
    )
    assert not any(m.out for m in new)
    assert max(fake.sleeps) <= 10.0
    assert ordered(await source.history(chat.id, None, 100_000))


async def test_gitter_replay_as_a_staff_member(gitter_export: Path) -> None:
    export = load_export(gitter_export)
    source = ReplaySource(export, me_id=1785939661, clock=FakeTime().clock)
    me = await source.start()
    assert me.name == "MadLittleMods"
    history = await source.history(export.chats[0].id, None, 100_000)
    mine = [m for m in history if m.sender_id == 1785939661]
    assert mine and all(m.out for m in mine)
