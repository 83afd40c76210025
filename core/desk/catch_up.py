"""A catch-up as the desk sees it: the chats that got messages while the source delivered what
was missed (core/desk/events.py `CatchingUp`), and who waited in them before it began.

The alert watcher (core/desk/alert_watch.py) holds its alerts while a catch-up runs and, once it
has finished, alerts only the waits still open and says the rest in one summary line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .models import ChatTriage


@dataclass(frozen=True, slots=True)
class FinishedCatchUp:
    """A catch-up that has delivered everything: the chats it touched and their earlier waits."""

    began_at: int
    touched: frozenset[int]
    waits_before: dict[int, int | None] = field(default_factory=dict)

    def learned_wait(self, state: ChatTriage) -> bool:
        """Whether the chat's current wait is one the desk first heard of in this catch-up."""
        return (
            state.chat_id in self.touched
            and state.waiting_msg_id is not None
            and self.waits_before.get(state.chat_id) != state.waiting_msg_id
        )


class CatchUp:
    """The catch-up that is running (if any), and the finished one not yet announced."""

    def __init__(self) -> None:
        """No catch-up yet."""
        self.active = False
        self.began_at = 0
        self._touched: set[int] = set()
        self._waits_before: dict[int, int | None] = {}
        self._finished: FinishedCatchUp | None = None

    def begin(self, now: int) -> None:
        """The source started delivering what was missed (a second begin changes nothing)."""
        if self.active:
            return
        self.active = True
        self.began_at = now
        self._touched = set()
        self._waits_before = {}

    def note(self, before: ChatTriage) -> None:
        """A message of a catch-up lands in a chat whose summary was `before` until then."""
        if self.active and before.chat_id not in self._touched:
            self._touched.add(before.chat_id)
            self._waits_before[before.chat_id] = before.waiting_msg_id

    def end(self) -> None:
        """The source has delivered everything missed: keep the result for the alert watcher."""
        if not self.active:
            return
        self.active = False
        previous = self._finished
        touched = set(self._touched)
        waits = dict(self._waits_before)
        if previous is not None:  # two catch-ups before the watcher looked: one result
            touched |= previous.touched
            waits = {**waits, **previous.waits_before}
        began = previous.began_at if previous is not None else self.began_at
        self._finished = FinishedCatchUp(began, frozenset(touched), waits)
        self._touched, self._waits_before = set(), {}

    def take_finished(self) -> FinishedCatchUp | None:
        """The finished catch-up not yet announced (once)."""
        finished, self._finished = self._finished, None
        return finished
