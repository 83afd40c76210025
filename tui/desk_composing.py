"""Opening a chat and the composer: drafts, notes, the template popup and sending."""

from __future__ import annotations

import time

from textual import on

from ..core.rules.desk_choices import enter_takes_template
from ..core.templates import Template, trigger_at, unfilled_message
from .chat_list import ChatList
from .composer import NOTE_TITLE, SHARED_NOTE_TITLE, Composer
from .conversation import Conversation
from .desk_base import FIRST_PAGE, DeskBase
from .template_views import TemplatePicker, TemplatePopup


class DeskComposing(DeskBase):
    """Opening a chat and the composer: drafts, notes, the template popup and sending."""

    async def open_chat(
        self,
        chat_id: int | None,
        focus_composer: bool = True,
        reveal: bool | None = None,
        join: bool = True,
    ) -> None:
        """Show a chat on the right, restore its draft, and (`join`) put it in the working set.

        Nothing here waits but for a chat whose messages are not in memory: they come from the
        Inbox's memory and the store writes follow the paint, so everything the key changes —
        list, slot strip, header, conversation, composer — is painted in one frame, and only
        once (`Inbox.painted`).
        """
        if chat_id is None or chat_id not in self.inbox.chats:
            return
        if not self.inbox.messages_known(chat_id):
            # Not in memory (a big desk keeps some chats' only): read before the paint, which
            # then shows the messages at once instead of an empty chat and a second frame.
            await self.inbox.read_window(chat_id)
            if chat_id not in self.inbox.chats:
                return
        started = time.perf_counter()
        self.query_one(Composer).flush_edits()  # edits typed so far belong to the chat left
        self._save_draft_now()
        self._close_popup()
        opened = self.inbox.open(chat_id, join=join)
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
        self._show_reply_quote(chat_id)
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
        if self.editing is not None:
            self._end_edit()  # leaving an unsaved edit: the draft from before it comes back
        composer = self.query_one(Composer)
        if composer.note_mode:
            # Leaving a chat in note mode: the note waits for Alt+N there, never as a reply.
            self._keep_note_draft(self.inbox.open_chat_id, composer.text)
            composer.set_note_mode(False)
            return
        if not composer.disabled:
            self.inbox.set_draft(self.inbox.open_chat_id, composer.text)

    def _reload_draft(self, chat_id: int) -> None:
        """Show the chat's draft that the desk changed itself (a kept reply went out)."""
        composer = self.query_one(Composer)
        if not composer.note_mode:
            composer.load(self.inbox.drafts.get(chat_id, ""))

    def _keep_note_draft(self, chat_id: int, text: str) -> None:
        """Keep an unsaved note's text for the chat (stored like a reply draft)."""
        self.inbox.set_note_draft(chat_id, text)

    @on(ChatList.Chosen)
    async def _chosen(self, event: ChatList.Chosen) -> None:
        await self.open_chat(event.chat_id, join=False)

    def _composer_edited(self, line: str, column: int) -> None:
        """An edit: update the popup from the cursor's line, in the frame that shows it."""
        chat_id = self.inbox.open_chat_id if self._inbox is not None else None
        if chat_id is not None:
            self._update_popup_now(chat_id, line, column)

    def _composer_text(self, text: str) -> None:
        """The composer's text after a burst of edits: keep it as the draft (or the note)."""
        chat_id = self.inbox.open_chat_id if self._inbox is not None else None
        if chat_id is not None:
            self._keep_text(chat_id, text)

    def _keep_text(self, chat_id: int, text: str) -> None:
        """Keep what the composer holds: the chat's reply draft, or in note mode the note's."""
        if self.editing is not None:
            return  # the text of a sent message being edited is no draft
        if self.query_one(Composer).note_mode:
            self._keep_note_draft(chat_id, text)
        else:
            self.inbox.set_draft(chat_id, text)
            if text.strip():
                self.inbox.team.typing(chat_id)
            warning = self.inbox.team.typing_warning(chat_id) if text.strip() else None
            if warning:
                self.notify(warning, severity="warning", timeout=8, markup=False)

    def _update_popup_now(self, chat_id: int, line: str, column: int) -> None:
        """Open, refresh or close the template popup for a `/word` before the cursor (on its
        line: a `/word` never spans lines)."""
        found = trigger_at(line, column)
        popup = self.query_one(TemplatePopup)
        composer = self.query_one(Composer)
        if composer.loads != self._dismissed_load:
            self._dismissed_at = None  # new text was loaded since: a dismissal does not carry over
        if found is not None:  # offsets in the line → offsets in the whole text
            line_start = composer.cursor_index - column
            found = (line_start + found[0], found[1])
            cursor = line_start + column
        if found is None or found[0] == self._dismissed_at:
            if found is None:
                self._dismissed_at = None
            self._close_popup()
            return
        start, word = found
        templates = self.replies.suggest_now(chat_id, word)
        if self._trigger is None or self._trigger[0] != start:
            self._popup_moved = False  # a new `/word`: the highlight is the desk's guess again
        self._trigger = (start, cursor)
        self._trigger_word = word
        self._place_popup(popup, composer)
        popup.show_templates(templates)
        self.popup_shown = self.query_one(Composer).popup_open = bool(templates)

    def _place_popup(self, popup: TemplatePopup, composer: Composer) -> None:
        """Sit the popup (docked at the bottom of the right pane, over the conversation)
        right above the composer, whose height follows its text."""
        above = -composer.outer_size.height
        if popup.styles.offset.y.value != above:
            popup.styles.offset = (0, above)

    def _close_popup(self) -> None:
        """Hide the popup; the composer's keys go back to editing."""
        self._trigger = None
        self.query_one(TemplatePopup).display = False
        self.popup_shown = self.query_one(Composer).popup_open = False

    @on(Composer.PopupKey)
    async def _popup_key(self, event: Composer.PopupKey) -> None:
        popup = self.query_one(TemplatePopup)
        if event.key in ("up", "down"):
            popup.move(-1 if event.key == "up" else 1)
            self._popup_moved = True
        elif event.key == "enter" and not enter_takes_template(
            self._trigger_word, (t.key for t in popup.templates), self._popup_moved
        ):
            self._close_popup()
            await self._submitted(Composer.Submitted(self.query_one(Composer).text))
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
        composer.track_fields([field.shifted(start) for field in rendered.fields])
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
        self.inbox.set_note_draft(chat_id, "")
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
        if self.editing is not None:
            return await self._save_edit(text)  # Enter (or Ctrl+S) saves the edit
        problem = unfilled_message(text)
        if problem is not None:
            self.notify(f"Not sent: {problem}", severity="error", timeout=5)
            return False
        item = await self.inbox.send(chat_id, text, reply_to=self.reply_targets.get(chat_id))
        if item is None:
            return False
        if self.reply_targets.pop(chat_id, None) is not None:
            self._show_reply_quote(chat_id)
        self.query_one(Composer).load("")
        self.query_one(Conversation).set_outbox(self.inbox.outbox.get(chat_id, []))
        return True

    def action_clear_composer(self) -> None:
        """Ctrl+U: empty the composer as one undoable edit (Ctrl+Z brings the text back)."""
        composer = self.query_one(Composer)
        if self._inbox is None or self.inbox.open_chat_id is None or composer.disabled:
            return
        if composer.clear_undoably():
            self.notify("Composer cleared — Ctrl+Z brings the text back.", timeout=3)
        composer.focus()

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
            shared = self.inbox.team.active and self.inbox.config.team.share_notes
            composer.set_note_mode(True, SHARED_NOTE_TITLE if shared else NOTE_TITLE)
            if typed.strip():  # what was typed as a reply becomes the note
                self.inbox.set_draft(chat_id, "")
                self._keep_note_draft(chat_id, typed)
            else:
                composer.load(self.inbox.note_drafts.get(chat_id, ""))
        self._close_popup()
        composer.focus()
