"""Dialogs of the triage workflow: in development (ticket + due), tags, a ticket's URL."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.suggester import Suggester
from textual.widget import Widget
from textual.widgets import Input, Static

from ..core.rules.tags import complete_last
from .dialogs import Dialog, Done
from .textual_compat import input_suggestion

# Checks what was typed: None when it is fine, else the one-line reason shown under the field.
Check = Callable[[str, str], str | None]
# What a typed due date stands for ('Fri 08 Mar 09:00'), or why it cannot be read.
Describe = Callable[[str], str]


class DevelopmentDialog(Dialog):
    """Alt+D: the ticket reference (prefilled from the chat) and an optional due date.

    The result is (ticket, due) as typed, or None.
    """

    def __init__(self, **kwargs: Any) -> None:
        """Same arguments as Vertical."""
        super().__init__(**kwargs)
        self._check: Check = lambda ticket, due: None
        self._describe: Describe = lambda due: ""

    def compose(self) -> ComposeResult:
        """Title, ticket field, due field, hint and error line."""
        yield Static(id="dev-title")
        yield Static(Text("Ticket (e.g. JIRA-123, #4821)", "dim"))
        yield Input(placeholder="the reference", id="dev-ticket")
        yield Static(Text("Due — remind me then (empty: no due date)", "dim"))
        yield Input(placeholder="fri, 3d, 2024-03-08, 16:30", id="dev-due")
        yield Static("", id="dev-when")
        yield Static(Text("Enter: next field / save · Esc: cancel", "dim"))
        yield Static("", id="dev-error")

    def ask(
        self, title: str, ticket: str, due: str, check: Check, describe: Describe, done: Done
    ) -> None:
        """Fill the fields and open."""
        self._check = check
        self._describe = describe
        self.query_one("#dev-title", Static).update(Text(title, "bold"))
        self.query_one("#dev-ticket", Input).value = ticket
        self.query_one("#dev-due", Input).value = due
        self._show_when(due)
        self.query_one("#dev-error", Static).update("")
        self.open(done)

    def first_field(self) -> Widget | None:
        """The ticket field, or the due field when the ticket is known."""
        ticket = self.query_one("#dev-ticket", Input)
        return self.query_one("#dev-due", Input) if ticket.value else ticket

    def _show_when(self, due: str) -> None:
        """Say what the typed due date means."""
        words = self._describe(due.strip()) if due.strip() else ""
        self.query_one("#dev-when", Static).update(Text(words, "italic"))

    @on(Input.Changed, "#dev-due")
    def _due_changed(self, event: Input.Changed) -> None:
        """Say what the typed due date means while it is typed."""
        self._show_when(event.value)

    @on(Input.Submitted, "#dev-ticket")
    def _ticket_done(self, event: Input.Submitted) -> None:
        event.stop()
        self.screen.set_focus(self.query_one("#dev-due", Input))

    @on(Input.Submitted, "#dev-due")
    def _due_done(self, event: Input.Submitted) -> None:
        event.stop()
        ticket = self.query_one("#dev-ticket", Input).value.strip()
        due = self.query_one("#dev-due", Input).value.strip()
        problem = self._check(ticket, due)
        if problem:
            self.query_one("#dev-error", Static).update(Text(problem, "bold red"))
            return
        self.close((ticket, due))


class TagSuggester(Suggester):
    """Completes the last tag being typed from the tags already in use."""

    def __init__(self, known: Iterable[str] = ()) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self.known = sorted(set(known))

    async def get_suggestion(self, value: str) -> str | None:
        """The value with its last tag completed, if a known tag starts with it."""
        return complete_last(value, self.known)


class TagDialog(Dialog):
    """Alt+G: the chat's tags, comma-separated, completed from the tags in use (→ or Tab).

    The result is the typed text, or None.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", show=False),
        Binding("tab", "accept_suggestion", "Complete", show=False, priority=True),
    ]

    def __init__(self, **kwargs: Any) -> None:
        """Same arguments as Vertical."""
        super().__init__(**kwargs)
        self._suggester = TagSuggester()

    def compose(self) -> ComposeResult:
        """Title, the tags field and what the keys do."""
        yield Static(id="tag-title")
        yield Input(placeholder="vip, billing", id="tag-input", suggester=self._suggester)
        yield Static(id="tag-known")
        yield Static(
            Text("Tab or → completes · Enter saves · empty removes all · Esc cancels", "dim"),
            id="tag-hint",
        )

    def ask(self, title: str, current: str, known: Iterable[str], done: Done) -> None:
        """Fill the field with the chat's tags and open, cursor at the end."""
        self._suggester.known = sorted(set(known))
        self.query_one("#tag-title", Static).update(Text(title, "bold"))
        in_use = ", ".join(self._suggester.known[:12]) or "none yet"
        self.query_one("#tag-known", Static).update(Text(f"In use: {in_use}", "dim"))
        field = self.query_one("#tag-input", Input)
        field.value = current
        field.cursor_position = len(current)
        self.open(done)

    def first_field(self) -> Widget | None:
        """The tags field: type straight away."""
        return self.query_one("#tag-input", Input)

    def action_accept_suggestion(self) -> None:
        """Take the completion shown after the cursor."""
        field = self.query_one("#tag-input", Input)
        suggestion = input_suggestion(field)
        if suggestion and len(suggestion) > len(field.value):
            field.value = suggestion
            field.cursor_position = len(suggestion)

    @on(Input.Submitted, "#tag-input")
    def _saved(self, event: Input.Submitted) -> None:
        event.stop()
        self.close(event.value)


class TicketDialog(Dialog):
    """Shows a ticket's URL where no browser can be opened (e.g. over SSH), copied too."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "close", "Close", show=False)
    ]
    can_focus = True  # nothing in it takes keys: the box itself does

    def compose(self) -> ComposeResult:
        """The reference, its URL as a link, and how to reach it."""
        yield Static(id="ticket-title")
        yield Static(id="ticket-url")
        yield Static(id="ticket-note")
        yield Static(Text("Esc or Enter closes", "dim"))

    def show(self, ticket: str, url: str | None, note: str) -> None:
        """Show the reference and its URL (if any) and open."""
        self.query_one("#ticket-title", Static).update(Text(f"Ticket {ticket}", "bold"))
        link = self.query_one("#ticket-url", Static)
        link.display = bool(url)
        link.update(Text(url, Style(underline=True, link=url)) if url else "")
        self.query_one("#ticket-note", Static).update(Text(note, "dim"))
        self.open(lambda result: None)
