"""What a desk posts to the team room: claims, releases, handoffs, shared notes, tags, statuses
and presence, each as one team event message through the outbox (core/desk/outbox.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..team.codec import Kind, TeamEvent, TeamStatus, chat_link, encode
from ..team.room import human_line
from .models import OutboxItem

if TYPE_CHECKING:
    from ..team.state import Claim, RoomLog
    from .inbox import Inbox
    from .team_presence import PresenceLine


class TeamPosting:
    """The team events a desk posts (mixed into core/desk/team.py `TeamDesk`)."""

    if TYPE_CHECKING:  # provided by TeamDesk
        _inbox: Inbox
        room_id: int | None
        line: PresenceLine
        log: RoomLog

        @property
        def active(self) -> bool: ...

        def holder(self, chat_id: int) -> Claim | None: ...

        def name(self, user_id: int) -> str: ...

        def _title(self, chat_id: int) -> str: ...

    def text(self, event: TeamEvent) -> str:
        """The room message of a team event: the human line, then the machine line."""
        chat = self._inbox.chats.get(event.chat)
        link = chat_link(event.chat, chat.username if chat else None)
        taker = self.name(event.to) if event.to is not None else ""
        at = self._inbox.now() if event.kind is Kind.PRESENCE else None
        return encode(event, human_line(event, self._title(event.chat), link, taker, at))

    async def post(self, event: TeamEvent) -> OutboxItem | None:
        """Send one team event to the room through the outbox (None without a usable room)."""
        if not self.active:
            return None
        return await self._inbox.outgoing.add(self.room_id, self.text(event), None)  # type: ignore[arg-type]

    def typing(self, chat_id: int) -> None:
        """The engineer is writing in `chat_id`: tell the team (core/desk/team_presence.py)."""
        self.line.ask(chat_id)

    async def presence(self, chat_id: int) -> None:
        """Say now, if the rate allows, that the engineer is in `chat_id`."""
        if self.active:
            self.line.wanted = (chat_id, self._inbox.now())
            await self.line.flush()

    async def claim(self, chat_id: int) -> OutboxItem | None:
        """Take a chat (unless this desk holds it already)."""
        claim = self.holder(chat_id)
        me = self._inbox.me
        if claim is not None and me is not None and claim.owner == me.id:
            return None
        return await self.post(TeamEvent(Kind.CLAIM, chat_id))

    async def replied(self, chat_id: int) -> OutboxItem | None:
        """A reply went out: an unclaimed chat becomes ours; our own claim is renewed when more
        than half its quiet time has passed (one room message per half quiet time at most)."""
        if not self.active:
            return None
        claim = self.holder(chat_id)
        me = self._inbox.me
        if claim is None:
            return await self.post(TeamEvent(Kind.CLAIM, chat_id))
        mine = me is not None and claim.owner == me.id
        if mine and self._inbox.now() - claim.active > self.log.quiet // 2:
            return await self.post(TeamEvent(Kind.CLAIM, chat_id))
        return None

    async def release(self, chat_id: int) -> OutboxItem | None:
        """Let go of a chat this desk holds."""
        return await self.post(TeamEvent(Kind.RELEASE, chat_id))

    async def hand_off(self, chat_id: int, to: int, note: str = "") -> OutboxItem | None:
        """Hand a chat to a teammate, with an optional note."""
        return await self.post(TeamEvent(Kind.HANDOFF, chat_id, text=note, to=to))

    async def share_note(self, chat_id: int, text: str) -> OutboxItem | None:
        """Share a note about a chat with the team."""
        return await self.post(TeamEvent(Kind.NOTE, chat_id, text=text))

    async def share_tags(self, chat_id: int, tags: set[str]) -> OutboxItem | None:
        """Tell the team a chat's tags."""
        return await self.post(TeamEvent(Kind.TAGS, chat_id, tags=tuple(sorted(tags))))

    async def share_status(
        self,
        chat_id: int,
        status: TeamStatus,
        *,
        until: int | None = None,
        ticket: str | None = None,
        due: int | None = None,
    ) -> OutboxItem | None:
        """Tell the team a chat's new status."""
        event = TeamEvent(Kind.STATUS, chat_id, status=status, until=until, ticket=ticket, due=due)
        return await self.post(event)
