"""Reply times from chats packed by the store: one role letter per message, not one object.

The store (core/storage/report_scan.py) classifies every countable message in SQL — service
messages and ignored senders are already left out — and hands each chat over as a string of
roles ("c" customer, "s" staff) in (date, id) order, with the dates and ids in the same order.
A wait is then a run of "c" and its reply the first "s" after it: the runs are found by one
regular expression and every step after that is a C loop (map, slicing, accumulate, compress)
instead of a Python step per message. The figures are those of core/reports/report.py's
`build_report`, which stays the reference (tests/test_report_scan.py compares them).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import accumulate, compress, repeat
from operator import eq, floordiv, sub
from typing import NamedTuple
from zoneinfo import ZoneInfo

from .report import (
    DEFAULT_THRESHOLDS,
    Duration,
    Reply,
    Report,
    ReportStaff,
    Summary,
    Unanswered,
    percentile,
    wall_seconds,
)

CUSTOMER, STAFF = "c", "s"
_RUNS = re.compile("c+|s+")  # the runs of one role
_CUSTOMER_MASK = bytes.maketrans(b"cs", b"\x01\x00")  # roles → 1 for each customer message
QUARTER = 900  # seconds; zone offsets change on quarter-hour boundaries


class PackedChat(NamedTuple):
    """One chat's countable messages in (date, id) order.

    The numbers stay text until needed: `roles` has one letter per message, `dates`, `ids` and
    `senders` one decimal per message ("" for no sender).
    """

    chat_id: int
    roles: str
    dates: list[str]
    ids: list[str]
    senders: list[str]


class ChatReplies(NamedTuple):
    """One chat's replies as columns in order: when each wait opened and was answered, by whom.

    Message and sender ids stay text ("" for no sender; only a listing of the replies reads
    each one); `names` is filled only for chats where the report needs the messages' own
    sender names.
    """

    chat_id: int
    opened: list[int]
    open_ids: list[str]
    answered: list[int]
    answer_ids: list[str]
    staff: list[str]
    seconds: list[int]
    names: list[str] | None = None


def packed_waits(
    chats: Iterable[PackedChat], now: int, first: int, duration: Duration = wall_seconds
) -> tuple[list[ChatReplies], list[Unanswered], Counter[int]]:
    """Every chat's replies and open wait as `collect_waits` finds them at `now`, and the
    customer messages from `first` on per quarter hour (`t // 900`).

    The chats hold only messages up to the report's limit. Each chat is split into its runs of
    one role, and every step after that is a C loop (map, slicing, accumulate): a wait opens at
    the start of a customer run and its reply is the first message of the staff run after it.
    """
    chat_replies: list[ChatReplies] = []
    unanswered: list[Unanswered] = []
    quarters: Counter[int] = Counter()
    seconds_of: Callable[[int, int], int] = sub if duration is wall_seconds else _swapped(duration)
    for chat_id, roles, dates, ids, senders in chats:
        if not roles:
            continue
        customers = list(map(int, compress(dates, roles.encode().translate(_CUSTOMER_MASK))))
        if customers and customers[0] < first:  # dates only grow within a chat
            del customers[: bisect_left(customers, first)]
        quarters.update(map(floordiv, customers, repeat(QUARTER)))
        runs = _RUNS.findall(roles)
        starts = [0, *accumulate(map(len, runs))]
        first_customer = 0 if roles[0] == CUSTOMER else 1
        opens = starts[first_customer:-1:2]
        answers = starts[first_customer + 1 : -1 : 2]
        if len(opens) > len(answers):  # the chat ends with customers: a wait still open
            start = opens.pop()
            opened = int(dates[start])
            unanswered.append(Unanswered(chat_id, opened, int(ids[start]), duration(opened, now)))
        if not opens:
            continue
        open_dates = list(map(int, map(dates.__getitem__, opens)))
        answer_dates = list(map(int, map(dates.__getitem__, answers)))
        chat_replies.append(
            ChatReplies(
                chat_id,
                open_dates,
                list(map(ids.__getitem__, opens)),
                answer_dates,
                list(map(ids.__getitem__, answers)),
                list(map(senders.__getitem__, answers)),
                list(map(seconds_of, answer_dates, open_dates)),
            )
        )
    return chat_replies, unanswered, quarters


def _sender(text: str) -> int | None:
    """A sender id as the store packs it ("" when the message has none)."""
    return int(text) if text else None


def _swapped(duration: Duration) -> Callable[[int, int], int]:
    """`duration(start, end)` called as `f(end, start)`, like `operator.sub`."""

    def seconds(end: int, start: int) -> int:
        return duration(start, end)

    return seconds


def _staff_key(sender: str) -> int:
    """A packed reply sender as the report's staff key (0 for a message without a sender)."""
    return int(sender) if sender else 0


def nameless_staff(chats: Iterable[ChatReplies], names: Mapping[int, str]) -> set[str]:
    """Packed reply senders that `names` gives no non-empty name."""
    senders: set[str] = set()
    for chat in chats:
        senders.update(chat.staff)
    return {s for s in senders if not names.get(_staff_key(s))}


def since_cut(chat: ChatReplies, since: int | None) -> ChatReplies:
    """The chat's replies to waits opened at or after `since` (opening times only grow)."""
    if since is None or not chat.opened or chat.opened[0] >= since:
        return chat
    cut = bisect_left(chat.opened, since)
    return ChatReplies(
        chat.chat_id,
        chat.opened[cut:],
        chat.open_ids[cut:],
        chat.answered[cut:],
        chat.answer_ids[cut:],
        chat.staff[cut:],
        chat.seconds[cut:],
        None if chat.names is None else chat.names[cut:],
    )


def _summary(ordered: list[int]) -> Summary:
    """`summarize` of values already sorted."""
    if not ordered:
        return Summary(0, None, None, None)
    return Summary(len(ordered), percentile(ordered, 0.5), percentile(ordered, 0.9), ordered[-1])


def columns_report(
    chats: Iterable[ChatReplies],
    unanswered: list[Unanswered],
    now: int,
    staff: ReportStaff,
    *,
    chat_order: Sequence[int],
    load: dict[str, list[int]],
    since: int | None = None,
    until: int | None = None,
    thresholds: Sequence[int] = DEFAULT_THRESHOLDS,
    load_zone: ZoneInfo | None = None,
    chat_titles: Mapping[int, str] | None = None,
    staff_names: Mapping[int, str] | None = None,
    business_hours: bool = False,
    list_replies: bool = True,
) -> Report:
    """The report `summarize_waits` makes of the same waits, from reply columns.

    `list_replies=False` leaves `Report.replies` empty: the JSON and table outputs show only
    the figures, and a large store has hundreds of thousands of replies.
    """
    titles = dict(chat_titles or {})
    names = dict(staff_names or {})
    if since is not None:
        unanswered = [u for u in unanswered if u.waited_from >= since]
    by_chat: dict[int, list[int]] = {}
    every: list[int] = []
    senders: list[str] = []
    replies: list[Reply] = []
    for chat in map(since_cut, chats, repeat(since)):
        if not chat.opened:
            continue
        by_chat[chat.chat_id] = sorted(chat.seconds)
        every.extend(chat.seconds)
        senders.extend(chat.staff)
        if chat.names is not None:
            for sender, name in zip(chat.staff, chat.names, strict=True):
                key = _staff_key(sender)
                if key not in names and name:
                    names[key] = name
        if list_replies:
            replies.extend(_listed(chat))
    by_staff = _by_staff(senders, every, staff.ids)
    every.sort()
    staff_summaries = {sid: _summary(sorted(values)) for sid, values in by_staff.items()}
    per_staff = {
        sid: (names.get(sid, ""), summary)
        for sid, summary in sorted(staff_summaries.items(), key=lambda kv: (-kv[1].count, kv[0]))
    }
    active = set(by_chat) | {u.chat_id for u in unanswered}
    per_chat = {
        cid: (titles.get(cid, str(cid)), _summary(by_chat.get(cid, [])))
        for cid in chat_order
        if cid in active
    }
    within: dict[int, float | None] = {
        limit: (bisect_right(every, limit) / len(every)) if every else None for limit in thresholds
    }
    return Report(
        now=now,
        since=since,
        until=until,
        replies=replies,
        unanswered=unanswered,
        total=_summary(every),
        per_staff=per_staff,
        per_chat=per_chat,
        within=within,
        load=load,
        chat_titles=titles,
        zone_name="UTC" if load_zone is None else str(load_zone),
        business_hours=business_hours,
    )


def _by_staff(
    senders: list[str], seconds: list[int], staff_ids: Iterable[int]
) -> dict[int, list[int]]:
    """The reply times of each staff key (every listed staff member, replied or not).

    One C pass per distinct sender picks its times (a team has a handful of them).
    """
    by_staff: dict[int, list[int]] = {sid: [] for sid in sorted(staff_ids)}
    for sender in set(senders):
        picked = compress(seconds, map(eq, senders, repeat(sender)))
        by_staff.setdefault(_staff_key(sender), []).extend(picked)
    return by_staff


def _listed(chat: ChatReplies) -> Iterator[Reply]:
    """The chat's replies as `Reply` tuples."""
    return map(
        Reply,
        repeat(chat.chat_id),
        chat.opened,
        map(int, chat.open_ids),
        chat.answered,
        map(int, chat.answer_ids),
        map(_sender, chat.staff),
        chat.names if chat.names is not None else repeat(""),
        chat.seconds,
    )
