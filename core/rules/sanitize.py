"""Make untrusted chat text safe to draw: no escape sequences, no control or invisible characters.

Chat text is never parsed as markup anywhere (the screen builds `rich.text.Text` objects from
plain strings); this module removes what could drive the engineer's terminal over SSH (CSI, OSC,
DCS… sequences, C0/C1 controls) or hide what a message really says (bidi overrides, zero-width
characters).
"""

from __future__ import annotations

import re
import unicodedata

# ESC-introduced sequences: CSI (ESC [ … final), OSC/DCS/SOS/PM/APC (ESC ] … BEL or ST),
# and two-character escapes (ESC + one byte).
_ESCAPES = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]                  # CSI
    | \x1b[\]PX^_].*?(?:\x07|\x1b\\|\x9c|$)  # OSC, DCS, SOS, PM, APC up to BEL/ST/end
    | \x9b[0-?]*[ -/]*[@-~]                  # 8-bit CSI
    | [\x90\x98\x9d\x9e\x9f].*?(?:\x07|\x1b\\|\x9c)  # 8-bit DCS/SOS/OSC/PM/APC; unterminated:
    #   only the C1 character goes (below), so mojibake like "â€\x9d" keeps the rest of the text
    | \x1b[@-Z\\-_]?                         # other ESC sequences or a lone ESC
    """,
    re.VERBOSE | re.DOTALL,
)

# Bidi embeddings/overrides/isolates and invisible formatting characters.
_INVISIBLE = {
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\u2061", "\u2062",
    "\u2063", "\u2064", "\ufeff", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
    "\u2066", "\u2067", "\u2068", "\u2069", "\u061c", "\u180e", "\u00ad",
}  # fmt: skip


def _keep(char: str, keep_newlines: bool) -> str:
    """The character itself, a replacement, or nothing."""
    if char == "\n":
        return "\n" if keep_newlines else " "
    if char == "\t":
        return "    " if keep_newlines else " "
    if char in _INVISIBLE:
        return ""
    category = unicodedata.category(char)
    if category == "Cc":  # C0 and C1 controls, DEL
        return ""
    if category in ("Zl", "Zp"):
        return "\n" if keep_newlines else " "
    if category == "Cs":  # lone surrogates cannot be drawn
        return "\ufffd"
    return char


def clean_text(text: str, *, keep_newlines: bool = True) -> str:
    """Strip escape sequences, controls and invisible characters from message text."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n")
    text = _ESCAPES.sub("", text)
    if text.isascii() and text.isprintable():
        return text
    return "".join(_keep(char, keep_newlines) for char in text)


def clean_line(text: str, limit: int | None = None) -> str:
    """Like clean_text, but on one line (names, titles, previews), optionally cut to `limit`."""
    cleaned = " ".join(clean_text(text, keep_newlines=False).split())
    if limit is not None and len(cleaned) > limit:
        return cleaned[: max(0, limit - 1)] + "…"
    return cleaned


MAX_MESSAGE_TEXT = 4096
"""Telegram's own limit on a message's text (and on a Premium sender's caption), in characters."""


def bound_text(text: str, limit: int = MAX_MESSAGE_TEXT) -> str:
    """`text` cut to `limit` characters, ending in a marker giving the original length."""
    if len(text) <= limit:
        return text
    marker = f" […cut: {len(text)} characters in all]"
    return text[: max(0, limit - len(marker))] + marker
