"""What the engineer types into search → words, phrases, filters and a safe FTS5 query.

Pure: no database here. `parse()` reads `from:name`, `in:chat`, `before:`/`after:` dates
(YYYY-MM-DD, `today`, `yesterday`, or an age like `7d`) and quoted phrases; `fts_match()` turns the words into an FTS5
MATCH string in which every character the engineer typed is literal; `fold()` and `word_spans()`
compare names and highlight bodies the way the store's `unicode61 remove_diacritics 2` tokenizer
(core/storage/schema.py) does: case- and diacritic-insensitively.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Protocol

from ..desk.models import Message
from ..reports.report import ReportStaff
from .durations import parse_duration

_FILTERS = ("from", "in", "before", "after")
_TOKEN = re.compile(r'(?:(\w+):)?"([^"]*)(?:"|$)|(\S+)')
_DAY = 86_400
# A word: letters and digits (with combining marks), as the FTS tokenizer splits text.
_WORD = re.compile(r"(?:[^\W_]|[\u0300-\u036f\u0483-\u0489])+")


@dataclass(frozen=True)
class Hit:
    """One found message with the names it is shown with."""

    message: Message
    chat_title: str
    sender: str


@dataclass(frozen=True)
class SourcePage:
    """Where the next page of a search on the server starts: after message `offset_id` of chat
    `offset_chat`, and Telegram's `next_rate` for a search across chats
    (core/sources/telegram/search.py)."""

    offset_id: int
    offset_chat: int | None = None
    offset_rate: int = 0


SourceFound = tuple[list[Hit], SourcePage | None]
"""One page of a server search, newest first, and where the next starts (None: the last)."""

Wait = tuple[int, bool]
"""How long a message that opened a wait waited (seconds) and whether staff answered."""


class Searcher(Protocol):
    """What the search and history screens ask of a search over the store
    (core/storage/search.py's MessageSearch)."""

    def refresh(self) -> None:
        """Re-read chat titles and sender names."""

    def find(self, query: SearchQuery, limit: int = 50) -> list[Hit]:
        """Messages matching the query, newest first."""
        ...

    def history_with_waits(
        self, sender_id: int, staff: ReportStaff, now: int, limit: int = 200
    ) -> list[tuple[Hit, Wait | None]]:
        """Everything one sender wrote, newest first, with the waits they opened."""
        ...

    def around(
        self, chat_id: int, message_id: int, before: int = 20, limit: int = 400
    ) -> list[Message]:
        """Messages of a chat from a little before `message_id` on."""
        ...

    def interrupt(self) -> None:
        """Stop the query running on another thread."""

    def close(self) -> None:
        """Release the connection."""


@dataclass(frozen=True)
class Term:
    """One thing to find: a word, or a phrase of several words; `prefix` matches word starts.

    `words` are as typed (FTS5 folds them itself); `folded` are the same without case and
    diacritics, for comparing with names and titles.
    """

    words: tuple[str, ...]
    prefix: bool = False

    @property
    def folded(self) -> tuple[str, ...]:
        """The words without case and diacritics."""
        return tuple(fold(w) for w in self.words)


@dataclass(frozen=True)
class SearchQuery:
    """A parsed search: terms every message must match, plus filters (None/empty: no filter)."""

    terms: tuple[Term, ...] = ()
    senders: tuple[Term, ...] = ()
    chats: tuple[Term, ...] = ()
    after: int | None = None
    before: int | None = None
    problems: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        """Whether there is nothing to search for (no term and no filter)."""
        return not (self.terms or self.senders or self.chats) and (
            self.after is None and self.before is None
        )


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """One character without case and diacritics (may be empty or several characters)."""
    decomposed = unicodedata.normalize("NFKD", char.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """`text` without case and diacritics, as the FTS tokenizer compares words."""
    return "".join(_fold_char(c) for c in text)


def words_of(text: str) -> tuple[str, ...]:
    """The folded words of `text` (runs of letters and digits)."""
    return tuple(w for w, _, _ in _folded_words(text))


def _typed_words(text: str) -> tuple[str, ...]:
    """The words of `text` as typed (those that hold something once folded)."""
    return tuple(text[s:e] for _, s, e in _folded_words(text))


def _folded_words(text: str) -> list[tuple[str, int, int]]:
    """Each word of `text` folded, with its start and end in the original string."""
    found = []
    for word in _WORD.finditer(text):
        folded = word.group().lower() if word.group().isascii() else fold(word.group())
        if folded:
            found.append((folded, word.start(), word.end()))
    return found


def _term(text: str, prefix: bool) -> Term | None:
    """A term from typed text (None when it holds no word)."""
    words = _typed_words(text)
    return Term(words, prefix) if words else None


def _bound(key: str, value: str, now: int, zone: tzinfo) -> int | None:
    """Unix time a `before:`/`after:` value names, or None if unreadable.

    A day (YYYY-MM-DD, today, yesterday) in `zone` bounds by its start (`before:`) or its end
    (`after:`); an age such as `7d` or `2h` (core/rules/durations.py) means that long before now.
    """
    today = datetime.fromtimestamp(now, zone).date()
    lowered = value.lower()
    if lowered in ("today", "yesterday"):
        day = today - timedelta(days=1 if lowered == "yesterday" else 0)
    else:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            try:
                return now - parse_duration(value)
            except ValueError:
                return None
    start = int(datetime.combine(day, time(), zone).timestamp())
    return start if key == "before" else start + _DAY


def parse(text: str, now: int, zone: tzinfo) -> SearchQuery:
    """Read a typed search at `now`, dates as days in `zone`; unreadable filters become
    problems, never errors."""
    terms: list[Term] = []
    senders: list[Term] = []
    chats: list[Term] = []
    problems: list[str] = []
    after: int | None = None
    before: int | None = None
    tokens = list(_TOKEN.finditer(text))
    for index, token in enumerate(tokens):
        last = index == len(tokens) - 1 and token.end() == len(text)
        key, quoted, bare = token.group(1), token.group(2), token.group(3)
        value = quoted
        if bare is not None:
            key, sep, rest = bare.partition(":")
            if sep and key.lower() in _FILTERS and rest:
                value = rest.strip('"')
            else:
                key, value = None, bare
        key = key.lower() if key else None
        assert value is not None
        if key in ("before", "after"):
            bound = _bound(key, value, now, zone)
            if bound is None:
                problems.append(
                    f"{key}:{value} is not a date (use YYYY-MM-DD, today, yesterday, or an age: 7d)"
                )
            elif key == "before":
                before = bound if before is None else min(before, bound)
            else:
                after = bound if after is None else max(after, bound)
            continue
        prefix = bare is not None and (last or key in ("from", "in"))
        term = _term(value, prefix if key is None else True)
        if term is None:
            continue
        if key == "from":
            senders.append(term)
        elif key == "in":
            chats.append(term)
        else:
            terms.append(Term(term.words, prefix))
    return SearchQuery(tuple(terms), tuple(senders), tuple(chats), after, before, tuple(problems))


def fts_match(terms: tuple[Term, ...]) -> str | None:
    """An FTS5 MATCH string requiring every term (None when there is none).

    Each term is one double-quoted FTS5 string, so operators, brackets, colons and quotes the
    engineer typed are plain text; prefix terms end in `*`.
    """
    parts = []
    for term in terms:
        phrase = '"' + " ".join(term.words).replace('"', '""') + '"'
        parts.append(phrase + ("*" if term.prefix else ""))
    return " AND ".join(parts) if parts else None


def matches(term: Term, words: tuple[str, ...]) -> bool:
    """Whether the folded `words` of a name or title contain `term` (its last word as a prefix
    when the term is a prefix one)."""
    folded = term.folded
    size = len(folded)
    for start in range(len(words) - size + 1):
        window = words[start : start + size]
        if window[:-1] != folded[:-1]:
            continue
        last, wanted = window[-1], folded[-1]
        if last == wanted or (term.prefix and last.startswith(wanted)):
            return True
    return False


def word_spans(text: str, terms: tuple[Term, ...]) -> list[tuple[int, int]]:
    """Where the terms' words occur in `text`, as sorted (start, end) character spans."""
    folded = [term.folded for term in terms]
    wanted = {w for words in folded for w in words[:-1]}
    exact_last = {words[-1] for words, term in zip(folded, terms, strict=True) if not term.prefix}
    prefixes = tuple(words[-1] for words, term in zip(folded, terms, strict=True) if term.prefix)
    spans = []
    for word, start, end in _folded_words(text):
        if word in wanted or word in exact_last or (prefixes and word.startswith(prefixes)):
            spans.append((start, end))
    return spans


def folded_body(text: str) -> str:
    """A body prepared for `text_matcher` tests (lowercase, or folded if not ASCII)."""
    return text.lower() if text.isascii() else fold(text)


def text_matcher(terms: tuple[Term, ...]) -> Callable[[str], bool]:
    """A test of one `folded_body` for every term, as the FTS index would answer it: words are
    runs of letters and digits, compared without case and diacritics; a phrase's words in a row.
    """
    checks = []
    for term in terms:
        body = r"[\W_]+".join(re.escape(word) for word in term.folded)
        tail = "" if term.prefix else r"(?![^\W_])"
        checks.append((term.folded[0], re.compile(rf"(?<![^\W_]){body}{tail}").search))

    def test(folded: str) -> bool:
        return all(word in folded and search(folded) for word, search in checks)

    return test
