"""Workflow dialogs: development tickets, tags, response targets and notes."""

from __future__ import annotations

import time
from functools import partial

from ..core.desk.models import Note
from ..core.rules.desk_choices import chosen_targets, ticket_choices
from ..core.rules.sanitize import clean_line
from ..core.rules.tags import format_tags, parse_tags
from ..core.rules.targets import VIP, format_targets
from ..core.rules.tickets import latest_ticket, parse_ticket, ticket_url
from .conversation import Conversation
from .desk_base import DeskBase
from .workflow_dialogs import DevelopmentDialog, TagDialog, TicketDialog


class DeskWorkflow(DeskBase):
    """Workflow dialogs: development tickets, tags, response targets and notes."""

    async def _mentioned_tickets(self, chat_id: int) -> list[str]:
        """Ticket references in the chat's recent messages and notes, latest mention first."""
        messages = await self.inbox.messages(chat_id, limit=300)
        notes = self.inbox.notes.get(chat_id, [])
        texts = [m.text for m in messages] + [n.text for n in notes]
        return [ref.text for ref in latest_ticket(texts, self.inbox.config.tickets)]

    async def action_in_development(self) -> None:
        """Mark the chat in development under a ticket, with an optional due date."""
        chat_id = self._open_or_say()
        if chat_id is None:
            return
        state = self.inbox.triage[chat_id]
        mentioned = await self._mentioned_tickets(chat_id)
        ticket = state.ticket or (mentioned[0] if mentioned else "")
        due = time.strftime("%Y-%m-%d", time.localtime(state.due)) if state.due else ""
        title = f"In development: {clean_line(self.inbox.chats[chat_id].title, 50)}"
        self.query_one(DevelopmentDialog).ask(
            title,
            ticket,
            due,
            self._check_development,
            self._describe_due,
            partial(self._developing, chat_id),
        )

    def _describe_due(self, due: str) -> str:
        """'→ Fri 08 Mar 09:00' for a typed due date, or why it cannot be read."""
        try:
            return "→ " + time.strftime("%a %d %b %H:%M", time.localtime(self._time_from_text(due)))
        except ValueError as exc:
            return str(exc)

    def _check_development(self, ticket: str, due: str) -> str | None:
        """Why the ticket or due date cannot be used, or None."""
        if not clean_line(ticket):
            return "Type a ticket reference, e.g. JIRA-123 or #4821."
        if due:
            try:
                self._time_from_text(due)
            except ValueError as exc:
                return str(exc)
        return None

    async def _developing(self, chat_id: int, value: tuple[str, str] | None) -> None:
        if value is None:
            return
        typed, due_text = value
        ref = parse_ticket(typed, self.inbox.config.tickets)
        ticket = ref.text if ref else clean_line(typed, 40)
        due = self._time_from_text(due_text) if due_text else None
        await self.inbox.set_in_development(chat_id, ticket, due)
        when = f", due {time.strftime('%a %d %b %H:%M', time.localtime(due))}" if due else ""
        self.notify(f"In development: {ticket}{when}.", timeout=3, markup=False)

    async def action_open_ticket(self) -> None:
        """Open the chat's ticket (or one mentioned in it) in the browser, or show its URL."""
        chat_id = self._open_or_say()
        if chat_id is None:
            return
        state = self.inbox.triage[chat_id]
        refs = ticket_choices(state.ticket, await self._mentioned_tickets(chat_id))
        if not refs:
            self.notify(
                "No ticket here: none is set (Alt+D) and none is mentioned (like JIRA-123, #4821).",
                timeout=5,
            )
            return
        if len(refs) == 1:
            self._open_ticket(refs[0])
            return
        choices = [(ref, f"{n % 10}  {ref}") for n, ref in enumerate(refs[:10], start=1)]
        self.choose("Open which ticket?", choices, self._ticket_chosen)

    def _ticket_chosen(self, ref: str | None) -> None:
        if ref:
            self._open_ticket(ref)

    def _open_ticket(self, ref: str) -> None:
        """xdg-open where a display exists; otherwise show the URL (and copy it: OSC 52)."""
        url = ticket_url(ref, self.inbox.config.tickets)
        if url is None:
            note = (
                "Set [tickets] url in config.toml "
                "(e.g. https://jira.example.com/browse/{ticket}) to open it."
            )
            self.query_one(TicketDialog).show(ref, None, note)
            return
        if self.url_opener.open(url):
            self.notify(f"Opened {ref} in the browser.", timeout=3, markup=False)
            return
        self.copy_text(url)
        note = (
            "No desktop to open it in here (e.g. over SSH): the URL is copied to your "
            "clipboard through the terminal (OSC 52) where the terminal allows that."
        )
        self.query_one(TicketDialog).show(ref, url, note)

    def action_tags(self) -> None:
        """Edit the chat's tags."""
        chat_id = self._open_or_say()
        if chat_id is None:
            return
        current = format_tags(self.inbox.tags.get(chat_id, set()))
        title = f"Tags of {clean_line(self.inbox.chats[chat_id].title, 50)}"
        known = sorted(self.inbox.all_tags())
        self.query_one(TagDialog).ask(title, current, known, partial(self._tagged, chat_id))

    async def _tagged(self, chat_id: int, value: str | None) -> None:
        if value is None:
            return
        tags = set(parse_tags(value))
        await self.inbox.set_tags(chat_id, tags)
        shown = " ".join(f"#{t}" for t in sorted(tags)) or "no tags"
        self.notify(f"Tagged: {shown}", timeout=3, markup=False)

    def action_targets(self) -> None:
        """Choose the chat's response targets (VIP 2/5/15, the configured ones, or typed)."""
        chat_id = self._open_or_say()
        if chat_id is None:
            return
        configured = self.inbox.configured_targets(chat_id)
        choices = [
            ("default", f"1  As configured ({format_targets(configured)})"),
            ("vip", f"2  VIP ({format_targets(VIP)})"),
            ("custom", "3  Custom: due/late/breached minutes, e.g. 2/5/15"),
        ]
        self.choose(
            "Response targets for this chat",
            choices,
            partial(self._targets_chosen, chat_id),
            "2/5/15 — Enter",
        )

    async def _targets_chosen(self, chat_id: int, value: str | None) -> None:
        if not value:
            return
        try:
            targets = chosen_targets(value)
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        await self.inbox.set_levels(chat_id, targets)
        shown = format_targets(targets or self.inbox.configured_targets(chat_id))
        self.notify(f"Response targets: {shown}", timeout=3)

    def action_delete_note(self) -> None:
        """Choose one of the open chat's notes (newest first) and delete it."""
        chat_id = self.inbox.open_chat_id
        notes = list(reversed(self.inbox.notes.get(chat_id or 0, [])))[:10]
        if chat_id is None or not notes:
            self.notify("No notes in this chat (Alt+N writes one).", timeout=3)
            return
        choices = [
            (
                str(note.id),
                f"{n % 10}  {time.strftime('%d %b %H:%M', time.localtime(note.date))}"
                f"  {clean_line(note.text, 50)}",
            )
            for n, note in enumerate(notes, start=1)
        ]
        self.choose("Delete which note?", choices, partial(self._note_deleted, notes))

    async def _note_deleted(self, notes: list[Note], value: str | None) -> None:
        note = next((n for n in notes if str(n.id) == value), None)
        if note is None:
            return
        await self.inbox.delete_note(note)
        conversation = self.query_one(Conversation)
        if conversation.chat_id == note.chat_id:
            conversation.rerender()
        self._refresh_panels()
        self.notify("Note deleted.", timeout=3)
