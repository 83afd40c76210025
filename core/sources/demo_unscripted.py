"""What the demo's script leaves open: customers answer replies, teammates pick up and chat.

Nothing here is scripted per chat: `Unscripted` draws from the story's generators
(core/sources/demo_story.py) and the shared lines of the script (core/sources/demo_script.toml).
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import TYPE_CHECKING

from ..desk.events import Event, NewMessage, ReactionChanged, ReadUpTo
from ..desk.models import Message
from .demo_script import CUSTOMER, MATE, Person, React, Say, Step, sounds_closing, to_user

if TYPE_CHECKING:
    from .demo_story import ChatRun, Story

PICKUP = "\x00pickup"
"""Tag of a teammate's "I'm on it" line: it clears the wait but is not yet the answer."""


class Unscripted:
    """The unscripted part of a story: customers' answers and the teammates' work."""

    def __init__(self, story: Story) -> None:
        """Work inside `story`, scheduling through it."""
        self.story = story

    # --- customers answer the engineer ------------------------------------------------------------

    def after_send(self, run: ChatRun, msg: Message) -> None:
        """The customer reads the reply and, unless the script has plans, sometimes answers."""
        read = ReadUpTo(run.chat.id, msg.id, outbox=True)
        self.story.at(self.story.send_rng.uniform(2, 12), lambda: [read], jitter=False)
        if self.story.release(run) or run.pending is not None or run.steps or run.closing:
            return
        if self.story.send_rng.random() < 0.6:
            reply = self.story.send_rng.choice(self.story.script.replies[run.scenario.lang])
            quote = msg.id if self.story.send_rng.random() < 0.3 else None
            delay = self.story.send_rng.uniform(25, 90)
            self.story.at(
                delay, partial(self._answer, run, reply, quote, run.activity), jitter=False
            )

    def _answer(self, run: ChatRun, reply: str, quote: int | None, token: int) -> list[Event]:
        """A customer's generic answer, if nothing else happened in the chat meanwhile."""
        if run.activity != token or run.pending is not None or run.blocked is not None:
            return []
        who = run.last_customer or run.customer_keys[0]
        if quote is not None and run.find(quote) is None:
            quote = None
        msg = self.story.append(run, run.people[who], reply, reply_to=quote)
        run.closing = sounds_closing(reply)
        self.story.watch_silence(run)
        if run.closing:
            self.acknowledge_later(run, msg)
        return [NewMessage(msg, to_user(run.people[who]))]

    # --- team signals ------------------------------------------------------------------------

    def acknowledge_later(self, run: ChatRun, msg: Message) -> None:
        """Now and then a teammate answers a customer's "thanks" in a group with a 👍 only."""
        if run.scenario.kind == "private" or self.story.team_rng.random() >= 0.5:
            return
        mate = self.story.team_rng.choice(self.story.script.teammates)
        delay = self.story.team_rng.uniform(60, 180)
        self.story.at(
            delay, partial(self._acknowledge, run, msg.id, mate, run.activity), jitter=False
        )

    def _acknowledge(self, run: ChatRun, msg_id: int, mate: Person, token: int) -> list[Event]:
        """The teammate's reaction, if nobody wrote in the chat since the thanks."""
        if run.activity != token or run.find(msg_id) is None or not self.story.waiting(run):
            return []
        return [ReactionChanged(run.chat.id, msg_id, mate.id, "👍")]

    # --- teammates at work -------------------------------------------------------------------

    def _waited(self, run: ChatRun) -> float:
        """Story seconds since the chat started waiting for staff (0 when it does not wait)."""
        since = None
        for msg in reversed(run.messages):
            if msg.service:
                continue
            if msg.sender_id in self.story.staff:
                break
            since = msg.date
        return 0.0 if since is None else (self.story.clock() - since) * self.story.speed

    def sweep(self) -> list[Event]:
        """Now and then a teammate picks up the group chat that has waited longest (10 min+)."""
        self.story.at(self.story.rng.uniform(300, 540), self.sweep, jitter=False)
        candidates = [
            (self._waited(r), r)
            for r in self.story.runs.values()
            if r.visible
            and r.scenario.kind != "private"
            and r.pending is None
            and not r.closing
            and not r.picked_up
        ]
        waited, run = max(candidates, key=lambda c: c[0], default=(0.0, None))
        if run is None or waited < 600:
            return []
        mate = self.story.rng.choice(self.story.script.teammates)
        line = self.story.rng.choice(self.story.script.pickups[run.scenario.lang])
        pickup = Say(mate.key, self._by_name(run, line), unless_answered=True, tag=PICKUP)
        self.story.at(
            self.story.rng.uniform(120, 240), partial(self._resolve, run, mate.key), jitter=False
        )
        return self.story.teammate_starts(run, pickup)

    def _resolve(self, run: ChatRun, mate: str) -> list[Event]:
        """The teammate who picked a chat up reports back, unless the engineer took it over."""
        if not run.picked_up:
            return []
        if run.pending is not None:
            self.story.at(60, partial(self._resolve, run, mate))
            return []
        run.picked_up = False
        line = self.story.rng.choice(self.story.script.resolutions[run.scenario.lang])
        return self.story.teammate_starts(run, Say(mate, self._by_name(run, line)))

    def _by_name(self, run: ChatRun, line: str) -> str:
        """`line` addressed to the customer who spoke last, by first name."""
        return line.format(name=run.people[run.last_customer or run.customer_keys[0]].first_name)

    # --- fresh conversations ---------------------------------------------------------------

    def ambient(self) -> list[Event]:
        """Now and then, start a new conversation in a chat that is idle."""
        idle = [
            r
            for r in self.story.runs.values()
            if r.visible
            and r.pending is None
            and r.blocked is None
            and not r.steps
            and (r.closing or not self.story.waiting(r))
        ]
        if idle:
            run = self.story.rng.choice(idle)
            run.steps.extend(self._conversation(run))
            self.story.advance(run)
        self.story.at(self.story.rng.uniform(150, 360), self.ambient, jitter=False)
        return []

    def _conversation(self, run: ChatRun) -> list[Step]:
        """The next generic conversation for this chat's language, cast with its people."""
        lang = run.scenario.lang
        deck = self.story.decks.setdefault(lang, [])
        if not deck:
            deck.extend(self.story.script.ambient[lang])
            self.story.rng.shuffle(deck)
        conversation = deck.pop()
        customer = self.story.rng.choice(run.customer_keys)
        mates = [k for k in run.people if k not in run.customer_keys]
        mate = self.story.rng.choice(mates) if mates else None
        prefix = f"ambient{next(self.story.seq)}:"
        cast = {CUSTOMER: customer, MATE: mate}
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
