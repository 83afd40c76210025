"""The small panels — slot strip, conversation header, status line: their Text, and the widget."""

from __future__ import annotations

import math
import time

from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.visual import VisualType
from textual.widgets import Static

from ..core.desk.events import Connection
from ..core.desk.inbox import Inbox
from ..core.desk.models import ChatTriage, Status
from ..core.desk.team_apply import set_by
from ..core.rules import triage
from ..core.rules.alerts import in_quiet_hours
from ..core.rules.business_hours import is_business_time, next_business_start
from ..core.rules.sanitize import clean_line
from ..core.rules.targets import format_targets

LEVEL_STYLES = ("green", "yellow", "dark_orange", "bold red")
LEVEL_NAMES = ("fresh", "due", "late", "breached")
STATUS_NAMES = {
    Status.OPEN: "open",
    Status.WAITING_ON_CUSTOMER: "waiting on customer",
    Status.POSTPONED: "postponed",
    Status.IN_DEVELOPMENT: "in development",
    Status.CLOSED: "closed",
}


def slots_text(inbox: Inbox, width: int) -> Text:
    """'1 Acme · Support  2 Globex…' — the working set, open one highlighted."""
    text = Text()
    if not inbox.slots:
        text.append(" Working set is empty: chats you open take slots 1–10 (Alt+1 … Alt+0)", "dim")
        return text
    room = max(8, (width // max(1, len(inbox.slots))) - 4)
    for slot in sorted(inbox.slots):
        chat_id = inbox.slots[slot]
        chat = inbox.chats.get(chat_id)
        if chat is None:
            continue
        level = inbox.level(chat_id)
        style = "reverse bold" if chat_id == inbox.open_chat_id else ""
        text.append(f" {slot % 10}", "bold")
        title = clean_line(chat.title.replace(" · Support", ""), room)
        text.append(f" {title}", style)
        if level is not None:
            text.append(" " + "!" * max(1, int(level)), LEVEL_STYLES[int(level)])
        text.append(" ")
    return text


def header_text(inbox: Inbox, chat_id: int | None) -> Text:
    """Two lines for the open chat: title, status, ticket and waiting time; then who answered
    last, who is typing and the workflow details (due date or reminder, tags, targets, notes)."""
    if chat_id is None or chat_id not in inbox.chats:
        return Text(" tgtriage — no chat open\n", "dim")
    chat = inbox.chats[chat_id]
    state = inbox.triage[chat_id]
    now = inbox.now()
    text = Text(" ")
    text.append(clean_line(chat.title, 60), "bold")
    status = inbox.status_of(chat_id)
    text.append_text(_status_part(state, status, now))
    if state.ticket:
        text.append(f"  ticket {clean_line(state.ticket, 20)}", "bold magenta")
    status_by, _ = set_by(inbox, inbox.team, chat_id)
    if status_by:
        text.append(f"  set by {clean_line(status_by, 24)}", "dim")
    if state.reopened:
        text.append("  ↺ reopened", "bold yellow")
    waited = inbox.wait(chat_id, now)
    level = inbox.level(chat_id, now)
    if waited is not None and level is not None:
        paused = clock_paused(inbox, now)
        text.append(
            f"  waiting {triage.format_bounded_wait(waited, inbox.wait_bounded(chat_id))}"
            + f" ({LEVEL_NAMES[level]}"
            + (", clock paused" if paused else "")
            + ")",
            LEVEL_STYLES[level],
        )
    text.append("\n")
    text.append_text(_details(inbox, chat_id, state, now))
    text.no_wrap = True  # each line is cut at the edge, never wrapped into the next one
    text.overflow = "ellipsis"
    return text


def _details(inbox: Inbox, chat_id: int, state: ChatTriage, now: int) -> Text:
    """The header's second line: who types, due or reminder, tags, targets, notes (or the keys
    for them)."""
    parts: list[tuple[str, str]] = []
    answered = _last_answer(inbox, state)
    typing = inbox.typing_in(chat_id)
    if typing:
        names = ", ".join(
            clean_line(u if isinstance(u, str) else getattr(u, "name", str(u)), 20) for u in typing
        )
        parts.append((f"✎ {names} typing…", "bold italic cyan"))
    if triage.reminder_due(state, now):
        at = _when(triage.reminder_at(state) or now)
        if state.status is Status.POSTPONED:
            parts.append((f"◷ reminder: postponement ended {at}", "bold yellow"))
        else:
            ticket = clean_line(state.ticket or "ticket", 20)
            parts.append((f"◷ reminder: {ticket} due {at}", "bold yellow"))
    elif state.status is Status.IN_DEVELOPMENT and state.due:
        parts.append((f"due {_when(state.due)}", "magenta"))
    tags = inbox.tags.get(chat_id)
    if tags:
        _, tags_by = set_by(inbox, inbox.team, chat_id)
        by = f" (by {clean_line(tags_by, 24)})" if tags_by else ""
        parts.append((" ".join(f"#{clean_line(t, 20)}" for t in sorted(tags)) + by, "cyan"))
    if state.levels_override is not None:
        parts.append((f"targets {format_targets(state.levels_override)}", "bold"))
    elif inbox.configured_targets(chat_id) != inbox.thresholds:
        parts.append((f"targets {format_targets(inbox.configured_targets(chat_id))}", ""))
    notes = len(inbox.notes.get(chat_id, ()))
    if notes:
        parts.append((f"▌{notes} note{'s' if notes > 1 else ''}", "yellow"))
    if not parts:
        parts.append(("Alt+D in development · Alt+G tags · Alt+N note · Alt+L targets", "dim"))
    if answered:
        parts.insert(0, (answered, "dim"))
    text = Text(" ")
    for index, (words, style) in enumerate(parts):
        if index:
            text.append("  ·  ", "dim")
        text.append(words, style)
    return text


def _last_answer(inbox: Inbox, state: ChatTriage) -> str:
    """'last answer: Priya Shah' — who on the team spoke last in the chat ('' if nobody)."""
    if state.last_staff_sender is None:
        return ""
    if inbox.me and state.last_staff_sender == inbox.me.id:
        return "last answer: you"
    who = inbox.users.get(state.last_staff_sender)
    return f"last answer: {clean_line(who.name if who else 'staff', 24)}"


def _when(t: int) -> str:
    """'Tue 11:30' in local time."""
    return time.strftime("%a %H:%M", time.localtime(t))


def _status_part(state: ChatTriage, status: Status, now: int) -> Text:
    """'[postponed until Tue 11:30]', '[in development]', '[◷ reminder]'."""
    if triage.reminder_due(state, now):
        return Text("  [◷ reminder]", "bold yellow")
    words = STATUS_NAMES[status]
    if status is Status.POSTPONED and state.postponed_until:
        words += " until " + _when(state.postponed_until)
    return Text(f"  [{words}]", "italic")


def clock_paused(inbox: Inbox, now: int) -> bool:
    """Business hours are on and it is outside them: the response clocks stand still."""
    hours = inbox.config.business_hours
    return hours.enabled and not is_business_time(now, hours)


def view_bar_text(inbox: Inbox, keys: str, width: int) -> Text:
    """'Waiting · 3 chats   F3 · Alt+V' — the list's active view, above the list; the keys
    right-aligned when they fit in `width`."""
    view = inbox.view
    count = len(inbox.order())
    text = Text(" ")
    text.append(clean_line(view.label, 30), "bold")
    text.append(f" · {count} chat{'' if count == 1 else 's'}", "dim" if count else "yellow")
    room = width - text.cell_len - 1
    for hint in (keys, keys.split(" · ")[0]):
        if len(hint) + 2 <= room:
            text.append(" " * (room - len(hint)) + hint, "dim")
            break
    return text


def paused_text(inbox: Inbox, now: int) -> str:
    """'clocks paused until Mon 09:00' outside business hours, else ''."""
    if not clock_paused(inbox, now):
        return ""
    try:
        resume = next_business_start(now, inbox.config.business_hours)
    except ValueError:
        return "clocks paused"
    return f"clocks paused until {_when(resume)}"


def status_text(inbox: Inbox, source_label: str) -> Text:
    """Connection, flood-wait countdown, sync progress and awaiting counts by level."""
    now = inbox.now()
    text = Text(" ")
    conn = inbox.connection
    style = {"connected": "green", "connecting": "yellow", "offline": "bold red"}[conn.value]
    text.append(f"● {conn.value}", style)
    text.append(f" {source_label}", "dim")
    held = inbox.held_reply()
    if held is not None:
        text.append(f"  ⏳ sending in {math.ceil(held[1])} s — Alt+Z undo", "bold yellow")
    if inbox.flood_until and inbox.flood_until > now:
        text.append(f"  flood wait {inbox.flood_until - now}s", "bold red")
    if inbox.sync is not None:
        text.append(f"  {inbox.sync.what} {inbox.sync.current}/{inbox.sync.total}", "yellow")
    damaged = inbox.damaged.status  # first: what to do must not be cut off at the edge
    if damaged:
        text.append(f"  │ {damaged}", "bold red")
    counts = inbox.level_counts(now)
    total = sum(counts)
    text.append("  │ ", "dim")
    if total == 0:
        text.append("nobody waiting", "green")
    else:
        text.append(f"{total} waiting: ", "bold")
        parts = [(n, LEVEL_NAMES[i], LEVEL_STYLES[i]) for i, n in enumerate(counts) if n]
        for index, (count, name, lvl_style) in enumerate(parts):
            if index:
                text.append(" · ", "dim")
            text.append(f"{count} {name}", lvl_style)
    paused = paused_text(inbox, now)
    if paused:
        text.append(f"  │ {paused}", "italic")
    alerts = inbox.config.alerts
    if alerts.enabled and in_quiet_hours(
        now, alerts.quiet_hours, inbox.config.business_hours.timezone
    ):
        text.append("  │ quiet hours", "dim")
    failed = inbox.failed_items()
    if failed:
        text.append(f"  │ {len(failed)} unsent", "bold red")
    unshown = inbox.unshown
    if unshown:
        noun = "message" if unshown == 1 else "messages"
        text.append(f"  │ {unshown} {noun} could not be shown — see the log", "bold red")
    kept = inbox.kept.status
    if kept:
        text.append(f"  │ {kept}", "bold red")
    if conn is Connection.OFFLINE and inbox.connection_detail:
        text.append(f"  {clean_line(inbox.connection_detail, 40)}", "dim")
        retry_at = inbox.connection_retry_at
        if retry_at is not None:
            left = max(0, math.ceil(retry_at - inbox.clock()))
            text.append(f"; retrying in {left} s" if left else "; retrying now", "dim")
    return text


class PanelLine(Static):
    """A panel of a line or two (slot strip, header, status line) drawn with the line API.

    `Static` renders through Textual's visual pipeline on every update — about half a
    millisecond a line here, and these lines change on most keys. A `Text` given to
    `update()` is rendered once into segments instead, a strip per line, each cut at the
    edge with an ellipsis; anything else takes Static's path.
    """

    def __init__(self, *, id: str | None = None) -> None:
        """An empty panel."""
        super().__init__(id=id)
        self._line_text: Text | None = None
        self._lines: list[Strip] | None = None
        self._line_key: tuple[int, Style] | None = None

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        """Show `content` (a Text takes the fast path)."""
        if isinstance(content, Text):
            self._line_text = content
            self._lines = None
            self.refresh(layout=layout)
            return
        self._line_text = None
        super().update(content, layout=layout)

    def render_line(self, y: int) -> Strip:
        """Line `y` of the panel (blank below the text's lines)."""
        if self._line_text is None:
            return super().render_line(y)
        width = self.size.width
        base = self.rich_style
        key = (width, base)
        if self._lines is None or self._line_key != key:
            self._lines = [
                self._strip(line, width, base)
                for line in self._line_text.split("\n", allow_blank=True)
            ]
            self._line_key = key
        return self._lines[y] if y < len(self._lines) else Strip.blank(width, base)

    def _strip(self, line: Text, width: int, base: Style) -> Strip:
        """One line of the text, cut at `width` with an ellipsis, on the panel's style."""
        if line.cell_len > width:
            line = line.copy()
            line.truncate(width, overflow="ellipsis")
        segments = list(line.render(self.app.console))
        return Strip(segments).crop_extend(0, width, None).apply_style(base)
