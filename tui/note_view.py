"""How internal notes read in the conversation, and ticket references marked in message text."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text

from ..core.desk.models import Note
from ..core.rules.sanitize import clean_line, clean_text
from ..core.rules.tickets import HASH_REF, KEY_REF, find_tickets
from ..core.system.config import Tickets
from .message_view import clock

NOTE_STYLE = "yellow"
NOTE_HEAD_STYLE = "bold black on yellow"
TICKET_STYLE = "bold underline magenta"
BAR = "▌ "


def note_text(note: Note) -> Text:
    """One note: a marked heading and its lines behind a bar, as plain (never markup) text."""
    text = Text()
    text.append(" NOTE ", NOTE_HEAD_STYLE)
    text.append(f" {clean_line(note.author, 40)}  {clock(note.date)}", NOTE_STYLE)
    text.append("  internal, not sent", "dim " + NOTE_STYLE)
    for line in clean_text(note.text).split("\n"):
        text.append("\n" + BAR, NOTE_STYLE)
        text.append(line, NOTE_STYLE)
    return text


def with_notes(message: Text, before: Iterable[Note], after: Iterable[Note]) -> Text:
    """A message's text with the notes that sit before and after it, a blank line between."""
    parts: list[Text] = [note_text(n) for n in before]
    parts.append(message)
    parts.extend(note_text(n) for n in after)
    if len(parts) == 1:
        return message
    return Text("\n\n").join(parts)


def mark_tickets(text: Text, config: Tickets) -> Text:
    """Underline the ticket references (JIRA-123, #4821) in a drawn message."""
    plain = text.plain
    wanted = {r.text for r in find_tickets(plain, config)}
    if not wanted:
        return text
    for pattern in (KEY_REF, HASH_REF):
        for match in pattern.finditer(plain):
            if match.group(0) in wanted:
                text.stylize(TICKET_STYLE, match.start(), match.end())
    return text
