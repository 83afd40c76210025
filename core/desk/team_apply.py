"""What teammates set in the team room, applied to this desk: statuses, tickets, tags, shared notes.

Applied from the folded team state (core/team/state.py), so the later event in the room's order
wins on every desk whatever order the messages arrived in. A teammate's status is not applied
over a customer message that came after it (a new customer message brings a closed or postponed
chat back, core/rules/triage.py); this desk's own events are already applied locally.
Teammates' notes live in memory only (the room holds them; a start rebuilds them), with ids
below zero so they never collide with, or get deleted as, this desk's stored notes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..rules import triage
from ..team.codec import TeamStatus
from ..team.state import SharedNote, SharedStatus
from .changes import Changes
from .models import ChatTriage, Note, Status

if TYPE_CHECKING:
    from .inbox import Inbox
    from .team import TeamDesk


def _with_status(state: ChatTriage, status: SharedStatus) -> ChatTriage:
    """A chat's summary with a teammate's status."""
    match status.status:
        case TeamStatus.CLOSED:
            return triage.close(state)
        case TeamStatus.POSTPONED if status.until is not None:
            return triage.postpone(state, status.until)
        case TeamStatus.IN_DEVELOPMENT:
            return triage.set_in_development(state, status.ticket or "", status.due)
        case _:
            return triage.reopen(state)


def apply_teammates(inbox: Inbox, team: TeamDesk, chat_id: int, me: int | None) -> None:
    """Bring one chat's status, tags and shared notes on this desk up to the team state."""
    state = team.state
    changes = Changes(chats={chat_id})
    local = inbox.triage.get(chat_id)
    status = state.statuses.get(chat_id)
    if status is not None and status.set_by != me and local is not None:
        applied = team.applied.get(chat_id)
        later_customer = (local.waiting_since or 0) > status.date
        if applied != (status.date, status.set_by) and not later_customer:
            team.applied[chat_id] = (status.date, status.set_by)
            updated = _with_status(local, status)
            if updated != local:
                inbox.triage[chat_id] = updated
                store = inbox.store
                inbox.writer.enqueue(lambda: store.save_triage([updated]))
                changes.order = True
    tags = state.tags.get(chat_id)
    if tags is not None and tags[1] != me and set(tags[0]) != inbox.tags.get(chat_id, set()):
        kept, store = set(tags[0]), inbox.store
        inbox.writer.enqueue(lambda: store.set_tags(chat_id, kept))
        if kept:
            inbox.tags[chat_id] = kept
        else:
            inbox.tags.pop(chat_id, None)
        changes.order = changes.status = True
    _apply_notes(inbox, team, chat_id, me)
    inbox.emit(changes)


_SHOWN = {
    TeamStatus.CLOSED: Status.CLOSED,
    TeamStatus.POSTPONED: Status.POSTPONED,
    TeamStatus.IN_DEVELOPMENT: Status.IN_DEVELOPMENT,
}


def set_by(inbox: Inbox, team: TeamDesk, chat_id: int) -> tuple[str | None, str | None]:
    """Which teammate set the status (with its ticket and due date) and the tags this desk
    shows for a chat: their names, or None where this engineer (or nobody) set them."""
    me = inbox.me.id if inbox.me else None
    status_by = tags_by = None
    status, local = team.state.statuses.get(chat_id), inbox.triage.get(chat_id)
    if status is not None and local is not None and status.set_by != me:
        applied = team.applied.get(chat_id) == (status.date, status.set_by)
        if applied and _SHOWN.get(status.status) is local.status:
            status_by = team.name(status.set_by)
    tags = team.state.tags.get(chat_id)
    if tags is not None and tags[1] != me and tags[0] and set(tags[0]) == inbox.tags.get(chat_id):
        tags_by = team.name(tags[1])
    return status_by, tags_by


def _apply_notes(inbox: Inbox, team: TeamDesk, chat_id: int, me: int | None) -> None:
    """Show teammates' shared notes (and the note of a handoff to this desk) among the chat's
    notes, each with its author."""
    shared = [n for n in team.state.notes.get(chat_id, []) if n.author != me]
    handoff = team.state.handoffs.get(chat_id)
    if handoff is not None and handoff.note and handoff.giver != me and handoff.taker == me:
        text = f"→ handed to you: {handoff.note}"
        shared.append(SharedNote(handoff.msg_id, handoff.giver, handoff.date, text))
    if not shared:
        return
    notes = inbox.notes.setdefault(chat_id, [])
    have = {n.id for n in notes}
    local = inbox.triage.get(chat_id)
    after = local.last_msg_id if local and local.last_msg_id else None
    for note in shared:
        if -note.msg_id not in have:
            author = f"{team.name(note.author)} (team)"
            notes.append(Note(-note.msg_id, chat_id, note.date, author, note.text, after))
    notes.sort(key=lambda n: n.date)
