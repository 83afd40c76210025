"""The desk: a split-pane Textual app over the Inbox. It draws state and forwards keys."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import partial
from importlib.resources import files
from typing import ClassVar

from rich.console import RenderableType
from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.markup import escape
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Static

from ..core.desk.alert_watch import Alerter, AlertWatcher
from ..core.desk.downloads import Opening, media_messages, opening
from ..core.desk.inbox import Changes, Inbox
from ..core.desk.models import Message, Note, OutboxItem, OutboxState
from ..core.desk.replies import Replies
from ..core.rules import views
from ..core.rules.alerts import Alert
from ..core.rules.notes import notes_after
from ..core.rules.postpone import choice_labels, parse_postpone
from ..core.rules.sanitize import clean_line
from ..core.rules.tags import format_tags, parse_tags
from ..core.rules.targets import VIP, format_targets, parse_targets
from ..core.rules.tickets import latest_ticket, parse_ticket, ticket_url
from ..core.rules.triage import format_wait
from ..core.system.notify import DesktopNotifier, TerminalNotifier
from ..core.system.open_url import UrlOpener
from ..core.system.paths import Paths, ensure_private_dir
from ..core.templates import Template, trigger_at, unfilled_message
from . import heap, textual_fixes
from . import keymap as km
from .chat_list import ChatList
from .composer import Composer
from .conversation import Conversation
from .footer import DeskFooter
from .message_view import (
    Styles,
    clock,
    media_placeholder,
    message_text,
    outbox_text,
)
from .no_color import use_readable_no_color
from .note_view import mark_tickets, with_notes
from .panels import PanelLine, header_text, slots_text, status_text, view_bar_text
from .rows import RowModel, row_model
from .screens import ChoiceScreen, DeskScreen, HelpScreen, SwitcherScreen
from .search_screen import HistoryScreen, SearchScreen
from .template_views import TemplatePicker, TemplatePopup
from .workflow_screens import DevelopmentScreen, TagScreen, TicketScreen

InboxFactory = Callable[[], Awaitable[Inbox]]
textual_fixes.apply()
PAGE = 100  # older messages fetched per step when scrolling up
FIRST_PAGE = 50  # messages read when a chat opens: a few screens; older ones load on scroll


class DeskApp(App[int]):
    """The triage desk."""

    TITLE = "tgtriage"
    CSS_PATH = str(files("tgtriage.styles").joinpath("desk.tcss"))
    BINDINGS: ClassVar[list[BindingType]] = list(km.bindings())
    ENABLE_COMMAND_PALETTE = True

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

    # ----------------------------------------------------------------- layout

    def get_default_screen(self) -> Screen[object]:
        """The desk's screen (a cheap background: see DeskScreen)."""
        return DeskScreen(id="_default")

    def compose(self) -> ComposeResult:
        """Slot strip, list | conversation + composer, status line, footer."""
        yield PanelLine(id="slots")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield Static(id="view-bar")
                yield ChatList(self._row, id="chat-list")
            with Vertical(id="right"):
                yield PanelLine(id="conv-header")
                yield Conversation(self._render_message, self._render_outbox, id="conversation")
                yield TemplatePopup(id="template-popup")
                yield Composer(id="composer", on_edit=self._composer_edited)
        yield PanelLine(id="status")
        yield DeskFooter(compact=True, show_command_palette=False)

    async def on_mount(self) -> None:
        """Load the cache, paint, then start the source in the background."""
        if self.user_keymap:
            self.set_keymap(self.user_keymap)
        self._inbox = await self._inbox_factory()
        self.inbox.subscribe(self._on_changes)
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
        self.call_after_refresh(heap.freeze_startup_heap)
        if self.start_source:
            # After the first frame: a source that imports a library (Telethon) must not delay it.
            self.call_after_refresh(self._start_source)

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
        self.source_started()

    def source_started(self) -> None:
        """Called once the source is up and its chat list is in (a hook for subclasses)."""

    async def on_unmount(self) -> None:
        """Stop the source (drafts are already stored as they are typed)."""
        heap.thaw()
        if self._alerter is not None:
            await self._alerter.aclose()
        if self._inbox is not None:
            await self.inbox.stop()

    # ----------------------------------------------------------------- alerts

    def _start_alerts(self) -> None:
        """Watch for levels and reminders from now on (what is already so stays quiet)."""
        config = self.inbox.config
        terminal = TerminalNotifier(self._write_terminal, self.env, config.alerts.osc)
        self._alerter = Alerter(config, terminal, DesktopNotifier(), self._toast, self.env)
        self._watcher = AlertWatcher(self.inbox)
        self.set_interval(self.tick_seconds, self.check_alerts)

    def _write_terminal(self, data: str) -> None:
        """Bell and OSC notifications go out between frames, through Textual's writer."""
        if self._terminal_write is not None:
            self._terminal_write(data)
        elif self._driver is not None and not self.is_headless:
            self._driver.write(data)

    def check_alerts(self) -> list[Alert]:
        """Send the alerts that came due (called once a second)."""
        if self._watcher is None or self._alerter is None:
            return []
        now = self.inbox.now()
        alerts = self._watcher.check(now)
        for alert in alerts:
            self._alerter.send(alert, now)
        return alerts

    def _toast(self, alert: Alert) -> None:
        """The in-app notification of an alert."""
        severity: SeverityLevel = (
            "error" if alert.level >= 3 else "warning" if alert.level else "information"
        )
        self.notify(alert.body, title=alert.title, severity=severity, timeout=8, markup=False)

    def _display(self, screen: Screen[object], renderable: RenderableType | None) -> None:
        """Hand a frame to the terminal, then let the garbage collector run after it."""
        super()._display(screen, renderable)
        if renderable is not None and not self._collect_scheduled:
            self._collect_scheduled = True
            asyncio.get_running_loop().call_soon(self._collect_after_frame)

    def _collect_after_frame(self) -> None:
        """Run a collection that is due now, between frames (see tui/heap.py)."""
        self._collect_scheduled = False
        heap.collect_if_due()

    # ----------------------------------------------------------------- drawing helpers

    def _row(self, chat_id: int) -> RowModel:
        """Row model for the chat list."""
        return row_model(self.inbox, chat_id, self.inbox.now())

    def _render_message(self, message: Message, quoted: Message | None, waiting: bool) -> Text:
        """One message as safe Text (`quoted`: the held message it replies to)."""
        inbox = self.inbox
        me_id = inbox.me.id if inbox.me else inbox.rule.me_id

        def quote(msg_id: int) -> tuple[str, str] | None:
            if quoted is None or quoted.id != msg_id:
                return None
            return inbox.sender_name(quoted), quoted.text or "[media]"

        is_me = message.out or (message.sender_id is not None and message.sender_id == me_id)
        role = inbox.role(message)
        chat = inbox.chats.get(message.chat_id)
        topic = chat.topic_title(message.topic_id) if chat and chat.kind == "forum" else None
        text = message_text(
            message,
            "You" if is_me else inbox.sender_name(message),
            role,
            is_me,
            quote,
            message.id if waiting else None,
            self.styles_for_messages,
            topic=topic,
        )
        mark_tickets(text, inbox.config.tickets)
        notes = inbox.notes.get(message.chat_id)
        if notes:
            conversation = self.query_one(Conversation)
            shown = conversation.messages
            index = bisect_left(shown, message.id, key=lambda m: m.id)
            if index < len(shown) and shown[index].id == message.id:
                before, after = notes_after(index, shown, notes, conversation.has_older)
                text = with_notes(text, before, after)
        return text

    def _render_outbox(self, item: OutboxItem) -> Text:
        """An unconfirmed reply."""
        return outbox_text(item, "You", self.styles_for_messages)

    def _refresh_panels(self) -> None:
        """Slot strip, header and status line."""
        inbox = self.inbox
        width = self.size.width or 80
        self._set_panel("#slots", slots_text(inbox, width))
        self._set_panel("#conv-header", header_text(inbox, inbox.open_chat_id))
        self._set_panel("#status", status_text(inbox, self.source_label))
        bar_width = self.query_one("#view-bar", Static).size.width or 30
        self._set_panel("#view-bar", view_bar_text(inbox, self._view_keys(), bar_width - 1))

    def _set_panel(self, selector: str, text: Text) -> None:
        """Update a one-line panel only when its text changed; its size never does (no layout)."""
        if self._panels.get(selector) == text:
            return
        self._panels[selector] = text
        self.query_one(selector, Static).update(text, layout=False)

    # ----------------------------------------------------------------- live updates

    def _on_changes(self, changes: Changes) -> None:
        """Apply one coalesced batch of changes to the screen (at most once per frame)."""
        if not self.ready:
            return
        started = time.perf_counter()
        chat_list = self.query_one(ChatList)
        if changes.order:
            chat_list.set_order(self.inbox.order())
        chat_list.update_rows(changes.chats)
        open_id = self.inbox.open_chat_id
        conversation = self.query_one(Conversation)
        if open_id is not None and conversation.chat_id == open_id:
            self._update_conversation(conversation, open_id, changes)
        for notice in changes.notices:
            self.notify(notice)
        self._refresh_panels()
        self.paint_log.append(("changes", time.perf_counter() - started))
        del self.paint_log[:-200]

    def _update_conversation(
        self, conversation: Conversation, chat_id: int, changes: Changes
    ) -> None:
        """Bring the open conversation up to date in one layout, re-wrapping only what changed."""
        state = self.inbox.triage.get(chat_id)
        waiting = state.waiting_msg_id if state else None
        added = changes.messages.get(chat_id, [])
        deleted = changes.deleted.get(chat_id, set())
        outbox = self.inbox.outbox.get(chat_id, []) if chat_id in changes.outbox else None
        if added and self._replies is not None:
            self._replies.forget_language(chat_id)
        if added or deleted or outbox is not None or waiting != conversation.waiting_id:
            conversation.update(added, deleted, outbox, waiting)

    def _tick(self) -> None:
        """Once a second: timers move; repaint only the rows whose text changed.

        Only the rows time can change are rebuilt (a wait, a postponement, typing); the
        order is the Inbox's kept one, re-sorted only when a level or postponement moved.
        """
        if self._inbox is None:
            return
        try:
            chat_list = self.query_one(ChatList)
        except NoMatches:
            return  # the desk is shutting down; its widgets are already gone
        order = self.inbox.order()
        if order != chat_list.chat_ids:
            chat_list.set_order(order)
        chat_list.update_rows(self.inbox.changes_with_time())
        self._refresh_panels()
        self._ticks += 1
        # Template files are looked at every third tick: a stat of every file each second
        # was a tenth of an idle desk's work, and a few seconds is soon enough to reload.
        if self._replies is not None and self._ticks % 3 == 0 and self._replies.poll():
            self._announce_templates()
        heap.tidy_when_idle(time.monotonic() - self._input_at)

    def _announce_templates(self) -> None:
        """Say that templates were (re)loaded, with the first problem if any."""
        replies = self.replies
        self.notify(f"Templates reloaded: {len(replies.library)} ready.", timeout=3)
        for problem in replies.errors[:3]:
            self.notify(
                problem, title="Template problem", severity="warning", timeout=10, markup=False
            )

    @property
    def replies(self) -> Replies:
        """The template library for this desk."""
        assert self._replies is not None, "templates load when the app mounts"
        return self._replies

    # ----------------------------------------------------------------- opening chats

    async def open_chat(
        self, chat_id: int | None, focus_composer: bool = True, reveal: bool | None = None
    ) -> None:
        """Show a chat on the right, restore its draft, and put it in the working set.

        Nothing here waits: the messages come from the Inbox's memory and the store writes
        follow in the background, so everything the key changes — list, slot strip, header,
        conversation, composer — is painted in one frame, and only once (`Inbox.painted`).
        """
        if chat_id is None or chat_id not in self.inbox.chats:
            return
        started = time.perf_counter()
        self._save_draft_now()
        self._close_popup()
        opened = self.inbox.open(chat_id)
        messages = self.inbox.recent(chat_id, limit=FIRST_PAGE)
        conversation = self.query_one(Conversation)
        state = self.inbox.triage.get(chat_id)
        conversation.show(
            chat_id,
            messages,
            self.inbox.outbox.get(chat_id, []),
            has_older=self.inbox.has_older(chat_id, len(messages)),
            waiting_id=state.waiting_msg_id if state else None,
        )
        chat_list = self.query_one(ChatList)
        chat_list.set_open(chat_id, reveal)
        chat_list.update_rows({chat_id})
        composer = self.query_one(Composer)
        composer.disabled = False
        composer.load(self.inbox.drafts.get(chat_id, ""))
        if focus_composer:
            composer.focus()
        self._refresh_panels()
        if opened is not None:
            self.inbox.painted(opened)
        self.paint_log.append(("open", time.perf_counter() - started))

    async def _save_draft(self) -> None:
        """Keep the composer's text as the open chat's draft (a note's text apart from it)."""
        self._save_draft_now()
        if self._inbox is not None:
            await self.inbox.flushed()

    def _save_draft_now(self) -> None:
        """Keep the composer's text as the open chat's draft (stored in the background)."""
        if self._inbox is None or self.inbox.open_chat_id is None:
            return
        composer = self.query_one(Composer)
        if composer.note_mode:
            # Leaving a chat in note mode: the note waits for Alt+N there, never as a reply.
            self._keep_note_draft(self.inbox.open_chat_id, composer.text)
            composer.set_note_mode(False)
            return
        if not composer.disabled:
            self.inbox.set_draft(self.inbox.open_chat_id, composer.text)

    def _keep_note_draft(self, chat_id: int, text: str) -> None:
        """Remember an unsaved note's text for the chat (in memory)."""
        if text.strip():
            self._note_drafts[chat_id] = text
        else:
            self._note_drafts.pop(chat_id, None)

    @on(ChatList.Chosen)
    async def _chosen(self, event: ChatList.Chosen) -> None:
        await self.open_chat(event.chat_id)

    @on(Conversation.NeedOlder)
    async def _need_older(self, event: Conversation.NeedOlder) -> None:
        older = await self.inbox.history(event.chat_id, before_id=event.before_id, limit=PAGE)
        conversation = self.query_one(Conversation)
        if conversation.chat_id == event.chat_id:
            conversation.prepend(older, has_more=len(older) >= PAGE)

    @on(Composer.Edited)
    async def _edited(self, event: Composer.Edited) -> None:
        chat_id = self.inbox.open_chat_id
        if chat_id is None:
            return
        self._keep_text(chat_id, event.text)
        await self._update_popup(chat_id, event.text, event.cursor)

    def _composer_edited(self, text: str, cursor: int) -> None:
        """The composer's text changed: keep the draft and update the popup, in the frame
        that shows the typed character (nothing here waits)."""
        chat_id = self.inbox.open_chat_id if self._inbox is not None else None
        if chat_id is None:
            return
        self._keep_text(chat_id, text)
        self._update_popup_now(chat_id, text, cursor)

    def _keep_text(self, chat_id: int, text: str) -> None:
        """Keep what the composer holds: the chat's reply draft, or in note mode the note's."""
        if self.query_one(Composer).note_mode:
            self._keep_note_draft(chat_id, text)
        else:
            self.inbox.set_draft(chat_id, text)

    async def _update_popup(self, chat_id: int, text: str, cursor: int) -> None:
        """Open, refresh or close the template popup for a `/word` before the cursor."""
        self._update_popup_now(chat_id, text, cursor)

    def _update_popup_now(self, chat_id: int, text: str, cursor: int) -> None:
        """`_update_popup` without waiting (the chat's language is read synchronously)."""
        found = trigger_at(text, cursor)
        popup = self.query_one(TemplatePopup)
        if self.query_one(Composer).loads != self._dismissed_load:
            self._dismissed_at = None  # new text was loaded since: a dismissal does not carry over
        if found is None or found[0] == self._dismissed_at:
            if found is None:
                self._dismissed_at = None
            self._close_popup()
            return
        start, word = found
        templates = self.replies.suggest_now(chat_id, word)
        self._trigger = (start, cursor)
        popup.show_templates(templates)
        self.query_one(Composer).popup_open = bool(templates)

    def _close_popup(self) -> None:
        """Hide the popup; the composer's keys go back to editing."""
        self._trigger = None
        self.query_one(TemplatePopup).display = False
        self.query_one(Composer).popup_open = False

    @on(Composer.PopupKey)
    async def _popup_key(self, event: Composer.PopupKey) -> None:
        popup = self.query_one(TemplatePopup)
        if event.key in ("up", "down"):
            popup.move(-1 if event.key == "up" else 1)
        elif event.key == "escape":
            if self._trigger is not None:
                self._dismissed_at = self._trigger[0]
                self._dismissed_load = self.query_one(Composer).loads
            self._close_popup()
        elif popup.chosen is not None and self._trigger is not None:
            start, end = self._trigger
            self._close_popup()
            await self._insert_template(popup.chosen, start, end)

    async def _insert_template(self, template: Template, start: int, end: int) -> None:
        """Replace [start, end) of the composer with the rendered template; select its first field."""
        chat_id = self.inbox.open_chat_id
        if chat_id is None:
            return
        rendered = self.replies.render(template, chat_id)
        composer = self.query_one(Composer)
        composer.replace_span(start, end, rendered.text)
        if rendered.fields:
            first = rendered.fields[0]
            composer.select_span(start + first.start, start + first.end)
        else:
            composer.move_cursor(composer.location_of(start + len(rendered.text)))
        composer.focus()
        await self.replies.used(template.key)

    async def action_templates(self) -> None:
        """Ctrl+T: browse templates with a preview, Enter inserts at the cursor."""
        chat_id = self.inbox.open_chat_id
        if chat_id is None:
            self.notify("Open a chat first.", timeout=3)
            return
        lang = await self.replies.language(chat_id)

        def preview(template: Template) -> str:
            return self.replies.render(template, chat_id).text

        picker = TemplatePicker(self.replies.library, self.replies.usage, lang, preview)
        self.push_screen(picker, self._picked)

    async def _picked(self, template: Template | None) -> None:
        if template is None:
            return
        cursor = self.query_one(Composer).cursor_index
        await self._insert_template(template, cursor, cursor)

    def action_reload_templates(self) -> None:
        """Reload the template files now (they also reload by themselves when changed)."""
        self.replies.reload()
        self._announce_templates()

    @on(Composer.Submitted)
    async def _submitted(self, event: Composer.Submitted) -> None:
        if self.query_one(Composer).note_mode:
            await self._save_note(event.text)
        else:
            await self._send(event.text)

    async def _save_note(self, text: str) -> bool:
        """Keep the composer's text as an internal note of the open chat (nothing is sent)."""
        chat_id = self.inbox.open_chat_id
        if chat_id is None or not text.strip():
            return False
        note = await self.inbox.add_note(chat_id, text)
        if note is None:
            return False
        self._note_drafts.pop(chat_id, None)
        self.query_one(Composer).load("")
        conversation = self.query_one(Conversation)
        if conversation.chat_id == chat_id:
            conversation.rerender()
            conversation.scroll_end(animate=False, immediate=True, x_axis=False)
        self._refresh_panels()
        self.notify("Note saved — kept on this desk, not sent.", timeout=3)
        return True

    async def _send(self, text: str) -> bool:
        """Send the composer's text to the open chat through the outbox."""
        chat_id = self.inbox.open_chat_id
        if chat_id is None or not text.strip():
            return False
        if self.query_one(Composer).note_mode:
            return False  # a note is never sent, whatever key is pressed
        problem = unfilled_message(text)
        if problem is not None:
            self.notify(f"Not sent: {problem}", severity="error", timeout=5)
            return False
        item = await self.inbox.send(chat_id, text)
        if item is None:
            return False
        self.query_one(Composer).load("")
        self.query_one(Conversation).set_outbox(self.inbox.outbox.get(chat_id, []))
        return True

    # ----------------------------------------------------------------- actions (keys)

    async def action_next_waiting(self) -> None:
        """Open the chat that has waited longest, other than the open one."""
        chat_id = self.inbox.next_waiting(exclude=self.inbox.open_chat_id)
        if chat_id is None:
            self.notify("Nobody is waiting for a reply.", timeout=3)
            return
        await self.open_chat(chat_id)

    async def action_next_chat(self) -> None:
        """Next chat in list order."""
        await self.open_chat(self.inbox.neighbour(self._current(), 1), reveal=True)

    async def action_prev_chat(self) -> None:
        """Previous chat in list order."""
        await self.open_chat(self.inbox.neighbour(self._current(), -1), reveal=True)

    def _current(self) -> int | None:
        """The open chat, else the one under the list cursor."""
        return self.inbox.open_chat_id or self.query_one(ChatList).current_chat_id

    async def action_open_slot(self, slot: int) -> None:
        """Open working-set slot 1..10."""
        chat_id = self.inbox.slots.get(slot)
        if chat_id is None:
            self.notify(f"Slot {slot % 10} is empty — open a chat to fill it.", timeout=3)
            return
        await self.open_chat(chat_id)

    def action_pin_slot(self) -> None:
        """Ask for a slot and pin the open chat there."""
        chat_id = self.inbox.open_chat_id
        if chat_id is None:
            self.notify("Open a chat first.", timeout=3)
            return
        choices = []
        for slot in range(1, 11):
            holder = self.inbox.slots.get(slot)
            title = self.inbox.chats[holder].title if holder in self.inbox.chats else "empty"
            choices.append((str(slot), f"{slot % 10}  {clean_line(title, 60)}"))
        self.push_screen(
            ChoiceScreen("Pin to slot (press its digit)", choices), partial(self._pinned, chat_id)
        )

    async def _pinned(self, chat_id: int, value: str | None) -> None:
        if value and value.isdigit():
            await self.inbox.pin(chat_id, int(value))

    async def action_unpin(self) -> None:
        """Take the open chat out of the working set."""
        chat_id = self.inbox.open_chat_id
        if chat_id is None:
            return
        slot = await self.inbox.unpin(chat_id)
        if slot is not None:
            self.notify(f"Removed from slot {slot % 10}.", timeout=2)

    async def action_switcher(self) -> None:
        """Fuzzy chat switcher (one screen, kept and shown again: see SwitcherScreen)."""
        inbox = self.inbox
        titles = inbox.chats
        order = inbox.order(view=views.ALL)
        chats = [(chat_id, _switcher_title(titles[chat_id].title), "") for chat_id in order]
        if self._switcher is None:
            self._switcher = SwitcherScreen(chats, self._waited)
            self.install_screen(self._switcher, "tgtriage-switcher")
        else:
            self._switcher.reset(chats, self._waited)
        self.push_screen(self._switcher, self._switched)

    def _waited(self, chat_id: int) -> str:
        """The switcher's note on a chat: how long its customer has waited."""
        wait = self.inbox.wait(chat_id)
        return f"waiting {format_wait(wait)}" if wait is not None else ""

    async def _switched(self, chat_id: int | None) -> None:
        if chat_id:
            await self.open_chat(chat_id)

    def action_search(self) -> None:
        """Ctrl+F or /: search every stored message (tui/search_screen.py)."""
        if not isinstance(self.screen, SearchScreen):
            self.push_screen(SearchScreen(self.inbox.message_search()), self._jump)

    def action_customer_history(self) -> None:
        """Alt+U: everything the open chat's customer wrote in every chat, with their waits."""
        chat_id = self._open_or_say()
        state = self.inbox.triage.get(chat_id) if chat_id is not None else None
        customer = state.last_customer_id if state else None
        if customer is None or isinstance(self.screen, SearchScreen):
            if chat_id is not None:
                self.notify("No customer has written in this chat yet.", timeout=3)
            return
        user = self.inbox.users.get(customer)
        staff, now = self.inbox.report_staff(), self.inbox.now()
        self.push_screen(
            HistoryScreen(
                self.inbox.message_search(),
                lambda search: search.history_with_waits(customer, staff, now),
                user.name if user else str(customer),
            ),
            self._jump,
        )

    async def _jump(self, target: tuple[int, int] | None) -> None:
        """Open the chat of a search or history result, scrolled to that message, marked."""
        if target is None or target[0] not in self.inbox.chats:
            return
        chat_id, message_id = target
        await self.open_chat(chat_id, focus_composer=False)
        search = self.inbox.message_search()
        try:
            messages = search.around(chat_id, message_id)
        finally:
            search.close()
        conversation = self.query_one(Conversation)
        conversation.reveal(messages, message_id, has_older=True)
        conversation.focus()

    def action_back_to_list(self) -> None:
        """Back to the list (keeps the chat open on the right)."""
        self.query_one(ChatList).focus()

    def action_focus_composer(self) -> None:
        """Focus the composer of the open chat."""
        if self.inbox.open_chat_id is not None:
            self.query_one(Composer).focus()

    async def action_send_next(self) -> None:
        """Send the reply, then jump to the next waiting chat (in note mode: save the note)."""
        if self.query_one(Composer).note_mode:
            await self._save_note(self.query_one(Composer).text)
            return
        sent_from = self.inbox.open_chat_id
        if await self._send(self.query_one(Composer).text):
            next_id = self.inbox.next_waiting(exclude=sent_from)
            if next_id is not None:
                await self.open_chat(next_id)
            else:
                self.notify("Sent. Nobody else is waiting.", timeout=3)

    async def action_handled(self) -> None:
        """Mark the open (or highlighted) chat handled: no reply needed."""
        chat_id = self._current()
        if chat_id is not None:
            await self.inbox.mark_handled(chat_id)
            self.notify("Marked handled — it waits again when the customer writes.", timeout=3)

    def action_postpone(self) -> None:
        """Choose how long to postpone the chat."""
        chat_id = self._current()
        if chat_id is None:
            return
        config = self.inbox.config
        choices = choice_labels(
            self.inbox.now(),
            config.business_hours.timezone,
            config.postpone.tomorrow_at,
            config.business_hours,
        )
        prompt = "16:30, 45m, 3h, 2d, fri, 2024-03-08 — Enter"
        screen = ChoiceScreen("Postpone until…", choices, prompt=prompt)
        self.push_screen(screen, partial(self._postponed, chat_id))

    async def _postponed(self, chat_id: int, value: str | None) -> None:
        if not value:
            return
        text = value[1:] if value.startswith("=") else value
        tz = self.inbox.config.business_hours.timezone
        try:
            until = parse_postpone(
                text,
                self.inbox.now(),
                tz,
                self.inbox.config.postpone.tomorrow_at,
                self.inbox.config.business_hours,
            )
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        await self.inbox.postpone(chat_id, until)
        self.notify(
            "Postponed until " + time.strftime("%a %H:%M", time.localtime(until)), timeout=3
        )

    async def action_close_chat(self) -> None:
        """Close the chat until the customer writes again."""
        chat_id = self._current()
        if chat_id is not None:
            await self.inbox.close(chat_id)

    async def action_reopen(self) -> None:
        """Reopen a parked chat."""
        chat_id = self._current()
        if chat_id is not None:
            await self.inbox.reopen(chat_id)

    async def action_retry(self) -> None:
        """Retry the failed reply in the open chat."""
        failed = self._failed_here()
        if failed is None:
            self.notify("No failed reply in this chat.", timeout=2)
            return
        await self.inbox.retry(failed.local_id)

    async def action_discard(self) -> None:
        """Discard the failed reply, putting its text back into the composer."""
        failed = self._failed_here()
        if failed is None:
            return
        text = await self.inbox.discard(failed.local_id)
        if text:
            self.query_one(Composer).load(text)

    def action_download_media(self) -> None:
        """Download a file of the open chat: the only one shown, or the one chosen by digit."""
        chat_id = self.inbox.open_chat_id
        if chat_id is None:
            self.notify("Open a chat first.", timeout=3)
            return
        if not self.inbox.can_download():
            self.notify(
                f"Files can only be downloaded from Telegram, not from the {self.source_label}.",
                timeout=4,
            )
            return
        found = media_messages(self.query_one(Conversation).messages)
        if not found:
            self.notify("No photo or file in the messages shown here.", timeout=3)
            return
        if len(found) == 1:
            self._download(found[0])
            return
        by_id = {str(m.id): m for m in found}
        choices = [
            (
                str(m.id),
                f"{n}  {media_placeholder(m.media)}  "  # type: ignore[arg-type]
                f"{clean_line(self.inbox.sender_name(m), 24)} · {clock(m.date)}",
            )
            for n, m in enumerate(found, start=1)
        ]
        self.push_screen(
            ChoiceScreen("Download which file? (newest first, press its digit)", choices),
            partial(self._download_chosen, by_id),
        )

    def _download_chosen(self, by_id: dict[str, Message], value: str | None) -> None:
        if value in by_id:
            self._download(by_id[value])

    @work(group="download")
    async def _download(self, message: Message) -> None:
        """Save a message's file into the downloads folder, then open it or say where it is."""
        assert message.media is not None
        placeholder = media_placeholder(message.media)
        self.notify(f"Downloading {placeholder}…", timeout=3, markup=False)
        target = ensure_private_dir(self.paths.downloads_dir)
        try:
            path = await self.inbox.download_media(message.chat_id, message.id, target)
        except Exception as exc:
            self.notify(
                f"Could not download {placeholder}: {exc}. Alt+M tries again.",
                severity="error",
                timeout=8,
                markup=False,
            )
            return
        how = opening(path, os.environ)
        if how.command is not None:
            try:
                subprocess.Popen(
                    how.command,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            except OSError as exc:
                how = Opening(None, f"xdg-open failed ({exc})")
        said = "Opened" if how.command is not None else f"Saved ({how.reason})"
        self.notify(f"{said}: {path}", title="Download", timeout=12, markup=False)

    def _failed_here(self) -> OutboxItem | None:
        """The first failed reply of the open chat."""
        chat_id = self.inbox.open_chat_id
        for item in self.inbox.outbox.get(chat_id or 0, []):
            if item.state is OutboxState.FAILED:
                return item
        return None

    # ----------------------------------------------------------------- workflow (keys)

    def _open_or_say(self) -> int | None:
        """The chat an action is about (open, else under the cursor), or None with a hint."""
        chat_id = self._current()
        if chat_id is None:
            self.notify("Open a chat first.", timeout=3)
        return chat_id

    async def _mentioned_tickets(self, chat_id: int) -> list[str]:
        """Ticket references in the chat's recent messages and notes, latest mention first."""
        messages = await self.inbox.messages(chat_id, limit=300)
        notes = self.inbox.notes.get(chat_id, [])
        texts = [m.text for m in messages] + [n.text for n in notes]
        return [ref.text for ref in latest_ticket(texts, self.inbox.config.tickets)]

    async def action_in_development(self) -> None:
        """Mark the chat in development under a ticket, with an optional due date."""
        chat_id = self._open_or_say()
        if chat_id is None:
            return
        state = self.inbox.triage[chat_id]
        mentioned = await self._mentioned_tickets(chat_id)
        ticket = state.ticket or (mentioned[0] if mentioned else "")
        due = time.strftime("%Y-%m-%d", time.localtime(state.due)) if state.due else ""
        title = f"In development: {clean_line(self.inbox.chats[chat_id].title, 50)}"
        screen = DevelopmentScreen(title, ticket, due, self._check_development, self._describe_due)
        self.push_screen(screen, partial(self._developing, chat_id))

    def _due_time(self, due: str) -> int:
        """A typed due date as a time (ValueError with a hint)."""
        config = self.inbox.config
        return parse_postpone(
            due,
            self.inbox.now(),
            config.business_hours.timezone,
            config.postpone.tomorrow_at,
            config.business_hours,
        )

    def _describe_due(self, due: str) -> str:
        """'→ Fri 08 Mar 09:00' for a typed due date, or why it cannot be read."""
        try:
            return "→ " + time.strftime("%a %d %b %H:%M", time.localtime(self._due_time(due)))
        except ValueError as exc:
            return str(exc)

    def _check_development(self, ticket: str, due: str) -> str | None:
        """Why the ticket or due date cannot be used, or None."""
        if not clean_line(ticket):
            return "Type a ticket reference, e.g. JIRA-123 or #4821."
        if due:
            try:
                self._due_time(due)
            except ValueError as exc:
                return str(exc)
        return None

    async def _developing(self, chat_id: int, value: tuple[str, str] | None) -> None:
        if value is None:
            return
        typed, due_text = value
        ref = parse_ticket(typed, self.inbox.config.tickets)
        ticket = ref.text if ref else clean_line(typed, 40)
        due = self._due_time(due_text) if due_text else None
        await self.inbox.set_in_development(chat_id, ticket, due)
        when = f", due {time.strftime('%a %d %b %H:%M', time.localtime(due))}" if due else ""
        self.notify(f"In development: {ticket}{when}.", timeout=3, markup=False)

    async def action_open_ticket(self) -> None:
        """Open the chat's ticket (or one mentioned in it) in the browser, or show its URL."""
        chat_id = self._open_or_say()
        if chat_id is None:
            return
        state = self.inbox.triage[chat_id]
        refs = await self._mentioned_tickets(chat_id)
        if state.ticket:
            refs = [state.ticket, *(r for r in refs if r != state.ticket)]
        if not refs:
            self.notify(
                "No ticket here: none is set (Alt+D) and none is mentioned (like JIRA-123, #4821).",
                timeout=5,
            )
            return
        if len(refs) == 1:
            self._open_ticket(refs[0])
            return
        choices = [(ref, f"{n % 10}  {ref}") for n, ref in enumerate(refs[:10], start=1)]
        self.push_screen(ChoiceScreen("Open which ticket?", choices), self._ticket_chosen)

    def _ticket_chosen(self, ref: str | None) -> None:
        if ref:
            self._open_ticket(ref)

    def _open_ticket(self, ref: str) -> None:
        """xdg-open where a display exists; otherwise show the URL (and copy it: OSC 52)."""
        url = ticket_url(ref, self.inbox.config.tickets)
        if url is None:
            note = (
                "Set [tickets] url in config.toml "
                "(e.g. https://jira.example.com/browse/{ticket}) to open it."
            )
            self.push_screen(TicketScreen(ref, None, note))
            return
        if self.url_opener.open(url):
            self.notify(f"Opened {ref} in the browser.", timeout=3, markup=False)
            return
        self.copy_to_clipboard(url)
        note = (
            "No desktop to open it in here (e.g. over SSH): the URL is copied to your "
            "clipboard through the terminal (OSC 52) where the terminal allows that."
        )
        self.push_screen(TicketScreen(ref, url, note))

    def action_tags(self) -> None:
        """Edit the chat's tags."""
        chat_id = self._open_or_say()
        if chat_id is None:
            return
        current = format_tags(self.inbox.tags.get(chat_id, set()))
        title = f"Tags of {clean_line(self.inbox.chats[chat_id].title, 50)}"
        screen = TagScreen(title, current, sorted(self.inbox.all_tags()))
        self.push_screen(screen, partial(self._tagged, chat_id))

    async def _tagged(self, chat_id: int, value: str | None) -> None:
        if value is None:
            return
        tags = set(parse_tags(value))
        await self.inbox.set_tags(chat_id, tags)
        shown = " ".join(f"#{t}" for t in sorted(tags)) or "no tags"
        self.notify(f"Tagged: {shown}", timeout=3, markup=False)

    def action_targets(self) -> None:
        """Choose the chat's response targets (VIP 2/5/15, the configured ones, or typed)."""
        chat_id = self._open_or_say()
        if chat_id is None:
            return
        configured = self.inbox.configured_targets(chat_id)
        choices = [
            ("default", f"1  As configured ({format_targets(configured)})"),
            ("vip", f"2  VIP ({format_targets(VIP)})"),
            ("custom", "3  Custom: due/late/breached minutes, e.g. 2/5/15"),
        ]
        screen = ChoiceScreen("Response targets for this chat", choices, prompt="2/5/15 — Enter")
        self.push_screen(screen, partial(self._targets_chosen, chat_id))

    async def _targets_chosen(self, chat_id: int, value: str | None) -> None:
        if not value:
            return
        if value == "default":
            targets = None
        elif value == "vip":
            targets = VIP
        else:
            try:
                targets = parse_targets(value.removeprefix("="))
            except ValueError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
        await self.inbox.set_levels(chat_id, targets)
        shown = format_targets(targets or self.inbox.configured_targets(chat_id))
        self.notify(f"Response targets: {shown}", timeout=3)

    def action_note_mode(self) -> None:
        """Toggle the composer between replying and writing an internal note."""
        chat_id = self.inbox.open_chat_id
        if chat_id is None:
            self.notify("Open a chat first.", timeout=3)
            return
        composer = self.query_one(Composer)
        if composer.note_mode:
            # Back to replying: an unsaved note stays a note (Alt+N brings it back).
            self._keep_note_draft(chat_id, composer.text)
            composer.set_note_mode(False)
            composer.load(self.inbox.drafts.get(chat_id, ""))
        else:
            typed = composer.text
            composer.set_note_mode(True)
            if typed.strip():  # what was typed as a reply becomes the note
                self.inbox.set_draft(chat_id, "")
                self._keep_note_draft(chat_id, typed)
            else:
                composer.load(self._note_drafts.get(chat_id, ""))
        self._close_popup()
        composer.focus()

    def action_delete_note(self) -> None:
        """Choose one of the open chat's notes (newest first) and delete it."""
        chat_id = self.inbox.open_chat_id
        notes = list(reversed(self.inbox.notes.get(chat_id or 0, [])))[:10]
        if chat_id is None or not notes:
            self.notify("No notes in this chat (Alt+N writes one).", timeout=3)
            return
        choices = [
            (
                str(note.id),
                f"{n % 10}  {time.strftime('%d %b %H:%M', time.localtime(note.date))}"
                f"  {clean_line(note.text, 50)}",
            )
            for n, note in enumerate(notes, start=1)
        ]
        self.push_screen(
            ChoiceScreen("Delete which note?", choices), partial(self._note_deleted, notes)
        )

    async def _note_deleted(self, notes: list[Note], value: str | None) -> None:
        note = next((n for n in notes if str(n.id) == value), None)
        if note is None:
            return
        await self.inbox.delete_note(note)
        conversation = self.query_one(Conversation)
        if conversation.chat_id == note.chat_id:
            conversation.rerender()
        self._refresh_panels()
        self.notify("Note deleted.", timeout=3)

    def _view_keys(self) -> str:
        """How to change the view, as the view bar says it."""
        keys = [
            km.display_keys(a, self.user_keymap)
            for a in km.ACTIONS
            if a.id in ("next_view", "choose_view")
        ]
        return " · ".join(keys)

    def _show_view(self, view: views.View) -> None:
        """Switch the list to `view`, cursor on its first chat."""
        self.inbox.set_view(view)
        chat_list = self.query_one(ChatList)
        chat_list.set_order(self.inbox.order())
        chat_list.action_cursor_to(0)
        chat_list.update_rows(None)
        self._refresh_panels()

    def action_next_view(self) -> None:
        """Cycle to the next view of the list."""
        self._show_view(views.step(self.inbox.view, self.inbox.all_tags()))

    def action_prev_view(self) -> None:
        """Cycle to the previous view of the list."""
        self._show_view(views.step(self.inbox.view, self.inbox.all_tags(), -1))

    def action_choose_view(self) -> None:
        """Pick a view from the list of views with their counts."""
        counts = self.inbox.view_counts()
        choices = []
        for n, (view, count) in enumerate(counts.items(), start=1):
            key = f"{n % 10}" if n <= 10 else " "
            current = "  ◂" if view == self.inbox.view else ""
            label = f"{key}  {clean_line(view.label, 40)} ({count}){current}"
            choices.append((f"{view.kind.value}:{view.tag or ''}", label))
        self.push_screen(ChoiceScreen("Show which chats?", choices), self._view_chosen)

    def _view_chosen(self, value: str | None) -> None:
        if not value:
            return
        kind, _, tag = value.partition(":")
        self._show_view(views.View(views.ViewKind(kind), tag or None))

    def action_help(self) -> None:
        """Show every key."""
        self.push_screen(HelpScreen(self.user_keymap))

    def action_stats(self) -> None:
        """Open the reply-time stats of the live store (computed afresh each time), or close them."""
        from ..core.reports.stats import inbox_stats
        from .stats import StatsScreen

        if isinstance(self.screen, StatsScreen):
            self.pop_screen()
            return
        self.push_screen(StatsScreen(partial(inbox_stats, self.inbox)))

    async def on_event(self, event: events.Event) -> None:
        """Note when the engineer last pressed a key or used the mouse (see tui/heap.py)."""
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


_TITLES: dict[str, str] = {}


def _switcher_title(title: str) -> str:
    """A chat title made safe for the switcher, kept (1,000 of them per Ctrl+K)."""
    cleaned = _TITLES.get(title)
    if cleaned is None:
        if len(_TITLES) > 10_000:
            _TITLES.clear()
        cleaned = _TITLES[title] = clean_line(title, 80)
    return cleaned
