"""The team room's members are staff before they ever write there: the desk asks Telegram who is
in the room (at start, and again when someone joins or leaves), on the simulated Telegram."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from telethon.tl import types

from tests.fake_tl import group, message_update, user
from tests.sim_telegram import Faults
from tests.test_team_room import ALEX, ALICE, KIM, PRIYA, SUPPORT, Desk, RoomSim, SharedRoom, world
from tests.virtual_time import run_on_virtual_time

ACME = -1_000_000_000_077
HELPER_BOT = user(700, "Deploy", "Bot", bot=True)


async def settled(desk: Desk, done: object, limit: int = 120) -> None:
    """Let the desk run until `done()` holds (or `limit` virtual seconds pass)."""
    for _ in range(limit):
        await asyncio.sleep(1)
        if done():  # type: ignore[operator]
            return


def kim_answered_acme(room: SharedRoom, desk: Desk) -> None:
    """Kim answered Alice in Acme from her phone (she never wrote in the team room)."""
    desk.sim.post(ACME, "we are on it, Alice", sender=KIM)


def test_a_silent_room_member_answering_a_customer_ends_the_wait() -> None:
    """Kim is in the room but never posted there: her answer in Acme counts, from the start."""

    async def scenario(folder: Path) -> tuple[int | None, bool, int]:
        room = SharedRoom()
        room.members = [PRIYA, ALEX, KIM]
        desk = Desk(world(room, PRIYA, 1), folder)
        kim_answered_acme(room, desk)
        await desk.start()
        try:
            inbox = desk.inbox
            assert inbox is not None
            await settled(desk, lambda: KIM.id in inbox.team.members and ACME in inbox.triage)
            await settled(desk, lambda: inbox.triage[ACME].last_msg_id >= 2)
            asked = desk.sim.request_count("GetParticipantsRequest")
            return inbox.triage[ACME].waiting_since, KIM.id in inbox.rule.staff_ids, asked
        finally:
            await desk.stop()

    with tempfile.TemporaryDirectory() as folder:
        waiting, staff, asked = run_on_virtual_time(scenario(Path(folder)))
    assert staff, "a listed member of the room is staff"
    assert waiting is None, "a silent member's answer ends the customer's wait"
    assert asked >= 1


def test_someone_joining_the_room_becomes_staff_without_writing_there() -> None:
    """Kim is added to the room (a service message): the desk asks again, her answer counts."""

    async def scenario(folder: Path) -> tuple[int | None, int | None, list[int]]:
        room = SharedRoom()
        desk = Desk(world(room, PRIYA, 1), folder)
        kim_answered_acme(room, desk)
        await desk.start()
        try:
            inbox = desk.inbox
            assert inbox is not None
            await settled(desk, lambda: ACME in inbox.triage and inbox.triage[ACME].last_msg_id)
            await asyncio.sleep(5)
            before = inbox.triage[ACME].waiting_since
            room.members.append(KIM)
            sim, room_id = desk.sim, room.room_id
            added = sim.service(
                room_id,
                types.MessageActionChatAddUser(users=[KIM.id]),
                sender=PRIYA,
                date=sim.now(),
            )
            sim.push(message_update(added, sim._next_pts(room_id)))
            await settled(desk, lambda: inbox.triage[ACME].waiting_since is None)
            members = sorted(inbox.team.members)
            return before, inbox.triage[ACME].waiting_since, members
        finally:
            await desk.stop()

    with tempfile.TemporaryDirectory() as folder:
        before, after, members = run_on_virtual_time(scenario(Path(folder)))
    assert before is not None, "an outsider's answer does not end the wait"
    assert KIM.id in members
    assert after is None, "once Kim is in the room, her answer does"


def test_the_member_list_is_kept_for_a_start_without_network() -> None:
    """A desk that listed Kim once counts her as staff at the next start before Telegram answers."""

    async def scenario(folder: Path) -> tuple[bool, bool]:
        room = SharedRoom()
        room.members = [PRIYA, KIM]
        desk = Desk(world(room, PRIYA, 1), folder)
        await desk.start()
        assert desk.inbox is not None
        inbox = desk.inbox
        await settled(desk, lambda: KIM.id in inbox.team.members)
        first = KIM.id in inbox.team.members
        await desk.stop()
        desk.sim.cut()  # no network at the next start
        again = Desk(desk.sim, folder)
        start = asyncio.ensure_future(again.start())
        for _ in range(60):  # until the stored state is loaded (the network is still down)
            await asyncio.sleep(1)
            if again.inbox is not None and again.inbox.rule.me_id == PRIYA.id:
                break
        assert again.inbox is not None and not start.done()
        cached = KIM.id in again.inbox.rule.staff_ids
        desk.sim.heal()
        await start
        await again.stop()
        return first, cached

    with tempfile.TemporaryDirectory() as folder:
        first, cached = run_on_virtual_time(scenario(Path(folder)))
    assert first
    assert cached, "the stored member list makes Kim staff before the network is back"


class BasicGroupSim(RoomSim):
    """An account whose team room is a basic group (its members come with the full chat)."""

    def _serve_GetFullChatRequest(self, request: Any) -> Any:
        members = [self.me, KIM, HELPER_BOT]
        participants = types.ChatParticipants(chat_id=request.chat_id, participants=[], version=1)
        full = types.ChatFull(
            id=request.chat_id,
            about="",
            participants=participants,
            notify_settings=types.PeerNotifySettings(),
        )
        return types.messages.ChatFull(full_chat=full, chats=[], users=members)


def test_a_basic_group_rooms_human_members_are_staff() -> None:
    """A basic group lists its members in the full chat; bots there are not staff."""

    async def scenario(folder: Path) -> tuple[bool, bool, int | None]:
        sim = BasicGroupSim(PRIYA, seed=2, faults=Faults())
        sim.room = SharedRoom()
        for person in (KIM, ALICE, HELPER_BOT):
            sim.add_user(person)
        sim.add_chat(group(950, "Support team"))
        acme = sim.add_chat(SUPPORT[0])
        sim.post(acme, "Hello", sender=ALICE)
        sim.post(acme, "on it", sender=KIM)
        desk = Desk(sim, folder)
        await desk.start()
        try:
            inbox = desk.inbox
            assert inbox is not None
            await settled(desk, lambda: KIM.id in inbox.team.members and acme in inbox.triage)
            await settled(desk, lambda: inbox.triage[acme].last_msg_id >= 2)
            staff = inbox.rule.staff_ids
            return KIM.id in staff, HELPER_BOT.id in staff, inbox.triage[acme].waiting_since
        finally:
            await desk.stop()

    with tempfile.TemporaryDirectory() as folder:
        kim, bot, waiting = run_on_virtual_time(scenario(Path(folder)))
    assert kim and not bot
    assert waiting is None
