"""Message mode: a cursor on the open conversation's messages, and what it does to one."""

from __future__ import annotations

from functools import partial

from textual import on
from textual.widgets import Static

from ..core.desk.models import Message
from ..core.rules import message_cursor as mc
from ..core.rules.sanitize import clean_line, clean_text
from .composer import Composer
from .conversation import Conversation
from .desk_base import DeskBase
from .message_view import media_placeholder


class DeskMessages(DeskBase):
    """Message mode's actions: move the cursor; reply to, copy, edit, delete the selection."""

    def action_message_mode(self) -> None:
        """Ctrl+↑ (or ↑ on an empty composer): the cursor on the newest message."""
        if self._inbox is None or self.inbox.open_chat_id is None:
            self.notify("Open a chat first.", timeout=3)
            return
        conversation = self.query_one(Conversation)
        newest = mc.first_selection(mc.selectable(conversation.messages))
        if newest is None:
            self.notify("No message here to act on yet.", timeout=3)
            return
        self._close_popup()
        conversation.select(newest)
        conversation.focus()

    def action_message_move(self, key: str) -> None:
        """↑ ↓ PgUp PgDn Home End in message mode: the cursor moves (core/rules/message_cursor.py)."""
        conversation = self.query_one(Conversation)
        ids = mc.selectable(conversation.messages)
        page = max(1, conversation.size.height // 3)
        target = mc.moved(ids, conversation.selected_id, key, page)
        conversation.select(target)
        if key in ("up", "pageup", "home") and mc.at_top(ids, target):
            conversation.need_older()

    @on(Conversation.CursorKey)
    def _cursor_key(self, event: Conversation.CursorKey) -> None:
        self.action_message_move(event.key)

    def action_message_leave(self) -> None:
        """Esc in message mode: the cursor goes, the composer takes the keys again."""
        self._end_message_mode()
        if self.inbox.open_chat_id is not None:
            self.query_one(Composer).focus()

    @on(Conversation.CursorLeft)
    def _cursor_left(self, event: Conversation.CursorLeft) -> None:
        """The conversation lost the focus (a click, a chat switch): no cursor is left on it."""
        if self.dialog is None:
            self._end_message_mode()

    def _end_message_mode(self) -> None:
        """Take the cursor off the conversation."""
        self.query_one(Conversation).select(None)

    def _selected(self, act: mc.MessageAct) -> Message | None:
        """The message under the cursor if `act` can be done to it, else None with the reason."""
        conversation = self.query_one(Conversation)
        selected = next(
            (m for m in conversation.messages if m.id == conversation.selected_id), None
        )
        if selected is None:
            return None
        problem = mc.refusal(act, selected, can_edit=self.inbox.changes_messages)
        if problem is not None:
            self.notify(problem, timeout=4, markup=False)
            return None
        return selected

    def action_message_reply(self) -> None:
        """R: reply to the selected message — quoted above the composer, sent with reply_to."""
        message = self._selected(mc.MessageAct.REPLY)
        if message is None:
            return
        self.reply_targets[message.chat_id] = message.id
        self._show_reply_quote(message.chat_id)
        self._end_message_mode()
        self.query_one(Composer).focus()

    def action_message_copy(self) -> None:
        """C: the selected message's text to the clipboard, escapes stripped (OSC 52, and
        wl-copy / xclip / xsel where a display exists)."""
        message = self._selected(mc.MessageAct.COPY)
        if message is None:
            return
        text = clean_text(message.text)
        self.copy_text(text, f"Copied {len(text)} characters")

    def action_message_edit(self) -> None:
        """E: the composer loads our selected message; Enter saves it through the source."""
        message = self._selected(mc.MessageAct.EDIT)
        if message is None:
            return
        composer = self.query_one(Composer)
        if self.editing is None:
            composer.flush_edits()
            self.edit_stash = composer.text
        self.editing = (message.chat_id, message.id)
        self._end_message_mode()
        composer.load(clean_text(message.text))
        self._show_reply_quote(message.chat_id)
        composer.focus()

    async def _save_edit(self, text: str) -> bool:
        """Save the edit in the background (the desk keeps answering keys meanwhile)."""
        if self.editing is None:
            return False
        chat_id, message_id = self.editing
        self.run_worker(self._edit_saved(chat_id, message_id, text), group="message-change")
        return True

    async def _edit_saved(self, chat_id: int, message_id: int, text: str) -> None:
        """Send the edit; a refusal is shown and the text stays for another try or Esc."""
        problem = await self.inbox.edit_message(chat_id, message_id, text)
        if problem is not None:
            self.notify(f"Not edited: {problem}", severity="error", timeout=8, markup=False)
            return
        if self.editing == (chat_id, message_id):
            self._end_edit()
        self.notify("Edited.", timeout=3)

    def _end_edit(self) -> None:
        """Leave editing: the composer gets back what it held before."""
        if self.editing is None:
            return
        chat_id = self.editing[0]
        self.editing = None
        self.query_one(Composer).load(self.edit_stash)
        self.edit_stash = ""
        self._show_reply_quote(chat_id)

    def action_message_react(self) -> None:
        """+: a reaction from a short list (core/rules/message_cursor.py REACTIONS) on it."""
        message = self._selected(mc.MessageAct.REACT)
        if message is None:
            return
        choices = [(emoji, f"{n}  {emoji}") for n, emoji in enumerate(mc.REACTIONS, 1)]
        done = partial(self._react_chosen, message.chat_id, message.id)
        self.choose("React with (press its digit)", choices, done)

    async def _react_chosen(self, chat_id: int, message_id: int, emoji: str | None) -> None:
        """The reaction chosen (None: none): sent in the background."""
        self._end_message_mode()
        if self.inbox.open_chat_id is not None:
            self.query_one(Composer).focus()
        if emoji in mc.REACTIONS:
            self.run_worker(self._reacted(chat_id, message_id, emoji), group="message-change")

    async def _reacted(self, chat_id: int, message_id: int, emoji: str) -> None:
        """React through the source; say that it is done, or why not."""
        problem = await self.inbox.react_to(chat_id, message_id, emoji)
        if problem is not None:
            self.notify(f"No reaction: {problem}", severity="error", timeout=8, markup=False)
        else:
            self.notify(f"Reacted {emoji}", timeout=3, markup=False)

    def action_message_open(self) -> None:
        """O: open the selected message's file or the ticket it mentions (one of them: choose)."""
        message = self._selected(mc.MessageAct.OPEN)
        if message is None:
            return
        targets = mc.openable(message, self.inbox.config.tickets)
        if not targets:
            self.notify(
                "Nothing to open: no photo or file, and no ticket (like JIRA-123, #4821) in it.",
                timeout=4,
            )
            return
        if len(targets) == 1:
            self._open_target(message, targets[0])
            return
        file_label = media_placeholder(message.media) if message.media else ""
        choices = [
            (target, f"{n}  {file_label if target == mc.FILE else target}")
            for n, target in enumerate(targets[:9], start=1)
        ]
        self.choose("Open which? (press its digit)", choices, partial(self._open_chosen, message))

    def _open_chosen(self, message: Message, target: str | None) -> None:
        """The chooser's answer: open it (None: nothing)."""
        if target is not None and not target.startswith("="):
            self._open_target(message, target)

    def _open_target(self, message: Message, target: str) -> None:
        """Open the message's file (through the download path) or one of its tickets."""
        if target == mc.FILE:
            self._download_or_say(message)
        else:
            self._open_ticket(target)

    def action_message_delete(self) -> None:
        """D: delete our selected message for everyone, after one key (1 or Enter)."""
        message = self._selected(mc.MessageAct.DELETE)
        if message is None:
            return
        said = clean_line(message.text or "[media]", 50)
        self.choose(
            f"Delete “{said}” for everyone?",
            [("delete", "1  Delete for everyone"), ("keep", "2  Keep it")],
            partial(self._delete_chosen, message.chat_id, message.id),
        )

    async def _delete_chosen(self, chat_id: int, message_id: int, value: str | None) -> None:
        """The confirmation's answer: delete (and say so, or why not), or keep."""
        self._end_message_mode()
        if self.inbox.open_chat_id is not None:
            self.query_one(Composer).focus()
        if value == "delete":
            self.run_worker(self._deleted(chat_id, message_id), group="message-change")

    async def _deleted(self, chat_id: int, message_id: int) -> None:
        """Delete through the source in the background; say that it is done, or why not."""
        problem = await self.inbox.delete_message(chat_id, message_id)
        if problem is not None:
            self.notify(f"Not deleted: {problem}", severity="error", timeout=8, markup=False)
        else:
            self.notify("Deleted for everyone.", timeout=3)

    def _show_reply_quote(self, chat_id: int | None) -> None:
        """Show above the composer which message the composer edits or the next reply answers."""
        quote = self.query_one("#reply-quote", Static)
        if self.editing is not None and self.editing[0] == chat_id:
            quote.update("✎ Editing your message · Enter saves · Esc cancels")
            quote.display = True
            return
        target = self.reply_targets.get(chat_id) if chat_id is not None else None
        quoted = None
        if target is not None:
            held = self.query_one(Conversation).messages
            quoted = next((m for m in held if m.id == target), None)
        if target is None:
            quote.display = False
            return
        if quoted is None:
            line = "↪ Replying to an earlier message (Esc cancels)"
        else:
            name = "You" if quoted.out else self.inbox.sender_name(quoted)
            said = clean_line(quoted.text or "[media]", 70)
            line = f"↪ Replying to {clean_line(name, 30)} (Esc cancels): {said}"
        quote.update(line)
        quote.display = True

    def cancel_reply(self) -> bool:
        """Cancel an edit, else drop the open chat's reply target (Esc in the composer); False if
        there was neither."""
        if self.editing is not None:
            self._end_edit()
            return True
        chat_id = self.inbox.open_chat_id if self._inbox is not None else None
        if chat_id is None or self.reply_targets.pop(chat_id, None) is None:
            return False
        self._show_reply_quote(chat_id)
        return True
