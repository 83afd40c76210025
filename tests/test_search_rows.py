"""A result row highlights the words it shows as a scan of the whole body would: reading only
the snippet's start (tui/search_rows.py `_spans`) changes nothing on screen."""

from __future__ import annotations

from datetime import UTC

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.text import Text
from tgtriage.core.desk.models import Message
from tgtriage.core.rules.sanitize import clean_line
from tgtriage.core.rules.search_query import Hit, parse, word_spans
from tgtriage.tui.search_rows import BODY_READ, SNIPPET, hit_text

WORDS = ["backup", "back", "bac", "server", "sérver", "x" * 45, "a", "Ünïcode", "--", "\n"]


def highlighted(text: Text) -> list[tuple[int, int]]:
    """Where the second line is highlighted."""
    return sorted((span.start, span.end) for span in text.spans if "reverse" in str(span.style))


def scanned(body_text: str, typed: str) -> tuple[str, list[tuple[int, int]]]:
    """The second line and its highlights, from the spans of the whole body."""
    terms = parse(typed, 0, UTC).terms
    body = clean_line(body_text[:BODY_READ]) or "[media]"
    spans = word_spans(body, terms)
    start = max(0, spans[0][0] - 30) if spans and spans[0][1] > SNIPPET else 0
    prefix = "\n  " + ("…" if start else "")
    return prefix + body[start : start + SNIPPET], [
        (b + len(prefix) - start, e + len(prefix) - start)
        for b, e in spans
        if b >= start and e <= start + SNIPPET
    ]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(WORDS), max_size=80).map(" ".join),
    st.sampled_from(["back", "backup", "bac ser", '"backup server"', "x", "unicode", "a"]),
)
def test_a_row_shows_and_highlights_what_a_scan_of_the_whole_body_finds(
    body: str, typed: str
) -> None:
    hit = Hit(Message(chat_id=-1, id=1, date=0, text=body), "Chat", "Ann")
    text = hit_text(hit, parse(typed, 0, UTC).terms)
    head = text.plain.index("\n")
    line, spans = scanned(body, typed)
    assert text.plain[head:] == line
    assert [(b - head, e - head) for b, e in highlighted(text)] == spans
