"""The reply composer: Enter sends, Ctrl+J adds a line; it forwards, the app decides."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import cast

from textual import events
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widgets import TextArea
from textual.widgets.text_area import Selection

from ..core.templates import Field, fields_after_edit, tab_stop
from .textual_compat import Document, Edit, EditResult, HookedTextArea

REPLY_PLACEHOLDER = "Write a reply · Enter sends · Ctrl+J new line · Alt+N note · Esc list"
NOTE_PLACEHOLDER = "Internal note — Enter saves it here, never sent · Alt+N back to replying"
# Shorter hints for a narrow composer (an 80-column terminal), so none is cut mid-word.
NARROW_REPLY_PLACEHOLDER = "Reply · Enter sends · Ctrl+J line · Alt+N note"
NARROW_NOTE_PLACEHOLDER = "Note — Enter saves, never sent · Alt+N reply"
NOTE_TITLE = "NOTE · internal, never sent to Telegram"
SHARED_NOTE_TITLE = "NOTE · shared with the team, never sent to the customer"
SCROLL_KEYS = frozenset({"pageup", "pagedown", "ctrl+home", "ctrl+end"})
BLINK_FOR = 10.0  # seconds the cursor blinks after the last key, as GTK's blink timeout


class Composer(HookedTextArea):
    """A multi-line input whose Enter sends instead of breaking the line.

    Its cursor stops blinking (and stays shown) ten seconds after the last key, as GTK and
    browsers do: an idle desk then paints nothing at all.
    """

    class Submitted(Message):
        """The engineer pressed Enter to send the text."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Edited(Message):
        """The text changed (the app keeps it as the chat's draft and checks for `/word`)."""

        def __init__(self, text: str, cursor: int) -> None:
            super().__init__()
            self.text = text
            self.cursor = cursor

    class PopupKey(Message):
        """A key meant for the template popup while it is open (up, down, tab, enter, escape)."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(
        self,
        *,
        id: str | None = None,
        on_edit: Callable[[str, int], None] | None = None,
        on_text: Callable[[str], None] | None = None,
        on_scroll: Callable[[str], None] | None = None,
        on_up_when_empty: Callable[[], None] | None = None,
    ) -> None:
        """`on_edit(line, column)` is called on every edit with the cursor's line, before the
        frame that shows it; `on_text(text)` gets the whole text once per burst of edits
        (without them, edits are posted as `Edited` messages, which arrive a frame later);
        `on_scroll(key)` gets the keys that scroll the conversation (SCROLL_KEYS);
        `on_up_when_empty()` gets ↑ pressed on an empty composer (message mode)."""
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self._on_edit = on_edit
        self._on_text = on_text
        self._on_scroll = on_scroll
        self._on_up_when_empty = on_up_when_empty
        self.placeholder = REPLY_PLACEHOLDER
        self._loading = False
        self._report_pending = False
        self.popup_open = False
        self.note_mode = False
        self.loads = 0  # how many times `load` replaced the content
        self.fields: list[Field] = []  # inserted templates' fields, followed through edits
        self._active_at = time.monotonic()
        self._theme_for: tuple[int, int] | None = None

    def set_note_mode(self, on: bool, title: str = NOTE_TITLE) -> None:
        """Switch between replying and writing an internal note (which looks clearly different)."""
        self.note_mode = on
        self.set_class(on, "-note")
        self.border_title = title if on else None
        self._fit_placeholder()

    def _fit_placeholder(self) -> None:
        """The hint for the mode, the short one when the full one does not fit the width."""
        full, narrow = (
            (NOTE_PLACEHOLDER, NARROW_NOTE_PLACEHOLDER)
            if self.note_mode
            else (REPLY_PLACEHOLDER, NARROW_REPLY_PLACEHOLDER)
        )
        fits = self.content_size.width == 0 or len(full) < self.content_size.width
        self.placeholder = full if fits else narrow

    def on_resize(self, event: events.Resize) -> None:
        """The width changed: the hint that fits it."""
        self._fit_placeholder()

    def blink_restarted(self) -> None:
        """Blink again (a key, an edit, focus): for the next BLINK_FOR seconds."""
        self._active_at = time.monotonic()

    def blink_should_stop(self) -> bool:
        """After BLINK_FOR quiet seconds the cursor stops blinking, shown."""
        return time.monotonic() - self._active_at > BLINK_FOR

    def notify_style_update(self) -> None:
        """CSS changed (focus, theme): the theme's colours are read again at the next paint."""
        super().notify_style_update()
        self._theme_for = None

    def render_lines(self, crop: Region) -> list[Strip]:
        """Paint, applying the CSS to the theme only when it changed since this composer did.

        TextArea re-reads its theme's colours from CSS on every paint — a millisecond per
        cursor blink. The theme may be shared, so it is re-applied when another text area
        applied it since.
        """
        theme = self.current_theme
        if theme is None:
            return super().render_lines(crop)
        if self._theme_for != (id(self), id(theme)) or getattr(theme, "_tgtriage_by", None) != id(
            self
        ):
            theme.apply_css(self)
            theme._tgtriage_by = id(self)
            self._theme_for = (id(self), id(theme))
        return super(TextArea, self).render_lines(crop)

    def load(self, text: str) -> None:
        """Replace the content (a chat's draft) without reporting it as an edit.

        The same text (usually: no draft in either chat) is kept as it is, which spares a
        layout of the screen; only the undo history is dropped, as a new load would.
        """
        self.flush_edits()
        self._loading = True
        self.loads += 1
        self.fields = []
        if text == self.text:
            self.history.clear()
        else:
            self.load_text(text)
        if self.selection != Selection.cursor(self.document.end):
            self.move_cursor(self.document.end)
        self._loading = False
        if self.has_focus:
            self.restart_blink()

    @property
    def _doc(self) -> Document:
        """The plain-text document behind the widget."""
        return cast(Document, self.document)

    @property
    def cursor_index(self) -> int:
        """The cursor as a character offset into the text."""
        return self._doc.get_index_from_location(self.cursor_location)

    def replace_span(self, start: int, end: int, text: str) -> None:
        """Replace characters [start, end) with `text` (as one undoable edit)."""
        doc = self._doc
        self.replace(text, doc.get_location_from_index(start), doc.get_location_from_index(end))

    def clear_undoably(self) -> bool:
        """Empty the text as one undo step of its own (Ctrl+Z brings it all back); False if empty."""
        if not self.text:
            return False
        self.history.checkpoint()
        self.replace_span(0, len(self.text), "")
        self.history.checkpoint()
        return True

    def location_of(self, index: int) -> tuple[int, int]:
        """The (row, column) of a character offset."""
        return self._doc.get_location_from_index(index)

    def select_span(self, start: int, end: int) -> None:
        """Select characters [start, end), e.g. a template field to type over."""
        doc = self._doc
        self.selection = Selection(
            doc.get_location_from_index(start), doc.get_location_from_index(end)
        )
        self.scroll_cursor_visible()

    def take_key(self, event: events.Key) -> bool:
        """Enter sends; Ctrl+J inserts a newline; everything else edits as usual."""
        if not event.is_printable:
            self.flush_edits()  # the popup and the draft are up to date for this key
        if self.popup_open and event.key in ("up", "down", "tab", "enter", "escape"):
            self.post_message(self.PopupKey(event.key))
            return True
        if event.key in ("tab", "shift+tab"):
            # Tab moves between template fields and never leaves the composer (Esc does).
            self._jump_field(backwards=event.key == "shift+tab")
            return True
        if event.key == "enter":
            self.post_message(self.Submitted(self.text))
            return True
        if event.key == "up" and not self.text and self._on_up_when_empty is not None:
            self._on_up_when_empty()
            return True
        if event.key in SCROLL_KEYS and self._on_scroll is not None:
            self._on_scroll(event.key)  # the conversation scrolls; the text and cursor stay
            return True
        if event.key == "ctrl+j":
            self.insert_typed("\n")
            return True
        return False

    def track_fields(self, fields: list[Field]) -> None:
        """Keep an inserted template's fields (offsets in the text) as tab stops, filled or not."""
        self.fields = sorted([*self.fields, *fields], key=lambda item: (item.start, item.end))

    def _jump_field(self, backwards: bool) -> None:
        """Select the next field after the selection (backwards: the one before), filled or not."""
        doc = self._doc
        low, high = sorted(doc.get_index_from_location(end) for end in self.selection)
        found = tab_stop(self.text, self.fields, low, high, backwards)
        if found is not None:
            self.select_span(found.start, found.end)

    def edit(self, edit: Edit) -> EditResult:
        """Perform an edit, move the tracked fields with it, then report it at once.

        Offsets are counted only while there are fields to move: counting costs as much as the
        text before the edit is long, too much for each key of a large paste typed as keys.
        """
        if not self.fields:
            result = super().edit(edit)
            self._report_edit()
            return result
        doc = self._doc
        start, end = sorted(
            doc.get_index_from_location(location)
            for location in (edit.from_location, edit.to_location)
        )
        result = super().edit(edit)
        self.fields = fields_after_edit(self.fields, start, end, len(edit.text))
        self._report_edit()
        return result

    def history_replayed(self) -> None:
        """Undo or redo: report the change at once (filled fields are no longer followed)."""
        self.fields = []
        self._report_edit()

    def _report_edit(self) -> None:
        """Tell the desk about an edit (not a programmatic load): the cursor's line at once,
        the whole text once the burst of edits is over.

        A paste a terminal sends as keys is many edits between two frames; reading the whole
        text and keeping it as the draft on each made every key cost as much as the text is
        long. The line is all the `/word` popup needs, in the frame that shows the key.
        """
        if self._loading:
            return
        if self._on_edit is not None:
            row, column = self.cursor_location
            self._on_edit(self._doc.get_line(row), column)
        if self._on_text is not None and not self._report_pending:
            self._report_pending = True
            asyncio.get_running_loop().call_soon(self.flush_edits)

    def flush_edits(self) -> None:
        """Hand the whole text on now if edits are pending (before it is replaced or a key acts)."""
        if not self._report_pending:
            return
        self._report_pending = False
        if self._on_text is not None:
            self._on_text(self.text)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        """Report edits (not programmatic loads) as draft changes."""
        event.stop()
        if not self._loading and self._on_edit is None and self._on_text is None:
            self.post_message(self.Edited(self.text, self.cursor_index))
