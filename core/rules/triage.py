"""The triage rules of DESIGN §3 as pure functions over messages and ChatTriage summaries."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from ..desk.models import ChatTriage, Message, Status
from .sanitize import clean_line

PREVIEW_LIMIT = 120

# (start, end) -> seconds of clock time between them; plain subtraction unless business hours.
ElapsedFn = Callable[[int, int], int]

# Response thresholds (due, late, breached) in seconds: one triple for every chat, or a
# function giving each chat's own (a chat's `levels_override` wins over either).
Targets = tuple[int, int, int]
Thresholds = Targets | Callable[[int], Targets]


def wall_elapsed(start: int, end: int) -> int:
    """Seconds between two times on the wall clock (never negative)."""
    return max(0, end - start)


class Role(StrEnum):
    """Who wrote a message, as far as triage is concerned."""

    STAFF = "staff"
    CUSTOMER = "customer"
    IGNORED = "ignored"


class Level(IntEnum):
    """Response level of a waiting chat: fresh, due, late, breached."""

    FRESH = 0
    DUE = 1
    LATE = 2
    BREACHED = 3


@dataclass(frozen=True, slots=True)
class StaffRule:
    """Who is staff: the logged-in account, teammates from config/source, minus ignored ids."""

    me_id: int
    staff_ids: frozenset[int] = frozenset()
    ignore_ids: frozenset[int] = frozenset()

    def role(self, message: Message) -> Role:
        """The role of a message's author; service messages never count."""
        if message.service:
            return Role.IGNORED
        sender = message.sender_id
        if sender is not None and sender in self.ignore_ids:
            return Role.IGNORED
        if message.out or sender == self.me_id or (sender is not None and sender in self.staff_ids):
            return Role.STAFF
        return Role.CUSTOMER


def preview_of(message: Message) -> str:
    """One safe line summarising a message for the chat list."""
    if message.media is not None and not message.text:
        return f"[{message.media.kind}]"
    text = clean_line(message.text, PREVIEW_LIMIT)
    if message.media is not None:
        return f"[{message.media.kind}] {text}"
    return text


def apply_message(state: ChatTriage, message: Message, role: Role) -> ChatTriage:
    """Fold one message that is newer than everything in `state` into the summary."""
    update: dict[str, object] = {
        "last_msg_id": max(state.last_msg_id, message.id),
        "last_activity": max(state.last_activity, message.date),
    }
    if role is Role.IGNORED:
        if not message.service:
            update["last_preview"] = preview_of(message)
        return state.model_copy(update=update)
    update["last_preview"] = preview_of(message)
    if role is Role.STAFF:
        update |= {
            "last_staff_msg_id": message.id,
            "last_staff_at": message.date,
            "last_staff_sender": message.sender_id,
            "waiting_since": None,
            "waiting_msg_id": None,
            "alerted_level": 0,
            "reopened": False,
        }
        if message.out:
            update["unread"] = 0
            update["read_inbox_max"] = max(state.read_inbox_max, message.id)
        elif message.id > state.read_inbox_max:
            update["unread"] = state.unread + 1  # a teammate's message is unread, as in Telegram
        if state.status is Status.OPEN:
            update["status"] = Status.WAITING_ON_CUSTOMER
        elif state.status is Status.POSTPONED and (state.postponed_until or 0) <= message.date:
            # Staff followed up on a postponement that had run out: it is used up.
            update |= {"status": Status.WAITING_ON_CUSTOMER, "postponed_until": None}
        elif (
            state.status is Status.IN_DEVELOPMENT
            and state.due is not None
            and state.due <= message.date
        ):
            update["due"] = None  # the follow-up the due date asked for
        return state.model_copy(update=update)
    # A customer wrote.
    update["last_customer_id"] = message.sender_id
    if message.id > state.read_inbox_max:
        update["unread"] = state.unread + 1
    if state.waiting_since is None and message.id > state.handled_upto:
        update["waiting_since"] = message.date
        update["waiting_msg_id"] = message.id
    if state.status in (Status.POSTPONED, Status.CLOSED):
        update |= {"status": Status.OPEN, "postponed_until": None, "reopened": True}
    elif state.status is Status.WAITING_ON_CUSTOMER:
        update["status"] = Status.OPEN
    return state.model_copy(update=update)


def derive(state: ChatTriage, messages: Sequence[Message], rule: StaffRule) -> ChatTriage:
    """Recompute the message-derived half of `state` from the chat's recent messages.

    `messages` must be in id order and should reach back past the last staff message; the
    engineer's marks (status, handled, ticket…) are kept, but a status that only a message
    could have set is recomputed.
    """
    base = state.model_copy(
        update={
            "last_msg_id": 0,
            "last_activity": 0,
            "last_preview": "",
            "last_staff_msg_id": 0,
            "last_staff_at": None,
            "last_staff_sender": None,
            "waiting_since": None,
            "waiting_msg_id": None,
            "unread": 0,
            "status": Status.OPEN if state.status is Status.WAITING_ON_CUSTOMER else state.status,
        }
    )
    result = base
    for message in messages:
        result = apply_message(result, message, rule.role(message))
    # Replaying old messages must not undo the engineer's parking or re-fire alerts.
    keep: dict[str, object] = {"alerted_level": state.alerted_level, "reopened": state.reopened}
    if state.status in (Status.POSTPONED, Status.CLOSED, Status.IN_DEVELOPMENT):
        keep |= {"status": state.status, "postponed_until": state.postponed_until, "due": state.due}
    return result.model_copy(update=keep)


def mark_handled(state: ChatTriage, now: int | None = None) -> ChatTriage:
    """The engineer decided the chat needs no reply; it waits again at the next customer message.

    Given `now`, it also acknowledges a reminder that came due: a postponement that ran out is
    used up and an in-development due date that passed is cleared.
    """
    update: dict[str, object] = {
        "handled_upto": state.last_msg_id,
        "waiting_since": None,
        "waiting_msg_id": None,
        "alerted_level": 0,
        "reopened": False,
        "unread": 0,
        "read_inbox_max": max(state.read_inbox_max, state.last_msg_id),
    }
    if now is not None and reminder_due(state, now):
        if state.status is Status.POSTPONED:
            spoke_last = state.waiting_since is None and state.last_staff_msg_id > 0
            status = Status.WAITING_ON_CUSTOMER if spoke_last else Status.OPEN
            update |= {"status": status, "postponed_until": None}
        else:
            update["due"] = None
    return state.model_copy(update=update)


def handled_through(state: ChatTriage, message_id: int) -> ChatTriage:
    """Messages up to `message_id` need no reply (a staff reaction on it); re-derive the wait.

    Only the mark moves; the caller re-derives the waiting fields from the stored messages,
    since a customer message after `message_id` keeps the chat waiting from that message on.
    """
    if message_id <= state.handled_upto:
        return state
    return state.model_copy(update={"handled_upto": message_id})


def set_levels(state: ChatTriage, targets: Targets | None) -> ChatTriage:
    """Give the chat its own response targets (seconds), or None for the configured ones."""
    if targets is not None:
        due, late, breached = targets
        if not 0 < due <= late <= breached:
            raise ValueError(
                "response targets must be positive and in order: due <= late <= breached"
            )
    return state.model_copy(update={"levels_override": targets})


def postpone(state: ChatTriage, until: int) -> ChatTriage:
    """Hide the chat from the top until `until`; a customer message brings it back earlier."""
    return state.model_copy(
        update={"status": Status.POSTPONED, "postponed_until": until, "reopened": False}
    )


def close(state: ChatTriage) -> ChatTriage:
    """Close the chat: handled, and parked at the bottom until the customer writes again."""
    return mark_handled(state).model_copy(update={"status": Status.CLOSED, "postponed_until": None})


def reopen(state: ChatTriage) -> ChatTriage:
    """Back to open (or waiting on customer, when staff spoke last)."""
    status = Status.OPEN if state.waiting_since is not None else Status.WAITING_ON_CUSTOMER
    if state.last_msg_id == 0:
        status = Status.OPEN
    return state.model_copy(update={"status": status, "postponed_until": None, "due": None})


def set_in_development(state: ChatTriage, ticket: str, due: int | None) -> ChatTriage:
    """Park the chat as in development under a ticket reference with an optional due date."""
    return state.model_copy(
        update={"status": Status.IN_DEVELOPMENT, "ticket": ticket, "due": due, "reopened": False}
    )


def read_upto(state: ChatTriage, max_id: int, unread_after: int) -> ChatTriage:
    """Messages up to `max_id` were read on some device; `unread_after` customer messages remain."""
    if max_id <= state.read_inbox_max:
        return state
    return state.model_copy(update={"read_inbox_max": max_id, "unread": unread_after})


def wait_is_bounded(state: ChatTriage) -> bool:
    """Whether the wait may have begun before the oldest message the desk holds (a lower bound)."""
    return state.waiting_msg_id is not None and 0 < state.waiting_msg_id <= state.history_cut


def cut_history(state: ChatTriage, before_id: int) -> ChatTriage:
    """Note that the chat has messages older than `before_id` the desk lacks (0: it has them all)."""
    if before_id == state.history_cut:
        return state
    return state.model_copy(update={"history_cut": before_id})


def format_bounded_wait(seconds: int, bounded: bool) -> str:
    """A wait as `format_wait` draws it, marked '≥' when it is only a lower bound."""
    return f"≥{format_wait(seconds)}" if bounded else format_wait(seconds)


def is_parked(state: ChatTriage, now: int) -> bool:
    """Postponed into the future or closed: kept out of the top of the list."""
    if state.status is Status.CLOSED:
        return True
    return state.status is Status.POSTPONED and (state.postponed_until or 0) > now


def reminder_at(state: ChatTriage) -> int | None:
    """When the chat asks to be looked at again: its postponement's end or its due date."""
    if state.status is Status.POSTPONED:
        return state.postponed_until
    if state.status is Status.IN_DEVELOPMENT:
        return state.due
    return None


def reminder_due(state: ChatTriage, now: int) -> bool:
    """A postponement ran out or an in-development due date passed, and nobody followed up yet."""
    at = reminder_at(state)
    return at is not None and at <= now


def is_set_aside(state: ChatTriage, now: int) -> bool:
    """Kept at the bottom of the list: parked, or in development with nobody waiting or due."""
    if is_parked(state, now):
        return True
    return (
        state.status is Status.IN_DEVELOPMENT
        and state.waiting_since is None
        and not reminder_due(state, now)
    )


def is_awaiting(state: ChatTriage, now: int) -> bool:
    """A customer waits for a reply and the chat is not parked."""
    return state.waiting_since is not None and not is_parked(state, now)


def postpone_due(state: ChatTriage, now: int) -> bool:
    """A postponement has run out (the chat comes back and should be announced)."""
    return (
        state.status is Status.POSTPONED
        and state.postponed_until is not None
        and state.postponed_until <= now
    )


def level_for(seconds: int, thresholds: tuple[int, int, int]) -> Level:
    """The response level for a wait of `seconds` given (due, late, breached) thresholds."""
    due, late, breached = thresholds
    if seconds >= breached:
        return Level.BREACHED
    if seconds >= late:
        return Level.LATE
    if seconds >= due:
        return Level.DUE
    return Level.FRESH


def wait_seconds(state: ChatTriage, now: int, elapsed: ElapsedFn = wall_elapsed) -> int | None:
    """How long the customer has waited (clock time per `elapsed`), or None if nobody waits."""
    if state.waiting_since is None:
        return None
    return elapsed(state.waiting_since, now)


def targets_of(state: ChatTriage, thresholds: Thresholds) -> Targets:
    """The response targets that apply to a chat: its own override, else `thresholds`."""
    if state.levels_override is not None:
        return state.levels_override
    return thresholds(state.chat_id) if callable(thresholds) else thresholds


def next_time_change(state: ChatTriage, now: int, thresholds: Thresholds) -> int | None:
    """On the wall clock, the first second after `now` at which time alone changes the chat's
    level (its wait reaching the next target) or its reminder (postponement end, due date);
    None when nothing is ahead."""
    soonest: int | None = None
    at = reminder_at(state)
    if at is not None and at > now:
        soonest = at
    if state.waiting_since is not None:
        waited = now - state.waiting_since
        for threshold in targets_of(state, thresholds):
            if threshold > waited:
                crossing = state.waiting_since + threshold
                soonest = crossing if soonest is None else min(soonest, crossing)
                break
    return soonest


def chat_level(
    state: ChatTriage,
    now: int,
    thresholds: Thresholds,
    elapsed: ElapsedFn = wall_elapsed,
) -> Level | None:
    """The chat's response level (its own override wins), or None when nobody waits."""
    waited = wait_seconds(state, now, elapsed)
    if waited is None:
        return None
    return level_for(waited, targets_of(state, thresholds))


def order_key(
    state: ChatTriage,
    now: int,
    thresholds: Thresholds,
    elapsed: ElapsedFn = wall_elapsed,
) -> tuple[int, int, int, int]:
    """Sort key for the chat list: awaiting by level then age, then reminders that came due
    (oldest first), then the rest by activity; parked and set-aside chats last."""
    if is_set_aside(state, now):
        return (3, 0, -state.last_activity, state.chat_id)
    level = chat_level(state, now, thresholds, elapsed) if state.waiting_since is not None else None
    if level is not None and state.waiting_since is not None:
        return (0, -int(level), state.waiting_since, state.chat_id)
    if reminder_due(state, now):
        return (1, 0, reminder_at(state) or 0, state.chat_id)
    return (2, 0, -state.last_activity, state.chat_id)


def ordered(
    states: Iterable[ChatTriage],
    now: int,
    thresholds: Thresholds,
    elapsed: ElapsedFn = wall_elapsed,
) -> list[ChatTriage]:
    """The chat list in triage order (DESIGN §3 'Order of the list')."""
    return sorted(states, key=lambda s: order_key(s, now, thresholds, elapsed))


def longest_waiting(
    states: Iterable[ChatTriage],
    now: int,
    thresholds: Thresholds,
    exclude: int | None = None,
    elapsed: ElapsedFn = wall_elapsed,
) -> ChatTriage | None:
    """The awaiting chat at the top of the order (highest level, longest wait), not `exclude`."""
    best: ChatTriage | None = None
    best_key: tuple[int, int, int, int] | None = None
    for state in states:
        if state.chat_id == exclude or not is_awaiting(state, now):
            continue
        key = order_key(state, now, thresholds, elapsed)
        if best_key is None or key < best_key:
            best, best_key = state, key
    return best


def level_counts(
    states: Iterable[ChatTriage],
    now: int,
    thresholds: Thresholds,
    elapsed: ElapsedFn = wall_elapsed,
) -> tuple[int, int, int, int]:
    """How many awaiting chats are at each level 0..3 (for the status line)."""
    counts = [0, 0, 0, 0]
    for state in states:
        if is_awaiting(state, now):
            level = chat_level(state, now, thresholds, elapsed)
            if level is not None:
                counts[level] += 1
    return (counts[0], counts[1], counts[2], counts[3])


def format_wait(seconds: int) -> str:
    """A compact wait like '45s', '4m', '1h12m', '2d3h'."""
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h" if hours else f"{days}d"
