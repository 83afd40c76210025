"""Who gets a working-set slot: a chat joins by intent and the least recently used quiet one leaves.

Pure rules over the slots (slot number → chat id), when each slotted chat was last used, and
which chats must keep their slot (a customer waits, or a draft is unsent); the Inbox applies
them (core/desk/actions.py).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

SLOTS = 10


def join(
    slots: Mapping[int, int],
    chat_id: int,
    last_used: Mapping[int, int],
    busy: Collection[int],
) -> tuple[int, int | None] | None:
    """Where `chat_id` goes: (slot, chat it replaces or None), or None when it stays out.

    A chat already in a slot stays there (None). Otherwise it takes the first free slot; when
    all are taken, the slot of the least recently used chat not in `busy` (the lowest slot
    among equals); when every slotted chat is busy, it gets no slot.
    """
    if chat_id in slots.values():
        return None
    free = next((slot for slot in range(1, SLOTS + 1) if slot not in slots), None)
    if free is not None:
        return free, None
    quiet = [(last_used.get(held, 0), slot) for slot, held in slots.items() if held not in busy]
    if not quiet:
        return None
    _, slot = min(quiet)
    return slot, slots[slot]
