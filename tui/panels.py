"""The small panels — slot strip, conversation header, status line: their Text, and the widget."""

from __future__ import annotations

import time

from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.visual import VisualType
from textual.widgets import Static

from tgtriage.core import triage
from tgtriage.core.events import Connection
from tgtriage.core.inbox import Inbox
from tgtriage.core.models import Status
from tgtriage.core.sanitize import clean_line

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
        text.append(
            " Working set is empty: opening a chat puts it in slot 1–0 (Alt+1 … Alt+0)", "dim"
        )
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
    """Title, status, ticket, waiting time and who answered last for the open chat."""
    if chat_id is None or chat_id not in inbox.chats:
        return Text(" tgtriage — no chat open", "dim")
    chat = inbox.chats[chat_id]
    state = inbox.triage[chat_id]
    now = inbox.now()
    text = Text(" ")
    text.append(clean_line(chat.title, 60), "bold")
    text.append(f"  {chat.kind}", "dim")
    status = inbox.status_of(chat_id)
    text.append(f"  [{STATUS_NAMES[status]}", "italic")
    if status is Status.POSTPONED and state.postponed_until:
        text.append(
            " until " + time.strftime("%a %H:%M", time.localtime(state.postponed_until)), "italic"
        )
    text.append("]", "italic")
    if state.ticket:
        text.append(f"  ticket {clean_line(state.ticket, 20)}", "bold magenta")
    if state.reopened:
        text.append("  ↺ reopened", "bold yellow")
    waited = inbox.wait(chat_id, now)
    level = inbox.level(chat_id, now)
    if waited is not None and level is not None:
        text.append(
            f"  waiting {triage.format_wait(waited)} ({LEVEL_NAMES[level]})", LEVEL_STYLES[level]
        )
    if state.last_staff_sender is not None:
        who = inbox.users.get(state.last_staff_sender)
        name = (
            "you"
            if inbox.me and state.last_staff_sender == inbox.me.id
            else (who.name if who else "staff")
        )
        text.append(f"  last answer: {clean_line(name, 24)}", "dim")
    typing = inbox.typing_in(chat_id)
    if typing:
        names = ", ".join(
            clean_line(u if isinstance(u, str) else getattr(u, "name", str(u)), 20) for u in typing
        )
        text.append(f"  ✎ {names} typing…", "italic cyan")
    return text


def status_text(inbox: Inbox, source_label: str) -> Text:
    """Connection, flood-wait countdown, sync progress and awaiting counts by level."""
    now = inbox.now()
    text = Text(" ")
    conn = inbox.connection
    style = {"connected": "green", "connecting": "yellow", "offline": "bold red"}[conn.value]
    text.append(f"● {conn.value}", style)
    text.append(f" {source_label}", "dim")
    if inbox.flood_until and inbox.flood_until > now:
        text.append(f"  flood wait {inbox.flood_until - now}s", "bold red")
    if inbox.sync is not None:
        text.append(f"  {inbox.sync.what} {inbox.sync.current}/{inbox.sync.total}", "yellow")
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
    failed = inbox.failed_items()
    if failed:
        text.append(f"  │ {len(failed)} unsent", "bold red")
    if conn is Connection.OFFLINE and inbox.connection_detail:
        text.append(f"  {clean_line(inbox.connection_detail, 40)}", "dim")
    return text


class PanelLine(Static):
    """A one-line panel (slot strip, header, status line) drawn with the line API.

    `Static` renders through Textual's visual pipeline on every update — about half a
    millisecond a line here, and these three lines change on most keys. A `Text` given to
    `update()` is rendered once into segments instead; anything else takes Static's path.
    """

    def __init__(self, *, id: str | None = None) -> None:
        """An empty panel."""
        super().__init__(id=id)
        self._line_text: Text | None = None
        self._line: Strip | None = None
        self._line_key: tuple[int, Style] | None = None

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        """Show `content` (a Text takes the fast path)."""
        if isinstance(content, Text):
            self._line_text = content
            self._line = None
            self.refresh(layout=layout)
            return
        self._line_text = None
        super().update(content, layout=layout)

    def render_line(self, y: int) -> Strip:
        """The panel's line (line 0; anything below is blank)."""
        if self._line_text is None:
            return super().render_line(y)
        width = self.size.width
        base = self.rich_style
        if y:
            return Strip.blank(width, base)
        key = (width, base)
        if self._line is None or self._line_key != key:
            segments = list(self._line_text.render(self.app.console))
            strip = Strip(segments).crop_extend(0, width, None)
            self._line = strip.apply_style(base)
            self._line_key = key
        return self._line
