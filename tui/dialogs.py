"""Dialogs drawn over the desk: mounted once on the desk's screen, shown and hidden.

A pushed screen made Textual compose, style and paint a whole new screen (and a dimmed copy of
the desk) on every open, and repaint the whole desk on every close. A dialog here is a widget in
the desk screen's `dialogs` layer: opening it lays out and paints its own box, closing it
repaints only the cells it covered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Self

from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from .textual_compat import OneLineOptionList, QuietFocusScreen

# Called with the dialog's result when it closes (None: cancelled); may be a coroutine function.
Done = Callable[[Any], object]


class DeskScreen(QuietFocusScreen[object]):
    """The desk's own screen: a cheap background, and the layer its dialogs are drawn in.

    Textual renders a screen's background under everything on every full repaint; an
    opaque background is a blank line of its style, kept per width. A focus change repaints
    only the widgets it restyles (QuietFocusScreen).
    """

    _blank: tuple[int, Style, Strip] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Same arguments as Screen."""
        super().__init__(*args, **kwargs)
        self.dialog: Dialog | None = None  # the dialog open over the desk

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

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Focus went to the desk behind an open dialog (a click on it): the dialog cancels."""
        dialog = self.dialog
        focused = self.focused
        if dialog is not None and focused is not None and not dialog.holds(focused):
            dialog.close(None)


class Dialog(Vertical):
    """A box over the desk that takes the keys while it is open and reports one result.

    `open(done)` shows it and focuses its first field; `close(result)` hides it, gives the
    focus back to where it was and calls `done(result)`. Only its own keys act while it is
    open (tui/desk_base.py `check_action`): the desk's priority keys rest.
    """

    DEFAULT_CSS = """
    Dialog {
        layer: dialogs;
        display: none;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close", show=False)]
    DESK_ACTIONS: ClassVar[frozenset[str]] = frozenset()  # desk keys it takes as its own

    def __init__(self, **kwargs: Any) -> None:
        """Same arguments as Vertical."""
        super().__init__(**kwargs)
        self._done: Done | None = None
        self._return_to: Widget | None = None
        self._showing = False  # `display` is being toggled: see refresh()
        self.trap_focus()  # Tab and Shift+Tab stay inside

    def refresh(
        self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False
    ) -> Self:
        """Textual's refresh; showing or hiding the box keeps its drawn lines.

        Changing `display` repaints the whole box, dropping the lines it drew last time
        (border, background); they stay valid while its size and styles do, and a new size
        or style repaints it anyway. The layout that shows or hides it paints its region.
        """
        if self._showing and not regions:
            repaint = False
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _set_shown(self, shown: bool) -> None:
        """Show or hide the box, keeping what it drew."""
        self._showing = True
        try:
            self.display = shown
        finally:
            self._showing = False

    @property
    def is_open(self) -> bool:
        """Whether the dialog is shown."""
        return self._done is not None

    def holds(self, widget: Widget) -> bool:
        """Whether `widget` is the dialog or inside it."""
        return self in widget.ancestors_with_self

    def open(self, done: Done) -> None:
        """Show the dialog (closing one already open) and focus its first field."""
        screen = self.screen
        if isinstance(screen, DeskScreen) and screen.dialog is not None:
            screen.dialog.close(None)
        self._return_to = screen.focused
        self._done = done
        if isinstance(screen, DeskScreen):
            screen.dialog = self
        self._set_shown(True)
        _lay_out_now(screen)
        screen.set_focus(self.first_field())

    def first_field(self) -> Widget | None:
        """The widget that has the focus when the dialog opens."""
        return self

    def close(self, result: object = None) -> None:
        """Hide the dialog, give the focus back, and report `result`."""
        done, self._done = self._done, None
        if done is None:
            return
        screen = self.screen
        if isinstance(screen, DeskScreen) and screen.dialog is self:
            screen.dialog = None
        back, self._return_to = self._return_to, None
        self._set_shown(False)  # first: what loses the focus below is no longer drawn
        _lay_out_now(screen)
        if back is not None and back.is_attached and back.focusable:
            screen.set_focus(back)
        else:
            screen.set_focus(None)
        self.app.call_next(done, result)

    def action_close(self) -> None:
        """Esc: close without a result."""
        self.close(None)


def _lay_out_now(screen: Screen[Any]) -> None:
    """Have the screen's next frame lay the dialog out (shown or gone) without repainting it all.

    A widget's own layout request reaches its screen only when the widget is next idle, often
    a frame after the repaints that its focus change asks for.
    """
    screen.refresh(layout=True, repaint=False)


class ChoiceDialog(Dialog):
    """A short list of choices (postpone durations, slots, views…) with an optional typed value.

    The result is the chosen value, '=' + the typed text, or None.
    """

    def __init__(self, **kwargs: Any) -> None:
        """Same arguments as Vertical."""
        super().__init__(**kwargs)
        self._choices: list[tuple[str, str]] = []
        self._prompt: str | None = None
        self._asked: tuple[str, list[tuple[str, str]], str | None] | None = None

    def compose(self) -> ComposeResult:
        """Title, choices, the free-text field and an error line."""
        yield Static(id="choice-title")
        yield OneLineOptionList(id="choice-list")
        yield Input(id="choice-input")
        yield Static("", id="choice-error")

    def ask(
        self, title: str, choices: Sequence[tuple[str, str]], done: Done, prompt: str | None = None
    ) -> None:
        """Show `choices` ((value, label), digits pick the first ten) and open.

        Asked the same as last time (Alt+P's durations), the title, list and field drawn
        then are kept: only the highlight and the typed text start afresh.
        """
        asked = (title, list(choices), prompt)
        options = self.query_one("#choice-list", OptionList)
        field = self.query_one("#choice-input", Input)
        if asked != self._asked:
            self._asked = asked
            self._choices = asked[1]
            self._prompt = prompt
            self.query_one("#choice-title", Static).update(Text(title, "bold"))
            options.clear_options()
            options.add_options([Option(Content(label), id=v) for v, label in self._choices])
            field.display = bool(prompt)
            field.placeholder = prompt or ""
        options.highlighted = 0 if self._choices else None
        if field.value:
            field.value = ""
        self.open(done)

    def first_field(self) -> Widget | None:
        """The list, first choice highlighted."""
        return self.query_one("#choice-list", OptionList)

    def _custom(self) -> None:
        """The 'custom' choice: type the value."""
        self.screen.set_focus(self.query_one("#choice-input", Input))

    @on(OptionList.OptionSelected, "#choice-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id == "custom" and self._prompt:
            self._custom()
            return
        self.close(event.option.id)

    @on(Input.Submitted, "#choice-input")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        self.close("=" + event.value.strip())

    def on_key(self, event: events.Key) -> None:
        """Digits pick the numbered choice directly."""
        key = event.key
        if not self.is_open or not key.isdigit() or isinstance(self.screen.focused, Input):
            return
        index = (int(key) - 1) % 10
        if index < len(self._choices):
            event.stop()
            value = self._choices[index][0]
            if value == "custom" and self._prompt:
                self._custom()
            else:
                self.close(value)
