"""Reply times from chats packed by the store: one role letter per message, not one object.

The store (core/storage/report_scan.py) classifies every countable message in SQL — service
messages and ignored senders are already left out — and hands each chat over as a string of
roles ("c" customer, "s" staff) in (date, id) order, with the dates and ids in the same order.
A wait is then a run of "c" and its reply the "s" right after it, found by one regular
expression in C instead of a Python step per message; the figures are those of
core/reports/report.py's `chat_waits`, which stays the reference.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from itertools import accumulate, repeat
from operator import sub
from typing import NamedTuple

from .report import Duration, Reply, Unanswered, Waits, wall_seconds

CUSTOMER, STAFF = "c", "s"
_RUNS = re.compile("c+|s+")  # the runs of one role


class PackedChat(NamedTuple):
    """One chat's countable messages in (date, id) order, and its customers' quarter hours.

    `roles` has one letter per message, `dates` and `ids` one entry per message,
    `staff_senders` one per "s", and `customer_quarters` the `date // 900` of each customer
    message from the report's start on.
    """

    chat_id: int
    roles: str
    dates: list[int]
    ids: list[int]
    staff_senders: list[int | None]
    customer_quarters: list[int]


def packed_waits(
    chats: Iterable[PackedChat],
    now: int,
    *,
    chat_order: list[int],
    duration: Duration = wall_seconds,
) -> tuple[Waits, Counter[int]]:
    """Every reply and open wait of `chats` as `collect_waits` finds them at `now`, and the
    customer messages per quarter hour.

    The chats hold only messages up to the report's limit; replies carry no sender name
    (`staff_name` is "", see `with_staff_names`). Each chat is split into its runs of one role
    and every step after that is a C loop (map, slicing, accumulate): a wait opens at the start
    of a customer run and its reply is the first message of the staff run after it.
    """
    replies: list[Reply] = []
    unanswered: list[Unanswered] = []
    quarters: Counter[int] = Counter()
    seconds_of: Callable[[int, int], int] = sub if duration is wall_seconds else _swapped(duration)
    for chat_id, roles, dates, ids, senders, customer_quarters in chats:
        quarters.update(customer_quarters)
        runs = _RUNS.findall(roles)
        if not runs:
            continue
        starts = [0, *accumulate(map(len, runs))]
        first_customer = 0 if roles[0] == CUSTOMER else 1
        opens = starts[first_customer:-1:2]
        answers = starts[first_customer + 1 : -1 : 2]
        staff_runs = runs[1 - first_customer :: 2]
        staff_before = [0, *accumulate(map(len, staff_runs))]
        if first_customer == 0:
            staff_before = staff_before[: len(answers)]
        else:  # the chat opens with staff: their messages precede every answer
            staff_before = staff_before[1 : len(answers) + 1]
        open_dates = list(map(dates.__getitem__, opens))
        answer_dates = list(map(dates.__getitem__, answers))
        replies.extend(
            map(
                Reply,
                repeat(chat_id),
                open_dates,
                map(ids.__getitem__, opens),
                answer_dates,
                map(ids.__getitem__, answers),
                map(senders.__getitem__, staff_before),
                repeat(""),
                map(seconds_of, answer_dates, open_dates),
            )
        )
        if len(opens) > len(answers):  # the chat ends with customers: a wait still open
            start = opens[-1]
            unanswered.append(
                Unanswered(chat_id, dates[start], ids[start], duration(dates[start], now))
            )
    return Waits(now, replies, unanswered, [], chat_order), quarters


def _swapped(duration: Duration) -> Callable[[int, int], int]:
    """`duration(start, end)` called as `f(end, start)`, like `operator.sub`."""

    def seconds(end: int, start: int) -> int:
        return duration(start, end)

    return seconds


def staff_keys_without_name(replies: Iterable[Reply], names: dict[int, str]) -> set[int | None]:
    """Reply senders (None for an anonymous one) that `names` gives no non-empty name."""
    missing: set[int | None] = set()
    for reply in replies:
        key = reply.staff_id if reply.staff_id is not None else 0
        if not names.get(key):
            missing.add(reply.staff_id)
    return missing


def with_staff_names(replies: list[Reply], names: dict[tuple[int, int], str]) -> list[Reply]:
    """`replies` with the sender names read for some of them ((chat id, reply id) → name)."""
    if not names:
        return replies
    return [
        reply._replace(staff_name=names.get((reply.chat_id, reply.reply_msg_id), ""))
        if (reply.chat_id, reply.reply_msg_id) in names
        else reply
        for reply in replies
    ]
