"""The reconciler against the simulated Telegram, applying its events to a real Inbox and Store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from telethon import utils
from tgtriage.core.desk import events as ev
from tgtriage.core.desk.inbox import Inbox
from tgtriage.core.desk.models import Chat, Message, User
from tgtriage.core.sources.telegram import convert as conv
from tgtriage.core.sources.telegram.reconcile import Held, Reconciler
from tgtriage.core.sources.telegram.source import TelegramSource
from tgtriage.core.storage.store import Store
from tgtriage.core.system.config import Config
from tgtriage.core.system.paths import Paths

from tests.fake_tl import channel, group, user
from tests.sim_telegram import SimTelegram

ALICE = user(501, "Alice", "Customer")
TESS = user(600, "Tess", "Teammate")


@dataclass
class Desk:
    """A real Inbox and Store fed by a reconciler that talks to the simulated Telegram."""

    sim: SimTelegram
    inbox: Inbox
    store: Store
    reconciler: Reconciler
    events: list[ev.Event]
    sleeps: list[float]

    async def round(self, chats: list[int] | None = None) -> Any:
        """One reconcile round over `chats` (all known chats by default), applied to the desk."""
        report = await self.reconciler.run(chats if chats is not None else list(self.inbox.chats))
        await self.apply()
        return report

    async def apply(self) -> None:
        """Apply the events emitted so far."""
        batch, self.events[:] = list(self.events), []
        await self.inbox.apply(batch)

    async def stored(self, chat_id: int) -> dict[int, str]:
        """The store's messages of a chat: id → text."""
        return {m.id: m.text for m in await self.store.messages(chat_id, limit=1000)}

    def truth(self, chat_id: int) -> dict[int, str]:
        """Telegram's messages of a chat: id → text."""
        return {m.id: m.message for m in self.sim.truth(chat_id)}


def held_of(inbox: Inbox, store: Store) -> Any:
    """What the desk holds of a chat, from the store and the Inbox's triage state."""

    def held(chat_id: int) -> Held:
        state = inbox.triage.get(chat_id)
        messages = inbox.recent(chat_id, limit=100)
        return Held(
            messages={m.id: m.edit_date for m in messages},
            read_inbox_max=state.read_inbox_max if state else 0,
            read_outbox_max=state.read_outbox_max if state else 0,
            unread=state.unread if state else 0,
            unread_mark=state.unread_mark if state else False,
        )

    return held


def converter(sim: SimTelegram) -> Any:
    """Raw TL messages as desk messages, like the source converts them."""

    def convert(chat_id: int, msg: Any, entities: Any) -> tuple[Message, User | None]:
        lookup = {**sim.entities, **entities}
        message = conv.convert_message(msg, lookup, self_id=sim.me.id)
        return message, conv.sender_user(msg, lookup, sim.me.id)

    return convert


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    """Three support chats (a supergroup, a basic group, a private chat) and an empty desk."""
    sim = SimTelegram(seed=1)
    for person in (ALICE, TESS):
        sim.add_user(person)
    chats = [sim.add_chat(channel(77, "Acme · Support")), sim.add_chat(group(42, "Initech"))]
    chats.append(sim.add_chat(ALICE))
    await sim.connect()
    store = await Store.open(tmp_path / "desk.sqlite3")
    cfg = Config()
    paths = Paths(config_dir=tmp_path / "c", data_dir=tmp_path / "d")
    inbox = Inbox(store, TelegramSource(cfg, paths, lambda: sim), cfg)
    await store.set_meta("me_id", str(sim.me.id))
    await inbox.load_cached()
    events: list[ev.Event] = []
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def peer_of(chat_id: int) -> Any:
        return utils.get_input_peer(sim.entities[chat_id])

    reconciler = Reconciler(
        call=lambda request, what: sim(request),
        peer_of=peer_of,
        convert=converter(sim),
        held=held_of(inbox, store),
        emit=events.append,
        sleep=sleep,
        workers=1,  # one chat at a time: a test can cut a round short at a chosen chat
    )
    await inbox.apply([ev.ChatUpdated(Chat(id=c, title=f"chat {c}", kind="group")) for c in chats])
    try:
        yield Desk(sim, inbox, store, reconciler, events, sleeps)
    finally:
        await store.close()


async def test_what_changed_while_the_desk_was_closed_is_repaired(desk: Desk) -> None:
    sim = desk.sim
    acme, initech, alice = list(desk.inbox.chats)
    for chat in (acme, initech):
        sim.post(chat, "Hello", sender=ALICE)
        sim.post(chat, "anyone there?", sender=ALICE)
        sim.post(chat, "we are on it", sender=TESS)
    sim.post(alice, "hi, private question", sender=ALICE)
    await desk.round()
    for c in desk.inbox.chats:
        assert await desk.stored(c) == desk.truth(c)

    with sim.closed():
        first_acme = sim.truth(acme)[0].id
        sim.delete(acme, [first_acme])
        sim.edit(initech, sim.truth(initech)[1].id, "anyone there??")
        sim.delete(initech, [sim.truth(initech)[2].id])  # the teammate's answer is gone
        sim.post(alice, "still waiting", sender=ALICE)
        sim.read(acme, sim.truth(acme)[-1].id)
    assert sim.lost_updates == 5  # nothing of it reaches the desk as an update

    report = await desk.round()

    for chat in desk.inbox.chats:
        assert await desk.stored(chat) == desk.truth(chat)
    assert first_acme not in await desk.stored(acme)
    assert desk.inbox.triage[initech].waiting_since is not None  # waits again: answer deleted
    assert desk.inbox.triage[acme].read_inbox_max == sim.read_inbox[acme]
    assert desk.inbox.triage[acme].unread == 0
    assert (report.new, report.edited, report.deleted) == (1, 1, 2)


async def test_unread_count_comes_from_the_dialog(desk: Desk) -> None:
    sim = desk.sim
    acme = next(iter(desk.inbox.chats))
    for n in range(150):
        sim.post(acme, f"message {n}", sender=ALICE)
    await desk.round([acme])
    assert len(await desk.stored(acme)) == 50  # a new chat is fetched one window deep
    assert desk.inbox.triage[acme].unread == 150 == sim.unread_count(acme)


async def test_a_mark_unread_set_on_the_phone_while_disconnected_reaches_the_desk(
    desk: Desk,
) -> None:
    sim = desk.sim
    acme = next(iter(desk.inbox.chats))
    sim.post(acme, "Hello", sender=ALICE)
    await desk.round([acme])
    assert not desk.inbox.triage[acme].unread_mark
    with sim.closed():
        sim.dialog_meta[acme]["unread_mark"] = True  # "Mark as unread" on the phone
    await desk.round([acme])
    assert desk.inbox.triage[acme].unread_mark
    with sim.closed():
        sim.dialog_meta[acme]["unread_mark"] = False
    await desk.round([acme])
    assert not desk.inbox.triage[acme].unread_mark


async def test_a_calm_desk_costs_one_request_per_hundred_chats(tmp_path: Path) -> None:
    sim = SimTelegram(seed=2)
    sim.add_user(ALICE)
    chats = [sim.add_chat(channel(1000 + n, f"Customer {n} · Support")) for n in range(100)]
    for chat in chats:
        sim.post(chat, "Hello?", sender=ALICE)
    await sim.connect()
    store = await Store.open(tmp_path / "desk.sqlite3")
    cfg = Config()
    inbox = Inbox(
        store, TelegramSource(cfg, Paths(config_dir=tmp_path, data_dir=tmp_path), lambda: sim), cfg
    )
    await store.set_meta("me_id", str(sim.me.id))
    await inbox.load_cached()
    await inbox.apply([ev.ChatUpdated(Chat(id=c, title="c", kind="group")) for c in chats])
    events: list[ev.Event] = []

    async def peer_of(chat_id: int) -> Any:
        return utils.get_input_peer(sim.entities[chat_id])

    async def no_sleep(seconds: float) -> None:
        raise AssertionError("no flood wait expected")

    reconciler = Reconciler(
        call=lambda request, what: sim(request),
        peer_of=peer_of,
        convert=converter(sim),
        held=held_of(inbox, store),
        emit=events.append,
        sleep=no_sleep,
    )
    try:
        first = await reconciler.run(chats)  # a cold desk: one history request per chat
        await inbox.apply(events)
        events.clear()
        assert all(inbox.triage[c].waiting_since is not None for c in chats)
        assert first.requests == 1 + 100  # held nothing yet: history, no deep check by id
        # ten rounds, one every 3 simulated minutes; a customer writes in every chat meanwhile
        per_round = []
        for minute in range(10):
            for chat in chats[minute * 10 : minute * 10 + 10]:
                msg = sim.post(chat, "any news?", sender=ALICE, push=False)
                await inbox.apply([ev.NewMessage(conv.convert_message(msg, sim.entities))])
                reconciler.note_pts(chat, sim.channel_pts[chat], 1)  # the live update's pts
            report = await reconciler.run(chats)
            assert not events, "nothing differs when every live update arrived"
            per_round.append(report.requests)
        assert per_round == [1] * 10  # one GetPeerDialogs of 100 peers per round
        assert sim.request_count("GetPeerDialogsRequest") == 11
    finally:
        await store.close()


async def test_a_lost_live_update_leaves_a_gap_that_the_next_round_checks(desk: Desk) -> None:
    sim = desk.sim
    acme = next(iter(desk.inbox.chats))
    sim.post(acme, "Hello", sender=ALICE)
    sim.post(acme, "typo hre", sender=ALICE)
    await desk.round([acme])
    deep = desk.reconciler.verified_pts[acme]
    sim.edit(acme, sim.truth(acme)[-1].id, "typo here")  # the update is lost (no live stream)
    sim.missed.clear()
    report = await desk.round([acme])
    assert report.deep_checks == 1 and report.edited == 1
    assert await desk.stored(acme) == desk.truth(acme)
    assert desk.reconciler.verified_pts[acme] == deep + 1
    assert (await desk.round([acme])).deep_checks == 0


async def test_a_flood_wait_is_shown_waited_out_and_the_same_request_resent(desk: Desk) -> None:
    sim = desk.sim
    chats = list(desk.inbox.chats)
    for chat in chats:
        sim.post(chat, "Hello", sender=ALICE)
    seen: list[Any] = []

    def third_meets_a_flood_wait(request: Any) -> None:
        seen.append(request)
        if len(seen) == 3:
            sim.script.floods.append(42)

    sim.on_request = third_meets_a_flood_wait
    await desk.round()
    assert desk.sleeps == [42]
    assert seen[3] is seen[2], "the very request that met the flood wait is sent again"
    assert len({id(r) for r in seen}) == len(seen) - 1, "nothing before it is asked again"
    assert desk.inbox.flood_until is not None
    for c in chats:
        assert await desk.stored(c) == desk.truth(c)


async def test_an_interrupted_round_resumes_with_the_chats_it_had_left(desk: Desk) -> None:
    sim = desk.sim
    chats = list(desk.inbox.chats)
    for chat in chats:
        sim.post(chat, "Hello", sender=ALICE)
    checked: list[int] = []

    def cut_at_the_second_history(request: Any) -> None:
        if type(request).__name__ == "GetHistoryRequest":
            checked.append(utils.get_peer_id(request.peer))
            if len(checked) == 2:
                sim.cut()

    sim.on_request = cut_at_the_second_history
    with pytest.raises(ConnectionError):
        await desk.reconciler.run(chats)
    await desk.apply()
    assert desk.reconciler.pending == chats[1:]
    sim.heal()
    await sim.disconnect()
    await sim.connect()
    await desk.round([])
    assert checked == [chats[0], chats[1], chats[1], chats[2]]
    for c in chats:
        assert await desk.stored(c) == desk.truth(c)


async def test_a_round_cut_short_asks_for_the_chat_states_again_when_it_resumes(
    desk: Desk,
) -> None:
    sim = desk.sim
    chats = list(desk.inbox.chats)
    for chat in chats:
        sim.post(chat, "Hello", sender=ALICE)
    await desk.round()
    alice = chats[2]
    sim.post(alice, "are you there?", sender=ALICE)
    assert await desk.round() is not None
    assert desk.inbox.triage[alice].unread == 2
    sim.post(chats[0], "news in the first chat", sender=ALICE, push=False)

    def cut_after_the_states(request: Any) -> None:
        if type(request).__name__ == "GetHistoryRequest":
            sim.cut()  # the round has the chat states, then the network goes

    sim.on_request = cut_after_the_states
    with pytest.raises(ConnectionError):
        await desk.reconciler.run(chats)
    with sim.closed():  # read on the phone while the desk is away
        sim.read(alice, sim.truth(alice)[-1].id)
    sim.on_request = None
    sim.heal()
    await sim.disconnect()
    await sim.connect()
    await desk.round([])
    # the states fetched before the cut said 2 unread; Telegram says none now
    assert desk.inbox.triage[alice].unread == 0 == sim.unread_count(alice)
    assert desk.inbox.triage[alice].read_inbox_max == sim.read_inbox[alice]


async def test_a_message_shown_after_the_chat_states_were_fetched_keeps_its_unread_mark(
    desk: Desk,
) -> None:
    sim = desk.sim
    acme, initech, _ = list(desk.inbox.chats)
    for chat in (acme, initech):
        sim.post(chat, "Hello", sender=ALICE)
    await desk.round()
    assert desk.inbox.triage[initech].unread == 1
    sim.post(acme, "one more thing", sender=ALICE, push=False)
    with sim.closed():  # read on the phone: the round will bring the mark and a count of 0
        sim.read(initech, sim.truth(initech)[-1].id)
    convert = converter(sim)
    shown: list[int] = []

    def live_message_during_the_round(request: Any) -> None:
        if type(request).__name__ == "GetHistoryRequest" and not shown:
            # after the round asked for the chat states: a customer writes in another chat and
            # the live update shows it on the desk before the round reaches that chat
            msg = sim.post(initech, "hello??", sender=ALICE, push=False)
            message, sender = convert(initech, msg, {})
            desk.events.append(ev.NewMessage(message, sender))
            shown.append(msg.id)

    sim.on_request = live_message_during_the_round
    await desk.round()
    assert shown
    assert desk.inbox.triage[initech].unread == 1 == sim.unread_count(initech)
    assert desk.inbox.triage[initech].read_inbox_max == sim.read_inbox[initech]
