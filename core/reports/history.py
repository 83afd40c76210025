"""A customer's past waits: how long each message that opened a wait waited for staff."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .report import ReportMessage, ReportStaff, chat_waits


def customer_waits(
    chats: Mapping[int, Iterable[ReportMessage]], staff: ReportStaff, now: int
) -> dict[tuple[int, int], tuple[int, bool]]:
    """(chat id, message id) of each message that opened a wait → (seconds, answered).

    Answered waits last until the staff reply; the open one is its age at `now`.
    """
    waits: dict[tuple[int, int], tuple[int, bool]] = {}
    for messages in chats.values():
        replies, waiting, _ = chat_waits(messages, staff, now)
        for reply in replies:
            waits[(reply.chat_id, reply.wait_msg_id)] = (reply.seconds, True)
        if waiting is not None:
            waits[(waiting.chat_id, waiting.wait_msg_id)] = (waiting.age, False)
    return waits
