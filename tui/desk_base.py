"""The desk's state and the few helpers every part of it uses."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

from rich.text import Text

from ..core.desk.alert_watch import Alerter, AlertWatcher
from ..core.desk.inbox import Inbox
from ..core.desk.models import Message
from ..core.desk.replies import Replies
from ..core.rules.postpone import parse_postpone
from ..core.system.clipboard import copy_to_desktop
from ..core.system.gc_policy import DeskCollector
from ..core.system.open_url import UrlOpener
from ..core.system.paths import Paths
from . import keymap as km
from .chat_list import ChatList
from .dialogs import ChoiceDialog, DeskScreen, Dialog, Done
from .message_view import (
    Styles,
)
from .no_color import use_readable_no_color
from .textual_compat import HookedApp

InboxFactory = Callable[[], Awaitable[Inbox]]
PAGE = 100  # older messages fetched per step when scrolling up
FIRST_PAGE = 50  # messages read when a chat opens: a few screens; older ones load on scroll


class DeskBase(HookedApp[int]):
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
        self.paths = paths or Paths.default()
        self._replies: Replies | None = None
        self._trigger: tuple[int, int] | None = None
        self._typed_ahead: list[str] = []  # typed in the list, on its way to a composer
        self.popup_shown = False  # the template popup lists templates
        self._trigger_word = ""  # the `/word` the popup was opened for
        self._popup_moved = False  # the engineer moved the popup's highlight for this word
        self._dismissed_at: int | None = None
        self._dismissed_load = 0  # the composer content (its load count) Esc applied to
        self._panels: dict[str, Text] = {}
        self.reply_targets: dict[int, int] = {}  # chat id → the message its next reply answers
        self.editing: tuple[int, int] | None = None  # (chat, message) the composer edits
        self.edit_stash = ""  # the composer's text before the edit, given back after it
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
        self._ticks = 0
        self._input_at = time.monotonic()
        self.collector = DeskCollector()
        self.collector.start()

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

    def copy_text(self, text: str, notice: str | None = None) -> None:
        """Copy through the terminal (OSC 52: works over SSH) and, where a display exists, to
        the desktop's clipboard too (core/system/clipboard.py, off the event loop); `notice`
        ('Copied 15 characters') is shown with the ways it went."""
        self.copy_to_clipboard(text)
        self.run_worker(self._copy_to_desktop(text, notice), group="clipboard")

    async def _copy_to_desktop(self, text: str, notice: str | None) -> None:
        """Hand the text to wl-copy / xclip / xsel; then say how it was copied."""
        tool = await asyncio.to_thread(copy_to_desktop, text, self.env)
        if notice is not None:
            how = f"terminal and {tool}" if tool else "through the terminal, OSC 52"
            self.notify(f"{notice} ({how}).", timeout=3, markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While a dialog, the switcher, the palette or the template popup is open, only its
        own keys and quit act (the desk's keys are priority bindings: they would fire over it)."""
        if not km.acts_over(action, self.open_overlay()):
            return None  # shown greyed, never run: the key goes on to the overlay
        return super().check_action(action, parameters)

    @property
    def dialog(self) -> Dialog | None:
        """The dialog open over the desk (tui/dialogs.py), or None."""
        desk = self.screen_stack[0] if self.screen_stack else None
        return desk.dialog if isinstance(desk, DeskScreen) else None

    def choose(
        self,
        title: str,
        choices: Sequence[tuple[str, str]],
        done: Done,
        prompt: str | None = None,
    ) -> None:
        """Ask for one of `choices` ((value, label)); `done(value | '=typed' | None)`."""
        self.query_one(ChoiceDialog).ask(title, choices, done, prompt)

    def open_overlay(self) -> frozenset[str] | None:
        """The desk actions the open overlay takes as its own, or None when none is open."""
        stack = self.screen_stack
        if len(stack) > 1:
            return getattr(stack[-1], "DESK_ACTIONS", frozenset())
        dialog = self.dialog
        if dialog is not None:
            return dialog.DESK_ACTIONS
        if self.popup_shown:  # the template popup
            return frozenset()
        return None

    def _time_from_text(self, text: str) -> int:
        """A typed time ('16:30', '45m', 'fri', '2024-03-08') as a Unix time (ValueError with a
        hint), read with the desk's time zone, tomorrow-time and business hours."""
        config = self.inbox.config
        return parse_postpone(
            text,
            self.inbox.now(),
            config.business_hours.timezone,
            config.postpone.tomorrow_at,
            config.business_hours,
        )

    # Parts of the desk that other parts call (each is defined by one of the desk_* classes).

    async def open_chat(
        self,
        chat_id: int | None,
        focus_composer: bool = True,
        reveal: bool | None = None,
        join: bool = True,
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

    def _reload_draft(self, chat_id: int) -> None:
        """Show a draft the desk changed itself (tui/desk_composing.py)."""
        raise NotImplementedError

    async def _send(self, text: str) -> bool:
        """Send the composer's text (tui/desk_composing.py)."""
        raise NotImplementedError

    async def _save_note(self, text: str) -> bool:
        """Keep the composer's text as a note (tui/desk_composing.py)."""
        raise NotImplementedError

    def _show_reply_quote(self, chat_id: int | None) -> None:
        """Show which message the next reply answers (tui/desk_messages.py)."""
        raise NotImplementedError

    async def _save_edit(self, text: str) -> bool:
        """Save the composer's text as the edited message (tui/desk_messages.py)."""
        raise NotImplementedError

    def _download_or_say(self, message: Message) -> None:
        """Download a message's file and open it, or say why not (tui/desk_status.py)."""
        raise NotImplementedError

    def _open_ticket(self, ref: str) -> None:
        """Open a ticket in the browser, or show its URL (tui/desk_workflow.py)."""
        raise NotImplementedError

    def _end_edit(self) -> None:
        """Leave editing, the composer's earlier text back (tui/desk_messages.py)."""
        raise NotImplementedError

    def cancel_reply(self) -> bool:
        """Drop the open chat's reply target (tui/desk_messages.py)."""
        raise NotImplementedError

    def _view_keys(self) -> str:
        """How to change the view (tui/desk_paint.py)."""
        raise NotImplementedError
