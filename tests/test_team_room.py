"""Two or three desks on one team room in the simulated Telegram: they all reach the same team state.

Each desk is the real one (Inbox, SQLite store, TelegramSource and its reconciler) on its own
account's simulated Telegram; the team room is one supergroup whose messages every account's
simulation holds with the same ids (`SharedRoom` mirrors each post to the others, as Telegram
does for a supergroup). Random scenarios of claims, notes, statuses, tags, handoffs, releases,
foreign and hostile room messages, restarts, dropped connections, outages and lost updates are
played on virtual time (looptime); after the network heals every desk's team state must equal
`fold()` of the room's messages in the room's order, and each team event a desk posted must be
in the room exactly once.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telethon import errors, utils
from telethon.tl import types
from tgtriage.core.desk.events import Connection
from tgtriage.core.desk.inbox import Inbox
from tgtriage.core.sources.telegram import convert as conv
from tgtriage.core.sources.telegram.source import TelegramSource
from tgtriage.core.storage.store import Store
from tgtriage.core.system.config import Config
from tgtriage.core.system.paths import Paths
from tgtriage.core.team.codec import Kind, TeamEvent, TeamStatus, decode, encode
from tgtriage.core.team.state import RoomMessage, TeamState, fold

from tests.fake_telethon import channel, user
from tests.sim_telegram import EPOCH, Faults, SimTelegram
from tests.virtual_time import run_on_virtual_time
from tgtriage.cli.telegram import hint_source

PRIYA = user(601, "Priya", "Patel")
ALEX = user(602, "Alex", "Kim")
SAM = user(603, "Sam", "Lee")
KIM = user(604, "Kim", "Phone")  # a teammate without tgtriage, on a phone
ALICE = user(501, "Alice", "Customer")
ROOM = channel(900, "Support team", megagroup=True)
SUPPORT = [channel(77, "Acme Support"), channel(88, "Globex Support")]
QUIET_MINUTES = 15
SETTLE_LIMIT = 20 * 60.0


class SharedRoom:
    """The team room as one supergroup seen by several accounts (same message ids for all)."""

    def __init__(self) -> None:
        self.sims: list[RoomSim] = []
        self.mirroring = False
        self.members: list[Any] = [PRIYA, ALEX, SAM]  # whom Telegram lists as the room's members

    def post(self, text: str, sender: Any) -> None:
        """Someone without a desk (a phone) writes in the room."""
        self.sims[0].post(self.room_id, text, sender=sender)

    @property
    def room_id(self) -> int:
        """The room's marked chat id."""
        return -1_000_000_000_900


class RoomSim(SimTelegram):
    """One account's simulated Telegram whose room posts appear in every other account's too."""

    room: SharedRoom

    def post(
        self, chat_id: int, text: str, *, sender: Any = None, out: bool = False, push: bool = True
    ) -> Any:
        """A post in the room is mirrored to the other accounts (as their incoming message)."""
        msg = super().post(chat_id, text, sender=sender, out=out, push=push)
        if chat_id != self.room.room_id or self.room.mirroring:
            return msg
        self.room.mirroring = True
        try:
            author = self.me if out else sender
            for other in self.room.sims:
                if other is not self:
                    copy = other.post(chat_id, text, sender=author, out=author is other.me)
                    assert copy.id == msg.id, "the room's ids differ between accounts"
        finally:
            self.room.mirroring = False
        return msg

    def _serve_GetParticipantsRequest(self, request: Any) -> Any:
        """The room's members, a page at a time (as channels.getParticipants)."""
        users = self.room.members[request.offset : request.offset + request.limit]
        participants = [types.ChannelParticipant(user_id=u.id, date=None) for u in users]
        return types.channels.ChannelParticipants(
            count=len(self.room.members), participants=participants, chats=[], users=users
        )

    def _serve_EditMessageRequest(self, request: Any) -> Any:
        """An edit of our own room message (presence), mirrored to the other accounts."""
        chat_id = utils.get_peer_id(request.peer)
        new = self.edit(chat_id, request.id, request.message)
        if new is None:
            raise errors.MessageIdInvalidError(request=request)
        if chat_id == self.room.room_id:
            for other in self.room.sims:
                if other is not self:
                    other.edit(chat_id, request.id, request.message)
        update = types.UpdateEditChannelMessage(message=new, pts=0, pts_count=0)
        return types.Updates(updates=[update], users=[], chats=[], date=new.edit_date, seq=0)


def world(room: SharedRoom, me: Any, seed: int) -> RoomSim:
    """One engineer's Telegram: the room, two support chats, everyone known."""
    sim = RoomSim(me, seed=seed, faults=Faults())
    sim.room = room
    for person in (PRIYA, ALEX, SAM, KIM, ALICE):
        if person.id != me.id:
            sim.add_user(person)
    sim.add_chat(ROOM)
    for chat in SUPPORT:
        chat_id = sim.add_chat(chat)
        sim.post(chat_id, "Hello", sender=ALICE)
    room.sims.append(sim)
    return sim


def config() -> Config:
    """'* Support' chats, and the team room by its title."""
    return Config.model_validate(
        {
            "chats": {"title_patterns": ["* Support"]},
            "telegram": {"history_limit": 100},
            "team": {"room": "Support team", "claim_quiet_minutes": QUIET_MINUTES},
        }
    )


@dataclass
class Desk:
    """One engineer's running desk over their simulated Telegram."""

    sim: RoomSim
    folder: Path
    inbox: Inbox | None = None
    store: Store | None = None
    posted: int = 0  # team events this desk handed to its outbox

    async def start(self) -> None:
        """Open the store and start the desk (again, after a restart)."""
        loop = asyncio.get_running_loop()
        cfg = config()
        self.store = await Store.open(
            self.folder / "desk.sqlite3", clock=lambda: EPOCH + loop.time()
        )
        source = TelegramSource(
            cfg,
            Paths(config_dir=self.folder / "config", data_dir=self.folder / "data"),
            lambda: self.sim,
            clock=lambda: EPOCH + loop.time(),
            monotonic=loop.time,
            history_interval=0,
        )
        self.inbox = Inbox(self.store, source, cfg, clock=lambda: EPOCH + loop.time())
        add = self.inbox.outgoing.add

        async def counted(chat_id: int, text: str, reply_to: int | None) -> Any:
            item = await add(chat_id, text, reply_to)
            self.posted += 1  # a team event handed to the outbox (stored before it is sent)
            return item

        self.inbox.outgoing.add = counted  # type: ignore[method-assign]
        await self.inbox.load_cached()
        hint_source(source, self.inbox)
        await self.inbox.start()

    async def stop(self) -> None:
        """Close the desk (its outbox stays in the store)."""
        assert self.inbox is not None and self.store is not None
        await self.inbox.stop()
        await self.store.close()


Step = tuple[str, int, int, int]
KINDS = (
    ["presence"] * 3
    + ["claim"] * 6
    + ["note"] * 3
    + ["status"] * 3
    + [
        "tags",
        "handoff",
        "handoff",
        "release",
        "phone",
        "hostile",
        "restart",
        "drop",
        "outage",
        "wait",
        "wait",
    ]
)
scenario_steps = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 2), st.integers(0, 1), st.integers(0, 400)),
    min_size=10,
    max_size=40,
)


async def play(room: SharedRoom, desks: list[Desk], step: Step) -> None:
    """Play one step on one desk (or on the room)."""
    kind, who, which, amount = step
    desk = desks[who % len(desks)]
    inbox = desk.inbox
    assert inbox is not None
    chat = -1_000_000_000_000 - (77, 88)[which]
    team = inbox.team
    match kind:
        case "claim":
            await team.post(TeamEvent(Kind.CLAIM, chat))
        case "note":
            await team.share_note(chat, f"note {amount}")
        case "status":
            status = list(TeamStatus)[amount % len(TeamStatus)]
            await team.share_status(chat, status, until=EPOCH + amount, ticket="JIRA-7")
        case "tags":
            await team.post(TeamEvent(Kind.TAGS, chat, tags=(f"t{amount}",)))
        case "handoff":
            other = desks[(who + 1) % len(desks)].sim.me
            await team.hand_off(chat, other.id, f"over to you {amount}")
        case "release":
            await team.release(chat)
        case "presence":
            await team.presence(chat)
        case "phone":
            room.post(
                encode(TeamEvent(Kind.NOTE, chat, text=f"from the phone {amount}"), "📝"), KIM
            )
            room.post("thanks all, lunch?", KIM)
        case "hostile":
            room.post(f"[b]x[/b]\x1b]8;;evil\x07\ntgt1:{'Z' * amount}", KIM)
            room.post(f"\ntgt9:{'A' * 16}", KIM)
        case "restart":
            await desk.stop()
            await asyncio.sleep(amount / 10)
            await desk.start()
        case "drop":
            desk.sim.drop()
        case "outage":
            desk.sim.cut()
            await asyncio.sleep(amount / 4)
            desk.sim.heal()
        case "wait":
            await asyncio.sleep(amount)
    await asyncio.sleep(0.5)


def room_truth(sim: RoomSim) -> list[RoomMessage]:
    """The room's team events as Telegram holds them, in any account's view."""
    out = []
    for raw in sim.truth(SharedRoom().room_id):
        message = conv.convert_message(raw, sim.entities, self_id=sim.me.id)
        event = decode(message.text)
        if event is not None and message.sender_id is not None:
            date = message.date
            if event.kind is Kind.PRESENCE and message.edit_date:
                date = max(date, message.edit_date)  # as core/desk/team.py folds presence
            out.append(RoomMessage(message.id, message.sender_id, date, event))
    return out


def pending(desk: Desk) -> bool:
    """Team events still in this desk's outbox."""
    assert desk.inbox is not None
    return any(desk.inbox.outbox.get(SharedRoom().room_id, []))


@dataclass
class Outcome:
    """What a scenario ended with."""

    states: list[TeamState] = field(default_factory=list)
    truth: TeamState | None = None
    posted: dict[int, int] = field(default_factory=dict)
    in_room: dict[int, int] = field(default_factory=dict)


async def run(steps: list[Step], seed: int, folder: Path, faults: Faults) -> Outcome:
    """Three desks, the scenario, healing, then what each desk holds."""
    loop = asyncio.get_running_loop()
    room = SharedRoom()
    desks = [
        Desk(world(room, me, seed + i), folder / f"desk{i}")
        for i, me in enumerate((PRIYA, ALEX, SAM))
    ]
    for desk in desks:
        await desk.start()
        desk.sim.faults = faults
    try:
        for step in steps:
            await play(room, desks, step)
        for desk in desks:
            desk.sim.faults = Faults()
            desk.sim.heal()
        healed = loop.time()
        truth = fold(room_truth(desks[0].sim), QUIET_MINUTES * 60)
        while loop.time() - healed < SETTLE_LIMIT:
            await asyncio.sleep(10)
            truth = fold(room_truth(desks[0].sim), QUIET_MINUTES * 60)
            if all(
                d.inbox is not None
                and d.inbox.connection is Connection.CONNECTED
                and not pending(d)
                and d.inbox.team.state.snapshot() == truth.snapshot()
                for d in desks
            ):
                break
        outcome = Outcome(truth=truth)
        for desk in desks:
            assert desk.inbox is not None
            outcome.states.append(desk.inbox.team.state)
            me = desk.sim.me.id
            outcome.posted[me] = desk.posted
            outcome.in_room[me] = sum(1 for m in desk.sim.truth(room.room_id) if m.out)
        return outcome
    finally:
        for desk in desks:
            await desk.stop()


def play_scenario(steps: list[Step], seed: int, faults: Faults) -> Outcome:
    """Run one scenario on a fresh looptime loop (virtual time)."""
    with tempfile.TemporaryDirectory() as folder:
        return run_on_virtual_time(run(steps, seed, Path(folder), faults))


def check(outcome: Outcome) -> None:
    """Every desk holds the room's fold; every event posted is in the room exactly once."""
    assert outcome.truth is not None
    if any(outcome.posted.values()):
        assert outcome.truth.last_id > 0 and any(outcome.in_room.values())
    for state in outcome.states:
        assert state.snapshot() == outcome.truth.snapshot()
    assert outcome.posted == outcome.in_room


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    steps=scenario_steps,
    seed=st.integers(0, 2**16),
    faults=st.builds(
        Faults,
        drop_update=st.sampled_from([0.0, 0.1]),
        duplicate_update=st.sampled_from([0.0, 0.1]),
        reorder_update=st.sampled_from([0.0, 0.1]),
    ),
)
def test_desks_on_one_room_converge_whatever_happens(
    steps: list[Step], seed: int, faults: Faults
) -> None:
    outcome = play_scenario(steps, seed, faults)
    FIGURES.append(outcome)
    check(outcome)


FIGURES: list[Outcome] = []


def test_two_racing_claims_end_with_one_owner_everywhere_and_the_loser_is_told() -> None:
    """Priya and Alex claim the same chat at once: Priya's is first in the room, on every desk."""
    chat = -1_000_000_000_077
    notices: list[list[str]] = [[], []]

    async def race(folder: Path) -> tuple[list[int | None], list[int]]:
        room = SharedRoom()
        desks = [Desk(world(room, me, i), folder / f"d{i}") for i, me in enumerate((PRIYA, ALEX))]
        for desk in desks:
            await desk.start()
        try:
            for index, desk in enumerate(desks):
                assert desk.inbox is not None
                desk.inbox.subscribe(
                    lambda changes, told=notices[index]: told.extend(changes.notices)
                )
            await asyncio.gather(*(d.inbox.team.claim(chat) for d in desks if d.inbox))
            for _ in range(120):  # until both claims are in the room and folded on both desks
                await asyncio.sleep(5)
                if all(d.inbox and len(d.inbox.team.log.messages) == 2 for d in desks):
                    break
            owners = [
                d.inbox.team.holder(chat).owner if d.inbox and d.inbox.team.holder(chat) else None
                for d in desks
            ]
            firsts = [
                min(d.inbox.team.log.messages.values(), key=lambda m: m.id).sender
                for d in desks
                if d.inbox
            ]
            return owners, firsts
        finally:
            for desk in desks:
                await desk.stop()

    with tempfile.TemporaryDirectory() as folder:
        owners, firsts = run_on_virtual_time(race(Path(folder)))
    # whichever claim reached the room first (the outboxes race) owns the chat on both desks,
    # and the other desk is told who took it
    assert owners[0] == owners[1] == firsts[0] == firsts[1]
    winner = "Priya Patel" if firsts[0] == PRIYA.id else "Alex Kim"
    loser = 1 if firsts[0] == PRIYA.id else 0
    assert any(f"{winner}" in n and "took Acme Support first" in n for n in notices[loser])


def test_whoever_writes_in_the_room_is_staff_and_their_answers_count() -> None:
    """Kim (not in [staff]) answered Acme from her phone; once she speaks in the room, Acme
    no longer waits on this desk."""
    acme = -1_000_000_000_077

    async def scenario(folder: Path) -> tuple[int | None, int | None]:
        room = SharedRoom()
        desk = Desk(world(room, PRIYA, 1), folder)
        desk.sim.post(acme, "we are on it", sender=KIM)
        await desk.start()
        try:
            assert desk.inbox is not None
            for _ in range(60):
                await asyncio.sleep(1)
                if desk.inbox.triage.get(acme) and desk.inbox.triage[acme].last_msg_id >= 2:
                    break
            before = desk.inbox.triage[acme].waiting_since
            room.post("morning all", KIM)
            for _ in range(60):
                await asyncio.sleep(1)
                if (
                    KIM.id in desk.inbox.team.members
                    and desk.inbox.triage[acme].waiting_since is None
                ):
                    break
            return before, desk.inbox.triage[acme].waiting_since
        finally:
            await desk.stop()

    with tempfile.TemporaryDirectory() as folder:
        before, after = run_on_virtual_time(scenario(Path(folder)))
    assert before is not None, "a stranger's answer does not end the wait"
    assert after is None, "a room member's answer does"
