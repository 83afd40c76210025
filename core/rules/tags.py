"""Chat tags as typed by the engineer ('vip, #billing'): normalised, parsed and completed."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .sanitize import clean_line

TAG_MAX = 32
_SPLIT = re.compile(r"[,\s]+")
_NOT_TAG = re.compile(r"[^\w\-./+:]")


def normalize_tag(raw: str) -> str | None:
    """One tag in its stored form: lower case, no '#', no controls, at most 32 characters."""
    tag = clean_line(raw).strip().lstrip("#").casefold()
    tag = _NOT_TAG.sub("", tag)[:TAG_MAX]
    return tag or None


def parse_tags(text: str) -> list[str]:
    """The tags in what was typed ('vip, #Billing urgent' → billing, urgent, vip), sorted."""
    found = {normalize_tag(part) for part in _SPLIT.split(text)}
    return sorted(t for t in found if t)


def format_tags(tags: Iterable[str]) -> str:
    """Tags as the input shows them for editing: 'billing, vip'."""
    return ", ".join(sorted(tags))


def complete_last(text: str, known: Iterable[str]) -> str | None:
    """`text` with its last, unfinished tag completed from `known` (shortest match first)."""
    parts = re.split(r"([,\s]+)", text)
    last = parts[-1] if parts else ""
    prefix = last.lstrip("#").casefold()
    if not prefix:
        return None
    typed = set(parse_tags("".join(parts[:-1])))
    candidates = sorted(
        (t for t in set(known) if t.startswith(prefix) and t != prefix and t not in typed),
        key=lambda t: (len(t), t),
    )
    if not candidates:
        return None
    hashes = last[: len(last) - len(last.lstrip("#"))]
    return "".join(parts[:-1]) + hashes + candidates[0]
