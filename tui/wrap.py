"""Wrapping one message into lines of segments, exactly as Rich would, at a fraction of the cost."""

from __future__ import annotations

import re
from itertools import pairwise

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from .textual_compat import divide_line, single_cell_widths

Line = list[Segment]  # one wrapped line, padded to the wrap width
Block = list[Line]  # one message's lines, ending with a blank separator line
_WORD = re.compile(r"\s*\S+\s*")  # a word and the spaces around it, as rich._wrap has it
_HANG = re.compile(r"[ ▌]*")  # a line's indent and note bar, repeated when it wraps
__all__ = ["Block", "Line", "_wrap", "_wrap_rich"]


def _wrap(text: Text, console: Console, width: int, base: Style | None = None) -> Block:
    """Wrap one message's Text into padded lines of segments, plus a blank separator line.

    `base` (the widget's style) is applied under every segment, as `Strip.apply_style` would
    at each paint. A line that begins with spaces or note bars (`_HANG`) hangs: its wrapped
    continuation lines repeat that beginning, so a long body stays indented under its sender.

    Lays the text out exactly as `_wrap_rich` does (the same breaks, from Rich's own
    `divide_line`), but renders the styles once for the whole message and cuts the segments
    at the breaks, instead of dividing spans line by line: about five times faster, which is
    most of what opening a chat costs.
    """
    plain = text.plain
    ranges = _line_ranges(plain, width)
    if ranges is None:
        return _wrap_rich(text, console, width, base)
    rendered = [
        Segment(segment.text, _under(base, segment.style)) for segment in text.render(console)
    ]
    lines: Block = []
    index = 0
    seg_start = 0
    hang_line: Line = []
    for start, end, hang in ranges:
        line: Line = []
        while index < len(rendered):
            segment = rendered[index]
            seg_end = seg_start + len(segment.text)
            if seg_end <= start:
                index += 1
                seg_start = seg_end
                continue
            if seg_start >= end:
                break
            piece = segment.text[max(start, seg_start) - seg_start : min(end, seg_end) - seg_start]
            if piece:
                line.append(Segment(piece, segment.style))
            if seg_end > end:
                break
            index += 1
            seg_start = seg_end
        chunk = plain[start:end]
        used = len(chunk) if chunk.isascii() else cell_len(chunk)
        if hang < 0:  # the first line of a hanging line: keep its beginning for the rest
            hang_line = _head(line, -hang, base)
        elif hang:
            line = [*hang_line, *line]
            used += hang
        if width - used > 0:
            line.append(Segment(" " * (width - used), base))
        lines.append(line)
    lines.append([Segment(" " * width, base)])
    return lines


def _head(line: Line, size: int, base: Style | None) -> Line:
    """The first `size` characters of a line, to begin its continuation lines with.

    Spaces take the widget's style (an indent, not the badge it may have begun with); a note
    bar keeps its colour.
    """
    head: Line = []
    for segment in line:
        for char in segment.text:
            if size <= 0:
                return head
            head.append(Segment(char, base if char == " " else segment.style))
            size -= 1
    return head


def _under(base: Style | None, style: Style | None) -> Style | None:
    """`style` on top of `base` (either may be missing)."""
    if base is None:
        return style
    return base + style if style else base


def _hang(line: str, width: int) -> int:
    """How many leading characters of `line` its wrapped continuation lines repeat."""
    hang = len(_HANG.match(line).group())  # type: ignore[union-attr]
    return hang if hang < len(line) and hang * 2 <= width else 0


def _line_ranges(plain: str, width: int) -> list[tuple[int, int, int]] | None:
    """Where `_wrap_rich` breaks `plain`, as (start, end, hang) per line.

    `hang` is 0 for a line that does not hang, -N for the first line of one whose first N
    characters are repeated, and N for each continuation line, which gets them first.
    None when the text needs a case this does not reproduce (tabs, a line that would still
    be too wide after the break): the caller then lets Rich wrap it.
    """
    if "\t" in plain:
        return None
    ranges: list[tuple[int, int, int]] = []
    position = 0
    for line in plain.split("\n"):
        length = len(line)
        single = single_cell_widths(line)
        if (length if single else cell_len(line)) <= width:
            ranges.append((position, position + length, 0))
            position += length + 1
            continue
        hang = _hang(line, width)
        room = width - hang
        body = line[hang:]
        breaks = _divide_single(body, room) if single else divide_line(body, room, True)
        cuts = [0, *breaks, len(body)]
        for number, (start, end) in enumerate(pairwise(cuts)):
            piece = body[start:end]
            if len(piece) > room:  # Text.rstrip_end: whitespace past the width goes
                trailing = len(piece) - len(piece.rstrip())
                end -= min(trailing, len(piece) - room)
                piece = body[start:end]
            if (len(piece) if single else cell_len(piece)) > room:
                return None
            if number == 0:
                ranges.append((position, position + hang + end, -hang if hang else 0))
            else:
                ranges.append((position + hang + start, position + hang + end, hang))
        position += length + 1
    return ranges


def _divide_single(text: str, width: int) -> list[int]:
    """`rich._wrap.divide_line(text, width, fold=True)` for text of one-cell characters only.

    The same steps with `len` for `cell_len` (equal for such text), which Rich would
    otherwise look up for every word of every message.
    """
    breaks: list[int] = []
    offset = 0
    for match in _WORD.finditer(text):
        start = match.start()
        word = match.group()
        word_length = len(word.rstrip())
        if width - offset >= word_length:
            offset += len(word)
        elif word_length > width:  # fold the word across lines
            for index in range(0, len(word), width):
                if start:
                    breaks.append(start)
                chunk = word[index : index + width]
                if index + width >= len(word):
                    offset = len(chunk)
                else:
                    start += len(chunk)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
    return breaks


def _wrap_rich(text: Text, console: Console, width: int, base: Style | None = None) -> Block:
    """Wrap with Rich itself (the general path), hanging lines as `_wrap` does."""
    lines: Block = []
    for source in text.split("\n", allow_blank=True):
        hang = _hang(source.plain, width) if source.cell_len > width else 0
        head, body = Text(), source[hang:]
        for index, char in enumerate(source.plain[:hang]):  # as `_head` has it
            head.append(" " if char == " " else source[index : index + 1])
        body.no_wrap = False
        body.overflow = "fold"
        for number, line in enumerate(body.wrap(console, width - hang, overflow="fold")):
            if hang:
                line = (source[:hang] if number == 0 else head) + line
            segments = [Segment(s.text, _under(base, s.style)) for s in line.render(console)]
            pad = width - line.cell_len
            if pad > 0:
                segments.append(Segment(" " * pad, base))
            lines.append(segments)
    lines.append([Segment(" " * width, base)])
    return lines
