"""Ctrl+K: the chat switcher, a dialog over the desk (tui/dialogs.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.fuzzy import Matcher
from textual.scrollbar import ScrollBar
from textual.widget import Widget
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from ..core.rules import chat_match
from .dialogs import Dialog, Done
from .scrollbar import line_scrollbar
from .textual_compat import OneLineOptionList, QuietInput


class SwitcherList(OneLineOptionList):
    """The switcher's list: one-line options, a scrollbar drawn with the line API."""

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        """The vertical scrollbar, drawn with the line API (see tui/scrollbar.py)."""
        return line_scrollbar(self)


class SearchBox(QuietInput):
    """The switcher's Input: each change reaches the screen before the next frame.

    Input reports edits with a message that arrives after the typed character has been
    painted, so the filtered list would come a frame later; this calls the screen at once.
    Its size is fixed, so typing lays out nothing (QuietInput).
    """

    def __init__(self, changed: Callable[[str], None], **kwargs: Any) -> None:
        """An Input that calls `changed(value)` on every edit."""
        super().__init__(**kwargs)
        self._on_value = changed

    def value_now(self, value: str) -> None:
        """Report the edit now."""
        self._on_value(value)


class Switcher(Dialog):
    """Ctrl+K: type part of a chat's name, Enter opens it; the result is the chat id, or None.

    The desk keeps one switcher and shows it again with `ask()`.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", show=False),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        """Same arguments as Vertical."""
        super().__init__(**kwargs)
        self._extra: Callable[[int], str] | None = None
        self._chats: list[tuple[int, str, str]] = []
        self._lowered: list[str] = []
        self._kept_for: tuple[int, list[int]] | None = None
        self._shown: tuple[str, list[int]] | None = None
        self._query: str | None = None
        self._listed: list[tuple[int, Content, str]] | None = None

    def compose(self) -> ComposeResult:
        """A search box over a list of chats."""
        yield SearchBox(self._typed, placeholder="Jump to chat…", id="switcher-input")
        yield SwitcherList(id="switcher-list")

    def _typed(self, value: str) -> None:
        """The search box changed: filter in this same frame."""
        if self.is_open and value != self._query:
            self._fill(value)

    def lists(self, order: list[int], version: int) -> bool:
        """Whether the kept chats are those of this order, at this version of the chats."""
        return self._kept_for == (version, order)

    def keep(self, chats: Sequence[tuple[int, str, str]], order: list[int], version: int) -> None:
        """Keep these chats ((id, title, note) in display order) for the next `ask`, until
        the order or the chats change (building them anew is most of Ctrl+K at 10,000)."""
        self._chats = list(chats)
        self._lowered = [title.lower() for _, title, _ in self._chats]
        self._kept_for = (version, list(order))

    def ask(self, done: Done, extra: Callable[[int], str] | None = None) -> None:
        """List the kept chats under an empty search box and open; `extra(id)`, if given,
        makes the note of the rows shown only (computing it for a thousand chats is a
        millisecond)."""
        self._extra = extra
        self._shown = None
        self._query = None
        self.query_one("#switcher-input", Input).value = ""  # closed: not filtered on its own
        self._fill("")
        self.open(done)

    def first_field(self) -> Widget | None:
        """The search box."""
        return self.query_one("#switcher-input", Input)

    def _fill(self, query: str) -> None:
        """Rank chats by fuzzy match on the title."""
        self._query = query
        options = self.query_one("#switcher-list", OptionList)
        if query:
            matcher = Matcher(query)
            candidates = self._candidates(query)
            scored = [
                (matcher.match(self._chats[i][1]), i)
                for i in chat_match.shortlist(query, self._lowered, candidates)
            ]
            ranked = sorted((s for s in scored if s[0] > 0), key=lambda s: -s[0])[:50]
            chosen = [i for _, i in ranked]
            items = [
                (self._chats[i][0], _highlight(matcher, self._chats[i][1]), self._chats[i][2])
                for i in chosen
            ]
        else:
            chosen = list(range(min(50, len(self._chats))))
            items = [
                (self._chats[i][0], Content(self._chats[i][1]), self._chats[i][2]) for i in chosen
            ]
        self._shown = (query, candidates) if query else None
        if self._extra is not None:
            items = [(cid, title, self._extra(cid)) for cid, title, _ in items]
        if not query and items == self._listed and options.option_count == len(items):
            if options.option_count:
                options.highlighted = 0  # the same list as last time: keep it, drawn
            return
        self._listed = None if query else items
        options.clear_options()
        options.add_options(
            [
                Option(
                    Content.assemble(title, ("  " + extra, "dim")) if extra else title,
                    id=str(cid),
                )
                for cid, title, extra in items
            ]
        )
        if options.option_count:
            options.highlighted = 0

    def _candidates(self, query: str) -> list[int]:
        """Chats whose title holds the query's letters in order: all the fuzzy matcher can match.

        Narrowed from the last query's candidates while it is extended letter by letter.
        """
        pool: Sequence[int] | None = None
        if self._shown is not None and self._shown[0] and query.startswith(self._shown[0]):
            pool = self._shown[1]
        return chat_match.candidates(query, self._lowered, pool)

    @on(Input.Changed, "#switcher-input")
    def _changed(self, event: Input.Changed) -> None:
        if self.is_open and event.value != self._query:  # normally filtered already (SearchBox)
            self._fill(event.value)

    @on(Input.Submitted, "#switcher-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        options = self.query_one("#switcher-list", OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            self.close(int(option.id or 0))

    @on(OptionList.OptionSelected, "#switcher-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.close(int(event.option.id or 0))

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
