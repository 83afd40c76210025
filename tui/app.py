"""The desk: a split-pane Textual app over the Inbox. It draws state and forwards keys."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import partial
from importlib.resources import files
from typing import ClassVar

from textual import events, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.screen import Screen
from textual.widgets import Static

from ..core.desk.replies import Replies
from ..core.rules.sanitize import clean_line
from . import keymap as km
from . import textual_compat
from .chat_list import ChatList
from .composer import Composer
from .conversation import Conversation
from .desk_alerts import DeskAlerts
from .desk_base import InboxFactory
from .desk_composing import DeskComposing
from .desk_messages import DeskMessages
from .desk_navigation import DeskNavigation
from .desk_paint import DeskPaint
from .desk_search import DeskSearch
from .desk_status import DeskStatus
from .desk_workflow import DeskWorkflow
from .dialogs import ChoiceDialog, DeskScreen
from .footer import DeskFooter
from .panels import PanelLine
from .switcher import Switcher
from .template_views import TemplatePopup
from .workflow_dialogs import DevelopmentDialog, TagDialog, TicketDialog

textual_compat.apply()
__all__ = ["DeskApp", "InboxFactory"]


class DeskApp(
    DeskAlerts,
    DeskPaint,
    DeskMessages,
    DeskComposing,
    DeskNavigation,
    DeskSearch,
    DeskStatus,
    DeskWorkflow,
):
    """The triage desk."""

    TITLE = "tgtriage"
    CSS_PATH = str(files("tgtriage.styles").joinpath("desk.tcss"))
    BINDINGS: ClassVar[list[BindingType]] = list(km.bindings())
    ENABLE_COMMAND_PALETTE = True

    def get_default_screen(self) -> Screen[object]:
        """The desk's screen (a cheap background and the dialogs' layer: see DeskScreen)."""
        return DeskScreen(id="_default")

    def compose(self) -> ComposeResult:
        """The dialogs (hidden), then slot strip, list | conversation + composer, status, footer.

        The dialogs come first: Textual numbers a layer's widgets from the last child up, so a
        dialog shown or hidden after the desk's widgets would renumber them all and repaint
        the whole screen.
        """
        yield Switcher(id="switcher-box")
        yield ChoiceDialog(id="choice-box")
        yield DevelopmentDialog(id="dev-box", classes="workflow-box")
        yield TagDialog(id="tag-box", classes="workflow-box")
        yield TicketDialog(id="ticket-box", classes="workflow-box")
        yield PanelLine(id="slots")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Static(id="view-bar")
                yield ChatList(self._row, id="chat-list", on_type=self._typed_in_list)
            with Vertical(id="right"):
                # The popup first, for the same reason as the dialogs (drawn in a layer over
                # the conversation's last lines: tui/desk_composing.py `_place_popup`).
                yield TemplatePopup(id="template-popup")
                yield PanelLine(id="conv-header")
                yield Conversation(self._render_message, self._render_outbox, id="conversation")
                yield Static(id="reply-quote", markup=False)
                yield Composer(
                    id="composer",
                    on_edit=self._composer_edited,
                    on_text=self._composer_text,
                    on_scroll=self._scroll_conversation,
                    on_up_when_empty=self.action_message_mode,
                )
        yield PanelLine(id="status")
        yield DeskFooter(compact=True, show_command_palette=False)

    async def on_mount(self) -> None:
        """Load the cache, paint, then start the source in the background."""
        if self.user_keymap:
            self.set_keymap(self.user_keymap)
        self._inbox = await self._inbox_factory()
        self.inbox.subscribe(self._on_changes)
        self.inbox.writer.start_after_paint = self._after_paint
        chat_list = self.query_one(ChatList)
        chat_list.set_order(self.inbox.order())
        chat_list.focus()
        self._refresh_panels()
        self.query_one(Composer).disabled = True
        self.query_one(TemplatePopup).display = False
        self._replies = Replies(self.inbox, self.paths)
        await self._replies.load_usage()
        for problem in self._replies.errors[:3]:
            self.notify(
                problem, title="Template problem", severity="warning", timeout=10, markup=False
            )
        self.set_interval(self.tick_seconds, self._tick)
        self._start_alerts()
        self.ready = True
        self.call_after_refresh(self.collector.freeze_startup_heap)
        if self.start_source:
            # After the first frame: a source that imports a library (Telethon) must not delay it.
            self.call_after_refresh(self._start_source)

    def _after_paint(self, run: Callable[[], None]) -> None:
        """Call `run` once the frame being prepared is painted (at once when none will be)."""
        if not self.call_after_refresh(run):
            run()

    @work(exclusive=True, group="source")
    async def _start_source(self) -> None:
        """Connect the source; failures are shown, never swallowed."""
        try:
            await self.inbox.start()
        except Exception as exc:
            self.notify(
                f"Could not start the {self.source_label} source: {exc}",
                severity="error",
                timeout=15,
            )
            return
        # What the source's start built (its chat list, a big desk's thousands of chats) lives
        # on too: out of the collector's walks, like the start-up heap (core/system/gc_policy.py).
        self.collector.freeze_startup_heap()
        self.source_started()

    def source_started(self) -> None:
        """Called once the source is up and its chat list is in (a hook for subclasses)."""

    async def on_unmount(self) -> None:
        """Stop the source (drafts are already stored as they are typed)."""
        self.collector.thaw()
        if self._alerter is not None:
            await self._alerter.aclose()
        if self._inbox is not None:
            await self.inbox.stop()

    async def on_event(self, event: events.Event) -> None:
        """Note when the engineer last pressed a key or used the mouse (core/system/gc_policy.py)."""
        if isinstance(event, events.Key | events.MouseEvent):
            self._input_at = time.monotonic()
        await super().on_event(event)

    def on_key(self, event: object) -> None:
        """'?' opens help — but never while typing in the composer."""
        if getattr(event, "character", None) == "?" and not isinstance(self.focused, Composer):
            # Stop here: App's own key handler would otherwise check the same '?' against the
            # help screen just pushed, whose bindings close it again at once.
            event.stop()  # type: ignore[attr-defined]
            event.prevent_default()  # type: ignore[attr-defined]
            self.action_help()

    def _typed_in_list(self, character: str) -> None:
        """A character typed in the list goes to the highlighted chat's composer (opening it)."""
        chat_id = self.query_one(ChatList).current_chat_id
        if chat_id is None:
            return
        self._typed_ahead.append(character)
        if len(self._typed_ahead) == 1:
            self.call_later(self._type_into, chat_id)

    async def _type_into(self, chat_id: int) -> None:
        """Open the chat (composer focused) and type what was typed at the end of its draft."""
        if self.inbox.open_chat_id != chat_id:
            await self.open_chat(chat_id, join=False)  # a draft; sending it joins the working set
        composer = self.query_one(Composer)
        self.screen.set_focus(composer)
        composer.move_cursor(composer.document.end)
        composer.insert_typed("".join(self._typed_ahead))
        self._typed_ahead.clear()

    def get_key_display(self, binding: Binding) -> str:
        """A key as the footer shows it: a remapped one as help shows it (tui/keymap.py)."""
        if binding.id is not None and binding.id in self.user_keymap:
            return km.key_label(self.user_keymap[binding.id])
        return super().get_key_display(binding)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every desk action in the command palette (Ctrl+P)."""
        yield from super().get_system_commands(screen)
        for action in km.ACTIONS:
            if action.id.startswith("slot_") or action.id in ("quit",):
                continue
            keys = km.display_keys(action, self.user_keymap)
            yield SystemCommand(
                f"{action.description} ({keys})",
                action.description,
                partial(self.run_action, action.action),
            )
        for slot in range(1, 11):
            chat_id = self.inbox.slots.get(slot) if self._inbox else None
            if chat_id is not None and chat_id in self.inbox.chats:
                title = self.inbox.chats[chat_id].title
                yield SystemCommand(
                    f"Open slot {slot % 10}: {escape(clean_line(title, 60))}",
                    "Working set",
                    partial(self.run_action, f"open_slot({slot})"),
                )
