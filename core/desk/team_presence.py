"""This engineer's one presence message in the team room ("👀 is in Acme"), kept up to date.

The first one is posted through the outbox (stored, one `random_id`, silent: core/team/room.py
`delivery`); after that the same message is edited in place (edits notify nobody). At most one
presence goes out per `[team] presence_seconds`: a presence asked for sooner, or while the desk
is offline, waits as the latest wish only (an older one is replaced, never sent), and goes out
when the rate allows and the connection is back — unless it has grown staler than a teammate's
desk would show (twice `presence_seconds`), when it is dropped, so a reconnect never announces
a chat the engineer left long ago. The human line carries the time, so two presences in the
same chat differ (Telegram refuses an edit that changes nothing).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from ..sources.base import EditsMessages, SendError
from ..team.codec import Kind, TeamEvent
from .events import Connection
from .models import OutboxState

if TYPE_CHECKING:
    from .models import OutboxItem
    from .team import TeamDesk

log = logging.getLogger(__name__)


class PresenceLine:
    """The presence message of this desk's engineer: its id, and the presence still to send."""

    def __init__(self, team: TeamDesk) -> None:
        """No presence message known yet (the room's history or our first post names it)."""
        self._team = team
        self.message_id: int | None = None
        self.wanted: tuple[int, int] | None = None  # (chat, when asked) not yet in the room
        self.sent_at: int | None = None  # when the last presence went out (desk clock)
        self.sent = 0  # presences posted or edited by this desk (for tests and the bench)
        self._posted: OutboxItem | None = None
        self._busy = False
        self._timer: asyncio.TimerHandle | None = None

    def ask(self, chat_id: int) -> None:
        """The engineer is writing in `chat_id`: say so, as soon as the rate allows."""
        inbox = self._team.inbox
        if not self._team.active:
            return
        now = inbox.now()
        self.wanted = (chat_id, now)
        early = self.sent_at is not None and now - self.sent_at < inbox.config.team.presence_seconds
        if self._busy or (early and self._timer is not None):
            return  # the running flush, or the one its timer starts, sends the latest wish
        inbox.spawn(self.flush())

    def known(self, message_id: int) -> None:
        """Our presence message came back from the room (posted, or in its history)."""
        if self.message_id is None or message_id > self.message_id:
            self.message_id = message_id
            if self.wanted is not None:
                self._team.inbox.spawn(self.flush())

    async def flush(self) -> None:
        """Send the wanted presence if the rate and the connection allow (else keep it)."""
        if self._busy:
            return
        self._busy = True
        try:
            while self.wanted is not None:
                if not self._may_send():
                    return
                chat_id, _ = self.wanted
                self.wanted = None
                if not await self._send(chat_id):
                    if self.wanted is None:
                        self.wanted = (chat_id, self._team.inbox.now())
                    return
                self.sent_at = self._team.inbox.now()
                self.sent += 1
        finally:
            self._busy = False

    def _may_send(self) -> bool:
        """Whether the wanted presence may go now (a timer is set when it must wait)."""
        inbox = self._team.inbox
        now, every = inbox.now(), inbox.config.team.presence_seconds
        assert self.wanted is not None
        if now - self.wanted[1] > 2 * every:
            self.wanted = None  # stale: teammates would be told something no longer true
            return False
        if inbox.connection is not Connection.CONNECTED:
            return False  # the reconnect flushes it (core/desk/applier.py)
        if self.sent_at is not None and now - self.sent_at < every:
            self._wake_in(self.sent_at + every - now)
            return False
        # our first presence still in the outbox: its return to the room flushes
        return not (self.message_id is None and self._in_outbox())

    def _in_outbox(self) -> bool:
        """Our first presence post is still on its way (not failed for good)."""
        posted = self._posted
        if posted is None:
            return False
        team = self._team
        for item in team.inbox.outbox.get(team.room_id or 0, []):
            if item.local_id == posted.local_id:
                return item.state is not OutboxState.FAILED
        return False

    def _wake_in(self, seconds: float) -> None:
        """Flush again after `seconds` (one timer at a time)."""
        if self._timer is not None and not self._timer.cancelled():
            return
        loop = asyncio.get_running_loop()

        def wake() -> None:
            self._timer = None
            if self._team.inbox.running:
                self._team.inbox.spawn(self.flush())

        self._timer = loop.call_later(max(0.0, seconds), wake)

    async def _send(self, chat_id: int) -> bool:
        """Post or edit the presence message; False when it did not reach the room."""
        team = self._team
        event = TeamEvent(Kind.PRESENCE, chat_id)
        source = team.inbox.source
        if self.message_id is None or not isinstance(source, EditsMessages):
            self._posted = await team.post(event)
            return self._posted is not None
        try:
            edited = await source.edit(team.room_id, self.message_id, team.text(event))  # type: ignore[arg-type]
        except SendError as exc:
            log.info("presence not edited: %s", exc)
            if exc.permanent:
                self.message_id = None  # gone or too old to edit: the next one is a new message
            return False
        except (TimeoutError, OSError, ConnectionError) as exc:
            log.info("presence not edited: %r", exc)
            return False
        team.fold(edited)
        return True

    def stop(self) -> None:
        """Cancel a waiting timer."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
