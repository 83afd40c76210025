"""The built-in demo source: a believable, deterministic support morning behind the ChatSource seam."""

from __future__ import annotations

import asyncio
import dataclasses
import math
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tgtriage.core.desk.events import (
    ChatUpdated,
    Connection,
    ConnectionState,
    Event,
    MessageEdited,
    MessagesDeleted,
    NewMessage,
    ReactionChanged,
    ReadUpTo,
    Typing,
)
from tgtriage.core.desk.models import Message
from tgtriage.core.sources import demo_script
from tgtriage.core.sources.base import ChatSource, SendError
from tgtriage.core.sources.demo import DemoSource

START = 1_700_000_000.0
SCRIPT = demo_script.default_script()
ME, PRIYA, TOM = 1001, 1002, 1003
STAFF = {ME, PRIYA, TOM}
ACME = SCRIPT.scenarios[0].chat_id
INITECH = next(s.chat_id for s in SCRIPT.scenarios if s.key == "initech")
NUDGES = {text for texts in SCRIPT.nudges.values() for text in texts}


class FakeTime:
    """A clock that moves only when the source sleeps; it stops the source at a deadline."""

    def __init__(self) -> None:
        """Start at START with no deadline."""
        self.now = START
        self.deadline = math.inf
        self.source: DemoSource | None = None

    def clock(self) -> float:
        """The fake now."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Jump the clock forward instead of waiting; stop the source past the deadline."""
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)
        if self.now >= self.deadline and self.source is not None:
            await self.source.stop()


async def started(seed: int | None = 7, **kwargs: float) -> tuple[DemoSource, FakeTime]:
    """A started demo source on a fake clock."""
    fake = FakeTime()
    source = DemoSource(seed=seed, clock=fake.clock, sleep=fake.sleep, **kwargs)  # type: ignore[arg-type]
    fake.source = source
    await source.start()
    return source, fake


async def run_for(source: DemoSource, fake: FakeTime, seconds: float) -> list[tuple[float, Event]]:
    """Every event of the next `seconds` of (fake) time, with its time since START."""
    fake.deadline = fake.now + seconds
    return [(fake.now - START, event) async for event in source.events()]


async def until(stream: AsyncIterator[Event], wanted: type, check: object = None) -> Event:
    """Pull events until one of type `wanted` (and passing `check`) arrives."""
    async for event in stream:
        if isinstance(event, wanted) and (check is None or check(event)):  # type: ignore[operator]
            return event
    raise AssertionError(f"the stream ended before a {wanted.__name__}")


async def backlog(source: DemoSource) -> dict[int, list[Message]]:
    """Every visible chat's whole history."""
    return {c.id: await source.history(c.id, None, 10_000) for c in await source.dialogs()}


def waiting_since(messages: list[Message]) -> int | None:
    """First customer message after the last staff message (DESIGN §3), for checking the backlog."""
    since = None
    for msg in messages:
        if msg.service:
            continue
        if msg.sender_id in STAFF:
            since = None
        elif since is None:
            since = msg.date
    return since


def messages_of(events: list[tuple[float, Event]], chat_id: int) -> list[tuple[float, Message]]:
    """The new messages of one chat in a recorded run."""
    return [
        (t, e.message)
        for t, e in events
        if isinstance(e, NewMessage) and e.message.chat_id == chat_id
    ]


# --- shape of the desk ----------------------------------------------------------------------


async def test_it_is_a_chat_source_that_logs_in_as_the_engineer() -> None:
    source, _ = await started()
    assert isinstance(source, ChatSource)
    assert source.name == "demo"
    me = await source.start()
    assert (me.id, me.name) == (ME, "Alex Morgan")


async def test_desk_has_a_dozen_support_groups_and_private_chats() -> None:
    source, _ = await started()
    chats = await source.dialogs()
    groups = [c for c in chats if c.kind == "supergroup"]
    private = [c for c in chats if c.kind == "private"]
    assert len(chats) >= 12
    assert len(groups) >= 12 and len(private) >= 3
    assert all(str(c.id).startswith("-100") and c.title.endswith("· Support") for c in groups)
    assert {"Acme · Support", "Northwind · Support", "Globex · Support"} <= {
        c.title for c in groups
    }
    assert all(c.id > 0 for c in private)
    assert len({c.id for c in chats}) == len(chats)


async def test_teammates_are_staff_and_their_answers_come_from_their_own_accounts() -> None:
    source, fake = await started()
    assert source.staff_ids() == frozenset({PRIYA, TOM})
    events = await run_for(source, fake, 600)
    mates = [
        e.message
        for _, e in events
        if isinstance(e, NewMessage) and e.message.sender_id in (PRIYA, TOM)
    ]
    assert mates and all(not m.out for m in mates)
    assert {m.sender_name for m in mates} == {"Priya Shah", "Tom Becker"}


async def test_backlog_has_waits_at_every_response_level() -> None:
    source, _ = await started()
    now = int(START)
    ages = [now - s for msgs in (await backlog(source)).values() if (s := waiting_since(msgs))]
    levels = {sum(age >= limit for limit in (300, 900, 3600)) for age in ages}
    assert levels == {0, 1, 2, 3}


async def test_backlog_mixes_answered_closed_and_waiting_chats() -> None:
    source, _ = await started()
    chats = await backlog(source)
    last = {cid: [m for m in msgs if not m.service][-1] for cid, msgs in chats.items() if msgs}
    answered = [m for m in last.values() if m.sender_id in STAFF]
    thanked = [m for m in last.values() if m.sender_id not in STAFF and "thank" in m.text.lower()]
    assert len(answered) >= 3 and thanked
    assert all(m.date < START for msgs in chats.values() for m in msgs)
    assert all([m.id for m in msgs] == sorted({m.id for m in msgs}) for msgs in chats.values()), (
        "history is oldest first with unique ids"
    )


async def test_backlog_has_replies_edits_media_and_russian() -> None:
    source, _ = await started()
    everything = [m for msgs in (await backlog(source)).values() for m in msgs]
    by_id = {(m.chat_id, m.id) for m in everything}
    quotes = [m for m in everything if m.reply_to is not None]
    assert quotes and all((m.chat_id, m.reply_to) in by_id for m in quotes)
    photos = [m.media for m in everything if m.media and m.media.kind == "photo"]
    assert photos and all(p.size and p.size > 0 for p in photos)
    assert any(m.media and (m.media.name or "").endswith(".pdf") for m in everything)
    assert any(m.service for m in everything)
    assert any("а" <= ch <= "я" for m in everything for ch in m.text.lower())


async def test_history_pages_back_without_gaps_or_overlaps() -> None:
    source, _ = await started()
    full = await source.history(ACME, None, 10_000)
    assert len(full) > 20
    pages: list[list[Message]] = []
    before: int | None = None
    while page := await source.history(ACME, before, 7):
        assert len(page) <= 7
        assert [m.id for m in page] == sorted(m.id for m in page)
        assert before is None or page[-1].id < before
        pages.insert(0, page)
        before = page[0].id
    assert [m for page in pages for m in page] == full
    assert await source.history(ACME, None, 3) == full[-3:]
    assert await source.history(ACME, None, 0) == []
    assert await source.history(123456789, None, 10) == []


# --- determinism and time -------------------------------------------------------------------


async def test_same_seed_gives_the_same_backlog_and_the_same_morning() -> None:
    runs = []
    for _ in range(2):
        source, fake = await started(seed=42)
        runs.append((await backlog(source), await run_for(source, fake, 1200)))
    assert runs[0] == runs[1]
    assert len(runs[0][1]) > 50
    other, fake = await started(seed=43)
    assert (await backlog(other), await run_for(other, fake, 1200)) != runs[0]


async def test_stream_opens_connected_and_ends_on_stop() -> None:
    source, _fake = await started()
    stream = source.events()
    assert await anext(stream) == ConnectionState(Connection.CONNECTED, "demo")
    await source.stop()
    assert [e async for e in stream] == []


async def test_events_before_start_is_a_clear_error() -> None:
    source = DemoSource(seed=1)
    with pytest.raises(RuntimeError, match="start"):
        await anext(source.events())


async def test_customers_left_in_silence_ask_whether_anyone_is_there() -> None:
    source, fake = await started()
    events = await run_for(source, fake, 1200)
    last_activity: dict[int, tuple[float, Message | None]] = {}
    nudges = 0
    for t, event in events:
        if isinstance(event, MessageEdited):
            last_activity[event.message.chat_id] = (t, last_activity[event.message.chat_id][1])
        elif isinstance(event, NewMessage):
            msg = event.message
            if msg.text in NUDGES and msg.chat_id in last_activity:
                nudges += 1
                quiet_since, previous = last_activity[msg.chat_id]
                assert previous is not None and previous.sender_id not in STAFF
                assert not demo_script.sounds_closing(previous.text), "nobody nudges after 'thanks'"
                assert 25 <= t - quiet_since <= 40, f"nudge after {t - quiet_since}s of silence"
            last_activity[msg.chat_id] = (t, msg)
    assert nudges >= 5
    initech = messages_of(events, INITECH)
    texts = [m.text for _, m in initech]
    assert texts[:3] == [
        "we can't log into the panel since this morning",
        "the 2FA code never arrives by SMS",
        "account is ops@initech.example",
    ]
    assert texts[3] in NUDGES and texts.count(texts[3]) == 1, "one nudge per wait"


async def test_russian_speaking_customers_nudge_in_russian() -> None:
    source, fake = await started()
    events = await run_for(source, fake, 600)
    russian = [e.message.text for _, e in events if isinstance(e, NewMessage)]
    assert set(SCRIPT.nudges["ru"]) & set(russian)


async def test_speed_compresses_the_story() -> None:
    source, fake = await started(speed=10.0)
    initech = messages_of(await run_for(source, fake, 120), INITECH)
    (t_account, _), (t_nudge, nudge) = initech[2], initech[3]
    assert nudge.text in NUDGES
    assert 2.5 <= t_nudge - t_account <= 4.0
    assert t_account < 4.0


async def test_teammate_types_before_answering_a_waiting_chat() -> None:
    source, fake = await started()
    events = await run_for(source, fake, 600)
    seen = 0
    for i, (t, event) in enumerate(events):
        if (
            isinstance(event, NewMessage)
            and event.message.sender_id in (PRIYA, TOM)
            and event.message.chat_id != source.team_room  # team events, not answers
        ):
            msg = event.message
            typing = [
                (tt, e)
                for tt, e in events[:i]
                if isinstance(e, Typing) and e.chat_id == msg.chat_id and e.user_id == msg.sender_id
            ]
            assert typing and 2 <= t - typing[-1][0] <= 8 and typing[-1][1].until >= START + t
            previous = (await source.history(msg.chat_id, msg.id, 1))[-1]
            # a teammate answers a chat that waits, or reports back after "I'm on it"
            assert previous.sender_id not in STAFF or previous.sender_id == msg.sender_id
            seen += 1
    assert seen >= 3


async def test_teammate_stands_back_when_the_engineer_answered_first() -> None:
    source, fake = await started()
    fake.deadline = START + 900
    stream = source.events()
    await until(stream, NewMessage, lambda e: e.message.chat_id == ACME)  # "we rolled back…"
    sent = await source.send(ACME, "Hi Dana, checking the load balancer now", None, random_id=1)
    rest = [(fake.now - START, e) async for e in stream]
    acme = [m for _, m in messages_of(rest, ACME)]
    assert not any("sorry for the wait" in m.text for m in acme)
    assert acme[0].text == "yes, shop.acme.example behind your load balancer"
    assert acme[0].id > sent.id


# --- the engineer's actions -----------------------------------------------------------------


async def test_send_delivers_once_per_random_id() -> None:
    source, _ = await started()
    before = await source.history(INITECH, None, 1000)
    first = await source.send(INITECH, "Hi Peter, looking into it", before[-1].id, random_id=99)
    again = await source.send(INITECH, "Hi Peter, looking into it", before[-1].id, random_id=99)
    assert first == again
    assert (first.out, first.sender_id, first.id) == (True, ME, before[-1].id + 1)
    assert first.reply_to == before[-1].id
    other = await source.send(INITECH, "One moment", None, random_id=100)
    assert other.id == first.id + 1
    after = await source.history(INITECH, None, 1000)
    assert [m.text for m in after[len(before) :]] == ["Hi Peter, looking into it", "One moment"]


async def test_customer_reads_and_answers_the_engineers_reply() -> None:
    source, fake = await started()
    fake.deadline = START + 600
    stream = source.events()
    await until(stream, NewMessage, lambda e: e.message.text.startswith("account is"))
    sent = await source.send(
        INITECH, "Hi Peter, SMS delivery is delayed; use an authenticator app", None, 5
    )
    rest = [e async for e in stream]
    reads = [e for e in rest if isinstance(e, ReadUpTo) and e.chat_id == INITECH]
    assert reads and reads[0].max_id == sent.id and reads[0].outbox
    answers = [
        e.message for e in rest if isinstance(e, NewMessage) and e.message.chat_id == INITECH
    ]
    assert answers[0].text.startswith("ok, switching to an authenticator app")
    assert (
        answers[0].sender_id
        == next(p for s in SCRIPT.scenarios for p in s.customers if p.key == "peter").id
    )


async def test_injected_failures_raise_send_error_and_never_post_twice() -> None:
    source, _ = await started(fail_rate=1.0)
    failures = 0
    delivered = None
    for _ in range(20):
        try:
            delivered = await source.send(ACME, "Looking into it now", None, random_id=7)
            break
        except SendError as exc:
            failures += 1
            assert exc.retry_after and not exc.permanent
            history = await source.history(ACME, None, 1000)
            assert sum(m.text == "Looking into it now" for m in history) <= 1
    assert failures >= 1 and delivered is not None
    history = await source.history(ACME, None, 1000)
    assert [m for m in history if m.text == "Looking into it now"] == [delivered]


async def test_send_refuses_empty_text_and_unknown_chats() -> None:
    source, _ = await started()
    for chat_id, text in ((ACME, "   "), (424242, "hello"), (ACME, "x" * 5000)):
        with pytest.raises(SendError) as info:
            await source.send(chat_id, text, None, random_id=1)
        assert info.value.permanent


async def test_reaction_comes_back_as_an_event() -> None:
    source, fake = await started()
    fake.deadline = START + 5
    last = (await source.history(ACME, None, 1))[0]
    await source.react(ACME, last.id, "👍")
    events = [e async for e in source.events()]
    assert ReactionChanged(ACME, last.id, ME, "👍") in events
    with pytest.raises(SendError):
        await source.react(ACME, 10**9, "👍")
    await source.mark_read(ACME, last.id)


async def test_live_edit_delete_reaction_and_media() -> None:
    source, fake = await started()
    events = [e for _, e in await run_for(source, fake, 600)]
    edits = [e.message for e in events if isinstance(e, MessageEdited)]
    assert edits and edits[0].edit_date and "(running)" in edits[0].text
    assert (await source.history(edits[0].chat_id, edits[0].id + 1, 1)) == [edits[0]]
    deleted = [e for e in events if isinstance(e, MessagesDeleted)]
    assert deleted and deleted[0].chat_id is not None
    remaining = {m.id for m in await source.history(deleted[0].chat_id, None, 1000)}
    assert not set(deleted[0].ids) & remaining
    assert any(isinstance(e, ReactionChanged) and e.user_id in (PRIYA, TOM) for e in events)
    assert any(
        isinstance(e, NewMessage) and e.message.media and e.message.media.kind == "document"
        for e in events
    )


async def test_a_new_customer_group_appears_during_the_morning() -> None:
    source, fake = await started()
    initial = {c.id for c in await source.dialogs()}
    events = [e for _, e in await run_for(source, fake, 600)]
    appeared = [e.chat for e in events if isinstance(e, ChatUpdated)]
    assert appeared and appeared[0].id not in initial
    assert appeared[0].id in {c.id for c in await source.dialogs()}
    first_msg = next(
        e for e in events if isinstance(e, NewMessage) and e.message.chat_id == appeared[0].id
    )
    assert events.index(first_msg) > events.index(ChatUpdated(appeared[0]))


async def test_the_desk_stays_alive_after_the_scripted_morning() -> None:
    source, fake = await started()
    events = await run_for(source, fake, 2 * 3600)
    late = [e for t, e in events if t > 3600 and isinstance(e, NewMessage)]
    assert late


async def test_teammates_pick_up_group_chats_left_waiting_but_never_private_ones() -> None:
    source, fake = await started()
    events = await run_for(source, fake, 2 * 3600)
    private = {c.id for c in await source.dialogs() if c.kind == "private"}
    mates = [
        e.message
        for _, e in events
        if isinstance(e, NewMessage) and e.message.sender_id in (PRIYA, TOM)
    ]
    assert not [m for m in mates if m.chat_id in private]
    pickups = {
        line.format(name=person.first_name)
        for scenario in SCRIPT.scenarios
        for person in scenario.customers
        for line in SCRIPT.pickups[person.lang]
    }
    picked = [m for m in mates if m.text in pickups]
    assert picked
    for pickup in picked:
        history = await source.history(pickup.chat_id, pickup.id, 1000)
        since = waiting_since(history)
        assert since is not None and pickup.date - since >= 600, "only chats waiting 10 min+"
        later = await source.history(pickup.chat_id, None, 1000)
        after = [m for m in later if m.id > pickup.id and m.sender_id in STAFF]
        assert after, "the teammate (or the engineer) follows up after 'I'm on it'"


# --- parameters and script ------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs", [{"speed": 0}, {"speed": -1}, {"speed": math.nan}, {"fail_rate": 1.5}]
)
def test_bad_parameters_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        DemoSource(**kwargs)  # type: ignore[arg-type]


def test_script_validates_and_names_mistakes() -> None:
    demo_script.validate(SCRIPT)
    assert demo_script.seconds("1h15m") == 4500
    assert demo_script.seconds("2m30s") == 150
    with pytest.raises(ValueError, match="bad duration"):
        demo_script.seconds("soon")
    broken = dataclasses.replace(
        SCRIPT.scenarios[0], live=(demo_script.Say("dana", "hi", quote="nope"),)
    )
    with pytest.raises(ValueError, match="scenario 'acme' live\\[0\\]: quote 'nope'"):
        demo_script.validate(dataclasses.replace(SCRIPT, scenarios=(broken,)))
    with pytest.raises(ValueError, match="unknown speaker 'bob'"):
        DemoSource(
            script=dataclasses.replace(
                SCRIPT,
                scenarios=(dataclasses.replace(broken, live=(demo_script.Say("bob", "hi"),)),),
            )
        )


def test_the_script_is_a_toml_file_shipped_with_the_package() -> None:
    assert demo_script.SCRIPT_PATH.name == "demo_script.toml" and demo_script.SCRIPT_PATH.is_file()
    script = demo_script.load_script(demo_script.SCRIPT_PATH)
    assert [p.key for p in (script.me, *script.teammates)] == ["me", "priya", "tom"]
    assert len(script.scenarios) == 18 and script.scenarios[0].title == "Acme · Support"
    acme = script.scenarios[0]
    assert isinstance(acme.live[-1], demo_script.React) and acme.live[-1].emoji == "👍"
    assert acme.past[3].media is not None and acme.past[3].media.size == 214_331
    assert [s.key for s in script.scenarios if s.patience is None] == ["maria"]
    assert set(script.ambient) == {"en", "ru"} and set(script.older_threads) == {"en", "ru"}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (('key = "northwind"', 'key = "northwind'), "not valid TOML"),
        (
            ('who = "greta", text = "Hi, anyone there?"', 'who = "bob", text = "Hi"'),
            "unknown speaker 'bob'",
        ),
        (
            ('{ say = "greta", text = "Both', '{ sey = "greta", text = "Both'),
            "one of say, edit, delete or react",
        ),
        (
            ('customers = ["greta"]', 'customers = ["gretta"]'),
            "customer 'gretta' is not in [customers]",
        ),
        (
            ('wait = "1m", quote = "inv"', 'wait = "a minute", quote = "inv"'),
            "bad duration 'a minute'",
        ),
    ],
)
def test_a_broken_script_is_one_line_naming_file_line_and_fix(
    tmp_path: Path, change: tuple[str, str], problem: str
) -> None:
    text = demo_script.SCRIPT_PATH.read_text(encoding="utf-8")
    assert change[0] in text
    broken = tmp_path / "script.toml"
    broken.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(demo_script.ScriptError) as info:
        demo_script.load_script(broken)
    message = str(info.value)
    assert "\n" not in message and problem in message, message
    lines = text.splitlines()
    expected = next(n for n, row in enumerate(lines, 1) if 'key = "northwind' in row)
    assert message.startswith(f"{broken}:{expected}: "), message


def test_sounds_closing() -> None:
    assert demo_script.sounds_closing("Thanks a lot!")
    assert demo_script.sounds_closing("Спасибо большое!")
    assert not demo_script.sounds_closing("Ok, thank you. How long does the refund take?")
    assert not demo_script.sounds_closing("anyone there?")


def test_demo_source_does_not_import_textual() -> None:
    code = "import sys, tgtriage.core.sources.demo; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_teammates_acknowledge_a_customers_thanks_with_a_reaction() -> None:
    """Team signals: a "thanks" left unanswered in a group is sometimes answered by a 👍 only,
    on that very message and only while nobody wrote in the chat since."""
    source, fake = await started(seed=11)
    events = [e for _, e in await run_for(source, fake, 3 * 3600)]
    private = {c.id for c in await source.dialogs() if c.kind == "private"}
    reactions = [e for e in events if isinstance(e, ReactionChanged) and e.user_id != ME]
    by_id = {
        (e.message.chat_id, e.message.id): (i, e.message)
        for i, e in enumerate(events)
        if isinstance(e, NewMessage)
    }
    live = [r for r in reactions if (r.chat_id, r.message_id) in by_id]
    assert len(live) >= 3, "teammates react to thanks that arrive during the morning"
    for reaction in reactions:
        assert reaction.user_id in (PRIYA, TOM) and reaction.emoji == "👍"
        assert reaction.chat_id not in private
        index, message = by_id.get((reaction.chat_id, reaction.message_id), (-1, None))
        if message is None:
            continue  # a backlog message (the scripted Stark reaction)
        assert message.sender_id not in STAFF and demo_script.sounds_closing(message.text)
        later = [
            e
            for e in events[index + 1 : events.index(reaction)]
            if isinstance(e, NewMessage) and e.message.chat_id == reaction.chat_id
        ]
        assert later == [], "nobody wrote in between"
