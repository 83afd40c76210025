"""Where templates are asked for: the `/word` at the cursor, and the chat's language."""

from __future__ import annotations

import re
from collections.abc import Iterable

_TRIGGER_STOP = set("/\\.:@~")

_URL = re.compile(r"\S+://\S+|www\.\S+|\S+@\S+")


def detect_lang(texts: Iterable[str]) -> str | None:
    """ "ru" if most recent customer messages are mostly Cyrillic, "en" if Latin, else None.

    Each message votes by its own letters (URLs and e-mail addresses ignored), so one pasted
    English error log does not outvote a Russian conversation; a tie or no letters is None.
    """
    votes = {"ru": 0, "en": 0}
    for text in texts:
        cyrillic = latin = 0
        for char in _URL.sub(" ", text):
            if not char.isalpha():
                continue
            if "\u0400" <= char <= "\u04ff":
                cyrillic += 1
            elif char.isascii() or "\u00c0" <= char <= "\u024f":
                latin += 1
        if cyrillic + latin < 2:
            continue
        if cyrillic > latin:
            votes["ru"] += 1
        elif latin > cyrillic:
            votes["en"] += 1
    if votes["ru"] == votes["en"]:
        return None
    return "ru" if votes["ru"] > votes["en"] else "en"


def _word_char(char: str) -> bool:
    """A character that may follow `/` in a trigger: letters, digits, _ and -."""
    return char.isalnum() or char in "_-"


def trigger_at(text: str, cursor: int) -> tuple[int, str] | None:
    """The `/word` the cursor sits right after, as (offset of the `/`, the word), else None.

    Triggers: `/` at the start of the text or after whitespace, then letters (digits, - and _
    after the first), with the cursor at the end of that word; a bare `/` gives "" (list all).
    Never: a `/` after any other character (`a/b`, `http://x/y`, `~/x`, `(/x`), a word that
    continues after the cursor (`/gre|et`, `/usr|/bin`), or a word starting with a digit.
    `/usr` at the start of a word is ambiguous, so it does trigger: the UI opens the popup only
    when a template matches, the next `/` (as in `/usr/`) ends the trigger, and Esc closes the
    popup leaving the text as typed — so paths and URLs stay typeable.
    """
    if not 0 <= cursor <= len(text):
        return None
    start = cursor
    while start > 0 and _word_char(text[start - 1]):
        start -= 1
    slash = start - 1
    if slash < 0 or text[slash] != "/":
        return None
    if slash > 0 and not text[slash - 1].isspace():
        return None
    if cursor < len(text) and (_word_char(text[cursor]) or text[cursor] in _TRIGGER_STOP):
        return None
    word = text[start:cursor]
    if word and not word[0].isalpha():
        return None
    if len(word) > 40:
        return None
    return slash, word
