"""A ChatSource over an existing store and nothing else: no network, no live traffic.

It is what the desk sees while Telegram is still connecting — only the cache — and it never
emits an event, so whatever the benchmark measures is the desk's own work.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from tgtriage.core.desk.events import Event
from tgtriage.core.desk.models import Message, User
from tgtriage.core.sources.base import Dialogs, SendError, SourceTraits
from tgtriage.core.storage.store import Store


class CacheSource:
    """Serves the store's chats and account; sends are refused; the event stream stays silent."""

    name = "cache"
    traits = SourceTraits(backfills_itself=True)  # the store already holds every message

    def __init__(self, store: Store, me: User | int, staff: frozenset[int] = frozenset()) -> None:
        """Serve `store`'s chats as account `me` (or the stored user of that id), with `staff`."""
        self._store = store
        self._me = me
        self._staff = staff
        self._stopped = asyncio.Event()

    @classmethod
    async def from_store(cls, store: Store) -> CacheSource:
        """The source for the account and teammates recorded in the store's meta table.

        The account's name is looked up when the source starts (after the desk's first frame,
        as Telegram's source learns it): the real desk reads no users before that frame.
        """
        me_id = int(await store.get_meta("me_id") or 0)
        raw = await store.get_meta("staff_ids") or ""
        staff = frozenset(int(x) for x in raw.split(",") if x.strip().isdigit())
        return cls(store, me_id, staff)

    async def start(self) -> User:
        """Nothing to connect: the account is the one the store knows."""
        if isinstance(self._me, int):
            self._me = (await self._store.users()).get(self._me, User(id=self._me))
        return self._me

    async def stop(self) -> None:
        """End the (silent) event stream."""
        self._stopped.set()

    async def dialogs(self) -> Dialogs:
        """Every chat in the store."""
        return Dialogs(await self._store.all_chats())

    async def history(self, chat_id: int, before: int | None, limit: int) -> list[Message]:
        """Nothing beyond the store: the cache is all there is."""
        return []

    async def send(self, chat_id: int, text: str, reply_to: int | None, random_id: int) -> Message:
        """Refuse: a cache cannot deliver replies."""
        raise SendError("the cache source cannot send", permanent=True)

    async def mark_read(self, chat_id: int, upto: int) -> None:
        """Nothing to tell."""

    async def react(self, chat_id: int, message_id: int, emoji: str) -> None:
        """Nothing to tell."""

    def staff_ids(self) -> frozenset[int]:
        """The teammates recorded in the store."""
        return self._staff

    async def events(self) -> AsyncIterator[Event]:
        """Emit nothing until stopped."""
        await self._stopped.wait()
        return
        yield  # pragma: no cover - makes this an async generator
