"""Ticket references in chat text ('ABC-123', '#1234') and the URL each one opens."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from ..system.config import Tickets

# A project key (2–10 capitals/digits, starting with a letter), a dash and a number; not part
# of a longer word, path or number (so "CVE-2024-1234" and "a/B-12" do not match).
KEY_REF = re.compile(r"(?<![\w/\-#])([A-Z][A-Z0-9]{1,9})-([1-9]\d{0,8})(?![\w\-])")
# '#' and 2–9 digits, not an HTML entity ('&#123;'), a colour ('#12ab') or inside a word.
HASH_REF = re.compile(r"(?<![\w&#/])#(\d{2,9})(?![\w\-])")
MAX_TYPED = 40


@dataclass(frozen=True, slots=True)
class TicketRef:
    """One reference: 'JIRA-123' (key 'JIRA', number '123') or '#1234' (no key)."""

    text: str
    key: str | None
    number: str


def find_tickets(text: str, config: Tickets | None = None) -> list[TicketRef]:
    """Every ticket reference in `text`, once each, in the order they first appear."""
    config = config or Tickets()
    ignore = set(config.ignore)
    projects = set(config.projects)
    found: list[tuple[int, TicketRef]] = []
    for match in KEY_REF.finditer(text):
        key, number = match.group(1), match.group(2)
        if key in ignore or (projects and key not in projects):
            continue
        found.append((match.start(), TicketRef(f"{key}-{number}", key, number)))
    for match in HASH_REF.finditer(text):
        found.append((match.start(), TicketRef(f"#{match.group(1)}", None, match.group(1))))
    seen: set[str] = set()
    result: list[TicketRef] = []
    for _, ref in sorted(found, key=lambda item: item[0]):
        if ref.text not in seen:
            seen.add(ref.text)
            result.append(ref)
    return result


def latest_ticket(texts: Iterable[str], config: Tickets | None = None) -> list[TicketRef]:
    """References in `texts` (oldest first), most recently mentioned first, once each."""
    order: dict[str, TicketRef] = {}
    for text in texts:
        for ref in find_tickets(text, config):
            order.pop(ref.text, None)
            order[ref.text] = ref
    return list(reversed(order.values()))


def parse_ticket(typed: str, config: Tickets | None = None) -> TicketRef | None:
    """The reference the engineer typed ('jira-123' → JIRA-123, '#77'), if it is one."""
    value = typed.strip()
    if re.fullmatch(r"[A-Za-z][A-Za-z0-9]{1,9}-[1-9]\d{0,8}", value):
        value = value.upper()
    refs = find_tickets(value, config)
    if len(refs) == 1 and refs[0].text == value:
        return refs[0]
    return None


def ticket_url(ref: TicketRef | str, config: Tickets) -> str | None:
    """The URL that opens `ref` per the config's patterns, or None when none is set."""
    if isinstance(ref, str):
        parsed = parse_ticket(ref, Tickets(ignore=[]))
        if parsed is None:
            return None
        ref = parsed
    pattern = config.hash_url if ref.key is None and config.hash_url else config.url
    if not pattern:
        return None
    return pattern.format(
        ticket=quote(ref.text, safe=""),
        key=quote(ref.key or "", safe=""),
        number=quote(ref.number, safe=""),
    )
