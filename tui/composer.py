"""The reply composer: Enter sends, Ctrl+J adds a line; it forwards, the app decides."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from tgtriage.tui.keymap import ALT_DIGIT_CHARACTER_KEYS


class Composer(TextArea):
    """A multi-line input whose Enter sends instead of breaking the line."""

    class Submitted(Message):
        """The engineer pressed Enter to send the text."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Edited(Message):
        """The text changed (the app keeps it as the chat's draft)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self.placeholder = "Write a reply — Enter sends, Ctrl+J new line, Esc back to the list"
        self._loading = False

    def load(self, text: str) -> None:
        """Replace the content (a chat's draft) without reporting it as an edit."""
        self._loading = True
        self.load_text(text)
        self.move_cursor(self.document.end)
        self._loading = False

    def check_consume_key(self, key: str, character: str | None) -> bool:
        """Let Alt+digit through to the slot bindings.

        In a Linux terminal Alt+1 … Alt+0 arrive as ¡ ™ £ ¢ ∞ § ¶ • ª º; a text widget would
        consume those printable characters and Textual would then drop the app's bindings for
        them. The cost: those ten characters cannot be typed into a reply.
        """
        if key in ALT_DIGIT_CHARACTER_KEYS:
            return False
        return super().check_consume_key(key, character)

    async def _on_key(self, event: events.Key) -> None:
        """Enter sends; Ctrl+J inserts a newline; everything else edits as usual."""
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted(self.text))
            return
        if event.key == "ctrl+j":
            event.stop()
            event.prevent_default()
            start, end = self.selection
            self._replace_via_keyboard("\n", start, end)
            return
        await super()._on_key(event)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        """Report edits (not programmatic loads) as draft changes."""
        event.stop()
        if not self._loading:
            self.post_message(self.Edited(self.text))
