"""The kept triage order of every chat: sorted once, then re-placed chat by chat.

Sorting 1,000 chats every second is most of an idle desk's work, yet time alone moves a chat
only when its level changes, its postponement runs out or a reminder comes due. So the order
is kept until a chat or summary changes, or one of those facts does; changed summaries are
re-placed instead of sorting anew: a few one by one (bisect), more in one pass that drops them
and merges their new keys back in (a sort of an already sorted list, done in C), which at
10,000 chats costs a tenth of computing every chat's key again.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from heapq import heapify, heappop, heappush
from typing import Any, Protocol, TypeVar

from ..rules import triage
from ..rules.triage import ElapsedFn, Level, Targets
from .models import Chat, ChatTriage

_K = TypeVar("_K")
_V = TypeVar("_V")

PATCH_AT_MOST = 4_096  # changed summaries re-placed; more, and the order is sorted anew
ONE_BY_ONE = 16  # changed summaries re-placed one by one; more, in one pass
_MANY = object()  # in a Tracked change log: a change of more than one key at once
_LOG_KEEP = PATCH_AT_MOST  # changes a Tracked remembers by key

TimeFact = tuple[bool, bool, Level | None]
"""What of a chat's place can change with time alone: parked, reminder due, level."""
OrderKey = tuple[int, int, int, int]


class Tracked(dict[_K, _V]):
    """A dict that counts its changes, so a result computed from it can be reused until then,
    and remembers which keys its recent changes touched, so that result can be patched."""

    version = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """A tracked dict with an empty change log."""
        super().__init__(*args, **kwargs)
        self._log: list[object] = []  # the key changed at each version after _log_base
        self._log_base = 0

    def changed_since(self, version: int) -> set[_K] | None:
        """The keys changed after `version`, or None when that is not known any more."""
        if version < self._log_base or version > self.version:
            return None
        changes = self._log[version - self._log_base :]
        if _MANY in changes:
            return None
        return set(changes)  # type: ignore[arg-type]

    def _count(self, key: object) -> None:
        """Count a change of `key` (or of many, `_MANY`)."""
        self.version += 1
        log = self._log
        log.append(key)
        if len(log) > 2 * _LOG_KEEP:
            del log[:_LOG_KEEP]
            self._log_base += _LOG_KEEP

    def __setitem__(self, key: _K, value: _V) -> None:
        """Set, and count the change."""
        self._count(key)
        super().__setitem__(key, value)

    def __delitem__(self, key: _K) -> None:
        """Delete, and count the change."""
        self._count(key)
        super().__delitem__(key)

    def pop(self, key: _K, *default: Any) -> Any:
        """Pop, and count the change."""
        self._count(key)
        return super().pop(key, *default)

    def popitem(self) -> tuple[_K, _V]:
        """Pop an item, and count the change."""
        self._count(_MANY)
        return super().popitem()

    def setdefault(self, key: _K, default: Any = None) -> Any:
        """Setdefault, and count the change."""
        self._count(key)
        return super().setdefault(key, default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Update, and count the change."""
        self._count(_MANY)
        super().update(*args, **kwargs)

    def clear(self) -> None:
        """Clear, and count the change."""
        self._count(_MANY)
        super().clear()


class OrderedState(Protocol):
    """What the order is computed from (the Inbox provides it)."""

    tracked_chats: Tracked[int, Chat]
    tracked_triage: Tracked[int, ChatTriage]
    thresholds: Targets
    elapsed: ElapsedFn

    def configured_targets(self, chat_id: int) -> Targets:
        """A chat's configured targets."""
        ...

    def level(self, chat_id: int, now: int | None = None) -> Level | None:
        """A chat's response level."""
        ...


@dataclass(frozen=True, slots=True, eq=False)
class Basis:
    """The dicts (at their versions) and settings a kept order was computed from."""

    chats: object
    chats_version: int
    states: object
    states_version: int
    thresholds: Targets
    elapsed: Callable[[int, int], int]

    def same_as(self, other: Basis) -> bool:
        """Whether both rest on the same dicts at the same versions and the same settings."""
        return self.same_settings(other) and self.states_version == other.states_version

    def same_settings(self, other: Basis) -> bool:
        """Whether the chats and settings are the same (summaries may differ)."""
        return (
            self.chats is other.chats
            and self.chats_version == other.chats_version
            and self.states is other.states
            and self.thresholds == other.thresholds
            and self.elapsed == other.elapsed
        )


@dataclass(slots=True)
class KeptOrder:
    """The All order with its sort keys and the time facts it rests on.

    `facts` holds the chats whose place can change with time alone; `changes_at` is a heap of
    the second each of them may change next (entries `change_of` no longer names are stale),
    so time moving on re-checks only the chats whose moment came, not every waiting chat.
    """

    basis: Basis
    facts: dict[int, TimeFact]
    ids: list[int]
    keys: list[OrderKey]
    checked_at: int
    changes_at: list[tuple[int, int]] = field(default_factory=list)
    change_of: dict[int, int] = field(default_factory=dict)

    @property
    def valid_until(self) -> int:
        """The first second at which some time fact may change (far ahead when none can)."""
        heap, change_of = self.changes_at, self.change_of
        while heap and change_of.get(heap[0][1]) != heap[0][0]:
            heappop(heap)  # stale: the chat was re-placed or left since
        return heap[0][0] if heap else 2**62


class OrderIndex:
    """The All order of one desk state, kept and patched as the state changes."""

    def __init__(self, state: OrderedState) -> None:
        """An index over `state` with nothing kept yet."""
        self._state = state
        self._kept: KeptOrder | None = None
        self.facts_checked = 0  # time facts computed so far (tests count the work per tick)

    def _basis(self) -> Basis:
        """What the order would be computed from right now."""
        state = self._state
        return Basis(
            state.tracked_chats,
            state.tracked_chats.version,
            state.tracked_triage,
            state.tracked_triage.version,
            state.thresholds,
            state.elapsed,
        )

    def current(self, now: int) -> KeptOrder:
        """The kept order brought up to date for `now`."""
        basis = self._basis()
        kept = self._kept
        if (
            kept is not None
            and not kept.basis.same_as(basis)
            and not self._patched(kept, basis, now)
        ):
            kept = None
        if kept is None or now < kept.checked_at:  # (time going back: sorted anew)
            return self._sorted(basis, now)
        if now >= kept.valid_until:
            self._time_moved(kept, now)
        kept.checked_at = now
        return kept

    def _time_moved(self, kept: KeptOrder, now: int) -> None:
        """Re-check the time facts whose moment came; re-place the chats whose facts changed."""
        heap, change_of, facts = kept.changes_at, kept.change_of, kept.facts
        moved: list[int] = []
        while heap and heap[0][0] <= now:
            at, chat_id = heappop(heap)
            if change_of.get(chat_id) != at:
                continue  # stale
            del change_of[chat_id]
            fact = self.time_fact(chat_id, now)
            if fact != facts[chat_id]:
                facts[chat_id] = fact
                moved.append(chat_id)
            self._schedule(kept, chat_id, now)
        if moved:
            self._replace(kept, moved, now)

    def _schedule(self, kept: KeptOrder, chat_id: int, now: int) -> None:
        """Note when a chat's time facts may change next.

        On the wall clock a level changes when a wait reaches the next threshold, and a
        postponement or a due date ends at its time; business hours bend time, so they are
        checked anew every second.
        """
        state = self._state
        if state.elapsed is triage.wall_elapsed:
            change = triage.next_time_change(
                state.tracked_triage[chat_id], now, state.configured_targets
            )
            if change is None:
                kept.change_of.pop(chat_id, None)
                return
            at = max(now + 1, change)
        else:
            at = now + 1
        kept.change_of[chat_id] = at
        heappush(kept.changes_at, (at, chat_id))
        if len(kept.changes_at) > 2 * len(kept.change_of) + 64:  # mostly stale: rebuild
            kept.changes_at = [(when, c) for c, when in kept.change_of.items()]
            heapify(kept.changes_at)

    def _note_facts(self, kept: KeptOrder, chat_id: int, now: int) -> None:
        """Take a chat's time facts at `now` (or drop them when time alone cannot move it)."""
        state = self._state
        summary = state.tracked_triage.get(chat_id)
        if (
            summary is None
            or chat_id not in state.tracked_chats
            or (summary.waiting_since is None and triage.reminder_at(summary) is None)
        ):
            kept.facts.pop(chat_id, None)
            kept.change_of.pop(chat_id, None)
            return
        kept.facts[chat_id] = self.time_fact(chat_id, now)
        self._schedule(kept, chat_id, now)

    def _sorted(self, basis: Basis, now: int) -> KeptOrder:
        """Sort every chat anew (triage.order_key ends with the chat id: keys are unique)."""
        state = self._state
        states = [state.tracked_triage[c] for c in state.tracked_chats if c in state.tracked_triage]
        keys = sorted(
            triage.order_key(s, now, state.configured_targets, state.elapsed) for s in states
        )
        kept = KeptOrder(basis, {}, [key[3] for key in keys], keys, now)
        for summary in states:
            if summary.waiting_since is not None or triage.reminder_at(summary) is not None:
                self._note_facts(kept, summary.chat_id, now)
        self._kept = kept
        return kept

    def _patched(self, kept: KeptOrder, basis: Basis, now: int) -> bool:
        """Re-place only the few summaries changed since `kept` was made; False when a full
        sort is needed (chats or settings changed, many summaries).

        Their keys and facts are taken at `now` even when time moved on since `kept` was
        checked: a key depends on time only through its chat's time facts, which `current`
        checks next."""
        states = self._state.tracked_triage
        if not kept.basis.same_settings(basis):
            return False
        changed = states.changed_since(kept.basis.states_version)
        if changed is None or len(changed) > PATCH_AT_MOST:
            return False
        self._replace(kept, list(changed), now)
        for chat_id in sorted(changed):
            self._note_facts(kept, chat_id, now)
        kept.basis = basis
        return True

    def _replace(self, kept: KeptOrder, moved: list[int], now: int) -> None:
        """Take the `moved` chats out of the order and put back those still known by key."""
        if len(moved) > ONE_BY_ONE:
            self._merge(kept, set(moved), now)
            return
        ids, keys = kept.ids, kept.keys
        for chat_id in moved:
            if chat_id in ids:
                index = ids.index(chat_id)
                del ids[index], keys[index]
        state = self._state
        for chat_id in moved:
            if chat_id in state.tracked_triage and chat_id in state.tracked_chats:
                key = triage.order_key(
                    state.tracked_triage[chat_id], now, state.configured_targets, state.elapsed
                )
                index = bisect_left(keys, key)
                ids.insert(index, chat_id)
                keys.insert(index, key)

    def _merge(self, kept: KeptOrder, moved: set[int], now: int) -> None:
        """Re-place many chats in one pass: drop them, then sort their new keys in."""
        state = self._state
        chats, states = state.tracked_chats, state.tracked_triage
        keys = [key for key in kept.keys if key[3] not in moved]
        keys.extend(
            triage.order_key(states[chat_id], now, state.configured_targets, state.elapsed)
            for chat_id in moved
            if chat_id in states and chat_id in chats
        )
        keys.sort()  # the kept part is sorted already: Timsort merges the new keys in
        kept.keys[:] = keys
        kept.ids[:] = [key[3] for key in keys]

    def time_fact(self, chat_id: int, now: int) -> TimeFact:
        """What of a chat's place in the order can change with time alone."""
        self.facts_checked += 1
        state = self._state.tracked_triage[chat_id]
        parked = triage.is_parked(state, now)
        level = None if parked else self._state.level(chat_id, now)
        return parked, triage.reminder_due(state, now), level
