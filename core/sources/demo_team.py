"""The demo's team room: the teammates claim chats, share notes and hand one to you.

A group the demo source lists besides the support chats; the desk folds it into the team state
(core/desk/team.py) like a real team room. The teammates' team events come from the `[team]`
steps of core/sources/demo_script.toml, as ordinary messages in the codec of
core/team/codec.py; the engineer's own team events are appended when the desk sends them.
"""

from __future__ import annotations

from functools import partial

from ..desk.events import Event, NewMessage
from ..desk.models import Chat, Message, User
from ..team.codec import Kind, TeamEvent, encode
from ..team.room import human_line
from .demo_script import Script, TeamScript, TeamStep, seconds, to_user
from .demo_story import Story


class DemoRoom:
    """The team room's messages, and the scheduled posts of the demo's teammates."""

    def __init__(self, team: TeamScript, script: Script, story: Story) -> None:
        """An empty room titled after the script."""
        self.chat = Chat(id=team.chat_id, title=team.title, kind="supergroup")
        self.messages: list[Message] = []
        self._team = team
        self._script = script
        self._story = story
        self._people = {p.key: p for p in (script.me, *script.teammates)}
        self._chats = {s.key: s for s in script.scenarios}

    def schedule(self) -> None:
        """Put the teammates' steps on the story's clock, one after another."""
        elapsed = 0
        for step in self._team.steps:
            elapsed += seconds(step.wait)
            self._story.at(elapsed, partial(self._post_step, step), jitter=False)

    def _post_step(self, step: TeamStep) -> list[Event]:
        """A teammate posts one team event (about a chat that is visible by then)."""
        scenario = self._chats[step.chat]
        to = self._people[step.to].id if step.to else None
        event = TeamEvent(Kind(step.do), scenario.chat_id, text=step.text, to=to)
        taker = self._people[step.to].first_name if step.to else ""
        text = encode(event, human_line(event, scenario.title, "", taker))
        person = self._people[step.who]
        return [NewMessage(self.append(to_user(person), text), to_user(person))]

    def append(self, sender: User, text: str) -> Message:
        """A new room message from `sender`, dated now."""
        msg = Message(
            chat_id=self.chat.id,
            id=len(self.messages) + 1,
            date=int(self._story.clock()),
            sender_id=sender.id,
            sender_name=sender.name,
            text=text,
            out=sender.id == self._script.me.id,
        )
        self.messages.append(msg)
        return msg

    def edit(self, message_id: int, sender_id: int, text: str) -> Message | None:
        """Edit `sender_id`'s room message `message_id` (None if it is not theirs)."""
        for index, msg in enumerate(self.messages):
            if msg.id == message_id and msg.sender_id == sender_id:
                now = int(self._story.clock())
                self.messages[index] = msg.model_copy(update={"text": text, "edit_date": now})
                return self.messages[index]
        return None

    def history(self, before: int | None, limit: int) -> list[Message]:
        """Up to `limit` room messages older than `before`, oldest first."""
        msgs = [m for m in self.messages if before is None or m.id < before]
        return msgs[-limit:] if limit > 0 else []
