"""Template popup (for `/word` in the composer) and the Ctrl+T picker with a live preview."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ..core.rules.sanitize import clean_line
from ..core.templates import Library, Template, match
from .screens import DimmedBackground
from .textual_compat import OneLineOptionList

Preview = Callable[[Template], str]


def template_label(template: Template) -> Text:
    """'/greet  Greeting  en' as one option line."""
    text = Text()
    text.append(f"/{template.key}", "bold")
    text.append(f"  {clean_line(template.title, 40)}")
    if template.lang:
        text.append(f"  {template.lang}", "dim")
    return text


def template_line(template: Template) -> Content:
    """'/greet  Greeting  en' as one option line of Content (drawn on the list's fast path)."""
    parts: list[str | tuple[str, str]] = [
        (f"/{template.key}", "bold"),
        f"  {clean_line(template.title, 40)}",
    ]
    if template.lang:
        parts.append((f"  {template.lang}", "dim"))
    return Content.assemble(*parts)


class TemplatePopup(OneLineOptionList):
    """The list of matching templates shown above the composer while typing `/word`."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.templates: list[Template] = []
        self.can_focus = False

    def show_templates(self, templates: list[Template]) -> None:
        """Fill the popup and highlight the best match."""
        self.templates = templates
        self.clear_options()
        self.add_options([Option(template_line(t)) for t in templates])
        self.highlighted = 0 if templates else None
        self.display = bool(templates)

    def move(self, step: int) -> None:
        """Move the highlight."""
        if self.templates:
            self.highlighted = ((self.highlighted or 0) + step) % len(self.templates)

    @property
    def chosen(self) -> Template | None:
        """The highlighted template."""
        if self.highlighted is None or not self.templates:
            return None
        return self.templates[self.highlighted]


class TemplatePicker(DimmedBackground[Template | None]):
    """Ctrl+T: browse templates by category with a search box and a preview for the open chat."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", show=False),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
    ]

    def __init__(
        self,
        library: Library,
        usage: dict[str, tuple[int, int]],
        lang: str | None,
        preview: Preview,
    ) -> None:
        super().__init__()
        self._library = library
        self._usage = usage
        self._lang = lang
        self._preview = preview
        self._shown: list[Template] = []

    def compose(self) -> ComposeResult:
        """Search box, list by category, preview."""
        with Vertical(id="picker-box"):
            yield Input(placeholder="Search templates (key, title, text)…", id="picker-input")
            with Horizontal(id="picker-panes"):
                yield OptionList(id="picker-list")
                yield Static(id="picker-preview")

    def on_mount(self) -> None:
        """Show every template, grouped by category."""
        self._fill("")
        self.query_one("#picker-input", Input).focus()

    def _fill(self, query: str) -> None:
        """List templates for the query (all, by category, when empty)."""
        options = self.query_one("#picker-list", OptionList)
        options.clear_options()
        self._shown = []
        if query:
            self._shown = match(self._library, query, self._usage, self._lang, limit=50)
            options.add_options([Option(template_label(t)) for t in self._shown])
        else:
            for category, items in self._library.by_category().items():
                options.add_option(Option(Text(category, "bold underline"), disabled=True))
                for template in items:
                    self._shown.append(template)
                    options.add_option(
                        Option(template_label(template), id=str(len(self._shown) - 1))
                    )
        first = next((i for i, o in enumerate(options.options) if not o.disabled), None)
        options.highlighted = first
        self._show_preview()

    def _current(self) -> Template | None:
        """The highlighted template."""
        options = self.query_one("#picker-list", OptionList)
        if options.highlighted is None:
            return None
        option = options.get_option_at_index(options.highlighted)
        if option.disabled:
            return None
        if option.id is not None:
            return self._shown[int(option.id)]
        return self._shown[options.highlighted] if options.highlighted < len(self._shown) else None

    def _show_preview(self) -> None:
        """Render the highlighted template for the open chat."""
        template = self._current()
        preview = self.query_one("#picker-preview", Static)
        if template is None:
            preview.update(Text("No template matches.", "dim"))
            return
        text = Text()
        text.append(f"{clean_line(template.title, 60)}\n", "bold")
        where = f" · {template.source.name}:{template.line}" if template.source else ""
        text.append(f"{template.category} · /{template.key}{where}\n\n", "dim")
        text.append(self._preview(template))
        preview.update(text)

    @on(Input.Changed, "#picker-input")
    def _changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(OptionList.OptionHighlighted, "#picker-list")
    def _highlighted(self) -> None:
        self._show_preview()

    @on(Input.Submitted, "#picker-input")
    @on(OptionList.OptionSelected, "#picker-list")
    def _chosen(self) -> None:
        template = self._current()
        if template is not None:
            self.dismiss(template)

    def action_move(self, step: int) -> None:
        """Move the highlight, skipping category headers."""
        options = self.query_one("#picker-list", OptionList)
        count = options.option_count
        if not count:
            return
        index = options.highlighted if options.highlighted is not None else -step
        for _ in range(count):
            index = (index + step) % count
            if not options.get_option_at_index(index).disabled:
                options.highlighted = index
                break
