"""The desk's state and the few helpers every part of it uses."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Mapping

from rich.text import Text
from textual.app import App

from ..core.desk.alert_watch import Alerter, AlertWatcher
from ..core.desk.inbox import Inbox
from ..core.desk.replies import Replies
from ..core.system.open_url import UrlOpener
from ..core.system.paths import Paths
from . import heap
from .chat_list import ChatList
from .message_view import (
    Styles,
)
from .no_color import use_readable_no_color
from .screens import SwitcherScreen

InboxFactory = Callable[[], Awaitable[Inbox]]
PAGE = 100  # older messages fetched per step when scrolling up
FIRST_PAGE = 50  # messages read when a chat opens: a few screens; older ones load on scroll


class DeskBase(App[int]):
    """The desk's state; the desk_* classes add what it draws and does."""

    def __init__(
        self,
        inbox_factory: InboxFactory,
        *,
        source_label: str = "",
        keymap: dict[str, str] | None = None,
        start_source: bool = True,
        tick: float = 1.0,
        paths: Paths | None = None,
        terminal_write: Callable[[str], None] | None = None,
        env: Mapping[str, str] | None = None,
        url_opener: UrlOpener | None = None,
    ) -> None:
        super().__init__()
        use_readable_no_color(self)
        self._terminal_write = terminal_write
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.url_opener = url_opener or UrlOpener(self.env)
        self._watcher: AlertWatcher | None = None
        self._alerter: Alerter | None = None
        self._note_drafts: dict[int, str] = {}
        self.paths = paths or Paths.default()
        self._replies: Replies | None = None
        self._trigger: tuple[int, int] | None = None
        self._dismissed_at: int | None = None
        self._dismissed_load = 0  # the composer content (its load count) Esc applied to
        self._panels: dict[str, Text] = {}
        self._inbox_factory = inbox_factory
        self._inbox: Inbox | None = None
        self.source_label = source_label
        self.user_keymap = dict(keymap or {})
        self.start_source = start_source
        self.tick_seconds = tick
        self.styles_for_messages = Styles()
        self.ready = False
        self.paint_log: list[tuple[str, float]] = []
        self._collect_scheduled = False
        self._switcher: SwitcherScreen | None = None
        self._ticks = 0
        self._input_at = time.monotonic()
        heap.pause_for_startup()

    @property
    def inbox(self) -> Inbox:
        """The live state (available from mount on)."""
        assert self._inbox is not None, "the inbox is created when the app mounts"
        return self._inbox

    @property
    def replies(self) -> Replies:
        """The template library for this desk."""
        assert self._replies is not None, "templates load when the app mounts"
        return self._replies

    def _current(self) -> int | None:
        """The open chat, else the one under the list cursor."""
        return self.inbox.open_chat_id or self.query_one(ChatList).current_chat_id

    def _open_or_say(self) -> int | None:
        """The chat an action is about (open, else under the cursor), or None with a hint."""
        chat_id = self._current()
        if chat_id is None:
            self.notify("Open a chat first.", timeout=3)
        return chat_id

    # Parts of the desk that other parts call (each is defined by one of the desk_* classes).

    async def open_chat(
        self, chat_id: int | None, focus_composer: bool = True, reveal: bool | None = None
    ) -> None:
        """Show a chat (tui/desk_composing.py)."""
        raise NotImplementedError

    def _refresh_panels(self) -> None:
        """Repaint the one-line panels (tui/desk_paint.py)."""
        raise NotImplementedError

    def _close_popup(self) -> None:
        """Hide the template popup (tui/desk_composing.py)."""
        raise NotImplementedError

    def _keep_note_draft(self, chat_id: int, text: str) -> None:
        """Remember an unsaved note (tui/desk_composing.py)."""
        raise NotImplementedError

    async def _send(self, text: str) -> bool:
        """Send the composer's text (tui/desk_composing.py)."""
        raise NotImplementedError

    async def _save_note(self, text: str) -> bool:
        """Keep the composer's text as a note (tui/desk_composing.py)."""
        raise NotImplementedError

    def _view_keys(self) -> str:
        """How to change the view (tui/desk_paint.py)."""
        raise NotImplementedError
