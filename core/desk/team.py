"""The desk's side of the team room: it finds the room, folds its messages and posts team events.

The room is a chat the source watches like any other (the Telegram source selects it besides the
support chats, so its updates, catch-up and reconciler rounds cover it), but its messages never
enter the chat list or the store: they are folded into the team state (core/team/state.py), which
is rebuilt from the room's recent history at every start. Team events leave through the outbox
(core/desk/outbox.py: stored first, one `random_id`, never sent twice, queued while offline) and
take effect when they come back as room messages, in the room's order, like everyone else's.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ..sources.base import Dialogs, ListsMembers
from ..team.codec import Kind, decode
from ..team.room import is_room, room_problem
from ..team.state import Claim, RoomLog, RoomMessage, TeamState
from . import events as ev
from .changes import Changes
from .models import Chat, Message
from .team_apply import apply_teammates
from .team_members import CACHE_KEY, RoomMembers
from .team_posting import TeamPosting
from .team_presence import PresenceLine

if TYPE_CHECKING:
    from .inbox import Inbox

log = logging.getLogger(__name__)

_ROOM_ONLY = (ev.ReadUpTo, ev.Typing, ev.ReactionChanged, ev.HistoryCut)
MEMBERS_EVERY = 600  # seconds between two member lists after reconnects (joins ask at once)


class TeamDesk(TeamPosting):
    """The team room of one desk: its chat, its folded state and the events this desk posts."""

    def __init__(self, inbox: Inbox) -> None:
        """No room known yet; `[team] room` says which chat to look for."""
        self._inbox = inbox
        team = inbox.config.team
        # A source with a team room of its own (the demo's) names it when the config does not.
        self.setting = (
            team.room if team.room is not None else getattr(inbox.source, "team_room", None)
        )
        self.room: Chat | None = None
        setting = self.setting
        self.room_id: int | None = int(setting) if setting and _numeric(setting) else None
        self.log = RoomLog(int(team.claim_quiet_minutes * 60))
        self.roster = RoomMembers()
        self._listing = False
        self.problem: str | None = None
        self._since = 0  # lost races older than this start are not announced again
        self._announced: set[int] = set()
        self._warned: set[tuple[int, int]] = set()
        self.seen: dict[int, int | None] = {}  # room message id → edit date (for the reconciler)
        self.line = PresenceLine(self)  # this engineer's presence message in the room
        self.applied: dict[int, tuple[int, int]] = {}  # chat → (date, who) of the status applied
        self.opened_handoffs: dict[int, int] = {}  # chat → the handoff (msg id) opened here
        self._timed_at = 0  # the last `timed` look, and the next moment a marker changes
        self._timed_next = 0

    @property
    def state(self) -> TeamState:
        """The folded team state."""
        return self.log.state

    @property
    def members(self) -> frozenset[int]:
        """The room's members (listed by Telegram, or seen writing there): all are staff."""
        return self.roster.ids

    @property
    def names(self) -> dict[int, str]:
        """Teammates' names as the room shows them."""
        return self.roster.names

    @property
    def inbox(self) -> Inbox:
        """The desk this team room belongs to."""
        return self._inbox

    @property
    def presence_id(self) -> int | None:
        """This engineer's presence message in the room, once known."""
        return self.line.message_id

    @property
    def me_id(self) -> int | None:
        """This desk's account id, once known."""
        return self._inbox.me.id if self._inbox.me is not None else None

    @property
    def active(self) -> bool:
        """A usable team room is configured and known."""
        return self.room_id is not None and self.problem is None

    # ------------------------------------------------------------------ the room

    def pick_room(self, chats: Dialogs) -> Dialogs:
        """The source's chat list without the team room (which this desk adopts)."""
        rest = Dialogs((), complete=chats.complete)
        for chat in chats:
            if self._adopt(chat):
                continue
            rest.append(chat)
        return rest

    def _adopt(self, chat: Chat) -> bool:
        """Take `chat` as the room if it is the configured one; True when it is."""
        if not (is_room(chat, self.setting) or chat.id == self.room_id):
            return False
        self.room, self.room_id = chat, chat.id
        problem = room_problem(chat)
        if problem != self.problem:
            self.problem = problem
            if problem:
                log.warning("%s", problem)
                self._inbox.emit(Changes(notices=[problem], status=True))
        return True

    def takes(self, event: ev.Event) -> bool:
        """Handle a source event that belongs to the room; False for every other event."""
        match event:
            case ev.ChatUpdated(chat=chat):
                return self._adopt(chat)
            case ev.ChatRemoved(chat_id=chat_id) | ev.MessagesDeleted(chat_id=chat_id):
                if chat_id is None or chat_id != self.room_id:
                    return False
                for message_id in getattr(event, "ids", ()):
                    self.seen.pop(message_id, None)
                if isinstance(event, ev.MessagesDeleted) and self.log.remove(event.ids):
                    self._inbox.emit(Changes(order=True, status=True, chats=set(self._inbox.chats)))
                return True
            case ev.NewMessage(message=message) | ev.MessageEdited(message=message):
                if message.chat_id != self.room_id or self.room_id is None:
                    return False
                self.seen[message.id] = message.edit_date
                if message.service:  # someone joined or left: ask who is in the room now
                    self._inbox.spawn(self.refresh_members(force=True))
                self.fold(message)
                return True
            case _ if isinstance(event, _ROOM_ONLY):
                return getattr(event, "chat_id", None) == self.room_id is not None
        return False

    def fold(self, message: Message) -> None:
        """Fold one room message into the team state (anything that is not a team event is
        ignored); whoever writes in the (private) room is a member, so staff."""
        if message.sender_id is None or message.service or self.problem:
            return
        sender = message.sender_id
        if self.roster.spoke(sender, message.sender_name or ""):
            self._inbox.team_members_changed()
        event = decode(message.text)
        if event is None:
            return
        me = self._inbox.me
        if event.kind is Kind.PRESENCE and me is not None and sender == me.id:
            self.line.known(message.id)
        date = message.date
        if event.kind is Kind.PRESENCE and message.edit_date:
            date = max(date, message.edit_date)
        if not self.log.add(RoomMessage(message.id, sender, date, event)):
            return
        self._timed_next = 0  # claims or presence changed: look for their moments again
        self._inbox.emit(Changes(chats={event.chat}, order=True, status=True))
        if event.chat in self._inbox.chats:
            apply_teammates(self._inbox, self, event.chat, me.id if me else None)
        self._announce_lost()

    def _announce_lost(self) -> None:
        """Say once that someone else took a chat this desk claimed ("Priya took it first")."""
        me = self._inbox.me
        for lost in self.state.lost:
            if me is None or lost.loser != me.id or lost.msg_id in self._announced:
                continue
            self._announced.add(lost.msg_id)
            message = self.log.messages.get(lost.msg_id)
            if message is None or message.date < self._since:
                continue
            title = self._title(lost.chat)
            notice = f"{self.name(lost.winner)} took {title} first"
            self._inbox.emit(Changes(notices=[notice], chats={lost.chat}))

    async def catch_up(self) -> None:
        """Rebuild the team state from the room's recent history (bounded by `[team] catch_up_*`)."""
        inbox = self._inbox
        self._since = inbox.now()
        if not self.active:
            return
        await self.refresh_members(force=True)
        team = inbox.config.team
        oldest = inbox.now() - int(team.catch_up_hours * 3600)
        try:
            messages = await inbox.source.history(self.room_id, None, team.catch_up_messages)  # type: ignore[arg-type]
        except Exception as exc:
            log.warning("team room history unavailable: %s", exc)
            return
        for message in messages:
            if message.date >= oldest:
                self.fold(message)

    def cache_key(self) -> str:
        """The store key of this room's member list (a different room has its own)."""
        return f"{CACHE_KEY}:{self.setting}"

    async def refresh_members(self, *, force: bool = False) -> None:
        """Ask the source who is in the room (at start, on a join or leave, and after a
        reconnect at most every MEMBERS_EVERY seconds); the list is kept in the store."""
        inbox, source = self._inbox, self._inbox.source
        now = inbox.now()
        listed_at = self.roster.listed_at
        recent = listed_at is not None and now - listed_at < MEMBERS_EVERY
        if not self.active or not isinstance(source, ListsMembers) or self._listing:
            return
        if recent and not force:
            return
        self._listing = True
        try:
            users = await source.members(self.room_id)  # type: ignore[arg-type]
        except Exception as exc:
            log.info("team room members unavailable: %r", exc)
            return
        finally:
            self._listing = False
        if not users:  # the room is unknown here for now: keep whom we knew (it has us, at least)
            return
        if self.roster.listed_as(users, now):
            store, key, cached = inbox.store, self.cache_key(), self.roster.cached()
            inbox.writer.enqueue(lambda: store.set_meta(key, cached))
            inbox.team_members_changed()

    # ------------------------------------------------------------------ reading

    def name(self, user_id: int) -> str:
        """A teammate's name as the room shows it."""
        me = self._inbox.me
        if me is not None and user_id == me.id:
            return "you"
        user = self._inbox.users.get(user_id)
        return self.names.get(user_id) or (user.name if user else str(user_id))

    def holder(self, chat_id: int) -> Claim | None:
        """Who holds a chat right now (None: nobody, or the claim lapsed)."""
        return self.state.holder(chat_id, self._inbox.now()) if self.active else None

    def held_by_other(self, chat_id: int) -> Claim | None:
        """The claim of a teammate (not this desk's account) on a chat."""
        claim = self.holder(chat_id)
        me = self._inbox.me
        if claim is None or (me is not None and claim.owner == me.id):
            return None
        return claim

    def short_name(self, user_id: int) -> str:
        """A teammate's first name (for the list row)."""
        name = self.name(user_id)
        return name.split()[0] if name.strip() else str(user_id)

    def marker(self, chat_id: int) -> str:
        """What the list row shows of the team: `✋ Priya`, `→ from Alex`, `👀 Sam`."""
        if not self.active:
            return ""
        inbox = self._inbox
        me = inbox.me.id if inbox.me else None
        parts: list[str] = []
        claim = self.holder(chat_id)
        if claim is not None:
            parts.append(f"✋ {self.short_name(claim.owner)}")
            handoff = self.state.handoffs.get(chat_id)
            if handoff and handoff.taker == claim.owner == me and handoff.date >= claim.since:
                parts.append(f"→ from {self.short_name(handoff.giver)}")
        fresh = int(inbox.config.team.presence_seconds * 2)
        seen = [w for w in self.state.present(chat_id, inbox.now(), fresh) if w != me]
        if seen:
            parts.append("👀 " + ",".join(self.short_name(w) for w in seen))
        return " ".join(parts)

    def timed(self, now: int) -> set[int]:
        """Chats whose team marker changed with time alone since the last look (a claim
        lapsed, a presence went stale): the rows a timer repaints without any room message."""
        if not self.active or now < self._timed_next:
            return set()
        fresh = int(self._inbox.config.team.presence_seconds * 2)
        moments = self.state.moments(fresh)
        due = {chat for at, chat in moments if self._timed_at < at <= now}
        self._timed_at = now
        self._timed_next = min((at for at, _ in moments if at > now), default=2**62)
        return due

    def typing_warning(self, chat_id: int) -> str | None:
        """The one warning line for typing in a chat a teammate holds (once per claim)."""
        claim = self.held_by_other(chat_id)
        if claim is None or (chat_id, claim.msg_id) in self._warned:
            return None
        self._warned.add((chat_id, claim.msg_id))
        return (
            f"{self.name(claim.owner)} has this chat (✋): your reply would cross theirs. "
            "Alt+A takes it when their claim lapses."
        )

    def _title(self, chat_id: int) -> str:
        """A chat's title for messages and notices."""
        chat = self._inbox.chats.get(chat_id)
        return chat.title if chat else str(chat_id)


def _numeric(room: int | str | None) -> bool:
    """A room given as a chat id."""
    return isinstance(room, int) or (isinstance(room, str) and room.strip().lstrip("-").isdigit())
