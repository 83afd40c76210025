"""The triage workflow from the keyboard (Pilot, seeded demo, fixed clock): note mode, in
development, tickets, tags, views, response targets, alerts, reminders and team signals."""

from __future__ import annotations

from pathlib import Path

import pytest
from tgtriage.core.desk import events as ev
from tgtriage.core.desk.models import Message, Status
from tgtriage.core.rules.views import ViewKind
from tgtriage.core.system.config import Config
from tgtriage.core.system.open_url import UrlOpener
from tgtriage.tui.app import DeskApp
from tgtriage.tui.dialogs import ChoiceDialog
from tgtriage.tui.workflow_dialogs import DevelopmentDialog, TagDialog, TicketDialog

from tests.desk_harness import (
    FIXED_NOW,
    Desk,
    chat_id_by_title,
    composer,
    conversation_text,
    details,
    header,
    list_text,
    make_desk,
    notices,
    open_next_waiting,
    row_of,
    run_desk,
    screen_text,
    settle,
    status_line,
    type_text,
    wait_for,
    waiting_ids,
)

NOW = int(FIXED_NOW)


pytestmark = pytest.mark.usefixtures("utc_times")  # times on screen in UTC


def view_bar(app: DeskApp) -> str:
    """The line above the chat list naming the view."""
    return screen_text(app).splitlines()[1].split("▕")[0]


def sent_to_customers(desk: Desk) -> list[str]:
    """What the demo delivered to customer chats (the team room's events left out)."""
    room = desk.source.team_room
    return [m.text for m in desk.source._sent.values() if m.chat_id != room]


async def say(desk: Desk, chat_id: int, text: str, *, ago: int = 30, sender: int = 880_001) -> None:
    """A customer message arrives in a chat."""
    from tgtriage.core.desk.models import User

    customer = User(id=sender, first_name="Casey")
    state = desk.inbox.triage[chat_id]
    message = Message(
        chat_id=chat_id,
        id=state.last_msg_id + 1,
        date=int(desk.clock.now) - ago,
        sender_id=customer.id,
        sender_name="Casey",
        text=text,
    )
    desk.inbox.submit(ev.NewMessage(message, customer))


# ----------------------------------------------------------------- notes


async def test_alt_n_note_mode_saves_an_internal_note_that_is_never_sent(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        chat_id = await open_next_waiting(pilot)
        box = composer(app)
        await pilot.press("alt+n")
        assert box.note_mode and box.has_class("-note")
        assert "NOTE · shared with the team, never sent to the customer" in screen_text(app)
        await type_text(pilot, "Customer is on the legacy plan")
        await pilot.press("enter")
        await settle(pilot)
        assert box.text == "" and box.note_mode, "saved; still writing notes"
        shown = conversation_text(app)
        assert "NOTE" in shown and "Customer is on the legacy plan" in shown
        assert "internal, not sent" in shown
        assert [n.text for n in await inbox.store.notes(chat_id)] == [
            "Customer is on the legacy plan"
        ]
        # Nothing went anywhere near Telegram: no outbox item, no message, no draft.
        assert await inbox.store.outbox_items() == []
        stored = await inbox.store.messages(chat_id, limit=500)
        assert not any("legacy plan" in m.text for m in stored)
        assert sent_to_customers(desk) == []
        assert chat_id not in inbox.drafts
        assert chat_id in waiting_ids(app), "a note is not an answer"
        assert "▌1 note" in details(app)

        # Ctrl+S in note mode saves a note too, and still sends nothing.
        await type_text(pilot, "second note")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert len(inbox.notes[chat_id]) == 2 and sent_to_customers(desk) == []
        assert inbox.open_chat_id == chat_id, "no jump: nothing was sent"

        await pilot.press("alt+n")
        assert not box.note_mode and not box.has_class("-note")
        assert "Write a reply" in screen_text(app)


async def test_an_unsaved_note_never_turns_into_a_reply(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        first = await open_next_waiting(pilot)
        await type_text(pilot, "draft reply")
        await pilot.press("alt+n")  # typed as a reply by mistake: it becomes the note
        assert composer(app).note_mode and composer(app).text == "draft reply"
        await settle(pilot)
        assert first not in inbox.drafts, "no longer a reply draft"
        await type_text(pilot, " — internal")
        await pilot.press("ctrl+n")  # leave the chat with the note unsaved
        assert inbox.open_chat_id != first
        assert not composer(app).note_mode, "another chat opens for replying"
        assert composer(app).text == ""
        await pilot.press("alt+1")
        assert inbox.open_chat_id == first
        assert composer(app).text == "" and not composer(app).note_mode
        await pilot.press("enter")
        assert sent_to_customers(desk) == [] and not inbox.outbox.get(first)
        await pilot.press("alt+n")
        assert composer(app).text == "draft reply — internal", "Alt+N brings the note back"
        await pilot.press("alt+n")
        assert composer(app).text == "", "and leaving note mode keeps it a note"


async def test_notes_show_after_the_message_they_followed_and_survive_new_messages(
    desk: Desk,
) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        chat_id = await open_next_waiting(pilot)
        last = (await inbox.store.messages(chat_id, limit=1))[-1]
        await pilot.press("alt+n")
        await type_text(pilot, "called them, line busy")
        await pilot.press("enter")
        await say(desk, chat_id, "are you still there?", ago=0)
        await wait_for(pilot, lambda: "are you still there?" in conversation_text(app), "msg")
        lines = conversation_text(app).splitlines()
        note_at = next(i for i, line in enumerate(lines) if "called them" in line)
        last_at = max(i for i, line in enumerate(lines) if last.text[:20] in line)
        new_at = next(i for i, line in enumerate(lines) if "are you still there?" in line)
        assert last_at < note_at < new_at
        assert sum("called them" in line for line in lines) == 1, "shown once"


async def test_alt_shift_n_deletes_a_note(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        chat_id = await open_next_waiting(pilot)
        await pilot.press("alt+shift+n")
        await settle(pilot)
        assert any("No notes in this chat" in n for n in notices(app))
        await pilot.press("alt+n")
        for text in ("first note", "a wrong note"):
            await type_text(pilot, text)
            await pilot.press("enter")
        await settle(pilot)
        await pilot.press("alt+shift+n")
        assert isinstance(app.dialog, ChoiceDialog) and "Delete which note?" in screen_text(app)
        await pilot.press("1")  # newest first
        await settle(pilot)
        assert [n.text for n in await inbox.store.notes(chat_id)] == ["first note"]
        shown = conversation_text(app)
        assert "first note" in shown and "a wrong note" not in shown


# ----------------------------------------------------------------- in development, tickets


async def test_alt_d_marks_in_development_with_the_mentioned_ticket_and_a_due_date(
    desk: Desk,
) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        chat_id = await open_next_waiting(pilot)
        await say(desk, chat_id, "any news on OPS-4711? also see #48213", ago=0)
        await wait_for(pilot, lambda: "OPS-4711" in conversation_text(app), "the mention")
        await pilot.press("alt+d")
        assert isinstance(app.dialog, DevelopmentDialog)
        ticket = app.screen.query_one("#dev-ticket")
        assert getattr(ticket, "value", None) == "#48213", "the latest mention is offered"
        ticket.value = "ops-4711"  # type: ignore[attr-defined]
        assert app.focused is app.screen.query_one("#dev-due"), "the ticket is known: due next"
        await type_text(pilot, "someday")
        await pilot.press("enter")
        assert isinstance(app.dialog, DevelopmentDialog), "a bad due date is explained"
        assert "can't read 'someday'" in screen_text(app)
        due = app.screen.query_one("#dev-due")
        due.value = "fri"  # type: ignore[attr-defined]
        await settle(pilot)
        assert "→ Fri 08 Mar 09:00" in screen_text(app), "what the typed date means"
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.dialog, DevelopmentDialog)
        state = inbox.triage[chat_id]
        assert (state.status, state.ticket) == (Status.IN_DEVELOPMENT, "OPS-4711")
        assert state.due == NOW + 3 * 86_400 - 90 * 60, "Friday 09:00"
        assert "[in development]" in header(app) and "ticket OPS-4711" in header(app)
        assert "due Fri 09:00" in details(app)
        assert "⚙OPS-4711" in row_of(app, chat_id)
        assert chat_id in waiting_ids(app), "the customer still waits for an answer"


async def test_alt_j_opens_the_ticket_url_where_a_display_exists(tmp_path: Path) -> None:
    opened: list[list[str]] = []
    cfg = Config(tickets={"url": "https://jira.example.com/browse/{ticket}"})
    desk = make_desk(tmp_path, config=cfg)
    desk.app.url_opener = UrlOpener({"DISPLAY": ":0"}, "/usr/bin/xdg-open", opened.append)
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        chat_id = await open_next_waiting(pilot)
        await pilot.press("alt+j")
        assert any("No ticket here" in n for n in notices(app))
        await inbox.set_in_development(chat_id, "JIRA-123", None)
        await pilot.press("alt+j")
        assert opened == [["/usr/bin/xdg-open", "https://jira.example.com/browse/JIRA-123"]]
        await say(desk, chat_id, "the other one is JIRA-7", ago=0)
        await wait_for(pilot, lambda: "JIRA-7" in conversation_text(app), "the mention")
        await pilot.press("alt+j")
        assert isinstance(app.dialog, ChoiceDialog), "two tickets: choose"
        shown = screen_text(app)
        assert shown.index("JIRA-123") < shown.index("JIRA-7"), "the chat's own ticket first"
        await pilot.press("2")
        assert opened[-1] == ["/usr/bin/xdg-open", "https://jira.example.com/browse/JIRA-7"]


async def test_alt_j_over_ssh_shows_the_url_and_copies_it(tmp_path: Path) -> None:
    cfg = Config(tickets={"url": "https://jira.example.com/browse/{ticket}"})
    desk = make_desk(tmp_path, config=cfg)
    desk.app.url_opener = UrlOpener({"SSH_CONNECTION": "1 2 3 4"}, "/usr/bin/xdg-open", print)
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        await inbox.set_in_development(inbox.open_chat_id or 0, "JIRA-123", None)
        await pilot.press("alt+j")
        assert isinstance(app.dialog, TicketDialog)
        assert "https://jira.example.com/browse/JIRA-123" in screen_text(app)
        assert app.clipboard == "https://jira.example.com/browse/JIRA-123"
        await pilot.press("escape")
        assert not isinstance(app.dialog, TicketDialog)


# ----------------------------------------------------------------- tags and views


async def test_alt_g_tags_with_completion_and_a_tag_view_appears(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        first = await open_next_waiting(pilot)
        await pilot.press("alt+g")
        assert isinstance(app.dialog, TagDialog)
        await type_text(pilot, "VIP, #billing")
        await pilot.press("enter")
        await settle(pilot)
        assert inbox.tags[first] == {"vip", "billing"}
        assert "#billing #vip" in details(app)
        await pilot.press("ctrl+n")
        second = inbox.open_chat_id
        await pilot.press("alt+g")
        await type_text(pilot, "bi")
        await wait_for(
            pilot, lambda: "billing" in screen_text(app).split("Tags of")[1], "the completion"
        )
        await pilot.press("tab")
        await pilot.press("enter")
        await settle(pilot)
        assert second is not None and inbox.tags[second] == {"billing"}
        await pilot.press("alt+v")
        assert "#billing (2)" in screen_text(app) and "#vip (1)" in screen_text(app)
        await pilot.press("8")  # 1 All … 6 Closed, 7 #billing, 8 #vip
        await settle(pilot)
        assert inbox.view.kind is ViewKind.TAG and inbox.view.tag == "vip"
        rows = [r for r in list_text(app) if r.strip()]
        assert len(rows) == 1 and inbox.chats[first].title in rows[0]


async def test_f3_cycles_the_views_and_the_list_and_bar_follow(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        assert view_bar(app).strip().startswith("All · 17 chats")
        await pilot.press("ctrl+n", "ctrl+n", "ctrl+n")  # three chats in the working set
        await pilot.press("alt+p", "2")  # postpone the third one for an hour
        await settle(pilot)
        postponed = inbox.open_chat_id
        await pilot.press("escape")
        expected = {
            "Waiting": len(waiting_ids(app)),
            "Working set": 3,
            "Postponed": 1,
            "In development": 0,
            "Closed": 0,
            "All": 17,
        }
        for label, count in expected.items():
            await pilot.press("f3")
            await settle(pilot)
            bar = view_bar(app)
            assert bar.strip().startswith(f"{label} · {count} chat"), bar
            rows = [r for r in list_text(app) if r.strip()]
            assert len(rows) == count, (label, rows)
            if label == "Working set":
                assert [r[0] for r in rows] == ["1", "2", "3"], "slot order"
            if label == "Postponed":
                assert postponed is not None and inbox.chats[postponed].title in rows[0]
                assert "⏸" in rows[0]
        await pilot.press("alt+shift+v")
        assert inbox.view.kind is ViewKind.CLOSED
        await pilot.press("shift+f3")  # where the terminal sends it as such
        assert inbox.view.kind is ViewKind.IN_DEVELOPMENT
        await pilot.press("f3")
        assert "Closed · 0 chats" in view_bar(app)
        await pilot.press("alt+v", "2")
        await settle(pilot)
        assert inbox.view.kind is ViewKind.WAITING
        order = inbox.order()
        await pilot.press("ctrl+n")
        opened = inbox.open_chat_id
        assert opened in order
        await pilot.press("alt+down")
        following = order[(order.index(opened) + 1) % len(order)]
        assert inbox.open_chat_id == following, "next in list order stays in the view"
        assert f"{len(order)} waiting" in status_line(app), "the status line counts waits"


async def test_closing_moves_the_chat_to_the_closed_view(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        chat_id = await open_next_waiting(pilot)
        await pilot.press("alt+c")
        await settle(pilot)
        assert inbox.triage[chat_id].status is Status.CLOSED
        assert "[closed]" in header(app)
        await pilot.press("alt+v", "6")
        await settle(pilot)
        rows = [r for r in list_text(app) if r.strip()]
        assert len(rows) == 1 and "✓" in rows[0]
        await say(desk, chat_id, "sorry, one more thing", ago=0)
        await wait_for(pilot, lambda: inbox.triage[chat_id].status is Status.OPEN, "reopen")
        await settle(pilot)
        assert "↺ reopened" in header(app)
        assert [r for r in list_text(app) if r.strip()] == [], "no longer closed"


# ----------------------------------------------------------------- response targets


async def test_alt_l_gives_a_chat_vip_or_typed_targets(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        initech = chat_id_by_title(app, "Initech")
        await app.open_chat(initech)
        await settle(pilot)
        assert inbox.level(initech) == 0, "waiting 1 minute: fresh"
        await pilot.press("alt+l")
        assert "As configured (5/15/60 min)" in screen_text(app)
        await pilot.press("2")
        await settle(pilot)
        assert inbox.triage[initech].levels_override == (120, 300, 900)
        assert "targets 2/5/15 min" in details(app)
        await pilot.press("alt+l", "3")
        await type_text(pilot, "0.5/1/2")
        await pilot.press("enter")
        await settle(pilot)
        assert inbox.triage[initech].levels_override == (30, 60, 120)
        assert inbox.level(initech) == 2, "65 s against 0.5/1/2 minutes: late"
        await pilot.press("alt+l", "1")
        await settle(pilot)
        assert inbox.triage[initech].levels_override is None
        assert "min" not in details(app), "back to the configured targets: nothing to say"
