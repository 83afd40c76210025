"""Modal screens of the triage workflow: in development (ticket + due), tags, a ticket's URL."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widgets import Input, Static

from ..core.rules.tags import complete_last
from .textual_compat import input_suggestion

# Checks what was typed: None when it is fine, else the one-line reason shown under the field.
Check = Callable[[str, str], str | None]
# What a typed due date stands for ('Fri 08 Mar 09:00'), or why it cannot be read.
Describe = Callable[[str], str]


class DevelopmentScreen(ModalScreen[tuple[str, str] | None]):
    """Alt+D: the ticket reference (prefilled from the chat) and an optional due date."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Close", show=False)]

    def __init__(self, title: str, ticket: str, due: str, check: Check, describe: Describe) -> None:
        super().__init__()
        self._title = title
        self._ticket = ticket
        self._due = due
        self._check = check
        self._describe = describe

    def compose(self) -> ComposeResult:
        """Title, ticket field, due field, hint and error line."""
        with Vertical(id="dev-box", classes="workflow-box"):
            yield Static(Text(self._title, "bold"), id="dev-title")
            yield Static(Text("Ticket (e.g. JIRA-123, #4821)", "dim"))
            yield Input(self._ticket, placeholder="the reference", id="dev-ticket")
            yield Static(Text("Due — remind me then (empty: no due date)", "dim"))
            yield Input(self._due, placeholder="fri, 3d, 2024-03-08, 16:30", id="dev-due")
            yield Static("", id="dev-when")
            yield Static(Text("Enter: next field / save · Esc: cancel", "dim"))
            yield Static("", id="dev-error")

    def on_mount(self) -> None:
        """Start in the ticket field, or the due field when the ticket is known."""
        field = "#dev-due" if self._ticket else "#dev-ticket"
        self.query_one(field, Input).focus()

    @on(Input.Changed, "#dev-due")
    def _due_changed(self, event: Input.Changed) -> None:
        """Say what the typed due date means while it is typed."""
        words = self._describe(event.value.strip()) if event.value.strip() else ""
        self.query_one("#dev-when", Static).update(Text(words, "italic"))

    @on(Input.Submitted, "#dev-ticket")
    def _ticket_done(self) -> None:
        self.query_one("#dev-due", Input).focus()

    @on(Input.Submitted, "#dev-due")
    def _due_done(self) -> None:
        ticket = self.query_one("#dev-ticket", Input).value.strip()
        due = self.query_one("#dev-due", Input).value.strip()
        problem = self._check(ticket, due)
        if problem:
            self.query_one("#dev-error", Static).update(Text(problem, "bold red"))
            return
        self.dismiss((ticket, due))


class TagSuggester(Suggester):
    """Completes the last tag being typed from the tags already in use."""

    def __init__(self, known: Iterable[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self._known = sorted(set(known))

    async def get_suggestion(self, value: str) -> str | None:
        """The value with its last tag completed, if a known tag starts with it."""
        return complete_last(value, self._known)


class TagScreen(ModalScreen[str | None]):
    """Alt+G: the chat's tags, comma-separated, completed from the tags in use (→ or Tab)."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", show=False),
        Binding("tab", "accept_suggestion", "Complete", show=False, priority=True),
    ]

    def __init__(self, title: str, current: str, known: Iterable[str]) -> None:
        super().__init__()
        self._title = title
        self._current = current
        self._known = list(known)

    def compose(self) -> ComposeResult:
        """Title, the tags field and what the keys do."""
        with Vertical(id="tag-box", classes="workflow-box"):
            yield Static(Text(self._title, "bold"), id="tag-title")
            yield Input(
                self._current,
                placeholder="vip, billing",
                id="tag-input",
                suggester=TagSuggester(self._known),
            )
            known = ", ".join(self._known[:12]) or "none yet"
            yield Static(Text(f"In use: {known}", "dim"), id="tag-known")
            yield Static(
                Text("Tab or → completes · Enter saves · empty removes all · Esc cancels", "dim"),
                id="tag-hint",
            )

    def on_mount(self) -> None:
        """Type straight away."""
        field = self.query_one("#tag-input", Input)
        field.focus()
        field.cursor_position = len(field.value)

    def action_accept_suggestion(self) -> None:
        """Take the completion shown after the cursor."""
        field = self.query_one("#tag-input", Input)
        suggestion = input_suggestion(field)
        if suggestion and len(suggestion) > len(field.value):
            field.value = suggestion
            field.cursor_position = len(suggestion)

    @on(Input.Submitted, "#tag-input")
    def _saved(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)


class TicketScreen(ModalScreen[None]):
    """Shows a ticket's URL where no browser can be opened (e.g. over SSH), copied too."""

    BINDINGS = [Binding("escape,enter,q", "dismiss(None)", "Close", show=False)]

    def __init__(self, ticket: str, url: str | None, note: str) -> None:
        super().__init__()
        self._ticket = ticket
        self._url = url
        self._note = note

    def compose(self) -> ComposeResult:
        """The reference, its URL as a link, and how to reach it."""
        with Vertical(id="ticket-box", classes="workflow-box"):
            yield Static(Text(f"Ticket {self._ticket}", "bold"), id="ticket-title")
            if self._url:
                link = Text(self._url, Style(underline=True, link=self._url))
                yield Static(link, id="ticket-url")
            yield Static(Text(self._note, "dim"), id="ticket-note")
            yield Static(Text("Esc or Enter closes", "dim"))
