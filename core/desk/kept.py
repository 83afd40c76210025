"""Replies the store could not take (a full disk, a read-only file, an I/O error): kept, retried.

Enter puts a reply in the store's outbox before it is sent. When that write fails, the reply is
not sent (a crash could then lose or double it); its text stays the chat's draft in memory and
on screen, the status line names the problem, and the write is tried again every few seconds.
Once it succeeds the reply goes out like any other.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..storage.integrity import SQLITE_FULL, SQLITE_IOERR, SQLITE_NO_WRITE, sqlite_primary_code

log = logging.getLogger(__name__)

RETRY_SECONDS = 2.0


def write_problem(error: sqlite3.Error) -> str:
    """A few words for the status line naming why the store refused a write."""
    code = sqlite_primary_code(error)
    if code == SQLITE_FULL:
        return "disk full"
    if code == SQLITE_IOERR:
        return "disk error"
    if code in SQLITE_NO_WRITE:
        return "store read-only"
    return "store error"


@dataclass(frozen=True)
class KeptReply:
    """A reply waiting for the store to take it."""

    chat_id: int
    text: str
    reply_to: int | None


class KeptReplies:
    """The replies the store refused, and the task that offers them to it again."""

    def __init__(
        self, store_reply: Callable[[KeptReply], Awaitable[None]], on_clear: Callable[[], None]
    ) -> None:
        """`store_reply` writes one kept reply to the outbox (raising sqlite3.Error if it
        cannot); `on_clear` hears that none is kept any more."""
        self._store_reply = store_reply
        self._on_clear = on_clear
        self.replies: list[KeptReply] = []
        self.problem: str | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def status(self) -> str | None:
        """The status line's words while replies are kept, e.g. 'disk full — reply kept, not sent'."""
        if self.problem is None:
            return None
        count = len(self.replies)
        what = "reply kept" if count <= 1 else f"{count} replies kept"
        return f"{self.problem} — {what}, not sent"

    def keep(self, reply: KeptReply, error: sqlite3.Error) -> None:
        """Keep a reply the store refused and start offering it again."""
        log.warning("reply to %s kept, the store refused it: %s", reply.chat_id, error)
        self.replies.append(reply)
        self.problem = write_problem(error)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._retry())

    async def _retry(self) -> None:
        """Offer the kept replies to the store, oldest first, until it takes them all."""
        while self.replies:
            await asyncio.sleep(RETRY_SECONDS)
            while self.replies:
                try:
                    await self._store_reply(self.replies[0])
                except sqlite3.Error as error:
                    self.problem = write_problem(error)
                    break
                self.replies.pop(0)
        self.problem = None
        self._on_clear()

    async def stop(self) -> None:
        """Stop offering (the texts stay the chats' drafts)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
