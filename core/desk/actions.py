"""The engineer's actions on the desk: each changes the live state at once and queues its write.

Nothing here waits for the store (see core/desk/writer.py), so a key paints in the frame it was
pressed; `Inbox.flushed()` waits for the writes.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Coroutine
from typing import TYPE_CHECKING

from ..rules import forum, triage, views, working_set
from ..sources.base import ChatSource
from ..storage.store import Store
from ..team.codec import TeamStatus
from . import team_handoff
from .changes import Changes
from .kept import KeptReplies, KeptReply
from .models import ChatTriage, Message, Note, OutboxItem
from .outbox import Outbox
from .queries import InboxQueries
from .team import TeamDesk
from .writer import StoreWriter

log = logging.getLogger(__name__)

SLOTS = working_set.SLOTS


class InboxActions(InboxQueries):
    """What the engineer does to chats: open, pin, mark, park, tag, note, draft, reply."""

    store: Store
    source: ChatSource
    writer: StoreWriter
    outgoing: Outbox
    team: TeamDesk
    drafts: dict[int, str]
    note_drafts: dict[int, str]
    kept: KeptReplies
    notes: dict[int, list[Note]]
    open_chat_id: int | None
    slot_used: dict[int, int]  # slotted chat id → when last used (a counter)
    _next_note_id: int

    if TYPE_CHECKING:  # provided by the Inbox (core/desk/inbox.py)

        def emit(self, changes: Changes) -> None: ...

        def spawn(self, coro: Coroutine[object, object, object]) -> None: ...

        def read_windows(
            self, chat_ids: list[int], *, first: bool = False, ahead: bool = False
        ) -> None: ...

        async def messages(self, chat_id: int, limit: int = 100) -> list[Message]: ...

        def mark_unread_now(self, chat_id: int, unread: bool) -> None: ...

    def open(self, chat_id: int, join: bool = True) -> Changes | None:
        """Open a chat and mark it read; with `join` it also takes a working-set slot.

        Browsing past a chat (Alt+↓/↑, the list) opens it without `join`. The live state
        changes now and the store follows. Returns what changed (so the screen can paint it
        and call `painted()`), or None for an unknown chat.
        """
        if chat_id not in self.chats:
            return None
        self.open_chat_id = chat_id
        changes = Changes(chats={chat_id}, order=team_handoff.opened(self.team, chat_id))
        if join:
            self.join_working_set(chat_id, changes)
        if self.config.telegram.mark_read == "on_open":
            self.read_chat()
        if chat_id in self.triage and self.triage[chat_id].unread_mark:
            self.mark_unread_now(chat_id, False)  # opening a chat marked unread is reading it
        self._save_state(chat_id)
        self.read_windows([chat_id], first=True)
        self.emit(changes)
        return changes

    def join_working_set(self, chat_id: int, changes: Changes) -> None:
        """Give a chat a slot (see core/rules/working_set.py) and count it as just used."""
        self.slot_used[chat_id] = max(self.slot_used.values(), default=0) + 1
        now = self.now()
        busy = {
            held
            for held in self.slots.values()
            if held in self.drafts
            or (held in self.triage and triage.is_awaiting(self.triage[held], now))
        }
        placed = working_set.join(self.slots, chat_id, self.slot_used, busy)
        if placed is None:
            return
        slot, replaced = placed
        if replaced is not None:
            self.slot_used.pop(replaced, None)
            changes.chats.add(replaced)
        self._set_slot(slot, chat_id)
        changes.slots = True
        changes.chats.add(chat_id)

    def walk_next(self) -> int | None:
        """Ctrl+N's next waiting chat from the open one, remembered in the round (core/rules/walk.py)."""
        chosen, self.walk_passed = self.walk()
        return chosen

    def _save_state(self, chat_id: int) -> None:
        """Store a chat's current summary next (if it is still known then)."""

        async def save() -> None:
            if chat_id in self.triage:
                await self.store.save_triage([self.triage[chat_id]])

        self.writer.enqueue(save, key=("triage", chat_id))

    def read_chat(self, chat_id: int | None = None) -> None:
        """Mark the open chat (or `chat_id`) read here and (in the background) at the source."""
        chat_id = self.open_chat_id if chat_id is None else chat_id
        if chat_id is None or chat_id not in self.triage:
            return
        state = self.triage[chat_id]
        if state.unread == 0 and state.read_inbox_max >= state.last_msg_id:
            return
        self.triage[chat_id] = state.model_copy(
            update={"unread": 0, "read_inbox_max": max(state.read_inbox_max, state.last_msg_id)}
        )
        self.spawn(self._mark_read_remote(chat_id, state.last_msg_id))

    async def _mark_read_remote(self, chat_id: int, upto: int) -> None:
        """Tell the source that the chat was read."""
        try:
            await self.source.mark_read(chat_id, upto)
        except Exception as exc:
            log.warning("mark read failed: %s", exc)

    def _set_slot(self, slot: int, chat_id: int | None) -> None:
        """Put a chat into a slot (freeing its old one), or empty the slot; stored next."""
        if chat_id is not None:
            old = self.slot_of(chat_id)
            if old is not None:
                del self.slots[old]
            self.slots[slot] = chat_id
        else:
            self.slots.pop(slot, None)
        store = self.store
        self.writer.enqueue(lambda: store.set_slot(slot, chat_id))

    async def pin(self, chat_id: int, slot: int) -> None:
        """Pin a chat to a working-set slot, replacing whatever was there."""
        self.slot_used[chat_id] = max(self.slot_used.values(), default=0) + 1
        self._set_slot(slot, chat_id)
        self.emit(Changes(slots=True, chats={chat_id}))

    async def unpin(self, chat_id: int) -> int | None:
        """Take a chat out of the working set; return the slot it had."""
        slot = self.slot_of(chat_id)
        if slot is not None:
            self._set_slot(slot, None)
            self.emit(Changes(slots=True, chats={chat_id}))
        return slot

    def _update(self, chat_id: int, state: ChatTriage, notice: str | None = None) -> None:
        """Take a chat's new summary, store it next and announce it."""
        self.triage[chat_id] = state
        self._save_state(chat_id)
        self.emit(Changes(chats={chat_id}, order=True, notices=[notice] if notice else []))

    async def mark_handled(self, chat_id: int) -> None:
        """No reply needed: the chat stops waiting until the customer writes again.

        It also acknowledges a reminder that came due. With `[staff] reaction_handled`, the
        customer's last message gets the handled reaction, so the team sees it in Telegram.
        """
        if chat_id not in self.triage:
            return
        self._update(chat_id, triage.mark_handled(self.triage[chat_id], self.now()))
        if self.config.staff.reaction_handled and self.config.staff.handled_reaction:
            self.spawn(self._react_handled(chat_id))

    async def _react_handled(self, chat_id: int) -> None:
        """Put the handled reaction on the customer's last message; a failure is only noted."""
        emoji = self.config.staff.handled_reaction
        recent = await self.messages(chat_id, limit=50)
        customer = [m for m in recent if self._rule.role(m) is triage.Role.CUSTOMER]
        if not customer:
            return
        try:
            await self.source.react(chat_id, customer[-1].id, emoji)
        except Exception as exc:
            log.warning("could not react in %s: %s", chat_id, exc)
            self.emit(Changes(notices=[f"Handled here, but the {emoji} reaction failed: {exc}"]))

    async def set_levels(self, chat_id: int, targets: triage.Targets | None) -> None:
        """Give a chat its own response targets in seconds (None: the configured ones)."""
        if chat_id in self.triage:
            self._update(chat_id, triage.set_levels(self.triage[chat_id], targets))

    async def set_tags(self, chat_id: int, tags: set[str]) -> None:
        """Replace a chat's tags (already normalised, see core/rules/tags.py)."""
        if chat_id not in self.chats:
            return
        store, kept = self.store, set(tags)
        self.writer.enqueue(lambda: store.set_tags(chat_id, kept))
        if tags:
            self.tags[chat_id] = set(tags)
        else:
            self.tags.pop(chat_id, None)
        self.spawn(self.team.share_tags(chat_id, set(tags)))
        self.emit(Changes(chats={chat_id}, order=True, status=True))

    async def add_note(self, chat_id: int, text: str) -> Note | None:
        """Keep an internal note on a chat, after its last message; with a team room it is
        shared there too (`[team] share_notes`), unless it starts with `!` (kept private)."""
        text = text.strip()
        private = text.startswith("!")
        text = text.removeprefix("!").strip() if private else text
        if not text or chat_id not in self.chats:
            return None
        if self.config.team.share_notes and not private:
            self.spawn(self.team.share_note(chat_id, text))
        author = self.config.agent_name or (self.me.name if self.me else "me")
        state = self.triage.get(chat_id)
        after = state.last_msg_id if state and state.last_msg_id else None
        note = Note(self._next_note_id, chat_id, self.now(), author, text, after)
        self._next_note_id += 1
        store = self.store
        self.writer.enqueue(lambda: store.add_note_row(note))
        self.notes.setdefault(chat_id, []).append(note)
        self.emit(Changes(chats={chat_id}))
        return note

    async def delete_note(self, note: Note) -> None:
        """Remove a note."""
        store = self.store
        self.writer.enqueue(lambda: store.delete_note(note.id))
        kept = [n for n in self.notes.get(note.chat_id, []) if n.id != note.id]
        if kept:
            self.notes[note.chat_id] = kept
        else:
            self.notes.pop(note.chat_id, None)
        self.emit(Changes(chats={note.chat_id}))

    def set_view(self, view: views.View) -> None:
        """Show another view of the list."""
        self.view = view
        self.emit(Changes(order=True, status=True))

    async def postpone(self, chat_id: int, until: int) -> None:
        """Hide the chat from the top until `until`."""
        if chat_id in self.triage:
            self._update(chat_id, triage.postpone(self.triage[chat_id], until))
            self.spawn(self.team.share_status(chat_id, TeamStatus.POSTPONED, until=until))

    async def close(self, chat_id: int) -> None:
        """Close the chat until the customer writes again."""
        if chat_id in self.triage:
            self._update(chat_id, triage.close(self.triage[chat_id]))
            self.spawn(self.team.share_status(chat_id, TeamStatus.CLOSED))

    async def reopen(self, chat_id: int) -> None:
        """Undo postponed/closed/in-development."""
        if chat_id in self.triage:
            self._update(chat_id, triage.reopen(self.triage[chat_id]))
            self.spawn(self.team.share_status(chat_id, TeamStatus.REOPENED))

    async def set_in_development(self, chat_id: int, ticket: str, due: int | None = None) -> None:
        """Park the chat under a ticket reference with an optional due date."""
        if chat_id in self.triage:
            self._update(chat_id, triage.set_in_development(self.triage[chat_id], ticket, due))
            status = TeamStatus.IN_DEVELOPMENT
            self.spawn(self.team.share_status(chat_id, status, ticket=ticket, due=due))

    def set_draft(self, chat_id: int, text: str) -> None:
        """Keep the composer's text for a chat (empty deletes it); stored next, a newer draft
        replacing one not stored yet."""
        if self.drafts.get(chat_id, "") == text:
            return
        if text:
            self.drafts[chat_id] = text
        else:
            self.drafts.pop(chat_id, None)
        store = self.store
        self.writer.enqueue(lambda: store.set_draft(chat_id, text), key=("draft", chat_id))

    async def send(self, chat_id: int, text: str, reply_to: int | None = None) -> OutboxItem | None:
        """Put a reply in the outbox (stored before it is sent), then deliver it in the background.

        While the source is offline the reply stays queued and goes by itself, in order, when
        the connection is back (with the same random id, so never twice).
        """
        text = text.strip()
        if not text or chat_id not in self.chats:
            return None
        if reply_to is None:
            reply_to = forum.reply_anchor(self.chats[chat_id], self.triage.get(chat_id))
        try:
            item = await self.outgoing.add(
                chat_id, text, reply_to, hold=self.config.undo_send_seconds
            )
        except sqlite3.Error as error:  # a full disk, a read-only store: kept, not sent
            self.drafts[chat_id] = text
            self.kept.keep(KeptReply(chat_id, text, reply_to), error)
            self.emit(Changes(status=True))
            return None
        self.set_draft(chat_id, "")
        self.spawn(self.team.replied(chat_id))
        changes = Changes(outbox={chat_id})
        self.join_working_set(chat_id, changes)
        self.emit(changes)
        return item

    def set_note_draft(self, chat_id: int, text: str) -> None:
        """Keep a half-written note of a chat (blank deletes it); stored next."""
        if self.note_drafts.get(chat_id, "") == text:
            return
        if text.strip():
            self.note_drafts[chat_id] = text
        else:
            self.note_drafts.pop(chat_id, None)
        store = self.store
        self.writer.enqueue(
            lambda: store.set_note_draft(chat_id, text), key=("note draft", chat_id)
        )
