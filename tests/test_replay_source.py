"""The replay source: an export played on its own clock, `speed` times faster, on a fake real clock."""

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
    SyncProgress,
)
from tgtriage.core.desk.models import Message
from tgtriage.core.sources.base import ChatSource, SendError, SourceClock
from tgtriage.core.sources.export import load_export, parse_peer_ids
from tgtriage.core.sources.replay import STAND_IN_ME_ID, ReplaySource, when
from tgtriage.core.storage.store import Store

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


async def play_all(source: ReplaySource, progress: list[SyncProgress] | None = None) -> list[Event]:
    """Every event up to the end of the replay but the progress lines (put in `progress`).

    The stream itself stays open until stop; the replay's end is its "finished" line.
    """
    events: list[Event] = []
    async for event in source.events():
        if isinstance(event, SyncProgress):
            if progress is not None:
                progress.append(event)
            if "finished" in event.what:
                break
            continue
        events.append(event)
    return events


def summary(event: Event) -> tuple[str, int, int, int]:
    """(kind, chat, id, export date) of a message event."""
    assert isinstance(event, NewMessage | MessageEdited)
    message = event.message
    date = message.edit_date if isinstance(event, MessageEdited) else message.date
    assert date is not None
    kind = "new" if isinstance(event, NewMessage) else "edit"
    return kind, message.chat_id, message.id, date


def replay(tmp_path: Path, fake: FakeTime, **options: Any) -> ReplaySource:
    """A ReplaySource over the small export on the fake clock, with Tom as staff."""
    options.setdefault("staff", [TOM])
    return ReplaySource(small_export(tmp_path), clock=fake.clock, sleep=fake.sleep, **options)


async def test_it_is_a_chat_source(tmp_path: Path) -> None:
    source = replay(tmp_path, FakeTime())
    assert isinstance(source, ChatSource)
    assert source.name == "replay"


async def test_backlog_keeps_the_export_dates_and_the_clock_starts_at_its_newest(
    tmp_path: Path,
) -> None:
    fake = FakeTime()
    source = replay(tmp_path, fake)
    assert isinstance(source, SourceClock)
    me = await source.start()
    assert me.id == EVE and me.name == "Eve"
    assert [chat.id for chat in await source.dialogs()] == [CHAT_A, CHAT_B]
    backlog_a = await source.history(CHAT_A, None, 50)
    backlog_b = await source.history(CHAT_B, None, 50)
    # half of the 7 messages: A1, B1, A2, with their own dates; the replay's now is A2's
    assert [(m.id, m.date, m.text) for m in backlog_a] == [(1, 1000, "hello"), (2, 1120, "hi Ann")]
    assert [(m.id, m.date) for m in backlog_b] == [(1, 1060)]
    assert [m.out for m in backlog_a] == [False, True]
    assert source.clock() == 1120
    fake.now += 1  # a real second at 60× is an export minute
    assert source.clock() == 1180
    fake.now += 30  # but it never runs past the next message (A3 at 1240) before it arrives
    assert source.clock() == 1240


async def test_events_arrive_at_their_export_times_on_the_faster_clock(tmp_path: Path) -> None:
    fake = FakeTime()
    source = replay(tmp_path, fake)
    progress: list[SyncProgress] = []
    events = await play_all(source, progress)
    assert events[0] == ConnectionState(Connection.CONNECTED, detail="replay of result.json at 60×")
    assert [summary(event) for event in events[1:]] == [
        ("new", CHAT_A, 3, 1240),  # 120 export seconds after A2: 2 real seconds at 60×
        ("new", CHAT_B, 2, 1360),
        ("edit", CHAT_B, 2, 1380),
        ("new", CHAT_A, 4, 1600),
        ("edit", CHAT_A, 4, 1660),
        ("new", CHAT_A, 5, 5200),  # an hour of silence: 10 real seconds, then the clock jumps
    ]
    # slept in steps of at most a second, so the status line's clock moves meanwhile
    assert max(fake.sleeps) <= 1 and sum(fake.sleeps) == pytest.approx(
        2 + 2 + 1 / 3 + 11 / 3 + 1 + 10
    )
    assert source.clock() == pytest.approx(5200)
    edited = events[3]
    assert isinstance(edited, MessageEdited) and edited.message.text == "please"
    last = events[-1]
    assert isinstance(last, NewMessage)
    assert last.message.service and last.message.text == "pinned a message"
    assert source.finished and source.progress == (9, 9)


async def test_the_status_line_gets_the_replays_date_time_progress_and_end(
    tmp_path: Path,
) -> None:
    source = replay(tmp_path, FakeTime())
    progress: list[SyncProgress] = []
    await play_all(source, progress)
    first, last = progress[0], progress[-1]
    assert (first.what, first.current, first.total) == (when(1120), 3, 9)
    assert list(dict.fromkeys(p.current for p in progress)) == [3, 4, 5, 6, 7, 8, 9]
    # while waiting for A3 (1240) the clock ticks on a minute per real second at 60×
    assert [p.what for p in progress if p.current == 3] == [when(1120), when(1180)]
    assert when(1240) in next(p.what for p in progress if p.current == 4)
    assert last.what == f"finished · {when(5200)}" and last.current == last.total == 9
    assert not any("finished" in p.what for p in progress[:-1])


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


async def test_speed_scales_the_real_waits_not_the_dates(tmp_path: Path) -> None:
    for speed in (60.0, 120.0):
        fake = FakeTime()
        source = replay(tmp_path, fake, speed=speed, max_gap=1000.0)
        events = await play_all(source)
        dates = [summary(e)[3] for e in events[1:] if isinstance(e, NewMessage)]
        assert dates == [1240, 1360, 1600, 5200]
        # A3, B2, A4, A5 are 120, 240, 480, 4080 export seconds after A2
        assert fake.now - NOW == pytest.approx(4080 / speed)


async def test_long_silences_are_skipped(tmp_path: Path) -> None:
    fake = FakeTime()
    source = replay(tmp_path, fake, max_gap=3.0)
    events = await play_all(source)
    assert max(fake.sleeps) <= 3.0
    assert summary(events[-1]) == ("new", CHAT_A, 5, 5200)


async def test_everything_in_the_backlog(tmp_path: Path) -> None:
    fake = FakeTime()
    source = replay(tmp_path, fake, start_fraction=1.0)
    await source.start()
    assert source.finished
    history = await source.history(CHAT_A, None, 10)
    assert [m.id for m in history] == [1, 2, 3, 4, 5]
    assert history[-1].date == 5200 == source.clock()
    assert history[3].edit_date == 1660
    assert (await source.history(CHAT_B, None, 10))[1].edit_date == 1380


async def test_nothing_in_the_backlog(tmp_path: Path) -> None:
    fake = FakeTime()
    source = replay(tmp_path, fake, start_fraction=0.0)
    await source.start()
    assert await source.history(CHAT_A, None, 10) == []
    assert source.clock() == 1000
    events = await play_all(source)
    assert summary(events[1]) == ("new", CHAT_A, 1, 1000)
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
        1120,
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
    assert len(seen) == 2 and not task.done()
    await source.stop()
    await asyncio.wait_for(task, timeout=5)
    assert seen[0] == ConnectionState(Connection.CONNECTED, detail="replay of result.json at 60×")
    assert isinstance(seen[1], SyncProgress)


async def test_stream_stays_open_after_the_last_event_until_stop(tmp_path: Path) -> None:
    fake = FakeTime()
    source = replay(tmp_path, fake)
    seen: list[Event] = []

    async def consume() -> None:
        async for event in source.events():
            seen.append(event)

    task = asyncio.create_task(consume())
    for _ in range(500):
        await asyncio.sleep(0)
    messages = [e for e in seen if not isinstance(e, SyncProgress)]
    assert len(messages) == 7 and source.finished and not task.done()
    assert isinstance(seen[-1], SyncProgress) and "finished" in seen[-1].what
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
    export = load_export(stripe_export)
    assert max(m.date for m in backlog) == source.clock() < max(m.date for m in export.messages)
    events = await play_all(source)
    new = [e.message for e in events if isinstance(e, NewMessage)]
    assert len(new) == 600 and len(events) == 601
    assert [m.date for m in new] == sorted(m.date for m in new)
    assert all(m.out == (m.sender_id == 62621544) for m in new)
    # every message keeps its export date; the ~8 export hours play in minutes at 60×
    assert sorted((m.chat_id, m.id, m.date) for m in [*backlog, *new]) == sorted(
        (m.chat_id, m.id, m.date) for m in export.messages
    )
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


async def test_the_desk_measures_waits_on_the_replays_clock(tmp_path: Path) -> None:
    """Waits and levels count export time: Bob has waited 1 export minute, not since 1970."""
    from tgtriage.core.desk.inbox import Inbox
    from tgtriage.core.system.config import Config

    fake = FakeTime()
    never = asyncio.Event()

    async def held(seconds: float) -> None:  # the real clock moves only when the test says
        await never.wait()

    source = ReplaySource(small_export(tmp_path), staff=[TOM], clock=fake.clock, sleep=held)
    async with await Store.open(tmp_path / "replay.sqlite3", clock=source.clock) as store:
        inbox = Inbox(store, source, Config(), story_clock=source.clock)
        await inbox.load_cached()
        await inbox.start()
        for _ in range(300):
            if inbox.wait(CHAT_B) is not None:
                break
            await asyncio.sleep(0.01)
        assert inbox.now() == 1120
        assert inbox.wait(CHAT_B) == 60 and inbox.level(CHAT_B) == 0
        fake.now += 1.5  # 90 export seconds later (A3 at 1240 has not arrived yet)
        assert inbox.now() == 1210 and inbox.wait(CHAT_B) == 150
        await inbox.stop()
