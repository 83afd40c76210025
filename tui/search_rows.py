"""How a search or history result is drawn: chat · sender · time, then the body with the
matching words highlighted; the source's "more" row; the store failure line."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from functools import lru_cache

from rich.text import Text

from ..core.rules.sanitize import clean_line
from ..core.rules.search_query import Hit, Term, Wait, word_spans

SNIPPET = 110
BODY_READ = 2000  # characters of a body looked at for the snippet and its highlights
HIGHLIGHT = "bold reverse"
_WORD_REACH = 40  # characters read past the snippet, so that a word it cuts is read whole
FROM_SOURCE = "from Telegram"


def _when(date: int) -> str:
    """A message's local date and time."""
    return datetime.fromtimestamp(date).strftime("%Y-%m-%d %H:%M")


def _duration(seconds: int) -> str:
    """A wait as `3 min`, `2 h 5 min` or `4 d`."""
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // (24 * 60)} d"


@lru_cache(maxsize=1024)
def _body(text: str) -> str:
    """A message body as a result shows it: cleaned, its first `BODY_READ` characters (kept,
    as the next keystroke mostly finds the same messages)."""
    return clean_line(text[:BODY_READ]) or "[media]"


def _spans(body: str, terms: tuple[Term, ...]) -> list[tuple[int, int]]:
    """The terms' spans `hit_text` needs: those of the snippet's start when a word ends within
    it (the snippet then starts at the body's start), else every span of the body."""
    head = word_spans(body[: SNIPPET + _WORD_REACH], terms)
    if head and head[0][1] <= SNIPPET:
        return head
    return word_spans(body, terms)


def hit_text(hit: Hit, terms: tuple[Term, ...], note: str = "") -> Text:
    """One result: chat · sender · (wait) · time, then the body with the matching words highlighted.

    Every part is chat text, so it is cleaned and appended as plain text with styles.
    """
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(clean_line(hit.chat_title, 40), "bold")
    text.append(" · ")
    text.append(clean_line(hit.sender, 30), "cyan")
    if note:  # before the time, so a narrow terminal cuts the time rather than the wait
        text.append(f" · {note}", "yellow")
    text.append(f" · {_when(hit.message.date)}", "dim")
    body = _body(hit.message.text)
    spans = _spans(body, terms)
    start = max(0, spans[0][0] - 30) if spans and spans[0][1] > SNIPPET else 0
    shown = body[start : start + SNIPPET]
    line = Text("\n  " + ("…" if start else ""))
    offset = len(line.plain) - start
    line.append(shown)
    for begin, end in spans:
        if begin >= start and end <= start + SNIPPET:
            line.stylize(HIGHLIGHT, begin + offset, end + offset)
    text.append_text(line)
    return text


def more_text() -> Text:
    """The row after the source's results when it has another page."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"⋯ more {FROM_SOURCE}", "bold")
    text.append("\n  Enter asks for the next page", "dim")
    return text


def interrupted(error: sqlite3.Error) -> bool:
    """The query was stopped on purpose (a newer keystroke, or the screen closing)."""
    return isinstance(error, sqlite3.ProgrammingError) or "interrupt" in str(error)


def failure_line(error: sqlite3.Error) -> str:
    """The status line for a store the search could not read, and what to do about it."""
    return (
        f"search could not read the store ({clean_line(str(error), 60)}) — quit and start "
        "tgtriage again: it checks the store and rebuilds it, keeping your marks"
    )


def note(wait: Wait | None) -> str:
    """How long a message that opened a wait waited: answered, or still waiting."""
    if wait is None:
        return ""
    seconds, answered = wait
    return f"answered in {_duration(seconds)}" if answered else f"waiting {_duration(seconds)}"
