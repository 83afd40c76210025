"""Modal screens: help, chat switcher, postpone choices and slot picker."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.fuzzy import Matcher
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from tgtriage.tui.keymap import ACTIONS, COMPOSER_KEYS, display_keys


class HelpScreen(ModalScreen[None]):
    """Every key and what it does, grouped; generated from the action registry."""

    BINDINGS = [Binding("escape,f1,q,question_mark", "dismiss", "Close", show=False)]

    def __init__(self, keymap: Mapping[str, str]) -> None:
        super().__init__()
        self._keymap = keymap

    def compose(self) -> ComposeResult:
        """A scrollable table of keys."""
        groups: dict[str, list[tuple[str, str]]] = {}
        for action in ACTIONS:
            if action.id.startswith("slot_") and action.id != "slot_1":
                continue
            keys = display_keys(action, self._keymap)
            description = action.description
            if action.id == "slot_1":
                keys, description = "Alt+1 … Alt+0", "Open working-set slot 1 … 10"
            groups.setdefault(action.group, []).append((keys, description))
        groups.setdefault("Composer and list", []).extend(COMPOSER_KEYS)
        # A grid, so that a long description wraps under itself, not under the keys.
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True)
        table.add_column(ratio=1)
        for group, rows in groups.items():
            table.add_row(Text(group, "bold underline"), Text())
            for keys, description in rows:
                table.add_row(Text(f"  {keys}", "bold cyan"), Text(description))
            table.add_row(Text(), Text())
        title = Text("tgtriage — keys\n", "bold")
        hint = Text("Esc closes this help. Keys can be remapped in config.toml [keys].", "dim")
        with VerticalScroll(id="help-box"):
            yield Static(Group(title, table, hint), id="help-text")


class SwitcherScreen(ModalScreen[int | None]):
    """Ctrl+K: type part of a chat's name, Enter opens it."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", show=False),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
    ]

    def __init__(self, chats: Sequence[tuple[int, str, str]]) -> None:
        super().__init__()
        self._chats = list(chats)

    def compose(self) -> ComposeResult:
        """A search box over a list of chats."""
        with Vertical(id="switcher-box"):
            yield Input(placeholder="Jump to chat…", id="switcher-input")
            yield OptionList(id="switcher-list")

    def on_mount(self) -> None:
        """Show all chats (in triage order) until something is typed."""
        self._fill("")

    def _fill(self, query: str) -> None:
        """Rank chats by fuzzy match on the title."""
        options = self.query_one("#switcher-list", OptionList)
        options.clear_options()
        if query:
            matcher = Matcher(query)
            scored = [
                (matcher.match(title), cid, title, extra) for cid, title, extra in self._chats
            ]
            ranked = sorted((s for s in scored if s[0] > 0), key=lambda s: -s[0])[:50]
            items = [(cid, _highlight(matcher, title), extra) for _, cid, title, extra in ranked]
        else:
            items = [(cid, Content(title), extra) for cid, title, extra in self._chats[:50]]
        for cid, title, extra in items:
            label = Content.assemble(title, ("  " + extra, "dim")) if extra else title
            options.add_option(Option(label, id=str(cid)))
        if options.option_count:
            options.highlighted = 0

    @on(Input.Changed, "#switcher-input")
    def _changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#switcher-input")
    def _submitted(self) -> None:
        options = self.query_one("#switcher-list", OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            self.dismiss(int(option.id or 0))

    @on(OptionList.OptionSelected, "#switcher-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))

    def action_move(self, step: int) -> None:
        """Move the highlight while typing."""
        options = self.query_one("#switcher-list", OptionList)
        if options.option_count:
            current = options.highlighted or 0
            options.highlighted = max(0, min(options.option_count - 1, current + step))


def _highlight(matcher: Matcher, title: str) -> Content:
    """The title as plain text (never markup, unlike Matcher.highlight) with matches marked."""
    content = Content(title)
    _, offsets = matcher.fuzzy_search.match(matcher.query, title)
    for offset in offsets:
        if not title[offset].isspace():
            content = content.stylize("reverse", offset, offset + 1)
    return content


class ChoiceScreen(ModalScreen[str | None]):
    """A short list of choices (postpone durations, slots) with an optional typed value."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Close", show=False)]

    def __init__(
        self, title: str, choices: Sequence[tuple[str, str]], prompt: str | None = None
    ) -> None:
        super().__init__()
        self._title = title
        self._choices = list(choices)
        self._prompt = prompt

    def compose(self) -> ComposeResult:
        """Title, choices and (optionally) a free-text field."""
        with Vertical(id="choice-box"):
            yield Static(Text(self._title, "bold"), id="choice-title")
            yield OptionList(
                *[Option(Content(label), id=value) for value, label in self._choices],
                id="choice-list",
            )
            if self._prompt:
                yield Input(placeholder=self._prompt, id="choice-input")
            yield Static("", id="choice-error")

    def on_mount(self) -> None:
        """Focus the list with the first choice highlighted."""
        options = self.query_one("#choice-list", OptionList)
        options.highlighted = 0
        options.focus()

    @on(OptionList.OptionSelected, "#choice-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == "custom" and self._prompt:
            self.query_one("#choice-input", Input).focus()
            return
        self.dismiss(event.option.id)

    @on(Input.Submitted, "#choice-input")
    def _typed(self, event: Input.Submitted) -> None:
        self.dismiss("=" + event.value.strip())

    def show_error(self, message: str) -> None:
        """Explain why a typed value was not accepted."""
        self.query_one("#choice-error", Static).update(Text(message, "bold red"))

    def on_key(self, event: object) -> None:
        """Digits pick the numbered choice directly."""
        key = getattr(event, "key", "")
        if isinstance(key, str) and key.isdigit() and not isinstance(self.focused, Input):
            index = (int(key) - 1) % 10
            if index < len(self._choices):
                value = self._choices[index][0]
                if value == "custom" and self._prompt:
                    self.query_one("#choice-input", Input).focus()
                else:
                    self.dismiss(value)
