"""Where internal notes sit in a conversation: right after the message that was the chat's last
when the note was written (or, for notes without that, the last message dated before them)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from ..desk.models import Message, Note

BEFORE_ALL = 0
"""The anchor of notes that come before every message shown."""


def anchor(note: Note, messages: Sequence[Message], has_older: bool) -> int | None:
    """The id of the shown message a note follows, BEFORE_ALL, or None (older, not loaded).

    `messages` are the conversation's messages in id order.
    """
    if not messages:
        return None if has_older else BEFORE_ALL
    if note.after_msg_id is not None:
        index = bisect_right(messages, note.after_msg_id, key=lambda m: m.id) - 1
    else:
        index = bisect_right(messages, note.date, key=lambda m: m.date) - 1
    if index >= 0:
        return messages[index].id
    return None if has_older else BEFORE_ALL


def notes_after(
    message_index: int, messages: Sequence[Message], notes: Sequence[Note], has_older: bool
) -> tuple[list[Note], list[Note]]:
    """The notes shown before (only for the first message) and after `messages[message_index]`."""
    here = messages[message_index].id
    before: list[Note] = []
    after: list[Note] = []
    for note in notes:
        spot = anchor(note, messages, has_older)
        if spot == here:
            after.append(note)
        elif spot == BEFORE_ALL and message_index == 0:
            before.append(note)
    return before, after
