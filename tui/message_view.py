"""How a message reads on screen: sender, time, quote, text, media — as safe rich Text."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text

from ..core.desk.models import Media, Message, OutboxItem, OutboxState
from ..core.desk.outbox import is_queued
from ..core.rules.sanitize import clean_line, clean_text
from ..core.rules.triage import Role

MAX_BODY = 20_000


def human_size(size: int | None) -> str:
    """'1.2 MB' style sizes."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def media_placeholder(media: Media) -> str:
    """'[photo 1.2 MB]', '[document invoice.pdf 88.0 KB]'."""
    parts = [media.kind]
    if media.name:
        parts.append(clean_line(media.name, 60))
    if media.size is not None:
        parts.append(human_size(media.size))
    return "[" + " ".join(parts) + "]"


def clock(ts: int) -> str:
    """Local HH:MM, with the date when it is not today."""
    local = time.localtime(ts)
    today = time.localtime()
    if (local.tm_year, local.tm_yday) == (today.tm_year, today.tm_yday):
        return time.strftime("%H:%M", local)
    return time.strftime("%d %b %H:%M", local)


@dataclass(frozen=True)
class Styles:
    """Rich styles the conversation uses (from the widget's component classes)."""

    staff: str = "bold green"
    me: str = "bold blue"
    customer: str = "bold cyan"
    meta: str = "dim"
    quote: str = "italic dim"
    service: str = "dim italic"
    media: str = "magenta"
    waiting: str = "bold red"
    failed: str = "bold red"
    sending: str = "yellow"
    topic: str = "bold magenta"


def message_text(
    message: Message,
    name: str,
    role: Role,
    is_me: bool,
    quote: Callable[[int], tuple[str, str] | None],
    waiting_id: int | None,
    styles: Styles,
    topic: str | None = None,
) -> Text:
    """The lines of one message, with untrusted parts added as plain text (never markup).

    `topic` is the forum topic the message is in (shown after the time as "# Billing").
    """
    text = Text()
    if message.service:
        text.append(f"— {clean_line(message.text, 200)} · {clock(message.date)}", styles.service)
        return text
    who = styles.me if is_me else styles.staff if role is Role.STAFF else styles.customer
    text.append(clean_line(name, 40), who)
    text.append(f"  {clock(message.date)}", styles.meta)
    if topic:
        text.append(f"  # {clean_line(topic, 40)}", styles.topic)
    if message.edit_date:
        text.append("  (edited)", styles.meta)
    if message.id == waiting_id:
        text.append("  ◀ waiting since here", styles.waiting)
    text.append("\n")
    if message.reply_to is not None:
        quoted = quote(message.reply_to)
        if quoted is None:
            text.append("  ↪ (earlier message)\n", styles.quote)
        else:
            qname, qtext = quoted
            text.append(f"  ↪ {clean_line(qname, 30)}: {clean_line(qtext, 70)}\n", styles.quote)
    if message.media is not None:
        text.append("  " + media_placeholder(message.media), styles.media)
        text.append("\n" if message.text else "")
    body = clean_text(message.text[:MAX_BODY])
    if len(message.text) > MAX_BODY:
        body += f"… [{len(message.text) - MAX_BODY} more characters]"
    if body:
        text.append("  " + body.replace("\n", "\n  "))
    return text


def outbox_text(item: OutboxItem, name: str, styles: Styles, held: bool = False) -> Text:
    """A reply that is not confirmed yet: `held` in its undo window, sending, or failed with its
    error and the retry key."""
    text = Text()
    text.append(clean_line(name, 40), styles.me)
    if item.state is OutboxState.FAILED:
        text.append(
            f"  ✗ not sent: {clean_line(item.error or 'unknown error', 120)}", styles.failed
        )
        text.append("  Alt+R retry · Alt+X discard", styles.meta)
    elif held:
        text.append("  ⏳ about to leave — Alt+Z takes it back", styles.sending)
    elif is_queued(item):
        text.append("  ⏳ queued — offline", styles.sending)
    else:
        text.append("  ⏳ sending…", styles.sending)
    text.append("\n  " + clean_text(item.text).replace("\n", "\n  "))
    return text
