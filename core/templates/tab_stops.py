"""Tab stops of inserted templates that stay reachable once filled: where they move on each edit.

A field's `‹name›` marker disappears when the engineer types over it, so the composer keeps the
fields of the templates it inserted and moves them with every edit (`fields_after_edit`); Tab
and Shift+Tab walk those and the markers still in the text (`tab_stop`).
"""

from __future__ import annotations

from collections.abc import Sequence

from .render import Field, unfilled_fields


def fields_after_edit(fields: Sequence[Field], start: int, end: int, inserted: int) -> list[Field]:
    """The fields after [start, end) was replaced by `inserted` characters.

    A field before or after the edit moves with the text; one holding the edit (typing over
    its selected marker, typing on at its end, a backspace inside it) grows or shrinks with it;
    one the edit cuts across is dropped. Typing right in front of a non-empty field is not in it.
    """
    delta = inserted - (end - start)
    moved: list[Field] = []
    for item in fields:
        in_front = start == end == item.start < item.end
        if not in_front and item.start <= start and end <= item.end:
            moved.append(Field(item.name, item.start, item.end + delta))
        elif end <= item.start:
            moved.append(item.shifted(delta))
        elif start >= item.end:
            moved.append(item)
    return moved


def tab_stop(
    text: str, tracked: Sequence[Field], low: int, high: int, backwards: bool
) -> Field | None:
    """Where Tab (Shift+Tab: `backwards`) goes from the selection [low, high).

    The next (previous) field in the text other than the one the selection is in, filled or not: the `tracked` fields of inserted
    templates and the `‹name›` markers still in the text. Past the last (first) one it wraps
    round to the first (last) unfilled marker, so with every field filled Tab stays put.
    """
    markers = unfilled_fields(text)
    spans = {(item.start, item.end): item for item in tracked if item.end <= len(text)}
    spans.update({(item.start, item.end): item for item in markers})
    others = [  # the field the selection is in (typing in it, or it selected) is not a stop
        item for _, item in sorted(spans.items()) if not item.start <= low <= high <= item.end
    ]
    if backwards:
        before = [item for item in others if item.end <= low]
        return before[-1] if before else (markers[-1] if markers else None)
    after = [item for item in others if item.start >= high]
    return after[0] if after else (markers[0] if markers else None)
