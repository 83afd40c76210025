"""The workflow on a live Inbox and a real Store: views, tags, notes, targets, reactions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tgtriage.core.desk import events as ev
from tgtriage.core.desk.models import Status
from tgtriage.core.rules.views import View, ViewKind

from tests.inbox_harness import (
    ACME,
    ALICE,
    BOB,
    CHATS,
    GLOBEX,
    INITECH,
    MATE,
    ME,
    PRIVATE,
    T0,
    UMBRELLA,
    Desk,
    FakeClock,
    ScriptedSource,
    config,
    new,
    running_desk,
)


class ReactingSource(ScriptedSource):
    """A scripted source that records reactions and sends them back as events, like Telegram."""

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.reactions: list[tuple[int, int, str]] = []

    async def react(self, chat_id: int, message_id: int, emoji: str) -> None:
        """Record it and echo it as an update."""
        self.reactions.append((chat_id, message_id, emoji))
        self.emit(ev.ReactionChanged(chat_id, message_id, ME.id, emoji))


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    """A started desk with the five chats, a teammate in config and reactions meaning handled."""
    clock = FakeClock(T0 + 5000)
    source = ReactingSource(clock=clock)
    cfg = config(staff={"ids": [MATE.id], "reaction_handled": True})
    async with running_desk(tmp_path / "desk.sqlite3", source, cfg, clock) as d:
        yield d


async def test_views_filter_and_order_and_the_current_view_drives_order(desk: Desk) -> None:
    inbox = desk.inbox
    await desk.feed(
        new(ACME, 1, ALICE, 100, "help"),
        new(GLOBEX, 1, BOB, 200, "hello"),
        new(INITECH, 1, ALICE, 300, "question"),
        new(INITECH, 2, ME, 310, "answer"),
    )
    await inbox.postpone(GLOBEX.id, T0 + 9000)
    await inbox.set_in_development(INITECH.id, "JIRA-5", T0 + 8000)
    await inbox.close(UMBRELLA.id)
    await inbox.pin(PRIVATE.id, 3)
    await inbox.pin(ACME.id, 1)
    await inbox.set_tags(ACME.id, {"vip"})
    assert inbox.order(view=View(ViewKind.WAITING)) == [ACME.id]
    assert inbox.order(view=View(ViewKind.WORKING_SET)) == [ACME.id, PRIVATE.id]
    assert inbox.order(view=View(ViewKind.POSTPONED)) == [GLOBEX.id]
    assert inbox.order(view=View(ViewKind.IN_DEVELOPMENT)) == [INITECH.id]
    assert inbox.order(view=View(ViewKind.CLOSED)) == [UMBRELLA.id]
    assert inbox.order(view=View(ViewKind.TAG, "vip")) == [ACME.id]
    assert len(inbox.order()) == len(CHATS), "All by default"
    inbox.set_view(View(ViewKind.WAITING))
    assert inbox.order() == [ACME.id]
    assert inbox.neighbour(ACME.id, 1) == ACME.id, "next/previous stay inside the view"
    counts = {v.label: n for v, n in inbox.view_counts().items()}
    assert counts == {
        "All": 5,
        "Waiting": 1,
        "Working set": 2,
        "Postponed": 1,
        "In development": 1,
        "Closed": 1,
        "#vip": 1,
    }


async def test_tags_persist_and_feed_the_tag_views(desk: Desk, tmp_path: Path) -> None:
    await desk.inbox.set_tags(ACME.id, {"vip", "billing"})
    await desk.inbox.set_tags(GLOBEX.id, {"billing"})
    assert desk.inbox.all_tags() == {"vip", "billing"}
    assert [v.label for v in desk.inbox.available_views()][-2:] == ["#billing", "#vip"]
    await desk.inbox.set_tags(ACME.id, set())
    await desk.inbox.flushed()
    assert await desk.store.tags() == {GLOBEX.id: {"billing"}}
    assert ACME.id not in desk.inbox.tags


async def test_notes_are_stored_after_the_last_message_and_never_sent(desk: Desk) -> None:
    await desk.feed(new(ACME, 1, ALICE, 100, "help"), new(ACME, 2, ME, 110, "on it"))
    note = await desk.inbox.add_note(ACME.id, "  Customer on the legacy plan: no upgrade offer  ")
    assert note is not None
    assert note.text == "Customer on the legacy plan: no upgrade offer"
    assert note.after_msg_id == 2 and note.author == ME.name and note.date == T0 + 5000
    assert await desk.inbox.add_note(ACME.id, "   ") is None
    assert desk.source.sends == [], "a note never goes to Telegram"
    await desk.inbox.flushed()
    assert await desk.store.outbox_items() == []
    await desk.inbox.flushed()
    assert [n.text for n in await desk.store.notes(ACME.id)] == [note.text]
    assert [m.text for m in await desk.store.messages(ACME.id)] == ["help", "on it"]
    await desk.inbox.delete_note(note)
    await desk.inbox.flushed()
    assert await desk.store.notes(ACME.id) == []


async def test_notes_and_tags_come_back_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "again.sqlite3"
    async with running_desk(path) as first:
        await first.inbox.add_note(ACME.id, "remember the VPN")
        await first.inbox.set_tags(ACME.id, {"vip"})
    async with running_desk(path, cached=True) as second:
        assert [n.text for n in second.inbox.notes[ACME.id]] == ["remember the VPN"]
        assert second.inbox.tags == {ACME.id: {"vip"}}


async def test_per_chat_targets_from_config_and_from_the_engineer(tmp_path: Path) -> None:
    cfg = config(targets={"Initech · Support": [2, 5, 15]})
    clock = FakeClock(T0)
    async with running_desk(tmp_path / "t.sqlite3", cfg=cfg, clock=clock) as desk:
        await desk.feed(new(INITECH, 1, ALICE, 0, "hi"), new(ACME, 1, BOB, 0, "hi"))
        clock.now = T0 + 130
        assert int(desk.inbox.level(INITECH.id) or 0) == 1, "VIP by config: due after 2 min"
        assert int(desk.inbox.level(ACME.id) or 0) == 0
        assert desk.inbox.thresholds_for(INITECH.id) == (120, 300, 900)
        await desk.inbox.set_levels(ACME.id, (60, 120, 180))
        assert int(desk.inbox.level(ACME.id) or 0) == 2, "the engineer's own targets"
        await desk.inbox.flushed()
        assert (await desk.store.load_triage())[ACME.id].levels_override == (60, 120, 180)
        assert desk.inbox.level_counts() == (0, 1, 1, 0)
        await desk.inbox.set_levels(ACME.id, None)
        assert int(desk.inbox.level(ACME.id) or 0) == 0


async def test_a_teammates_reaction_on_the_last_customer_message_marks_handled(
    desk: Desk,
) -> None:
    await desk.feed(new(ACME, 1, ALICE, 100, "thanks!"))
    assert desk.inbox.triage[ACME.id].waiting_since == T0 + 100
    await desk.feed(ev.ReactionChanged(ACME.id, 1, BOB.id, "👍"))
    assert desk.inbox.triage[ACME.id].waiting_since is not None, "a customer's reaction is not"
    await desk.feed(ev.ReactionChanged(ACME.id, 1, MATE.id, ""))
    assert desk.inbox.triage[ACME.id].waiting_since is not None, "a removed reaction is not"
    await desk.feed(ev.ReactionChanged(ACME.id, 1, MATE.id, "👍"))
    state = desk.inbox.triage[ACME.id]
    assert state.waiting_since is None and state.handled_upto == 1
    await desk.feed(new(ACME, 2, ALICE, 200, "one more question"))
    assert desk.inbox.triage[ACME.id].waiting_since == T0 + 200, "it waits again"


async def test_a_reaction_on_an_earlier_message_keeps_later_ones_waiting(desk: Desk) -> None:
    await desk.feed(new(ACME, 1, ALICE, 100, "thanks!"), new(ACME, 2, ALICE, 130, "wait, no"))
    await desk.feed(ev.ReactionChanged(ACME.id, 1, MATE.id, "👍"))
    state = desk.inbox.triage[ACME.id]
    assert (state.waiting_since, state.waiting_msg_id) == (T0 + 130, 2)


async def test_handled_sends_the_reaction_to_the_customers_last_message(desk: Desk) -> None:
    await desk.feed(
        new(ACME, 1, ALICE, 100, "hi"), new(ACME, 2, ME, 110, "hello"), new(ACME, 3, BOB, 120)
    )
    await desk.inbox.mark_handled(ACME.id)
    await desk.settle()
    source = desk.source
    assert isinstance(source, ReactingSource)
    assert source.reactions == [(ACME.id, 3, "👍")]
    assert desk.inbox.triage[ACME.id].waiting_since is None


async def test_without_the_config_reactions_change_nothing(tmp_path: Path) -> None:
    source = ReactingSource()
    async with running_desk(tmp_path / "n.sqlite3", source) as desk:
        await desk.feed(new(ACME, 1, ALICE, 100, "thanks!"))
        await desk.feed(ev.ReactionChanged(ACME.id, 1, MATE.id, "👍"))
        assert desk.inbox.triage[ACME.id].waiting_since == T0 + 100
        await desk.inbox.mark_handled(ACME.id)
        await desk.settle()
        assert source.reactions == []


async def test_in_development_due_date_and_follow_up(desk: Desk) -> None:
    inbox = desk.inbox
    await desk.feed(new(ACME, 1, ALICE, 100, "bug"), new(ACME, 2, ME, 110, "filed JIRA-77"))
    await inbox.set_in_development(ACME.id, "JIRA-77", T0 + 6000)
    assert inbox.order()[-1] == ACME.id, "in development, nobody waiting: set aside"
    desk.clock.now = T0 + 6000
    assert inbox.order()[0] == ACME.id, "due: the reminder comes to the top"
    await inbox.mark_handled(ACME.id)
    state = inbox.triage[ACME.id]
    assert (state.status, state.ticket, state.due) == (Status.IN_DEVELOPMENT, "JIRA-77", None)
