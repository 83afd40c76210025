"""Modal screens: help, chat switcher, postpone choices and slot picker."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from rich.console import Group
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.color import Color
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.fuzzy import Matcher
from textual.geometry import Size
from textual.screen import Screen
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from .keymap import ACTIONS, COMPOSER_KEYS, display_keys
from .scrollbar import line_scrollbar
from .textual_compat import (
    HookedInput,
    HookedModalScreen,
    OneLineOptionList,
    below_strips,
    clear_dirty,
    is_dirty,
)

if TYPE_CHECKING:
    pass

_Result = TypeVar("_Result")


class DeskScreen(Screen[object]):
    """The desk's own screen, whose background (always covered by its widgets) is cheap.

    Textual renders a screen's background under everything on every full repaint — after
    each dialog closes, the whole of it, ~4 ms through the visual pipeline. An opaque
    background is a blank line of its style, kept per width.
    """

    _blank: tuple[int, Style, Strip] | None = None

    def render_line(self, y: int) -> Strip:
        """A blank line of the screen's style (Textual's path for anything else)."""
        background = self.styles.background
        if background.a < 1 or background.is_transparent:
            return super().render_line(y)
        width = self.size.width
        style = self.visual_style.rich_style
        blank = self._blank
        if blank is None or blank[0] != width or blank[1] != style:
            blank = self._blank = (width, style, Strip.blank(width, style))
        return blank[2]


class DimmedBackground(HookedModalScreen[_Result]):
    """A modal screen whose dimmed copy of the desk beneath is built from its cached lines.

    Textual paints a modal's translucent background by rendering the screen below through a
    Rich console and tinting every segment anew — about 12 ms of a 16 ms frame here. The
    desk's own line caches and a tint kept per style give the same cells.
    """

    _tints: ClassVar[dict[tuple[Style | None, Color, Style], Style]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Same arguments as ModalScreen."""
        super().__init__(*args, **kwargs)
        self._dimmed: list[Strip] = []
        self._dimmed_size: Size | None = None

    def render_line(self, y: int) -> Strip:
        """Line `y` of the dimmed desk (or Textual's own background where there is none)."""
        background = self.styles.background
        if background.a >= 1:
            return super().render_line(y)
        if is_dirty(self) or self._dimmed_size != self.size:
            strips = below_strips(self, self.size)
            if strips is None:
                return super().render_line(y)
            clear_dirty(self)
            base = self.visual_style.rich_style
            self._dimmed = [self._tint(strip, background, base) for strip in strips]
            self._dimmed_size = self.size
        if y < len(self._dimmed):
            return self._dimmed[y]
        return Strip.blank(self.size.width)

    @classmethod
    def _tint(cls, strip: Strip, color: Color, base: Style) -> Strip:
        """The strip as BackgroundScreen tints it (meta and links removed), on `base`."""
        tints = cls._tints
        if len(tints) > 4096:
            tints.clear()
        segments = []
        for text, style, control in strip:
            if control:
                segments.append(Segment(text, style, control))
                continue
            tinted = tints.get((style, color, base))
            if tinted is None:
                tinted = tints[(style, color, base)] = base + _tinted(style, color)
            segments.append(Segment(text, tinted))
        return Strip(segments, strip.cell_length)


def _tinted(style: Style | None, color: Color) -> Style:
    """One segment style under a translucent colour (Textual's BackgroundScreen, per style)."""
    plain = Style() if style is None else style.clear_meta_and_links()
    if color.a == 0:
        return plain
    return plain + Style.from_color(
        (Color.from_rich_color(plain.color) + color).rich_color if plain.color else None,
        (Color.from_rich_color(plain.bgcolor) + color).rich_color if plain.bgcolor else None,
    )


class HelpScreen(DimmedBackground[None]):
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


class SwitcherList(OneLineOptionList):
    """The switcher's list: one-line options, a scrollbar drawn with the line API."""

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        """The vertical scrollbar, drawn with the line API (see tui/scrollbar.py)."""
        return line_scrollbar(self)


class SearchBox(HookedInput):
    """The switcher's Input: each change reaches the screen before the next frame.

    Input reports edits with a message that arrives after the typed character has been
    painted, so the filtered list would come a frame later; this calls the screen at once.
    """

    def __init__(self, changed: Callable[[str], None], **kwargs: Any) -> None:
        """An Input that calls `changed(value)` on every edit."""
        super().__init__(**kwargs)
        self._on_value = changed

    def value_now(self, value: str) -> None:
        """Report the edit now."""
        self._on_value(value)


class SwitcherScreen(DimmedBackground[int | None]):
    """Ctrl+K: type part of a chat's name, Enter opens it.

    The desk keeps one switcher and shows it again with `reset()`: composing and styling a
    new screen cost more than the 16 ms the key has.
    """

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", show=False),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
    ]

    def __init__(
        self,
        chats: Sequence[tuple[int, str, str]] = (),
        extra: Callable[[int], str] | None = None,
    ) -> None:
        """`chats`: (id, title, note) in display order; `extra(id)`, if given, makes the note
        of the rows shown only (computing it for a thousand chats is a millisecond)."""
        super().__init__()
        self._extra = extra
        self._chats = list(chats)
        self._lowered: list[str] = [title.lower() for _, title, _ in self._chats]
        self._shown: tuple[str, list[int]] | None = None
        self._query: str | None = None
        self._styled_for: tuple[object, ...] | None = None
        self._listed: list[tuple[int, Content, str]] | None = None

    def compose(self) -> ComposeResult:
        """A search box over a list of chats."""
        with Vertical(id="switcher-box"):
            yield SearchBox(self._typed, placeholder="Jump to chat…", id="switcher-input")
            yield SwitcherList(id="switcher-list")

    def on_mount(self) -> None:
        """Show all chats (in triage order) until something is typed."""
        self._fill("")

    def restyle_on_resume(self) -> bool:
        """Shown again: re-style its widgets only if the app's styles changed since.

        Textual re-applies the stylesheet to every node of a screen each time it is shown;
        the switcher is shown again and again unchanged.
        """
        generation = _style_generation(self.app)
        changed = generation != self._styled_for
        self._styled_for = generation
        return changed

    def _typed(self, value: str) -> None:
        """The search box changed: filter in this same frame."""
        if self.is_mounted and value != self._query:
            self._fill(value)

    def reset(
        self, chats: Sequence[tuple[int, str, str]], extra: Callable[[int], str] | None = None
    ) -> None:
        """Show these chats and an empty search box (before the screen is shown again)."""
        self._extra = extra
        self._chats = list(chats)
        self._lowered = [title.lower() for _, title, _ in self._chats]
        self._shown = None
        if self.is_mounted:
            box = self.query_one("#switcher-input", Input)
            self._fill("")
            box.value = ""
            box.focus()

    def _fill(self, query: str) -> None:
        """Rank chats by fuzzy match on the title."""
        self._query = query
        options = self.query_one("#switcher-list", OptionList)
        if query:
            matcher = Matcher(query)
            candidates = self._candidates(query)
            scored = [(matcher.match(self._chats[i][1]), i) for i in candidates]
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
        letters = query.lower()  # as Textual's FuzzySearch compares
        pool: Iterable[int] = range(len(self._chats))
        if self._shown is not None and self._shown[0] and query.startswith(self._shown[0]):
            pool = self._shown[1]
        lowered = self._lowered
        found = []
        for index in pool:
            title = lowered[index]
            position = 0
            for letter in letters:
                position = title.find(letter, position) + 1
                if not position:
                    break
            else:
                found.append(index)
        return found

    @on(Input.Changed, "#switcher-input")
    def _changed(self, event: Input.Changed) -> None:
        if event.value != self._query:  # normally filtered already (SearchBox)
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


def _style_generation(app: App[object]) -> tuple[object, ...]:
    """What the app's styles depend on: theme, colour mode and the stylesheet's rules."""
    sheet = app.stylesheet
    return (app.theme, app.ansi_color, id(sheet), len(sheet.rules))


def _highlight(matcher: Matcher, title: str) -> Content:
    """The title as plain text (never markup, unlike Matcher.highlight) with matches marked."""
    content = Content(title)
    _, offsets = matcher.fuzzy_search.match(matcher.query, title)
    for offset in offsets:
        if not title[offset].isspace():
            content = content.stylize("reverse", offset, offset + 1)
    return content


class ChoiceScreen(DimmedBackground[str | None]):
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
