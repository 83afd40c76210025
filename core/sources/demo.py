"""The built-in demo source: a simulated support morning at a hosting company, no account needed.

`DemoSource` plays the script of `demo_script.py` as a `ChatSource`: a backlog of the last
hours (some chats already waiting 1, 7, 20 and 75 minutes), then live traffic from customers
and two teammates. Customers who wait in silence ask "anyone there?", answer the engineer's
replies, and say thanks. With a seed and an injected clock/sleep it is fully deterministic.

Timing: every delay in the script is story time; `speed` divides it. Message dates are the
injected clock's time when the message is emitted. The event stream is pull-driven: time only
advances while someone iterates `events()` (there is one consumer, the Inbox).
"""

from __future__ import annotations

import asyncio
import dataclasses
import heapq
import itertools
import math
import random
import time
from bisect import bisect_left
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ..desk.events import (
    ChatUpdated,
    Connection,
    ConnectionState,
    Event,
    MessageEdited,
    MessagesDeleted,
    NewMessage,
    ReactionChanged,
    ReadUpTo,
    Typing,
)
from ..desk.models import Chat, Media, Message, User
from . import demo_script as script
from .base import Dialogs, SendError, SourceTraits
from .demo_script import (
    AMBIENT,
    NUDGES,
    OLDER_THREADS,
    REPLIES,
    SCENARIOS,
    Delete,
    Edit,
    Person,
    React,
    Say,
    Scenario,
    Step,
    seconds,
)

Action = Callable[[], list[Event]]

_PICKUP = "\x00pickup"
"""Tag of a teammate's "I'm on it" line: it clears the wait but is not yet the answer."""

MAX_TEXT = 4096
"""Telegram's limit on a message's length."""


def to_user(person: Person) -> User:
    """The `User` model of a scripted person."""
    return User(
        id=person.id,
        first_name=person.first_name,
        last_name=person.last_name,
        username=person.username,
    )


@dataclass(eq=False)
class _ChatRun:
    """One chat's live state inside the simulation."""

    scenario: Scenario
    chat: Chat
    people: dict[str, Person]
    messages: list[Message] = field(default_factory=list)
    tags: dict[str, int] = field(default_factory=dict)
    steps: deque[Step] = field(default_factory=deque)
    visible: bool = True
    next_id: int = 1
    pending: Step | None = None
    blocked: Step | None = None
    activity: int = 0
    nudged: bool = False
    picked_up: bool = False
    closing: bool = False
    last_customer: str | None = None

    @property
    def customer_keys(self) -> tuple[str, ...]:
        """Keys of the chat's customers, in script order."""
        return tuple(p.key for p in self.scenario.customers)

    def find(self, message_id: int) -> int | None:
        """Index of message `message_id` in `messages`, if it still exists."""
        i = bisect_left(self.messages, message_id, key=lambda m: m.id)
        if i < len(self.messages) and self.messages[i].id == message_id:
            return i
        return None


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
        scenarios: tuple[Scenario, ...] = SCENARIOS,
    ) -> None:
        """Prepare the simulation; nothing happens until `start()`."""
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"demo speed must be a positive number, not {speed!r}")
        if not 0.0 <= fail_rate <= 1.0:
            raise ValueError(f"demo fail_rate must be between 0 and 1, not {fail_rate!r}")
        script.validate(scenarios)
        base = random.Random(seed)
        self._rng = random.Random(base.getrandbits(64))
        self._send_rng = random.Random(base.getrandbits(64))
        # Team signals draw from their own generator, so the rest of the story stays the same.
        self._team_rng = random.Random(base.getrandbits(64))
        self._speed = speed
        self._clock = clock
        self._sleep = sleep
        self._fail_rate = fail_rate
        self._scenarios = scenarios
        self.me = to_user(script.ME)
        self.teammates = tuple(to_user(p) for p in script.TEAMMATES)
        self._staff = frozenset({script.ME.id, *(p.id for p in script.TEAMMATES)})
        self._runs: dict[int, _ChatRun] = {}
        self._heap: list[tuple[float, int, Action]] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._started = False
        self._stopped = False
        self._sent: dict[int, Message] = {}
        self._read: dict[int, int] = {}
        self._decks: dict[str, list[tuple[Step, ...]]] = {}

    # --- ChatSource ---------------------------------------------------------------------

    async def start(self) -> User:
        """Build the backlog relative to the clock's now, schedule the live script, return me."""
        if not self._started:
            self._started = True
            now = self._clock()
            for scenario in self._scenarios:
                run = self._build(scenario, int(now))
                self._runs[run.chat.id] = run
            for run in self._runs.values():
                if run.scenario.appears is None:
                    self._advance(run)
                else:
                    self._at(
                        seconds(run.scenario.appears), partial(self._appear, run), jitter=False
                    )
            self._at(240, self._ambient)
            self._at(390, self._sweep)
        return self.me

    async def stop(self) -> None:
        """End the event stream."""
        self._stopped = True
        self._wake.set()

    async def dialogs(self) -> Dialogs:
        """The chats visible now, most recently active first."""
        runs = [r for r in self._runs.values() if r.visible]
        runs.sort(key=lambda r: r.messages[-1].date if r.messages else 0, reverse=True)
        return Dialogs(r.chat for r in runs)

    async def history(self, chat_id: int, before: int | None, limit: int) -> list[Message]:
        """Up to `limit` messages with ids below `before` (the newest if None), oldest first."""
        run = self._runs.get(chat_id)
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
        run = self._runs.get(chat_id)
        if run is None or not run.visible:
            raise SendError(f"demo: no chat with id {chat_id}", permanent=True)
        if not text.strip():
            raise SendError("the message is empty", permanent=True)
        if len(text) > MAX_TEXT:
            raise SendError(
                f"the message is {len(text)} characters; Telegram allows {MAX_TEXT}",
                permanent=True,
            )
        await self._sleep(self._send_rng.uniform(0.2, 0.8) / self._speed)
        if random_id in self._sent:  # a retry raced the first attempt
            return self._sent[random_id]
        failing = self._send_rng.random() < self._fail_rate
        if failing and self._send_rng.random() < 0.5:
            raise SendError(
                "demo: network error before the message left (simulated)", retry_after=2
            )
        if reply_to is not None and run.find(reply_to) is None:
            reply_to = None
        msg = self._append(run, script.ME, text, reply_to=reply_to)
        run.picked_up = False
        self._sent[random_id] = msg
        self._after_send(run, msg)
        if failing:
            raise SendError(
                "demo: connection lost before Telegram confirmed (simulated); a retry is safe",
                retry_after=2,
            )
        return msg

    async def mark_read(self, chat_id: int, upto: int) -> None:
        """Remember that the engineer read the chat up to `upto`."""
        self._read[chat_id] = max(self._read.get(chat_id, 0), upto)

    async def react(self, chat_id: int, message_id: int, emoji: str) -> None:
        """Put the engineer's reaction on a message; it comes back as a ReactionChanged event."""
        run = self._runs.get(chat_id)
        if run is None or not run.visible or run.find(message_id) is None:
            raise SendError(f"demo: no message {message_id} in chat {chat_id}", permanent=True)
        event = ReactionChanged(chat_id, message_id, self.me.id, emoji)
        self._at(0, lambda: [event], jitter=False)

    def staff_ids(self) -> frozenset[int]:
        """The two teammates' ids (the engineer is staff anyway)."""
        return frozenset(u.id for u in self.teammates)

    async def events(self) -> AsyncIterator[Event]:
        """Connect, then yield scripted events as their time comes, until `stop()`."""
        if not self._started:
            raise RuntimeError("call start() before iterating the demo source's events()")
        yield ConnectionState(Connection.CONNECTED, "demo")
        while not self._stopped:
            if not self._heap:
                await self._nap(None)
                continue
            delay = self._heap[0][0] - self._clock()
            if delay > 0:
                await self._nap(delay)
                continue
            _, _, action = heapq.heappop(self._heap)
            for event in action():
                yield event
                if self._stopped:
                    return

    # --- time -----------------------------------------------------------------------------

    async def _nap(self, delay: float | None) -> None:
        """Sleep for `delay` (forever if None), waking early when something new is scheduled."""
        self._wake.clear()
        tasks: set[asyncio.Future[Any]] = {asyncio.ensure_future(self._wake.wait())}
        if delay is not None:
            tasks.add(asyncio.ensure_future(self._sleep(delay)))
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()

    def _at(self, story_seconds: float, action: Action, *, jitter: bool = True) -> None:
        """Schedule `action` after `story_seconds` of story time (±15 % unless jitter=False).

        Story delays are whole seconds, so a clock that moves in whole seconds meets them exactly.
        """
        if jitter and story_seconds > 0:
            story_seconds *= self._rng.uniform(0.85, 1.15)
        due = self._clock() + max(0, round(story_seconds)) / self._speed
        heapq.heappush(self._heap, (due, next(self._seq), action))
        self._wake.set()

    # --- backlog ----------------------------------------------------------------------------

    def _build(self, scenario: Scenario, now: int) -> _ChatRun:
        """A chat with its backlog: closed threads from earlier days, then the scripted past."""
        private = scenario.kind == "private"
        people = {p.key: p for p in scenario.customers}
        if not private:
            people.update({p.key: p for p in script.TEAMMATES})
        chat = Chat(id=scenario.chat_id, title=scenario.title, kind=scenario.kind)
        run = _ChatRun(scenario, chat, people, visible=scenario.appears is None)
        run.steps.extend(scenario.live)
        run.next_id = self._rng.randint(20, 900) if private else self._rng.randint(120, 4800)
        staff = [script.ME] if private else [script.ME, *script.TEAMMATES]
        threads = OLDER_THREADS[scenario.lang]
        for k in range(scenario.older):
            days = scenario.older - k
            t = now - days * 86400 - self._rng.randint(3600, 7 * 3600)
            customer = self._rng.choice(scenario.customers)
            mate = self._rng.choice(staff)
            lines = list(self._rng.choice(threads))
            if lines[-1][0] == script.CUSTOMER:
                lines.append((script.MATE, self._rng.choice(script.CLOSERS[scenario.lang])))
            for who, text in lines:
                t += self._rng.randint(40, 9 * 60)
                self._add_past(run, customer if who == script.CUSTOMER else mate, text, t)
        scale = self._rng.uniform(0.95, 1.05)
        for line in scenario.past:
            date = now - max(1, int(seconds(line.ago) * scale))
            if run.messages:
                date = max(date, run.messages[-1].date)
            person = script.STAFF.get(line.who) or people[line.who]
            edit_date = min(now, date + self._rng.randint(20, 120)) if line.edited else None
            reply_to = run.tags[line.quote] if line.quote else None
            msg = self._add_past(
                run, person, line.text, date, reply_to, line.media, edit_date, line.service
            )
            if line.tag:
                run.tags[line.tag] = msg.id
            if not line.service and line.who in run.customer_keys:
                run.last_customer = line.who
        return run

    def _add_past(
        self,
        run: _ChatRun,
        person: Person,
        text: str,
        date: int,
        reply_to: int | None = None,
        media: Media | None = None,
        edit_date: int | None = None,
        service: bool = False,
    ) -> Message:
        """Append a backlog message, leaving an occasional gap in the ids like real chats do."""
        msg = self._message(run, person, text, date, reply_to, media, service)
        if edit_date is not None:
            msg = msg.model_copy(update={"edit_date": edit_date})
        run.messages.append(msg)
        if self._rng.random() < 0.08:
            run.next_id += 1
        return msg

    def _message(
        self,
        run: _ChatRun,
        person: Person,
        text: str,
        date: int,
        reply_to: int | None = None,
        media: Media | None = None,
        service: bool = False,
    ) -> Message:
        """A new message from `person` with the chat's next id."""
        msg = Message(
            chat_id=run.chat.id,
            id=run.next_id,
            date=date,
            sender_id=person.id,
            sender_name=f"{person.first_name} {person.last_name}".strip(),
            text=text,
            out=person.id == script.ME.id,
            reply_to=reply_to,
            media=media,
            service=service,
        )
        run.next_id += 1
        return msg

    # --- live messages ----------------------------------------------------------------------

    def _waiting(self, run: _ChatRun) -> bool:
        """True when a customer spoke after the last staff message."""
        for msg in reversed(run.messages):
            if not msg.service:
                return msg.sender_id not in self._staff
        return False

    def _append(
        self,
        run: _ChatRun,
        person: Person,
        text: str,
        reply_to: int | None = None,
        media: Media | None = None,
    ) -> Message:
        """Add a live message dated now and update the chat's bookkeeping."""
        date = int(self._clock())
        if run.messages:
            date = max(date, run.messages[-1].date)
        msg = self._message(run, person, text, date, reply_to, media)
        run.messages.append(msg)
        run.activity += 1
        if person.id in self._staff:
            run.nudged = False
        return msg

    def _say(self, run: _ChatRun, step: Say) -> list[Event]:
        """Emit a scripted message and remember its tag."""
        person = run.people[step.who]
        reply_to = run.tags.get(step.quote) if step.quote else None
        msg = self._append(run, person, step.text, reply_to, step.media)
        if step.tag:
            run.tags[step.tag] = msg.id
        if step.who in run.customer_keys:
            run.last_customer = step.who
            run.closing = script.sounds_closing(step.text)
            self._watch_silence(run)
            if run.closing:
                self._acknowledge_later(run, msg)
        elif step.tag == _PICKUP:  # "I'm on it": the customer waits for the actual answer
            run.picked_up = True
        else:
            run.picked_up = False
            self._release(run)
        return [NewMessage(msg, to_user(person))]

    def _watch_silence(self, run: _ChatRun) -> None:
        """After customer activity, check later whether they have been left waiting in silence."""
        if run.scenario.patience is not None and not run.nudged:
            token = run.activity
            self._at(seconds(run.scenario.patience), partial(self._nudge, run, token))

    def _nudge(self, run: _ChatRun, token: int) -> list[Event]:
        """Write "anyone there?" if the chat is still silent and waiting since the check was set."""
        pending = run.pending
        about_to_write = pending is not None and not (
            isinstance(pending, Say | React) and pending.who not in run.customer_keys
        )
        if run.activity != token or run.nudged or run.closing or about_to_write:
            return []
        if not self._waiting(run):
            return []
        who = run.last_customer or run.customer_keys[0]
        text = self._rng.choice(NUDGES[run.people[who].lang])
        run.nudged = True
        msg = self._append(run, run.people[who], text)
        return [NewMessage(msg, to_user(run.people[who]))]

    # --- the script ----------------------------------------------------------------------

    def _advance(self, run: _ChatRun) -> None:
        """Schedule the chat's next step, or hold it until staff answers."""
        if run.pending is not None or run.blocked is not None or not run.steps:
            return
        step = run.steps.popleft()
        if isinstance(step, Say) and step.after == "staff" and self._waiting(run):
            run.blocked = step
            return
        run.pending = step
        self._at(seconds(step.wait), partial(self._run_step, run, step))

    def _release(self, run: _ChatRun) -> bool:
        """A staff message arrived: schedule the step that waited for it, if any."""
        step = run.blocked
        if step is None:
            return False
        run.blocked = None
        run.pending = step
        self._at(seconds(step.wait), partial(self._run_step, run, step))
        return True

    def _run_step(self, run: _ChatRun, step: Step) -> list[Event]:
        """Carry out one scripted step of a chat."""
        run.pending = None
        events: list[Event] = []
        if isinstance(step, Say):
            if step.who not in run.customer_keys:
                return self._teammate_starts(run, step)
            events = self._say(run, step)
        elif isinstance(step, Edit):
            events = self._edit(run, step)
        elif isinstance(step, Delete):
            events = self._delete(run, step)
        elif isinstance(step, React):
            msg_id = run.tags.get(step.tag)
            if msg_id is not None and run.find(msg_id) is not None:
                events = [ReactionChanged(run.chat.id, msg_id, run.people[step.who].id, step.emoji)]
        self._advance(run)
        return events

    def _teammate_starts(self, run: _ChatRun, step: Say) -> list[Event]:
        """A teammate picks the chat up: typing first, the message a few seconds later."""
        if step.unless_answered and not self._waiting(run):
            self._advance(run)
            return []
        run.pending = step
        mate = run.people[step.who]
        typing_for = self._rng.uniform(3.0, 6.0)
        until = int(self._clock() + typing_for / self._speed) + 2
        self._at(typing_for, partial(self._teammate_sends, run, step), jitter=False)
        return [Typing(run.chat.id, mate.id, until)]

    def _teammate_sends(self, run: _ChatRun, step: Say) -> list[Event]:
        """The teammate's message lands, unless the engineer answered while they typed."""
        run.pending = None
        events: list[Event] = []
        if not step.unless_answered or self._waiting(run):
            events = self._say(run, step)
        self._advance(run)
        return events

    def _edit(self, run: _ChatRun, step: Edit) -> list[Event]:
        """Replace a tagged message's text and mark it edited."""
        msg_id = run.tags.get(step.tag)
        i = run.find(msg_id) if msg_id is not None else None
        if i is None:
            return []
        new = run.messages[i].model_copy(
            update={"text": step.text, "edit_date": int(self._clock())}
        )
        run.messages[i] = new
        run.activity += 1
        self._watch_silence(run)
        return [MessageEdited(new)]

    def _delete(self, run: _ChatRun, step: Delete) -> list[Event]:
        """Delete a tagged message."""
        msg_id = run.tags.get(step.tag)
        i = run.find(msg_id) if msg_id is not None else None
        if msg_id is None or i is None:
            return []
        del run.messages[i]
        run.activity += 1
        self._watch_silence(run)
        return [MessagesDeleted(run.chat.id, (msg_id,))]

    def _appear(self, run: _ChatRun) -> list[Event]:
        """A new support chat shows up (a customer's group was just created)."""
        run.visible = True
        self._advance(run)
        return [ChatUpdated(run.chat)]

    # --- reactions to the engineer ------------------------------------------------------------

    def _after_send(self, run: _ChatRun, msg: Message) -> None:
        """The customer reads the reply and, unless the script has plans, sometimes answers."""
        read = ReadUpTo(run.chat.id, msg.id, outbox=True)
        self._at(self._send_rng.uniform(2, 12), lambda: [read], jitter=False)
        if self._release(run) or run.pending is not None or run.steps or run.closing:
            return
        if self._send_rng.random() < 0.6:
            reply = self._send_rng.choice(REPLIES[run.scenario.lang])
            quote = msg.id if self._send_rng.random() < 0.3 else None
            delay = self._send_rng.uniform(25, 90)
            self._at(delay, partial(self._answer, run, reply, quote, run.activity), jitter=False)

    def _answer(self, run: _ChatRun, reply: str, quote: int | None, token: int) -> list[Event]:
        """A customer's generic answer, if nothing else happened in the chat meanwhile."""
        if run.activity != token or run.pending is not None or run.blocked is not None:
            return []
        who = run.last_customer or run.customer_keys[0]
        if quote is not None and run.find(quote) is None:
            quote = None
        msg = self._append(run, run.people[who], reply, reply_to=quote)
        run.closing = script.sounds_closing(reply)
        self._watch_silence(run)
        if run.closing:
            self._acknowledge_later(run, msg)
        return [NewMessage(msg, to_user(run.people[who]))]

    # --- team signals ------------------------------------------------------------------------

    def _acknowledge_later(self, run: _ChatRun, msg: Message) -> None:
        """Now and then a teammate answers a customer's "thanks" in a group with a 👍 only."""
        if run.scenario.kind == "private" or self._team_rng.random() >= 0.5:
            return
        mate = self._team_rng.choice(script.TEAMMATES)
        delay = self._team_rng.uniform(60, 180)
        self._at(delay, partial(self._acknowledge, run, msg.id, mate, run.activity), jitter=False)

    def _acknowledge(self, run: _ChatRun, msg_id: int, mate: Person, token: int) -> list[Event]:
        """The teammate's reaction, if nobody wrote in the chat since the thanks."""
        if run.activity != token or run.find(msg_id) is None or not self._waiting(run):
            return []
        return [ReactionChanged(run.chat.id, msg_id, mate.id, "👍")]

    # --- teammates at work -------------------------------------------------------------------

    def _waited(self, run: _ChatRun) -> float:
        """Story seconds since the chat started waiting for staff (0 when it does not wait)."""
        since = None
        for msg in reversed(run.messages):
            if msg.service:
                continue
            if msg.sender_id in self._staff:
                break
            since = msg.date
        return 0.0 if since is None else (self._clock() - since) * self._speed

    def _sweep(self) -> list[Event]:
        """Now and then a teammate picks up the group chat that has waited longest (10 min+)."""
        self._at(self._rng.uniform(300, 540), self._sweep, jitter=False)
        candidates = [
            (self._waited(r), r)
            for r in self._runs.values()
            if r.visible
            and r.scenario.kind != "private"
            and r.pending is None
            and not r.closing
            and not r.picked_up
        ]
        waited, run = max(candidates, key=lambda c: c[0], default=(0.0, None))
        if run is None or waited < 600:
            return []
        mate = self._rng.choice(script.TEAMMATES)
        line = self._rng.choice(script.PICKUPS[run.scenario.lang])
        pickup = Say(mate.key, self._by_name(run, line), unless_answered=True, tag=_PICKUP)
        self._at(self._rng.uniform(120, 240), partial(self._resolve, run, mate.key), jitter=False)
        return self._teammate_starts(run, pickup)

    def _resolve(self, run: _ChatRun, mate: str) -> list[Event]:
        """The teammate who picked a chat up reports back, unless the engineer took it over."""
        if not run.picked_up:
            return []
        if run.pending is not None:
            self._at(60, partial(self._resolve, run, mate))
            return []
        run.picked_up = False
        line = self._rng.choice(script.RESOLUTIONS[run.scenario.lang])
        return self._teammate_starts(run, Say(mate, self._by_name(run, line)))

    def _by_name(self, run: _ChatRun, line: str) -> str:
        """`line` addressed to the customer who spoke last, by first name."""
        return line.format(name=run.people[run.last_customer or run.customer_keys[0]].first_name)

    # --- fresh conversations ---------------------------------------------------------------

    def _ambient(self) -> list[Event]:
        """Now and then, start a new conversation in a chat that is idle."""
        idle = [
            r
            for r in self._runs.values()
            if r.visible
            and r.pending is None
            and r.blocked is None
            and not r.steps
            and (r.closing or not self._waiting(r))
        ]
        if idle:
            run = self._rng.choice(idle)
            run.steps.extend(self._conversation(run))
            self._advance(run)
        self._at(self._rng.uniform(150, 360), self._ambient, jitter=False)
        return []

    def _conversation(self, run: _ChatRun) -> list[Step]:
        """The next generic conversation for this chat's language, cast with its people."""
        lang = run.scenario.lang
        deck = self._decks.setdefault(lang, [])
        if not deck:
            deck.extend(AMBIENT[lang])
            self._rng.shuffle(deck)
        conversation = deck.pop()
        customer = self._rng.choice(run.customer_keys)
        mates = [k for k in run.people if k not in run.customer_keys]
        mate = self._rng.choice(mates) if mates else None
        prefix = f"ambient{next(self._seq)}:"
        cast = {script.CUSTOMER: customer, script.MATE: mate}
        steps: list[Step] = []
        for step in conversation:
            if isinstance(step, Say | React):
                who = cast[step.who]
                if who is None:  # a teammate's line in a private chat
                    continue
                step = dataclasses.replace(step, who=who)
            if isinstance(step, Say):
                step = dataclasses.replace(
                    step,
                    tag=prefix + step.tag if step.tag else None,
                    quote=prefix + step.quote if step.quote else None,
                )
            else:
                step = dataclasses.replace(step, tag=prefix + step.tag)
            steps.append(step)
        return steps
