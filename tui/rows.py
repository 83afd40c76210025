"""What one chat-list row says, computed from the Inbox (the widget only draws it)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.desk.inbox import Inbox
from ..core.desk.models import Status
from ..core.rules import triage
from ..core.rules.business_hours import is_business_time
from ..core.rules.sanitize import clean_line

LEVEL_MARKS = {None: " ", 0: "•", 1: "!", 2: "‼", 3: "⚠"}
UNREAD_MARK = "◉"  # in the unread column: marked unread by hand (Alt+Shift+U), no count
STATUS_MARKS = {
    Status.POSTPONED: "⏸",
    Status.IN_DEVELOPMENT: "⚙",
    Status.CLOSED: "✓",
}


@dataclass(frozen=True, slots=True)
class RowModel:
    """The facts a chat-list row shows; equal models draw identical rows."""

    chat_id: int
    slot: str
    mark: str
    title: str
    wait: str
    unread: str
    status: str
    level: int | None
    parked: bool
    typing: bool
    preview: str


_TITLES: dict[str, str] = {}


def _clean_title(title: str) -> str:
    """A chat title made safe to draw, kept: rows are rebuilt every second, titles rarely change."""
    cleaned = _TITLES.get(title)
    if cleaned is None:
        if len(_TITLES) > 10_000:
            _TITLES.clear()
        cleaned = _TITLES[title] = clean_line(title, 60)
    return cleaned


def row_model(inbox: Inbox, chat_id: int, now: int) -> RowModel:
    """Build the row for `chat_id` at time `now`."""
    state = inbox.triage[chat_id]
    chat = inbox.chats[chat_id]
    slot = inbox.slot_of(chat_id)
    parked = triage.is_set_aside(state, now)
    level = None if parked else inbox.level(chat_id, now)
    waited = inbox.wait(chat_id, now)
    status = STATUS_MARKS.get(state.status, "")
    if state.status is Status.IN_DEVELOPMENT and state.ticket:
        status = f"⚙{clean_line(state.ticket, 12)}"
    if state.reopened:
        status = "↺" + status
    if triage.reminder_due(state, now):  # back now: no longer shown as postponed
        status = "◷" + ("" if state.status is Status.POSTPONED else status)
    bounded = triage.wait_is_bounded(state)
    wait = triage.format_bounded_wait(waited, bounded) if waited is not None and not parked else ""
    hours = inbox.config.business_hours
    if wait and hours.enabled and not is_business_time(now, hours):
        wait = f"({wait})"  # outside business hours the clock stands still
    typing = bool(inbox.typing_in(chat_id))
    return RowModel(
        chat_id=chat_id,
        slot=str(slot % 10) if slot is not None else " ",
        mark=LEVEL_MARKS[int(level) if level is not None else None],
        title=_clean_title(chat.title),
        wait=wait,
        unread=str(state.unread) if state.unread else (UNREAD_MARK if state.unread_mark else ""),
        status=status,
        level=int(level) if level is not None else None,
        parked=parked,
        typing=typing,
        preview=state.last_preview,
    )
