"""What the store search (core/storage/search.py) tests each message row with, and how it finds
the chats and senders whose names hold a word."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..rules.search_query import Term, folded_body, matches


class RowTest:
    """Whether a message row holds every term in its body, its sender's name or chat title."""

    def __init__(
        self,
        checks: list[tuple[Callable[[str], bool], set[int], set[int], set[str]]],
        text_only: list[Term],
    ) -> None:
        """`checks`: per term, its body test and the chats and senders whose names hold it;
        `text_only`: the terms no name holds (the FTS index can list their messages)."""
        self._checks = checks
        self.text_only = text_only

    def __call__(self, row: Sequence[Any]) -> bool:
        """Test one row of `_WALK_COLS` (core/storage/search.py)."""
        _, chat_id, sender_id, sender_name, text = row
        folded: str | None = None
        for body, chats, ids, names in self._checks:
            if chat_id in chats:
                continue
            if (sender_id in ids) if sender_id is not None else (sender_name in names):
                continue
            if folded is None:
                folded = folded_body(text)
            if not body(folded):
                return False
        return True


class WordIndex:
    """Keys by the folded words of their names, to find names holding a term without a scan."""

    def __init__(self, named: Iterable[tuple[Any, tuple[str, ...]]]) -> None:
        """Index each (key, words) pair."""
        self._words = dict(named)
        self._sorted = sorted(
            (w, i) for i, (_, words) in enumerate(self._words.items()) for w in words
        )
        self._keys = list(self._words)

    def find(self, term: Term) -> list[Any]:
        """Keys whose words contain `term` (the words it ends with found by bisection)."""
        folded = term.folded
        last = folded[-1]
        start = bisect_left(self._sorted, (last, -1))
        after = last[:-1] + chr(ord(last[-1]) + 1) if term.prefix else last + "\0"
        end = bisect_left(self._sorted, (after, -1))
        found = dict.fromkeys(key_index for _, key_index in self._sorted[start:end])
        keys = [self._keys[i] for i in found]
        if len(folded) == 1:
            return keys
        return [k for k in keys if matches(term, self._words[k])]
