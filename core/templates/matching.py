"""Matching a `/query` against the library: tiers, language, frecency, keyboard-layout twins."""

from __future__ import annotations

import heapq
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .template import Template

if TYPE_CHECKING:
    from .library import Library


@dataclass(frozen=True, slots=True)
class SearchEntry:
    """Pre-folded search text of one template, so matching does no per-keystroke prep."""

    template: Template
    key: str
    title: str
    title_words: str
    body_words: str
    letters: frozenset[str]


def _words(text: str) -> str:
    """Folded words of `text` as ' w1 w2 …' so `' ' + q in s` finds word prefixes fast."""
    return " " + " ".join(dict.fromkeys(re.findall(r"\w+", text.casefold())))


def search_entry(template: Template) -> SearchEntry:
    """The search entry of one template."""
    return SearchEntry(
        template=template,
        key=template.key.casefold(),
        title=template.title.casefold(),
        title_words=_words(template.title),
        body_words=_words(template.body),
        letters=frozenset(template.key.casefold() + template.title.casefold()),
    )


_LAYOUT = dict(
    zip(
        "йцукенгшщзхъфывапролджэячсмитьбюё",
        "qwertyuiop[]asdfghjkl;'zxcvbnm,.`",
        strict=True,
    )
)


def _swap_layout(query: str) -> str | None:
    """A query typed with the Russian keyboard layout by mistake, as QWERTY ("пкуу" → "gree")."""
    if not any(char in _LAYOUT for char in query):
        return None
    swapped = "".join(_LAYOUT.get(char, char) for char in query)
    return swapped if swapped != query else None


def _span(text: str, query: str) -> int | None:
    """Length of the stretch of `text` holding `query`'s letters in order (leftmost), or None."""
    first = pos = text.find(query[0])
    if pos < 0:
        return None
    for char in query[1:]:
        pos = text.find(char, pos + 1)
        if pos < 0:
            return None
    return pos - first + 1


def _tier(entry: SearchEntry, query: str, letters: frozenset[str]) -> tuple[int, float] | None:
    """How well `entry` matches: (tier, closeness) with tier 0 best, or None for no match.

    0: key starts with the query; 1: key contains it or a title word starts with it;
    2: the query's letters appear in order in the key or title; 3: a body word starts with it.
    """
    key = entry.key
    if key.startswith(query):
        return 0, 1.0 if key == query else len(query) / len(key)
    if query in key or (" " + query) in entry.title_words:
        return 1, 0.0
    if letters <= entry.letters:
        spans = [s for s in (_span(key, query), _span(entry.title, query)) if s is not None]
        if spans:
            return 2, len(query) / min(spans)
    if (" " + query) in entry.body_words:
        return 3, 0.0
    return None


def usage_score(count: int, last_used: int, now: int) -> float:
    """Frecency: uses weighted by how recent the last one was (today 1.0 … older 0.2)."""
    if count <= 0:
        return 0.0
    age = max(0, now - last_used)
    weight = 1.0 if age < 86_400 else 0.7 if age < 7 * 86_400 else 0.4 if age < 30 * 86_400 else 0.2
    return math.log1p(count) * weight


def match(
    library: Library,
    query: str,
    usage: Mapping[str, tuple[int, int]],
    lang: str | None,
    limit: int = 20,
    now: int | None = None,
) -> list[Template]:
    """Templates for a `/query`, best first.

    Order: match tier (key prefix, then key substring/title word, then letters in order in key
    or title, then a body word), then the chat's language (`lang`; templates without a lang
    count as any language), then usage (`usage[key] = (count, last_used_unix)`, frecency), then
    closeness, then key. An empty query lists everything. A query typed in the Russian layout by
    mistake also matches its QWERTY twin.
    """
    folded = query.casefold().strip()
    moment = int(time.time()) if now is None else now
    queries = [(q, frozenset(q)) for q in (folded, _swap_layout(folded)) if q]
    ranked: list[tuple[int, int, float, float, str, str, Template]] = []
    for entry in library.search_entries:
        template = entry.template
        if queries:
            best: tuple[int, float] | None = None
            for q, letters in queries:
                found = _tier(entry, q, letters)
                if found is not None and (
                    best is None or (found[0], -found[1]) < (best[0], -best[1])
                ):
                    best = found
            if best is None:
                continue
            tier, closeness = best
        else:
            tier, closeness = 0, 0.0
        lang_rank = 0 if lang is None or template.lang in (None, lang) else 1
        count, last = usage.get(template.key, (0, 0))
        ranked.append(
            (
                tier,
                lang_rank,
                -usage_score(count, last, moment),
                -closeness,
                entry.key,
                template.lang or "",
                template,
            )
        )
    best_rows = heapq.nsmallest(max(0, limit), ranked, key=lambda row: row[:6])
    return [row[6] for row in best_rows]


# ---------------------------------------------------------------- language and triggers
