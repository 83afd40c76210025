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
from dataclasses import dataclass
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
    """The All order with its sort keys and the time facts it rests on."""

    basis: Basis
    facts: tuple[tuple[int, TimeFact], ...]
    ids: list[int]
    keys: list[OrderKey]
    checked_at: int
    valid_until: int


class OrderIndex:
    """The All order of one desk state, kept and patched as the state changes."""

    def __init__(self, state: OrderedState) -> None:
        """An index over `state` with nothing kept yet."""
        self._state = state
        self._kept: KeptOrder | None = None

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
        if kept is not None and not kept.basis.same_as(basis):
            if self._patched(kept, basis, now):
                return kept
            kept = None
        if kept is None:
            return self._sorted(basis, now)
        if kept.checked_at <= now < kept.valid_until:
            return kept
        facts = tuple((chat_id, self.time_fact(chat_id, now)) for chat_id, _ in kept.facts)
        if facts != kept.facts:
            moved = [new[0] for old, new in zip(kept.facts, facts, strict=True) if old != new]
            self._replace(kept, moved, now)
            kept.facts = facts
        kept.checked_at = now
        kept.valid_until = self._next_fact_change(facts, now)
        return kept

    def _sorted(self, basis: Basis, now: int) -> KeptOrder:
        """Sort every chat anew (triage.order_key ends with the chat id: keys are unique)."""
        state = self._state
        states = [state.tracked_triage[c] for c in state.tracked_chats if c in state.tracked_triage]
        keys = sorted(
            triage.order_key(s, now, state.configured_targets, state.elapsed) for s in states
        )
        facts = tuple(
            (s.chat_id, self.time_fact(s.chat_id, now))
            for s in states
            if s.waiting_since is not None or triage.reminder_at(s) is not None
        )
        self._kept = KeptOrder(
            basis, facts, [key[3] for key in keys], keys, now, self._next_fact_change(facts, now)
        )
        return self._kept

    def _patched(self, kept: KeptOrder, basis: Basis, now: int) -> bool:
        """Re-place only the few summaries changed since `kept` was made; False when a full
        sort is needed (chats or settings changed, many summaries, time moved)."""
        states = self._state.tracked_triage
        if not kept.basis.same_settings(basis) or not (kept.checked_at <= now < kept.valid_until):
            return False
        changed = states.changed_since(kept.basis.states_version)
        if changed is None or len(changed) > PATCH_AT_MOST:
            return False
        self._replace(kept, list(changed), now)
        chats = self._state.tracked_chats
        fresh = tuple(
            (chat_id, self.time_fact(chat_id, now))
            for chat_id in sorted(changed)
            if chat_id in states
            and chat_id in chats
            and (
                states[chat_id].waiting_since is not None
                or triage.reminder_at(states[chat_id]) is not None
            )
        )
        kept.facts = tuple(f for f in kept.facts if f[0] not in changed) + fresh
        kept.basis = basis
        kept.valid_until = min(kept.valid_until, self._next_fact_change(kept.facts, now))
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

    def _next_fact_change(self, facts: tuple[tuple[int, TimeFact], ...], now: int) -> int:
        """The first second at which a time fact may change (now + 1 when unknown).

        On the wall clock a level changes when a wait reaches the next threshold, and a
        postponement or a due date ends at its time; business hours bend time, so they are
        checked anew every second.
        """
        state = self._state
        if state.elapsed is not triage.wall_elapsed:
            return now + 1
        soonest = now + 3600
        for chat_id, _ in facts:
            change = triage.next_time_change(
                state.tracked_triage[chat_id], now, state.configured_targets
            )
            if change is not None:
                soonest = min(soonest, change)
        return max(now + 1, soonest)

    def time_fact(self, chat_id: int, now: int) -> TimeFact:
        """What of a chat's place in the order can change with time alone."""
        state = self._state.tracked_triage[chat_id]
        parked = triage.is_parked(state, now)
        level = None if parked else self._state.level(chat_id, now)
        return parked, triage.reminder_due(state, now), level
