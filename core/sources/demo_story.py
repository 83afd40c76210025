"""The demo's story: each chat's backlog and live script, played on a schedule of story time.

`Story` holds the simulation's state (the chats, the schedule, the random generators) and turns
scripted steps (core/sources/demo_script.py) into desk events; `Unscripted` (demo_unscripted.py)
adds what nobody scripted. The source (demo.py) pulls due actions off `heap`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from bisect import bisect_left
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from ..desk.events import (
    ChatUpdated,
    Event,
    MessageEdited,
    MessagesDeleted,
    NewMessage,
    ReactionChanged,
    Typing,
)
from ..desk.models import Chat, Media, Message
from .demo_script import (
    CUSTOMER,
    MATE,
    Delete,
    Edit,
    Person,
    React,
    Say,
    Scenario,
    Script,
    Step,
    seconds,
    sounds_closing,
    to_user,
)
from .demo_unscripted import PICKUP, Unscripted

Action = Callable[[], list[Event]]


@dataclass(eq=False)
class ChatRun:
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


class Story:
    """The simulation: chats with their scripts, a schedule of actions and seeded randomness."""

    def __init__(
        self,
        script: Script,
        seed: int | None,
        speed: float,
        clock: Callable[[], float],
    ) -> None:
        """Seed the generators; nothing is built until `build` is called for each scenario."""
        base = random.Random(seed)
        self.rng = random.Random(base.getrandbits(64))
        self.send_rng = random.Random(base.getrandbits(64))
        # Team signals draw from their own generator, so the rest of the story stays the same.
        self.team_rng = random.Random(base.getrandbits(64))
        self.script = script
        self.speed = speed
        self.clock = clock
        self.staff = frozenset({script.me.id, *(p.id for p in script.teammates)})
        self.runs: dict[int, ChatRun] = {}
        self.heap: list[tuple[float, int, Action]] = []
        self.seq = itertools.count()
        self.wake = asyncio.Event()
        self.decks: dict[str, list[tuple[Step, ...]]] = {}
        self.unscripted = Unscripted(self)

    def at(self, story_seconds: float, action: Action, *, jitter: bool = True) -> None:
        """Schedule `action` after `story_seconds` of story time (±15 % unless jitter=False).

        Story delays are whole seconds, so a clock that moves in whole seconds meets them exactly.
        """
        if jitter and story_seconds > 0:
            story_seconds *= self.rng.uniform(0.85, 1.15)
        due = self.clock() + max(0, round(story_seconds)) / self.speed
        heapq.heappush(self.heap, (due, next(self.seq), action))
        self.wake.set()

    # --- backlog ----------------------------------------------------------------------------

    def build(self, scenario: Scenario, now: int) -> ChatRun:
        """A chat with its backlog: closed threads from earlier days, then the scripted past."""
        private = scenario.kind == "private"
        people = {p.key: p for p in scenario.customers}
        if not private:
            people.update({p.key: p for p in self.script.teammates})
        chat = Chat(id=scenario.chat_id, title=scenario.title, kind=scenario.kind)
        run = ChatRun(scenario, chat, people, visible=scenario.appears is None)
        run.steps.extend(scenario.live)
        run.next_id = self.rng.randint(20, 900) if private else self.rng.randint(120, 4800)
        staff = [self.script.me] if private else [self.script.me, *self.script.teammates]
        threads = self.script.older_threads[scenario.lang]
        for k in range(scenario.older):
            days = scenario.older - k
            t = now - days * 86400 - self.rng.randint(3600, 7 * 3600)
            customer = self.rng.choice(scenario.customers)
            mate = self.rng.choice(staff)
            lines = list(self.rng.choice(threads))
            if lines[-1][0] == CUSTOMER:
                lines.append((MATE, self.rng.choice(self.script.closers[scenario.lang])))
            for who, text in lines:
                t += self.rng.randint(40, 9 * 60)
                self._add_past(run, customer if who == CUSTOMER else mate, text, t)
        scale = self.rng.uniform(0.95, 1.05)
        for line in scenario.past:
            date = now - max(1, int(seconds(line.ago) * scale))
            if run.messages:
                date = max(date, run.messages[-1].date)
            person = self.script.staff.get(line.who) or people[line.who]
            edit_date = min(now, date + self.rng.randint(20, 120)) if line.edited else None
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
        run: ChatRun,
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
        if self.rng.random() < 0.08:
            run.next_id += 1
        return msg

    def _message(
        self,
        run: ChatRun,
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
            out=person.id == self.script.me.id,
            reply_to=reply_to,
            media=media,
            service=service,
        )
        run.next_id += 1
        return msg

    # --- live messages ----------------------------------------------------------------------

    def waiting(self, run: ChatRun) -> bool:
        """True when a customer spoke after the last staff message."""
        for msg in reversed(run.messages):
            if not msg.service:
                return msg.sender_id not in self.staff
        return False

    def append(
        self,
        run: ChatRun,
        person: Person,
        text: str,
        reply_to: int | None = None,
        media: Media | None = None,
    ) -> Message:
        """Add a live message dated now and update the chat's bookkeeping."""
        date = int(self.clock())
        if run.messages:
            date = max(date, run.messages[-1].date)
        msg = self._message(run, person, text, date, reply_to, media)
        run.messages.append(msg)
        run.activity += 1
        if person.id in self.staff:
            run.nudged = False
        return msg

    def _say(self, run: ChatRun, step: Say) -> list[Event]:
        """Emit a scripted message and remember its tag."""
        person = run.people[step.who]
        reply_to = run.tags.get(step.quote) if step.quote else None
        msg = self.append(run, person, step.text, reply_to, step.media)
        if step.tag:
            run.tags[step.tag] = msg.id
        if step.who in run.customer_keys:
            run.last_customer = step.who
            run.closing = sounds_closing(step.text)
            self.watch_silence(run)
            if run.closing:
                self.unscripted.acknowledge_later(run, msg)
        elif step.tag == PICKUP:  # "I'm on it": the customer waits for the actual answer
            run.picked_up = True
        else:
            run.picked_up = False
            self.release(run)
        return [NewMessage(msg, to_user(person))]

    def watch_silence(self, run: ChatRun) -> None:
        """After customer activity, check later whether they have been left waiting in silence."""
        if run.scenario.patience is not None and not run.nudged:
            token = run.activity
            self.at(seconds(run.scenario.patience), partial(self._nudge, run, token))

    def _nudge(self, run: ChatRun, token: int) -> list[Event]:
        """Write "anyone there?" if the chat is still silent and waiting since the check was set."""
        pending = run.pending
        about_to_write = pending is not None and not (
            isinstance(pending, Say | React) and pending.who not in run.customer_keys
        )
        if run.activity != token or run.nudged or run.closing or about_to_write:
            return []
        if not self.waiting(run):
            return []
        who = run.last_customer or run.customer_keys[0]
        text = self.rng.choice(self.script.nudges[run.people[who].lang])
        run.nudged = True
        msg = self.append(run, run.people[who], text)
        return [NewMessage(msg, to_user(run.people[who]))]

    # --- the script ----------------------------------------------------------------------

    def advance(self, run: ChatRun) -> None:
        """Schedule the chat's next step, or hold it until staff answers."""
        if run.pending is not None or run.blocked is not None or not run.steps:
            return
        step = run.steps.popleft()
        if isinstance(step, Say) and step.after == "staff" and self.waiting(run):
            run.blocked = step
            return
        run.pending = step
        self.at(seconds(step.wait), partial(self._run_step, run, step))

    def release(self, run: ChatRun) -> bool:
        """A staff message arrived: schedule the step that waited for it, if any."""
        step = run.blocked
        if step is None:
            return False
        run.blocked = None
        run.pending = step
        self.at(seconds(step.wait), partial(self._run_step, run, step))
        return True

    def _run_step(self, run: ChatRun, step: Step) -> list[Event]:
        """Carry out one scripted step of a chat."""
        run.pending = None
        events: list[Event] = []
        if isinstance(step, Say):
            if step.who not in run.customer_keys:
                return self.teammate_starts(run, step)
            events = self._say(run, step)
        elif isinstance(step, Edit):
            events = self._edit(run, step)
        elif isinstance(step, Delete):
            events = self._delete(run, step)
        elif isinstance(step, React):
            msg_id = run.tags.get(step.tag)
            if msg_id is not None and run.find(msg_id) is not None:
                events = [ReactionChanged(run.chat.id, msg_id, run.people[step.who].id, step.emoji)]
        self.advance(run)
        return events

    def teammate_starts(self, run: ChatRun, step: Say) -> list[Event]:
        """A teammate picks the chat up: typing first, the message a few seconds later."""
        if step.unless_answered and not self.waiting(run):
            self.advance(run)
            return []
        run.pending = step
        mate = run.people[step.who]
        typing_for = self.rng.uniform(3.0, 6.0)
        until = int(self.clock() + typing_for / self.speed) + 2
        self.at(typing_for, partial(self._teammate_sends, run, step), jitter=False)
        return [Typing(run.chat.id, mate.id, until)]

    def _teammate_sends(self, run: ChatRun, step: Say) -> list[Event]:
        """The teammate's message lands, unless the engineer answered while they typed."""
        run.pending = None
        events: list[Event] = []
        if not step.unless_answered or self.waiting(run):
            events = self._say(run, step)
        self.advance(run)
        return events

    def _edit(self, run: ChatRun, step: Edit) -> list[Event]:
        """Replace a tagged message's text and mark it edited."""
        msg_id = run.tags.get(step.tag)
        i = run.find(msg_id) if msg_id is not None else None
        if i is None:
            return []
        new = run.messages[i].model_copy(update={"text": step.text, "edit_date": int(self.clock())})
        run.messages[i] = new
        run.activity += 1
        self.watch_silence(run)
        return [MessageEdited(new)]

    def _delete(self, run: ChatRun, step: Delete) -> list[Event]:
        """Delete a tagged message."""
        msg_id = run.tags.get(step.tag)
        i = run.find(msg_id) if msg_id is not None else None
        if msg_id is None or i is None:
            return []
        del run.messages[i]
        run.activity += 1
        self.watch_silence(run)
        return [MessagesDeleted(run.chat.id, (msg_id,))]

    def appear(self, run: ChatRun) -> list[Event]:
        """A new support chat shows up (a customer's group was just created)."""
        run.visible = True
        self.advance(run)
        return [ChatUpdated(run.chat)]


def resume_run(run: ChatRun, stored: list[Message]) -> None:
    """Turn a freshly built chat into the one an earlier run left in the store.

    The stored messages replace the generated backlog, new ids continue above them, tags point
    at the stored messages they name, and the live script goes on after the last scripted line
    that was already said (matched by speaker and text).
    """
    if not stored:
        return
    messages = sorted(stored, key=lambda m: m.id)
    run.messages = messages
    run.visible = True
    run.next_id = messages[-1].id + 1
    by_line = {(m.sender_id, m.text): m.id for m in messages}
    run.tags = {}
    for line in run.scenario.past:
        person = run.people.get(line.who)
        found = by_line.get((person.id if person else None, line.text))
        if line.tag and found is not None:
            run.tags[line.tag] = found
    played = 0
    for index, step in enumerate(run.scenario.live):
        if isinstance(step, Say) and step.who in run.people:
            found = by_line.get((run.people[step.who].id, step.text))
            if found is not None:
                played = index + 1
                if step.tag:
                    run.tags[step.tag] = found
    run.steps = deque(run.scenario.live[played:])
    customers = {run.people[key].id: key for key in run.customer_keys}
    last = next((m for m in reversed(messages) if m.sender_id in customers), None)
    if last is not None and last.sender_id is not None:
        run.last_customer = customers[last.sender_id]
        run.closing = sounds_closing(last.text)
