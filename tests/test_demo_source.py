"""The built-in demo source behind the ChatSource seam: the desk it shows, its backlog,
determinism, and what the engineer's sends and reactions do."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from tgtriage.core.desk.events import (
    Connection,
    ConnectionState,
    ReactionChanged,
)
from tgtriage.core.desk.models import Message
from tgtriage.core.sources.base import ChatSource, SendError
from tgtriage.core.sources.demo import DemoSource

from tests.demo_harness import (
    ACME,
    INITECH,
    ME,
    STAFF,
    START,
    backlog,
    run_for,
    started,
    waiting_since,
)

# ----------------------------------------------------------------- shape of the desk


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


# ----------------------------------------------------------------- determinism and the stream


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


@pytest.mark.parametrize(
    "kwargs", [{"speed": 0}, {"speed": -1}, {"speed": math.nan}, {"fail_rate": 1.5}]
)
def test_bad_parameters_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        DemoSource(**kwargs)  # type: ignore[arg-type]


def test_demo_source_does_not_import_textual() -> None:
    code = "import sys, tgtriage.core.sources.demo; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------- the engineer's actions


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
