"""Views of the chat list (All · Waiting · Working set · Postponed · In development · Closed ·
Marked unread · by tag): which chats each shows and in what order, as pure functions over triage summaries."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ..desk.models import ChatTriage, Status
from . import triage


class ViewKind(StrEnum):
    """What a view selects."""

    ALL = "all"
    WAITING = "waiting"
    WORKING_SET = "working_set"
    POSTPONED = "postponed"
    IN_DEVELOPMENT = "in_development"
    CLOSED = "closed"
    UNREAD = "unread"
    TAG = "tag"


_LABELS = {
    ViewKind.ALL: "All",
    ViewKind.WAITING: "Waiting",
    ViewKind.WORKING_SET: "Working set",
    ViewKind.POSTPONED: "Postponed",
    ViewKind.IN_DEVELOPMENT: "In development",
    ViewKind.CLOSED: "Closed",
    ViewKind.UNREAD: "Marked unread",
}


@dataclass(frozen=True, slots=True)
class View:
    """One view of the chat list; tag views carry their tag."""

    kind: ViewKind
    tag: str | None = None

    @property
    def label(self) -> str:
        """How the view is named on screen ('Waiting', '#vip')."""
        if self.kind is ViewKind.TAG:
            return f"#{self.tag}"
        return _LABELS[self.kind]


ALL = View(ViewKind.ALL)
UNREAD = View(ViewKind.UNREAD)
FIXED: tuple[View, ...] = tuple(
    View(kind) for kind in ViewKind if kind not in (ViewKind.TAG, ViewKind.UNREAD)
)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the views need besides each chat's triage summary."""

    now: int
    thresholds: triage.Thresholds
    elapsed: triage.ElapsedFn
    slots: Mapping[int, int]  # slot number → chat id
    tags: Mapping[int, set[str]]  # chat id → its tags


def available(tags: Iterable[str], marked: bool = False) -> list[View]:
    """Every view, in cycling order: the fixed ones, Marked unread while a chat is `marked`,
    then one per existing tag (sorted)."""
    return [
        *FIXED,
        *([UNREAD] if marked else []),
        *(View(ViewKind.TAG, t) for t in sorted(set(tags))),
    ]


def step(current: View, tags: Iterable[str], delta: int = 1, marked: bool = False) -> View:
    """The view `delta` places after `current` in cycling order (wrapping)."""
    views = available(tags, marked)
    if current not in views:
        return views[0] if delta > 0 else views[-1]
    return views[(views.index(current) + delta) % len(views)]


def matches(view: View, state: ChatTriage, chat_slot: int | None, tags: set[str], now: int) -> bool:
    """Whether a chat belongs in `view`."""
    kind = view.kind
    if kind is ViewKind.ALL:
        return True
    if kind is ViewKind.WAITING:
        return triage.is_awaiting(state, now)
    if kind is ViewKind.WORKING_SET:
        return chat_slot is not None
    if kind is ViewKind.POSTPONED:
        return state.status is Status.POSTPONED
    if kind is ViewKind.IN_DEVELOPMENT:
        return state.status is Status.IN_DEVELOPMENT
    if kind is ViewKind.CLOSED:
        return state.status is Status.CLOSED
    if kind is ViewKind.UNREAD:
        return state.unread_mark
    return view.tag in tags


def order(view: View, states: Sequence[ChatTriage], facts: Facts) -> list[int]:
    """The chat ids `view` shows, in its order.

    Working set: by slot (1 … 0, as Alt+1 … Alt+0 open them). Postponed: soonest back first.
    In development: soonest due first, undated last. Closed: latest activity first. The others
    keep the triage order (waiting chats by level and age, then the rest).
    """
    slot_of = {chat_id: slot for slot, chat_id in facts.slots.items()}
    now = facts.now
    chosen = [
        s
        for s in states
        if matches(view, s, slot_of.get(s.chat_id), facts.tags.get(s.chat_id, set()), now)
    ]
    kind = view.kind
    if kind is ViewKind.WORKING_SET:
        chosen.sort(key=lambda s: slot_of[s.chat_id])
    elif kind is ViewKind.POSTPONED:
        chosen.sort(key=lambda s: (s.postponed_until or 0, s.chat_id))
    elif kind is ViewKind.IN_DEVELOPMENT:
        chosen.sort(key=lambda s: (s.due is None, s.due or 0, s.chat_id))
    elif kind is ViewKind.CLOSED:
        chosen.sort(key=lambda s: (-s.last_activity, s.chat_id))
    else:
        chosen = triage.ordered(chosen, now, facts.thresholds, facts.elapsed)
    return [s.chat_id for s in chosen]


def counts(views: Iterable[View], states: Sequence[ChatTriage], facts: Facts) -> dict[View, int]:
    """How many chats each view shows."""
    slot_of = {chat_id: slot for slot, chat_id in facts.slots.items()}
    result: dict[View, int] = {}
    for view in views:
        result[view] = sum(
            1
            for s in states
            if matches(view, s, slot_of.get(s.chat_id), facts.tags.get(s.chat_id, set()), facts.now)
        )
    return result
