"""Which chat titles a switcher query can match, and which few of them are worth scoring.

The switcher (tui/switcher.py) ranks titles with Textual's fuzzy matcher, which costs tens of
microseconds a title: fine for a few hundred, a second for ten thousand. These pure functions
narrow the titles first with plain string searches: `candidates` keeps the titles holding the
query's letters in order (all the fuzzy matcher can match), and `shortlist` keeps the `limit`
most promising of them — the title starts with the query, then a word does, then the title
holds it, then the letters are only scattered — each tier in the order the titles came in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

SCORE_AT_MOST = 120
"""Titles the fuzzy matcher scores per keystroke; beyond this, `shortlist` picks which."""


def candidates(query: str, lowered: Sequence[str], pool: Iterable[int] | None = None) -> list[int]:
    """Indexes (from `pool`, all by default) of the lowered titles holding the lowered query's
    letters in order."""
    letters = query.lower()
    indexes: Iterable[int] = range(len(lowered)) if pool is None else pool
    if len(letters) == 1:
        return [i for i in indexes if letters in lowered[i]]
    found = []
    for index in indexes:
        title = lowered[index]
        position = 0
        for letter in letters:
            position = title.find(letter, position) + 1
            if not position:
                break
        else:
            found.append(index)
    return found


def shortlist(
    query: str, lowered: Sequence[str], found: Sequence[int], limit: int = SCORE_AT_MOST
) -> list[int]:
    """At most `limit` of the `found` candidates: whole-query matches at the title's start,
    then at a word's start, then anywhere, then the rest, each tier in `found`'s order."""
    if len(found) <= limit:
        return list(found)
    needle = query.lower()
    tiers: tuple[list[int], list[int], list[int], list[int]] = ([], [], [], [])
    for index in found:
        title = lowered[index]
        at = title.find(needle)
        if at == 0:
            tiers[0].append(index)
        elif at > 0:
            tiers[1 if not title[at - 1].isalnum() else 2].append(index)
        else:
            tiers[3].append(index)
        if len(tiers[0]) >= limit:
            break
    chosen: list[int] = []
    for tier in tiers:
        chosen.extend(tier[: limit - len(chosen)])
        if len(chosen) >= limit:
            break
    return chosen
