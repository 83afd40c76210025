"""Replies on their way out: kept in the store first, held for the undo window, delivered once,
queued while offline."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from ..sources.base import SendError
from ..storage.rows import new_random_id
from . import events as ev
from .changes import Changes
from .events import Connection
from .models import OutboxItem, OutboxState
from .writer import StoreDamaged

if TYPE_CHECKING:
    from .inbox import Inbox

log = logging.getLogger(__name__)

OFFLINE = "offline"  # the error of a reply queued until the connection is back
RESUME_AGAIN_SECONDS = 2.0  # a send that failed while the connection came back is tried again
SEND_ON_QUIT_SECONDS = 5.0  # how long quitting waits for replies still in their undo window


def is_queued(item: OutboxItem) -> bool:
    """A reply waiting for the connection (it goes by itself when it is back)."""
    return item.state is OutboxState.PENDING and item.error == OFFLINE


class Outbox:
    """The desk's unsent replies by chat, and their delivery through the source."""

    def __init__(self, inbox: Inbox) -> None:
        """An empty outbox of `inbox`'s desk."""
        self._inbox = inbox
        self.items: dict[int, list[OutboxItem]] = {}
        self.next_local_id = 1
        self._in_flight: set[int] = set()  # local ids being sent right now
        self._resuming = False
        # Replies in their undo window: local id → (loop time it leaves, its timer). The window
        # is only in memory: after a crash the stored reply goes at the next start (resume).
        self.held: dict[int, tuple[float, asyncio.TimerHandle]] = {}

    def load(self, items: list[OutboxItem], next_local_id: int) -> None:
        """Take the stored unsent replies (oldest first)."""
        self.items = {}
        for item in items:
            self.items.setdefault(item.chat_id, []).append(item)
        self.next_local_id = next_local_id

    async def add(
        self, chat_id: int, text: str, reply_to: int | None, hold: float = 0.0
    ) -> OutboxItem:
        """Store a new reply in the outbox, in turn with the queued writes, then start its
        delivery — after `hold` seconds, in which `take_back` can still stop it; a store that
        refuses it (sqlite3.Error: disk full…) leaves nothing behind. A damaged store
        (core/desk/damage.py) is skipped: the reply is kept in memory."""
        inbox = self._inbox
        item = OutboxItem(
            local_id=self.next_local_id,
            chat_id=chat_id,
            random_id=new_random_id(),
            text=text,
            reply_to=reply_to,
            created=inbox.now(),
        )
        self.next_local_id += 1
        try:
            await inbox.writer.call(lambda: inbox.store.outbox_add_item(item))
        except StoreDamaged:  # no store to keep it in: it lives in memory (and the marks file)
            inbox.damaged.changed()
        self.items.setdefault(chat_id, []).append(item)
        if hold > 0:
            loop = asyncio.get_running_loop()
            timer = loop.call_later(hold, self._release, item.local_id)
            self.held[item.local_id] = (loop.time() + hold, timer)
        else:
            inbox.spawn(self.deliver(item))
        return item

    def _release(self, local_id: int) -> None:
        """The undo window is over: the reply leaves (wherever the desk is now)."""
        self.held.pop(local_id, None)
        item = self.find(local_id)
        if item is not None:
            self._inbox.spawn(self.deliver(item))

    def hold_left(self, local_id: int) -> float | None:
        """Seconds until a held reply leaves (None: it is not held)."""
        entry = self.held.get(local_id)
        if entry is None:
            return None
        return max(0.0, entry[0] - asyncio.get_running_loop().time())

    def newest_held(self) -> OutboxItem | None:
        """The reply most recently sent that is still in its undo window."""
        for local_id in sorted(self.held, reverse=True):
            item = self.find(local_id)
            if item is not None:
                return item
        return None

    def take_back(self, local_id: int) -> OutboxItem | None:
        """Undo send: a held reply leaves the outbox before it went (the store next); return it."""
        entry = self.held.pop(local_id, None)
        item = self.find(local_id)
        if entry is None or item is None:
            return None
        entry[1].cancel()
        self.items[item.chat_id].remove(item)
        store = self._inbox.store
        self._inbox.writer.enqueue(lambda: store.outbox_remove(local_id))
        self._inbox.emit(Changes(outbox={item.chat_id}))
        return item

    async def send_held(self) -> None:
        """The desk quits: replies in their undo window leave now (Enter confirmed them).

        Given SEND_ON_QUIT_SECONDS at most; one not confirmed by then is still stored, and goes
        at the next start with the same random id (never twice), as after a crash.
        """
        held = [item for item in map(self.find, list(self.held)) if item is not None]
        for _, timer in self.held.values():
            timer.cancel()
        self.held.clear()
        if held:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*(self.deliver(item) for item in held)), SEND_ON_QUIT_SECONDS
                )

    def find(self, local_id: int) -> OutboxItem | None:
        """The unsent reply with this local id."""
        for items in self.items.values():
            for item in items:
                if item.local_id == local_id:
                    return item
        return None

    def failed(self) -> list[OutboxItem]:
        """Replies that could not be sent."""
        return [i for items in self.items.values() for i in items if i.state is OutboxState.FAILED]

    def queued(self) -> list[OutboxItem]:
        """Replies waiting to be sent (offline, or not tried yet), oldest first."""
        waiting = [
            i
            for items in self.items.values()
            for i in items
            if i.state in (OutboxState.PENDING, OutboxState.SENDING)
        ]
        return sorted(waiting, key=lambda i: i.local_id)

    def discard(self, local_id: int) -> OutboxItem | None:
        """Drop a failed reply (from the store next, after its text became the chat's draft
        there: a crash in between keeps the text one way or the other); return it."""
        item = self.find(local_id)
        if item is None or item.state is not OutboxState.FAILED:
            return None
        self.items[item.chat_id].remove(item)
        self._inbox.set_draft(item.chat_id, item.text)
        store = self._inbox.store
        self._inbox.writer.enqueue(lambda: store.outbox_remove(local_id))
        self._inbox.emit(Changes(outbox={item.chat_id}))
        return item

    def forget_chat(self, chat_id: int) -> None:
        """The chat is gone (the store dropped its outbox rows)."""
        self.items.pop(chat_id, None)

    def _set(self, item: OutboxItem, state: OutboxState, error: str | None = None) -> OutboxItem:
        """Move an item to `state` here at once and in the store next."""
        new = item.model_copy(update={"state": state, "error": error})
        items = self.items.setdefault(item.chat_id, [])
        for index, old in enumerate(items):
            if old.local_id == item.local_id:
                items[index] = new
                break
        else:
            items.append(new)
        store = self._inbox.store
        self._inbox.writer.enqueue(
            lambda: store.outbox_update(item.local_id, state=state, error=error)
        )
        self._inbox.emit(Changes(outbox={item.chat_id}))
        return new

    async def resume(self) -> None:
        """Send the queued replies one by one, oldest first; stop when the network fails again."""
        if self._resuming:
            return
        self._resuming = True
        try:
            for item in self.queued():
                if self._inbox.connection is Connection.OFFLINE:
                    return
                if item.local_id in self.held:
                    continue  # it goes when its undo window is over
                current = self.find(item.local_id)
                if current is None or current.state is OutboxState.FAILED:
                    continue
                if not await self.deliver(current):
                    return
        finally:
            self._resuming = False

    def _queue_offline(self, item: OutboxItem) -> None:
        """Keep a reply whose send failed on the network queued; when the connection came back
        while it was failing, no later CONNECTED will resume it, so resume again shortly."""
        self._set(item, OutboxState.PENDING, OFFLINE)
        if self._inbox.connection is Connection.CONNECTED:
            self._inbox.spawn(self._resume_later())

    async def _resume_later(self) -> None:
        """Resume the queued replies after a short pause (not in a tight loop)."""
        await asyncio.sleep(RESUME_AGAIN_SECONDS)
        await self.resume()

    async def deliver(self, item: OutboxItem) -> bool:
        """Send one reply (once at a time, however often retry is pressed); False when it
        stayed queued because the network is down."""
        if item.local_id in self._in_flight:
            return True
        self._in_flight.add(item.local_id)
        try:
            return await self._deliver_once(item)
        finally:
            self._in_flight.discard(item.local_id)

    async def _deliver_once(self, item: OutboxItem) -> bool:
        """Send one reply; keep it queued on a network failure, failed if Telegram refuses."""
        inbox = self._inbox
        if inbox.connection is Connection.OFFLINE:
            self._set(item, OutboxState.PENDING, OFFLINE)
            return False
        item = self._set(item, OutboxState.SENDING)
        await inbox.writer.flushed()  # the reply is in the store before it leaves
        try:
            message = await inbox.source.send(
                item.chat_id, item.text, item.reply_to, item.random_id
            )
        except SendError as exc:
            if exc.permanent or exc.retry_after is not None:
                self._set(item, OutboxState.FAILED, str(exc))
                return True
            log.info("reply %s queued until the connection is back: %s", item.local_id, exc)
            self._queue_offline(item)
            return False
        except (TimeoutError, OSError, ConnectionError) as exc:
            log.info("reply %s queued until the connection is back: %r", item.local_id, exc)
            self._queue_offline(item)
            return False
        if inbox.config.telegram.mark_read == "on_reply":
            inbox.read_chat(item.chat_id)
        store = inbox.store
        inbox.writer.enqueue(lambda: store.outbox_remove(item.local_id))
        items = self.items.get(item.chat_id, [])
        items[:] = [i for i in items if i.local_id != item.local_id]
        inbox.emit(Changes(outbox={item.chat_id}))
        inbox.submit(ev.NewMessage(message, inbox.me))
        return True
