"""The team state: the room's team events folded in the room's order into claims, notes and statuses.

Every desk holds the same room messages and folds them by message id (the room's order, the same
for every member of a supergroup), so every desk reaches the same state:
- a claim holds a chat until its owner releases it or hands it on, a status closes the chat, or
  the owner stays quiet in the room about that chat for `quiet` seconds (judged at the date of
  the next event that asks); a claim on a chat someone else holds loses (it is kept in `lost`
  so that its sender's desk can say who took it first);
- statuses, tags and handoffs: the later event wins; notes accumulate, each with its author;
- presence: each engineer's latest presence event (one message, edited in place).

The author of an event is the Telegram sender of its message. A presence message may be edited;
an edit of any other event is ignored by the room log (core/desk/team.py keeps the first text).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .codec import Kind, TeamEvent, TeamStatus


@dataclass(frozen=True, slots=True)
class RoomMessage:
    """One team event as the room holds it: message id (room order), sender, date."""

    id: int
    sender: int
    date: int
    event: TeamEvent


@dataclass(frozen=True, slots=True)
class Claim:
    """Who holds a chat, since when, and their latest activity on it in the room."""

    owner: int
    since: int
    active: int
    msg_id: int


@dataclass(frozen=True, slots=True)
class SharedNote:
    """A note a teammate shared about a chat."""

    msg_id: int
    author: int
    date: int
    text: str


@dataclass(frozen=True, slots=True)
class SharedStatus:
    """The status a teammate set on a chat, and who set it when."""

    status: TeamStatus
    set_by: int
    date: int
    until: int | None = None
    ticket: str | None = None
    due: int | None = None


@dataclass(frozen=True, slots=True)
class Handoff:
    """A chat handed from one teammate to another, with an optional note."""

    giver: int
    taker: int
    date: int
    note: str = ""
    msg_id: int = 0


@dataclass(frozen=True, slots=True)
class LostClaim:
    """A claim that came too late: `winner` held the chat already."""

    msg_id: int
    chat: int
    loser: int
    winner: int


@dataclass
class TeamState:
    """Everything the room says, as of its newest folded message."""

    quiet: int
    claims: dict[int, Claim] = field(default_factory=dict)
    notes: dict[int, list[SharedNote]] = field(default_factory=dict)
    statuses: dict[int, SharedStatus] = field(default_factory=dict)
    tags: dict[int, tuple[tuple[str, ...], int]] = field(default_factory=dict)
    handoffs: dict[int, Handoff] = field(default_factory=dict)
    presence: dict[int, tuple[int, int]] = field(default_factory=dict)
    lost: list[LostClaim] = field(default_factory=list)
    last_id: int = 0

    def holder(self, chat: int, now: int) -> Claim | None:
        """The claim on `chat` still held at `now` (quiet claims have lapsed)."""
        claim = self.claims.get(chat)
        if claim is None or now >= lapse_at(claim, self.quiet):
            return None
        return claim

    def moments(self, fresh: int) -> list[tuple[int, int]]:
        """When each chat's team marker changes with time alone: (moment, chat) for every
        claim's lapse and every presence going stale after `fresh` seconds."""
        found = [(lapse_at(claim, self.quiet), chat) for chat, claim in self.claims.items()]
        found += [(at + fresh + 1, chat) for chat, at in self.presence.values()]
        return found

    def present(self, chat: int, now: int, fresh: int) -> list[int]:
        """Who has shown presence on `chat` within `fresh` seconds of `now`."""
        return sorted(
            who for who, (where, at) in self.presence.items() if where == chat and now - at <= fresh
        )

    def snapshot(self) -> tuple[object, ...]:
        """The whole state as comparable plain data (for tests and change detection)."""
        return (
            sorted(self.claims.items()),
            sorted((k, tuple(v)) for k, v in self.notes.items()),
            sorted(self.statuses.items()),
            sorted(self.tags.items()),
            sorted(self.handoffs.items()),
            sorted(self.presence.items()),
            tuple(self.lost),
            self.last_id,
        )


def lapse_at(claim: Claim, quiet: int) -> int:
    """The first second at which a claim has lapsed: `quiet` seconds after its owner's latest
    event on the chat in the room. Room message dates only, so every desk agrees on it."""
    return claim.active + quiet + 1


def _touch(state: TeamState, message: RoomMessage) -> None:
    """The owner's own event on a chat keeps their claim alive."""
    claim = state.claims.get(message.event.chat)
    if claim is not None and claim.owner == message.sender:
        state.claims[message.event.chat] = Claim(
            claim.owner, claim.since, max(claim.active, message.date), claim.msg_id
        )


def _claim(state: TeamState, message: RoomMessage) -> None:
    """A claim: taken when free (or already ours), lost when someone else holds it."""
    chat = message.event.chat
    held = state.holder(chat, message.date)
    if held is not None and held.owner != message.sender:
        state.lost.append(LostClaim(message.id, chat, message.sender, held.owner))
        return
    if held is not None:
        _touch(state, message)
        return
    state.claims[chat] = Claim(message.sender, message.date, message.date, message.id)


def _handoff(state: TeamState, message: RoomMessage) -> None:
    """A handoff by the holder (or on a free chat) gives the claim to the taker."""
    event, chat = message.event, message.event.chat
    held = state.holder(chat, message.date)
    if event.to is None or (held is not None and held.owner != message.sender):
        return
    state.claims[chat] = Claim(event.to, message.date, message.date, message.id)
    state.handoffs[chat] = Handoff(message.sender, event.to, message.date, event.text, message.id)


def _status(state: TeamState, message: RoomMessage) -> None:
    """The later status wins; closing a chat ends its claim."""
    event, chat = message.event, message.event.chat
    status = TeamStatus.OPEN if event.status is TeamStatus.REOPENED else event.status
    if status is None:
        return
    state.statuses[chat] = SharedStatus(
        status, message.sender, message.date, event.until, event.ticket, event.due
    )
    if status is TeamStatus.CLOSED:
        state.claims.pop(chat, None)
    else:
        _touch(state, message)


def apply(state: TeamState, message: RoomMessage) -> None:
    """Fold one room message (newer than every message folded so far) into `state`."""
    event, chat = message.event, message.event.chat
    kind = event.kind
    if kind is Kind.CLAIM:
        _claim(state, message)
    elif kind is Kind.RELEASE:
        claim = state.claims.get(chat)
        if claim is not None and claim.owner == message.sender:
            del state.claims[chat]
    elif kind is Kind.HANDOFF:
        _handoff(state, message)
    elif kind is Kind.STATUS:
        _status(state, message)
    elif kind is Kind.NOTE:
        state.notes.setdefault(chat, []).append(
            SharedNote(message.id, message.sender, message.date, event.text)
        )
        _touch(state, message)
    elif kind is Kind.TAGS:
        state.tags[chat] = (event.tags, message.sender)
        _touch(state, message)
    elif kind is Kind.PRESENCE:
        state.presence[message.sender] = (chat, message.date)
        _touch(state, message)
    state.last_id = max(state.last_id, message.id)


def fold(messages: Iterable[RoomMessage], quiet: int) -> TeamState:
    """The team state of the room's messages, applied in the room's order."""
    state = TeamState(quiet=quiet)
    for message in sorted(messages, key=lambda m: m.id):
        apply(state, message)
    return state


class RoomLog:
    """The room's team events by message id, and their folded state (kept up to date cheaply).

    A message newer than every one held is folded onto the state; an older one (a late
    delivery, a catch-up) refolds the whole log, so the state is always `fold(log)`.
    """

    def __init__(self, quiet: int) -> None:
        """An empty log whose claims lapse after `quiet` seconds."""
        self.quiet = quiet
        self.messages: dict[int, RoomMessage] = {}
        self.state = TeamState(quiet=quiet)

    def add(self, message: RoomMessage) -> bool:
        """Take one room message (again: ignored, except a presence edit); True if the state changed."""
        old = self.messages.get(message.id)
        if old is not None:
            if old.event.kind is not Kind.PRESENCE or message.event.kind is not Kind.PRESENCE:
                return False
            if old.sender != message.sender or old == message:
                return False
        self.messages[message.id] = message
        if old is None and message.id > self.state.last_id:
            apply(self.state, message)
        else:
            self.state = fold(self.messages.values(), self.quiet)
        return True

    def remove(self, message_ids: Iterable[int]) -> bool:
        """Forget deleted room messages; True if the state changed."""
        gone = [i for i in message_ids if self.messages.pop(i, None) is not None]
        if gone:
            self.state = fold(self.messages.values(), self.quiet)
        return bool(gone)
