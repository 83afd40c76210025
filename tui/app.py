"""The desk: a split-pane Textual app over the Inbox. It draws state and forwards keys."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
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
from textual.screen import Screen
from textual.widgets import Static

from tgtriage.core.inbox import Changes, Inbox
from tgtriage.core.models import Message, OutboxItem, OutboxState
from tgtriage.core.paths import Paths
from tgtriage.core.postpone import CHOICES, parse_postpone
from tgtriage.core.replies import Replies
from tgtriage.core.sanitize import clean_line
from tgtriage.core.templates import Template, trigger_at, unfilled_message
from tgtriage.core.triage import format_wait
from tgtriage.tui import heap, textual_fixes
from tgtriage.tui import keymap as km
from tgtriage.tui.chat_list import ChatList
from tgtriage.tui.composer import Composer
from tgtriage.tui.conversation import Conversation
from tgtriage.tui.footer import DeskFooter
from tgtriage.tui.message_view import Styles, message_text, outbox_text
from tgtriage.tui.panels import PanelLine, header_text, slots_text, status_text
from tgtriage.tui.rows import RowModel, row_model
from tgtriage.tui.screens import ChoiceScreen, DeskScreen, HelpScreen, SwitcherScreen
from tgtriage.tui.template_views import TemplatePicker, TemplatePopup

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
    ) -> None:
        super().__init__()
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
        self.ready = True
        self.call_after_refresh(heap.freeze_startup_heap)
        if self.start_source:
            self._start_source()

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

    async def on_unmount(self) -> None:
        """Stop the source (drafts are already stored as they are typed)."""
        heap.thaw()
        if self._inbox is not None:
            await self.inbox.stop()

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
        return message_text(
            message,
            "You" if is_me else inbox.sender_name(message),
            role,
            is_me,
            quote,
            message.id if waiting else None,
            self.styles_for_messages,
        )

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

        Nothing here waits: the messages are read from the store synchronously (a fraction of
        a millisecond) and the store writes follow in the background, so everything the key
        changes — list, slot strip, header, conversation, composer — is painted in one frame.
        """
        if chat_id is None or chat_id not in self.inbox.chats:
            return
        started = time.perf_counter()
        self._save_draft_now()
        self._close_popup()
        self.inbox.open_now(chat_id)
        messages = self.inbox.recent(chat_id, limit=FIRST_PAGE)
        conversation = self.query_one(Conversation)
        state = self.inbox.triage.get(chat_id)
        conversation.show(
            chat_id,
            messages,
            self.inbox.outbox.get(chat_id, []),
            has_older=len(messages) >= FIRST_PAGE,
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
        self.paint_log.append(("open", time.perf_counter() - started))

    async def _save_draft(self) -> None:
        """Keep the composer's text as the open chat's draft."""
        self._save_draft_now()
        if self._inbox is not None:
            await self.inbox.flush_writes()

    def _save_draft_now(self) -> None:
        """Keep the composer's text as the open chat's draft (stored in the background)."""
        if self._inbox is None or self.inbox.open_chat_id is None:
            return
        composer = self.query_one(Composer)
        if not composer.disabled:
            self.inbox.set_draft_now(self.inbox.open_chat_id, composer.text)

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
        self.inbox.set_draft_now(chat_id, event.text)
        await self._update_popup(chat_id, event.text, event.cursor)

    def _composer_edited(self, text: str, cursor: int) -> None:
        """The composer's text changed: keep the draft and update the popup, in the frame
        that shows the typed character (nothing here waits)."""
        chat_id = self.inbox.open_chat_id if self._inbox is not None else None
        if chat_id is None:
            return
        self.inbox.set_draft_now(chat_id, text)
        self._update_popup_now(chat_id, text, cursor)

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
        await self._send(event.text)

    async def _send(self, text: str) -> bool:
        """Send the composer's text to the open chat through the outbox."""
        chat_id = self.inbox.open_chat_id
        if chat_id is None or not text.strip():
            return False
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
        chats = [(chat_id, _switcher_title(titles[chat_id].title), "") for chat_id in inbox.order()]
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

    def action_back_to_list(self) -> None:
        """Back to the list (keeps the chat open on the right)."""
        self.query_one(ChatList).focus()

    def action_focus_composer(self) -> None:
        """Focus the composer of the open chat."""
        if self.inbox.open_chat_id is not None:
            self.query_one(Composer).focus()

    async def action_send_next(self) -> None:
        """Send the reply, then jump to the next waiting chat."""
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
        screen = ChoiceScreen("Postpone until…", CHOICES, prompt="16:30, 45m, 3h, 2d — Enter")
        self.push_screen(screen, partial(self._postponed, chat_id))

    async def _postponed(self, chat_id: int, value: str | None) -> None:
        if not value:
            return
        text = value[1:] if value.startswith("=") else value
        tz = self.inbox.config.business_hours.timezone
        try:
            until = parse_postpone(
                text, self.inbox.now(), tz, self.inbox.config.postpone.tomorrow_at
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

    def _failed_here(self) -> OutboxItem | None:
        """The first failed reply of the open chat."""
        chat_id = self.inbox.open_chat_id
        for item in self.inbox.outbox.get(chat_id or 0, []):
            if item.state is OutboxState.FAILED:
                return item
        return None

    def action_help(self) -> None:
        """Show every key."""
        self.push_screen(HelpScreen(self.user_keymap))

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
