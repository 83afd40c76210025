"""The team room on the desk (Pilot, seeded demo, fixed clock): claims, the list's markers, Ctrl+N,
the typing warning, a lost race, and a reply that claims the chat."""

from __future__ import annotations

import pytest
from tgtriage.core.desk import events as ev
from tgtriage.core.desk.models import User
from tgtriage.core.team.codec import Kind, TeamEvent, TeamStatus, decode, encode
from tgtriage.tui.app import DeskApp

from tests.desk_harness import (
    Desk,
    chat_id_by_title,
    header,
    row_text,
    run_desk,
    screen_text,
    settle,
    type_text,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("utc_times")

PRIYA = User(id=1002, first_name="Priya", last_name="Shah")


def notices(app: DeskApp) -> list[str]:
    """The toasts shown so far."""
    return [n.message for n in app._notifications]


def room_events(desk: Desk) -> list[tuple[int, TeamEvent]]:
    """The demo room's team events: (sender, event)."""
    assert desk.source.room is not None
    return [
        (m.sender_id or 0, e)
        for m in desk.source.room.messages
        if (e := decode(m.text)) is not None
    ]


async def morning(desk: Desk, pilot: object, seconds: int = 150) -> None:
    """Let the demo's teammates post their team events (story time moves on)."""
    for _ in range(seconds // 5):
        desk.clock.advance(5)
        await settle(pilot)  # type: ignore[arg-type]


async def test_the_demo_teammates_claim_share_and_hand_one_to_you(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        await morning(desk, pilot)
        globex = chat_id_by_title(app, "Globex")
        acme = chat_id_by_title(app, "Acme")
        northwind = chat_id_by_title(app, "Northwind")
        await wait_for(pilot, lambda: "✋ Priya" in row_text(app, globex), "Priya's claim")
        assert "✋ Tom" in row_text(app, acme)
        assert "✋ you → from Priya" in row_text(app, northwind)
        handed = [(n.author, n.text) for n in desk.inbox.notes[northwind]]
        assert (
            "Priya Shah (team)",
            "→ handed to you: You did their invoices last week: over to you.",
        ) in handed
        notes = desk.inbox.team.state.notes[acme]
        assert [(n.author, n.text[:15]) for n in notes] == [(1003, "Checkout errors")]


async def test_alt_a_claims_the_open_chat_through_the_room(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        chat = chat_id_by_title(app, "Initech")
        await app.open_chat(chat)
        await pilot.press("alt+a")
        await wait_for(pilot, lambda: "✋ you" in row_text(app, chat), "our claim on the row")
        assert room_events(desk) == [(1001, TeamEvent(Kind.CLAIM, chat))]
        await pilot.press("alt+a")  # ours already: nothing more is posted
        await settle(pilot)
        assert len(room_events(desk)) == 1


async def test_ctrl_n_leaves_a_teammates_chat_to_them_until_it_breaches(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await morning(desk, pilot, 70)  # Priya holds Globex (breached), Tom holds Acme (late)
        acme, globex = chat_id_by_title(app, "Acme"), chat_id_by_title(app, "Globex")
        assert inbox.team.held_by_other(acme) and inbox.team.held_by_other(globex)
        visited = []
        for _ in range(len(inbox.chats)):
            await pilot.press("ctrl+n")
            await settle(pilot)
            visited.append(inbox.open_chat_id)
        assert acme not in visited, "Tom's chat (late, not breached) is his"
        assert globex in visited, "a breached chat is everyone's again"


async def test_typing_in_a_chat_a_teammate_holds_warns_once(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        await morning(desk, pilot, 70)
        acme = chat_id_by_title(app, "Acme")
        await app.open_chat(acme)
        await settle(pilot)
        await type_text(pilot, "On it")
        await type_text(pilot, " now")
        await settle(pilot)
        warnings = [n for n in notices(app) if "has this chat" in n]
        assert warnings == [
            "Tom Becker has this chat (✋): your reply would cross theirs. "
            "Alt+A takes it when their claim lapses."
        ]
        assert not any(e.kind is Kind.CLAIM and s == 1001 for s, e in room_events(desk))


async def test_a_lost_race_says_who_took_it_first(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        chat = chat_id_by_title(app, "Initech")
        await app.open_chat(chat)
        desk.clock.hold_short = True  # our claim is on its way …
        await pilot.press("alt+a")
        await settle(pilot)
        room = desk.source.room
        assert room is not None
        text = encode(TeamEvent(Kind.CLAIM, chat), "✋ takes Initech")
        desk.inbox.submit(ev.NewMessage(room.append(PRIYA, text), PRIYA))  # … Priya's lands first
        desk.clock.release_short()
        await wait_for(pilot, lambda: len(room_events(desk)) == 2, "both claims in the room")
        await wait_for(
            pilot, lambda: any("took" in n for n in notices(app)), "the lost-race notice"
        )
        assert "Priya Shah took Initech · Support first" in notices(app)
        assert "✋ Priya" in row_text(app, chat)


async def test_replying_in_an_unclaimed_chat_claims_it(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        chat = chat_id_by_title(app, "Initech")
        await app.open_chat(chat)
        await type_text(pilot, "Hello, looking now")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "✋ you" in row_text(app, chat), "the claim of a reply")
        claims = [(s, e) for s, e in room_events(desk) if e.kind is Kind.CLAIM]
        assert claims == [(1001, TeamEvent(Kind.CLAIM, chat))]


async def test_notes_statuses_and_tags_are_shared_and_a_bang_keeps_a_note_private(
    desk: Desk,
) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        chat = chat_id_by_title(app, "Initech")
        await inbox.add_note(chat, "Customer is on the legacy plan")
        await inbox.add_note(chat, "! they were rude, keep calm")
        await inbox.set_tags(chat, {"legacy"})
        await inbox.close(chat)
        await wait_for(pilot, lambda: len(room_events(desk)) == 3, "three events in the room")
        shared = [e for s, e in room_events(desk) if s == 1001]
        assert sorted(e.kind for e in shared) == sorted([Kind.NOTE, Kind.TAGS, Kind.STATUS])
        shared.sort(key=lambda e: e.kind != Kind.NOTE)
        assert shared[0].text == "Customer is on the legacy plan"
        assert not any("rude" in e.text for e in shared)
        assert [n.text for n in inbox.notes[chat]][-1] == "they were rude, keep calm"


async def test_a_teammates_note_status_and_tags_show_on_this_desk(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        chat = chat_id_by_title(app, "Initech")
        room = desk.source.room
        assert room is not None
        for event in (
            TeamEvent(Kind.NOTE, chat, text="Their DNS moved to Cloudflare yesterday"),
            TeamEvent(Kind.TAGS, chat, tags=("dns",)),
            TeamEvent(Kind.STATUS, chat, status=TeamStatus.IN_DEVELOPMENT, ticket="OPS-12"),
        ):
            inbox.submit(ev.NewMessage(room.append(PRIYA, encode(event, "x")), PRIYA))
        await wait_for(pilot, lambda: inbox.tags.get(chat) == {"dns"}, "Priya's tags")
        state = inbox.triage[chat]
        assert (state.status.value, state.ticket) == ("in_development", "OPS-12")
        notes = [(n.author, n.text) for n in inbox.notes[chat]]
        assert ("Priya Shah (team)", "Their DNS moved to Cloudflare yesterday") in notes
        await app.open_chat(chat)
        await settle(pilot)
        assert "ticket OPS-12  set by Priya Shah" in header(app)
        assert "#dns (by Priya Shah)" in header(app)


async def test_a_status_set_here_says_no_set_by_and_a_hostile_name_stays_literal(
    desk: Desk,
) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        chat = chat_id_by_title(app, "Initech")
        room = desk.source.room
        assert room is not None
        evil = User(id=1666, first_name="[b]Eve[/b]\x1b[31m", last_name="$(rm)")
        for event in (
            TeamEvent(Kind.TAGS, chat, tags=("x",)),
            TeamEvent(Kind.STATUS, chat, status=TeamStatus.IN_DEVELOPMENT, ticket="OPS-1"),
        ):
            inbox.submit(ev.NewMessage(room.append(evil, encode(event, "x")), evil))
        await wait_for(pilot, lambda: inbox.tags.get(chat) == {"x"}, "Eve's tags")
        await app.open_chat(chat)
        await settle(pilot)
        assert "#x (by [b]Eve[/b] $(rm))" in header(app)  # markup literal, the escape gone
        assert "set by [b]Eve[/b] $(rm)" in header(app)
        await pilot.press("alt+c")  # this engineer closes it: nobody else to name
        await wait_for(pilot, lambda: "[closed]" in header(app), "closed here")
        assert "set by" not in header(app)


async def test_alt_shift_a_hands_the_chat_to_a_teammate_with_the_composers_text(
    desk: Desk,
) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        await morning(desk, pilot, 30)  # Priya has spoken in the room: she is a member
        chat = chat_id_by_title(app, "Initech")
        await app.open_chat(chat)
        await type_text(pilot, "VIP, be quick")
        await pilot.press("alt+shift+a")
        await settle(pilot)
        assert "Hand Initech · Support to…" in app.screen.query_one("#choice-title").render().plain  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_for(pilot, lambda: "✋ Priya" in row_text(app, chat), "Priya holds it now")
        handoffs = [e for s, e in room_events(desk) if e.kind is Kind.HANDOFF]
        assert handoffs == [TeamEvent(Kind.HANDOFF, chat, text="VIP, be quick", to=1002)]
        assert app.query_one("Composer").text == ""  # type: ignore[attr-defined]


async def test_presence_is_one_message_edited_in_place_and_a_teammates_shows_on_the_row(
    desk: Desk,
) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        room = desk.source.room
        assert room is not None
        initech, stark = chat_id_by_title(app, "Initech"), chat_id_by_title(app, "Stark")
        await app.open_chat(initech)
        await type_text(pilot, "Hi")
        await wait_for(pilot, lambda: inbox.team.presence_id is not None, "our presence message")
        await type_text(pilot, " there")  # within presence_seconds: nothing more
        await settle(pilot)
        assert [m.id for m in room.messages] == [inbox.team.presence_id]
        desk.clock.advance(31)
        await app.open_chat(stark)
        await type_text(pilot, "Checking")
        await wait_for(pilot, lambda: room.messages[0].edit_date is not None, "the edit")
        ours = [m for m in room.messages if m.sender_id == 1001]
        assert len(ours) == 1 and decode(ours[0].text) == TeamEvent(Kind.PRESENCE, stark)
        text = encode(TeamEvent(Kind.PRESENCE, initech), "👀")
        inbox.submit(ev.NewMessage(room.append(PRIYA, text), PRIYA))
        await wait_for(pilot, lambda: "👀 Priya" in row_text(app, initech), "Priya's presence")
        desk.clock.advance(61)
        await settle(pilot)
        assert "👀" not in row_text(app, initech), "presence fades when it is not renewed"


def painted_row(app: DeskApp, title: str) -> str:
    """The list row of `title` as the terminal shows it now."""
    return next(line.split("▕")[0] for line in screen_text(app).splitlines() if title in line)


async def test_a_quiet_claim_leaves_the_row_by_the_clock_without_a_room_message(
    desk: Desk,
) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        chat = next(c for c in inbox.order() if c not in inbox.changes_with_time())
        title = inbox.chats[chat].title[:12]  # a chat whose row time alone does not change
        room = desk.source.room
        assert room is not None
        quiet = int(inbox.config.team.claim_quiet_minutes * 60)
        claim = room.append(PRIYA, encode(TeamEvent(Kind.CLAIM, chat), "✋"))
        claim = claim.model_copy(update={"date": int(desk.clock()) - quiet + 3})  # long ago
        room.messages[-1] = claim
        inbox.submit(ev.NewMessage(claim, PRIYA))
        await wait_for(pilot, lambda: "✋ Priya" in painted_row(app, title), "Priya's claim")
        held = claim.date + quiet - int(desk.clock())
        desk.clock.advance(held)  # the last second of the claim
        app._tick()
        await pilot.pause()
        assert "✋ Priya" in painted_row(app, title)
        desk.clock.advance(1)  # Priya has been quiet on Initech for the whole quiet time
        app._tick()
        await pilot.pause()
        assert "✋" not in painted_row(app, title), "the timer took the lapsed claim off"
        assert [e for _, e in room_events(desk) if e.chat == chat] == [TeamEvent(Kind.CLAIM, chat)]
