"""What the screen and the reports ask the desk: orders, levels, counts, names, messages."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping, MutableMapping
from typing import cast

from ..rules import triage, views, walk
from ..rules.targets import config_targets
from ..rules.triage import ElapsedFn, Level, Role, StaffRule, Targets
from ..system.config import Config
from .models import Chat, ChatTriage, Message, Status, User
from .order import OrderIndex, TimeFact, Tracked
from .team import TeamDesk
from .team_handoff import first_handed
from .windows import MessageWindows


class InboxQueries:
    """Read-only questions over an Inbox's live state (nothing here waits for the store)."""

    @property
    def chats(self) -> dict[int, Chat]:
        """Every known chat by id."""
        return self.tracked_chats

    @property
    def triage(self) -> dict[int, ChatTriage]:
        """Every known chat's triage summary by id."""
        return self.tracked_triage

    clock: Callable[[], float]
    story_clock: Callable[[], float]
    config: Config
    thresholds: Targets
    elapsed: ElapsedFn
    tracked_chats: Tracked[int, Chat]
    tracked_triage: Tracked[int, ChatTriage]
    users: dict[int, User]
    slots: dict[int, int]
    open_chat_id: int | None
    walk_passed: dict[int, int]  # Ctrl+N's round: chat id → its last message id when passed
    tags: dict[int, set[str]]
    typing: dict[int, dict[int, int]]
    view: views.View
    me: User | None
    order_index: OrderIndex
    windows: MessageWindows
    _config_targets: dict[int, Targets | None]
    _rule: StaffRule
    team: TeamDesk

    def now(self) -> int:
        """The desk's current time in whole seconds (the source's own clock, if it has one)."""
        return int(self.story_clock())

    def thresholds_for(self, chat_id: int) -> tuple[int, int, int]:
        """The response thresholds of a chat (its own override wins, then the config's)."""
        state = self.triage.get(chat_id)
        return (state.levels_override if state else None) or self.configured_targets(chat_id)

    def configured_targets(self, chat_id: int) -> Targets:
        """The targets config gives a chat: its `[targets]` entry, else the `[levels]`."""
        if not self.config.targets:
            return self.thresholds
        if chat_id not in self._config_targets:
            chat = self.chats.get(chat_id)
            self._config_targets[chat_id] = config_targets(chat, self.config) if chat else None
        return self._config_targets[chat_id] or self.thresholds

    def order(self, now: int | None = None, view: views.View | None = None) -> list[int]:
        """Chat ids of a view (the current one unless given) in its order; All is triage order."""
        now = self.now() if now is None else now
        view = self.view if view is None else view
        if view.kind is views.ViewKind.ALL:
            return first_handed(self.team, list(self.order_index.current(now).ids))
        states = [self.triage[c] for c in self.chats if c in self.triage]
        return first_handed(self.team, views.order(view, states, self.view_facts(now)))

    def changes_with_time(self) -> Mapping[int, object]:
        """Chats whose row can change with time alone: someone waits, a reminder, typing, a
        teammate's claim lapsing or presence going stale (a view to test membership in, not
        a set built every second)."""
        now = self.now()
        maps: list[Mapping[int, object]] = [
            self.timed_chats(now),
            self.typing,
            dict.fromkeys(self.team.timed(now)),
        ]
        return ChainMap(*cast("list[MutableMapping[int, object]]", maps))  # only read

    def timed_chats(self, now: int | None = None) -> Mapping[int, TimeFact]:
        """Chats someone waits in or with a reminder, with their time facts (the kept order
        knows them)."""
        return self.order_index.current(self.now() if now is None else now).facts

    def view_facts(self, now: int | None = None) -> views.Facts:
        """What the views need to know besides the triage summaries."""
        return views.Facts(
            now=self.now() if now is None else now,
            thresholds=self.configured_targets,
            elapsed=self.elapsed,
            slots=self.slots,
            tags=self.tags,
        )

    def view_counts(self, now: int | None = None) -> dict[views.View, int]:
        """How many chats each available view shows."""
        states = [self.triage[c] for c in self.chats if c in self.triage]
        return views.counts(self.available_views(), states, self.view_facts(now))

    def available_views(self) -> list[views.View]:
        """Every view in cycling order (the fixed ones, Marked unread while a chat is, then one
        per tag in use)."""
        return views.available(self.all_tags(), self.any_marked_unread())

    def any_marked_unread(self) -> bool:
        """Whether some chat is marked unread by hand (its view is offered then)."""
        return any(state.unread_mark for state in self.triage.values())

    def all_tags(self) -> set[str]:
        """Every tag on some chat."""
        return {tag for chat_id, tags in self.tags.items() if chat_id in self.chats for tag in tags}

    def level(self, chat_id: int, now: int | None = None) -> Level | None:
        """The chat's response level, or None when nobody waits."""
        state = self.triage.get(chat_id)
        if state is None:
            return None
        now = self.now() if now is None else now
        return triage.chat_level(state, now, self.configured_targets, self.elapsed)

    def wait_bounded(self, chat_id: int) -> bool:
        """Whether the chat's wait began before the oldest message the desk holds."""
        state = self.triage.get(chat_id)
        return state is not None and triage.wait_is_bounded(state)

    def wait(self, chat_id: int, now: int | None = None) -> int | None:
        """How long the chat's customer has waited (clock time), or None."""
        state = self.triage.get(chat_id)
        if state is None:
            return None
        return triage.wait_seconds(state, self.now() if now is None else now, self.elapsed)

    def level_counts(self, now: int | None = None) -> tuple[int, int, int, int]:
        """Awaiting chats by level, for the status line (from the order's time facts)."""
        counts = [0, 0, 0, 0]
        kept = self.order_index.current(self.now() if now is None else now)
        for parked, _due, level in kept.facts.values():
            if level is not None and not parked:
                counts[level] += 1
        return (counts[0], counts[1], counts[2], counts[3])

    def next_waiting(self, exclude: int | None = None) -> int | None:
        """The chat that has waited longest (highest level first), other than `exclude`.

        The first awaiting chat of the kept order (awaiting chats sort first, by level and
        age: the same rule as triage.longest_waiting), not a walk over every chat.
        """
        now = self.now()
        for chat_id in self.order_index.current(now).ids:
            if not triage.is_awaiting(self.triage[chat_id], now):
                return None
            if chat_id != exclude:
                return chat_id
        return None

    def walk(self) -> tuple[int | None, dict[int, int]]:
        """Where Ctrl+N goes from the open chat, and the round's passed chats after it."""
        now = self.now()
        waiting: list[tuple[int, int]] = []
        for chat_id in self.order_index.current(now).ids:
            state = self.triage[chat_id]
            if not triage.is_awaiting(state, now):
                break
            claimed = self.team.held_by_other(chat_id) is not None
            if not walk.walkable(claimed, self.level(chat_id, now)):
                continue
            waiting.append((chat_id, state.last_msg_id))
        return walk.next_waiting(waiting, self.open_chat_id, self.walk_passed)

    def neighbour(self, chat_id: int | None, step: int) -> int | None:
        """The chat `step` places away from `chat_id` in list order (wrapping)."""
        order = self.order()
        if not order:
            return None
        if chat_id not in order:
            return order[0] if step > 0 else order[-1]
        return order[(order.index(chat_id) + step) % len(order)]

    def slot_of(self, chat_id: int) -> int | None:
        """The working-set slot (1..10) holding `chat_id`, if any."""
        for slot, cid in self.slots.items():
            if cid == chat_id:
                return slot
        return None

    def typing_in(self, chat_id: int) -> list[User | int]:
        """Who is typing in the chat right now."""
        now = self.now()
        people = self.typing.get(chat_id, {})
        return [self.users.get(uid, uid) for uid, until in people.items() if until > now]

    def sender_name(self, message: Message) -> str:
        """A display name for a message's author."""
        if message.sender_id is not None and message.sender_id in self.users:
            return self.users[message.sender_id].name
        if message.sender_name:
            return message.sender_name
        if message.out and self.me is not None:
            return self.me.name
        return "unknown"

    def role(self, message: Message) -> Role:
        """Staff, customer or ignored, for drawing."""
        return self._rule.role(message)

    def status_of(self, chat_id: int) -> Status:
        """The chat's status, with a run-out postponement shown as open."""
        state = self.triage[chat_id]
        if triage.postpone_due(state, self.now()):
            return Status.OPEN
        return state.status

    def recent(self, chat_id: int, limit: int = 50) -> list[Message]:
        """The chat's newest `limit` messages, oldest first, from memory (empty until read).

        A switch paints from this in one frame; older pages come from `history()`.
        """
        return self.windows.recent(chat_id, limit)

    def messages_known(self, chat_id: int) -> bool:
        """Whether the chat's newest messages are in memory yet (they are read at start)."""
        return self.windows.known(chat_id)

    def has_older(self, chat_id: int, shown: int) -> bool:
        """Whether messages older than the newest `shown` ones may exist."""
        return self.windows.has_older(chat_id, shown)

    def message(self, chat_id: int, message_id: int) -> Message | None:
        """A message of the chat's in-memory window, or None."""
        return self.windows.find(chat_id, message_id)
