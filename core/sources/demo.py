"""The built-in demo source: a simulated support morning at a hosting company, no account needed.

`DemoSource` plays the script of core/sources/demo_script.toml as a `ChatSource`: a backlog of
the last hours (some chats already waiting 1, 7, 20 and 75 minutes), then live traffic from
customers and two teammates. Customers who wait in silence ask "anyone there?", answer the
engineer's replies, and say thanks. With a seed and an injected clock/sleep it is fully
deterministic. The story itself lives in demo_story.py and demo_unscripted.py.

Timing: every delay in the script is story time; `speed` divides it. Message dates are the
injected clock's time when the message is emitted. The event stream is pull-driven: time only
advances while someone iterates `events()` (there is one consumer, the Inbox).
"""

from __future__ import annotations

import asyncio
import heapq
import math
import time
from bisect import bisect_left
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any

from ..desk.events import Connection, ConnectionState, Event, ReactionChanged
from ..desk.models import Message, User
from .base import Dialogs, SendError, SourceTraits
from .demo_script import Script, default_script, seconds, to_user, validate
from .demo_story import ChatRun, Story, resume_run
from .demo_team import DemoRoom

MAX_TEXT = 4096
"""Telegram's limit on a message's length."""


class DemoSource:
    """A ChatSource that simulates a support desk: scripted customers, teammates and timing."""

    name = "demo"
    traits = SourceTraits()

    def __init__(
        self,
        seed: int | None = None,
        speed: float = 1.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        fail_rate: float = 0.0,
        script: Script | None = None,
    ) -> None:
        """Prepare the simulation (`script`: the built-in one by default); nothing runs yet."""
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"demo speed must be a positive number, not {speed!r}")
        if not 0.0 <= fail_rate <= 1.0:
            raise ValueError(f"demo fail_rate must be between 0 and 1, not {fail_rate!r}")
        self._script = script or default_script()
        validate(self._script)
        self._story = Story(self._script, seed, speed, clock)
        self._speed = speed
        self._clock = clock
        self._sleep = sleep
        self._fail_rate = fail_rate
        self.me = to_user(self._script.me)
        self.teammates = tuple(to_user(p) for p in self._script.teammates)
        self._started = False
        self._stopped = False
        self._sent: dict[int, Message] = {}
        self._read: dict[int, int] = {}
        self._stored: dict[int, list[Message]] = {}
        team = self._script.team
        self.room = DemoRoom(team, self._script, self._story) if team else None
        self.team_room = self.room.chat.id if self.room else None  # the desk's team room

    # --- ChatSource ---------------------------------------------------------------------

    async def start(self) -> User:
        """Build the backlog relative to the clock's now, schedule the live script, return me."""
        if not self._started:
            self._started = True
            now = self._clock()
            for scenario in self._script.scenarios:
                run = self._story.build(scenario, int(now))
                resume_run(run, self._stored.get(run.chat.id, []))
                self._story.runs[run.chat.id] = run
            for run in self._story.runs.values():
                if run.visible or run.scenario.appears is None:
                    self._story.advance(run)
                else:
                    self._story.at(
                        seconds(run.scenario.appears),
                        partial(self._story.appear, run),
                        jitter=False,
                    )
            if self.room is not None:
                self.room.schedule()
            self._story.at(240, self._story.unscripted.ambient)
            self._story.at(390, self._story.unscripted.sweep)
        return self.me

    def resume(self, stored: Mapping[int, Sequence[Message]]) -> None:
        """Go on from an earlier run whose messages the desk's store holds (before `start`).

        Chats keep those messages instead of a new backlog, new ids continue above them, and
        each chat's script goes on after its last line already said.
        """
        if self._started:
            raise RuntimeError("resume() must come before start()")
        self._stored = {chat_id: list(messages) for chat_id, messages in stored.items()}

    async def stop(self) -> None:
        """End the event stream."""
        self._stopped = True
        self._story.wake.set()

    async def dialogs(self) -> Dialogs:
        """The chats visible now, most recently active first."""
        runs = [r for r in self._story.runs.values() if r.visible]
        runs.sort(key=lambda r: r.messages[-1].date if r.messages else 0, reverse=True)
        return Dialogs(r.chat for r in runs)  # the team room is named by `team_room` instead

    async def history(self, chat_id: int, before: int | None, limit: int) -> list[Message]:
        """Up to `limit` messages with ids below `before` (the newest if None), oldest first."""
        if self.room is not None and chat_id == self.room.chat.id:
            return self.room.history(before, limit)
        run = self._story.runs.get(chat_id)
        if run is None or not run.visible or limit <= 0:
            return []
        msgs = run.messages
        if before is not None:
            msgs = msgs[: bisect_left(msgs, before, key=lambda m: m.id)]
        return list(msgs[-limit:])

    async def send(self, chat_id: int, text: str, reply_to: int | None, random_id: int) -> Message:
        """Deliver the engineer's reply after a short delay; a repeated random_id is not resent."""
        if random_id in self._sent:
            return self._sent[random_id]
        if self.room is not None and chat_id == self.room.chat.id and text.strip():
            await self._sleep(0.5 / self._speed)  # on its way, like any message
            if random_id not in self._sent:
                self._sent[random_id] = self.room.append(self.me, text)
            return self._sent[random_id]
        run = self._story.runs.get(chat_id)
        if run is None or not run.visible:
            raise SendError(f"demo: no chat with id {chat_id}", permanent=True)
        if not text.strip():
            raise SendError("the message is empty", permanent=True)
        if len(text) > MAX_TEXT:
            raise SendError(
                f"the message is {len(text)} characters; Telegram allows {MAX_TEXT}",
                permanent=True,
            )
        await self._sleep(self._story.send_rng.uniform(0.2, 0.8) / self._speed)
        if random_id in self._sent:  # a retry raced the first attempt
            return self._sent[random_id]
        failing = self._story.send_rng.random() < self._fail_rate
        if failing and self._story.send_rng.random() < 0.5:
            raise SendError(
                "demo: network error before the message left (simulated)", retry_after=2
            )
        if reply_to is not None and run.find(reply_to) is None:
            reply_to = None
        msg = self._story.append(run, self._script.me, text, reply_to=reply_to)
        run.picked_up = False
        self._sent[random_id] = msg
        self._story.unscripted.after_send(run, msg)
        if failing:
            raise SendError(
                "demo: connection lost before Telegram confirmed (simulated); a retry is safe",
                retry_after=2,
            )
        return msg

    async def edit(self, chat_id: int, message_id: int, text: str) -> Message:
        """Edit one of the engineer's messages: in the team room (presence) or a support chat."""
        if self.room is not None and chat_id == self.room.chat.id:
            edited = self.room.edit(message_id, self.me.id, text)
            if edited is None:
                raise SendError(
                    f"demo: no message {message_id} of yours in the room", permanent=True
                )
            return edited
        run, index = self._own(chat_id, message_id)
        old = run.messages[index]
        if old.text == text:
            raise SendError("Not saved: the text is the same as before", permanent=True)
        new = old.model_copy(update={"text": text, "edit_date": int(self._clock())})
        run.messages[index] = new
        return new

    async def delete(self, chat_id: int, message_ids: list[int]) -> None:
        """Delete the engineer's own messages of a support chat (for everyone)."""
        for message_id in message_ids:
            run, index = self._own(chat_id, message_id)
            del run.messages[index]

    def _own(self, chat_id: int, message_id: int) -> tuple[ChatRun, int]:
        """The chat run and index of the engineer's message (SendError if there is none)."""
        run = self._story.runs.get(chat_id)
        index = run.find(message_id) if run is not None and run.visible else None
        if run is None or index is None:
            raise SendError(f"demo: no message {message_id} in chat {chat_id}", permanent=True)
        if not run.messages[index].out:
            raise SendError("Only the author can change this message", permanent=True)
        return run, index

    async def mark_read(self, chat_id: int, upto: int) -> None:
        """Remember that the engineer read the chat up to `upto`."""
        self._read[chat_id] = max(self._read.get(chat_id, 0), upto)

    async def react(self, chat_id: int, message_id: int, emoji: str) -> None:
        """Put the engineer's reaction on a message; it comes back as a ReactionChanged event."""
        run = self._story.runs.get(chat_id)
        if run is None or not run.visible or run.find(message_id) is None:
            raise SendError(f"demo: no message {message_id} in chat {chat_id}", permanent=True)
        event = ReactionChanged(chat_id, message_id, self.me.id, emoji)
        self._story.at(0, lambda: [event], jitter=False)

    def staff_ids(self) -> frozenset[int]:
        """The two teammates' ids (the engineer is staff anyway)."""
        return frozenset(u.id for u in self.teammates)

    async def events(self) -> AsyncIterator[Event]:
        """Connect, then yield scripted events as their time comes, until `stop()`."""
        if not self._started:
            raise RuntimeError("call start() before iterating the demo source's events()")
        yield ConnectionState(Connection.CONNECTED, "demo")
        while not self._stopped:
            if not self._story.heap:
                await self._nap(None)
                continue
            delay = self._story.heap[0][0] - self._clock()
            if delay > 0:
                await self._nap(delay)
                continue
            _, _, action = heapq.heappop(self._story.heap)
            for event in action():
                yield event
                if self._stopped:
                    return

    # --- time -----------------------------------------------------------------------------

    async def _nap(self, delay: float | None) -> None:
        """Sleep for `delay` (forever if None), waking early when something new is scheduled."""
        self._story.wake.clear()
        tasks: set[asyncio.Future[Any]] = {asyncio.ensure_future(self._story.wake.wait())}
        if delay is not None:
            tasks.add(asyncio.ensure_future(self._sleep(delay)))
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
