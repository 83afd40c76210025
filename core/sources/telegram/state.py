"""What the parts of the Telegram source share: the client, the event queue, the chats known.

`SourceState` is built by `TelegramSource.start()` (core/sources/telegram/source.py) and handed
to the connection supervisor, the chat directory, the history sync, the update router and the
outgoing side; each of them reads and writes only through it. Telethon is imported lazily by
the modules that need it, so this module stays off the desk's cold-start path.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ...desk.events import Event, FloodWait
from ...desk.models import Chat, Message, User
from ...system.config import Config
from ...system.paths import Paths
from ..base import SendError
from .client import TelegramClientLike, is_network_error

if TYPE_CHECKING:
    from ...rules.chat_filter import Candidate, Folder
    from .reconcile import Held

log = logging.getLogger(__name__)

SEEN_PER_CHAT = 500
SERVICE_NOTIFICATIONS = 777000
"""Telegram's service account, where login codes arrive: never a customer unless included."""

Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")


class RequestCancelled(ConnectionError):
    """Telethon cancelled a request in flight because the connection went away."""


async def guarded(awaitable: Awaitable[T]) -> T:
    """Await a Telethon call, turning a cancel that Telethon made into a network error.

    When the connection drops, Telethon cancels the futures of requests in flight; the caller
    then sees `CancelledError` although nobody cancelled the caller's own task. Such a cancel
    becomes `RequestCancelled` (a network error); a real cancel of this task still propagates.
    """
    try:
        return await awaitable
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling() > 0:
            raise
        raise RequestCancelled("the request was cancelled: the connection was closed") from None


@dataclass
class Hints:
    """What the desk tells the source: which chats it watches and what its store holds."""

    watched: Callable[[], Iterable[int]] | None = None
    last_known_id: Callable[[int], int | None] | None = None
    waiting: Callable[[], Iterable[int]] | None = None
    held: Callable[[int], Held] | None = None


@dataclass
class SourceState:
    """The Telegram source's shared state (see the module docstring)."""

    config: Config
    paths: Paths
    client: TelegramClientLike
    queue: asyncio.Queue[Event | None]
    hints: Hints
    sleep: Sleep
    clock: Callable[[], float]
    monotonic: Callable[[], float]
    history_interval: float = 0.35
    request_timeout: float = 60.0
    """How long `call` waits for one answer before it counts as a network error."""
    me: User | None = None
    known: dict[int, Any] = field(default_factory=dict)
    dialogs: dict[int, Any] = field(default_factory=dict)
    candidates: dict[int, Candidate] = field(default_factory=dict)
    selected: dict[int, Chat] = field(default_factory=dict)
    order: dict[int, int] = field(default_factory=dict)
    folders: list[Folder] = field(default_factory=list)
    peers: dict[int, Any] = field(default_factory=dict)
    seen: dict[int, dict[int, tuple[int | None, int | None]]] = field(default_factory=dict)
    staff: set[int] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    dialogs_complete: bool = False
    stopping: bool = False
    online: asyncio.Event = field(default_factory=asyncio.Event)
    dialogs_ready: asyncio.Event = field(default_factory=asyncio.Event)
    synced: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    last_history: float = float("-inf")
    last_activity: float = float("-inf")
    """Monotonic time of the last update received or request answered (for the watchdog)."""
    flood_until: dict[str, float] = field(default_factory=dict)
    """Per request kind, the monotonic time its last FloodWait ends (Telegram counts per method)."""
    vouched: dict[int, int] = field(default_factory=dict)
    """Channel → the pts at which the start-up sync left the desk matching Telegram."""
    first_pts: int | None = None
    """The account pts of the first round trip, before the start-up sync fetched anything."""
    vouched_account_pts: int | None = None
    """The account pts at which the start-up sync left every other chat matching Telegram."""
    before_emit: Callable[[Event], None] | None = None
    """Sees every event before the desk does (core/sources/telegram/catching_up.py)."""

    @property
    def self_id(self) -> int | None:
        """The account's own user id, once known."""
        return self.me.id if self.me is not None else None

    def emit(self, event: Event) -> None:
        """Queue one event for the desk (after `before_emit` has seen it)."""
        if self.before_emit is not None:
            self.before_emit(event)
        self.queue.put_nowait(event)

    def now(self) -> int:
        """Wall-clock Unix seconds."""
        return int(self.clock())

    def touch(self) -> None:
        """Note that Telegram just answered or pushed something (the connection is alive)."""
        self.last_activity = self.monotonic()

    def spawn(self, coro: Awaitable[Any], what: str) -> asyncio.Task[Any]:
        """Run background work, logging (never raising) how it ended."""
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)

        def done(finished: asyncio.Task[Any]) -> None:
            self.tasks.discard(finished)
            if finished.cancelled():
                if not self.stopping:
                    log.warning("telegram %s was cancelled", what)
            elif finished.exception() is not None:
                log.error("telegram %s failed", what, exc_info=finished.exception())

        task.add_done_callback(done)
        return task

    def is_wanted(self, chat_id: int) -> bool:
        """False for Telegram's service account unless the config includes it by id."""
        if chat_id != SERVICE_NOTIFICATIONS:
            return True
        return any(str(entry) == str(SERVICE_NOTIFICATIONS) for entry in self.config.chats.include)

    async def call(
        self, request: Any, what: str, *, wait_network: bool = True, paced: bool = False
    ) -> Any:
        """Invoke a request; wait out FloodWaits visibly and (optionally) network loss, then retry.

        The very same request object is sent again, so paging resumes at the same offset. A
        FloodWait another task met on the same method is waited out first (Telegram counts
        per method), and `paced` requests take a `pace` slot before every try, so tasks that
        waited together do not all ask again at the same moment.
        """
        from telethon import errors

        failures = 0
        kind = type(request).__name__
        slept_until = 0.0
        while True:
            if paced:
                await self.pace()
            until = self.flood_until.get(kind, 0.0)
            if until > slept_until and until > self.monotonic():
                slept_until = until
                await self.sleep(until - self.monotonic())
                continue
            try:
                result = await guarded(asyncio.wait_for(self.client(request), self.request_timeout))
                self.touch()
                return result
            except (errors.FloodWaitError, errors.FloodPremiumWaitError) as exc:
                seconds = max(1, int(exc.seconds))
                slept_until = self.flood_until[kind] = self.monotonic() + seconds
                self.emit(FloodWait(seconds, self.now() + seconds, what))
                log.info("flood wait of %d s during %s", seconds, what)
                await self.sleep(seconds)
            except Exception as exc:
                if not is_network_error(exc) or not wait_network or self.stopping:
                    raise
                failures += 1
                log.info("network error during %s (%s); waiting for the connection", what, exc)
                await self.sleep(min(30.0, float(failures)))
                await self.online.wait()

    async def pace(self) -> None:
        """Keep history requests at least `history_interval` seconds apart, also when several
        tasks ask at once (each takes the next free slot before it sleeps)."""
        now = self.monotonic()
        slot = max(now, self.last_history + self.history_interval)
        self.last_history = slot
        if slot > now:
            await self.sleep(slot - now)

    async def peer(self, chat_id: int) -> Any:
        """The InputPeer of a chat (from the dialog list, else the session's entity cache)."""
        peer = self.peers.get(chat_id)
        if peer is not None:
            return peer
        from telethon import utils

        try:
            raw_id, kind = utils.resolve_id(chat_id)
            peer = await guarded(self.client.get_input_entity(kind(raw_id)))
        except Exception as exc:
            log.warning("chat %d cannot be resolved: %s", chat_id, type(exc).__name__)
            return None
        self.peers[chat_id] = peer
        return peer

    def require_me(self) -> User:
        """The account, or a network SendError before the first successful start."""
        if self.me is None:
            raise SendError("Not connected to Telegram yet; retry in a moment")
        return self.me

    def remember(self, chat_id: int, messages: Iterable[Message]) -> None:
        """Note message ids (with edit date and topic) this source has handed to the desk."""
        seen = self.seen.setdefault(chat_id, {})
        for message in messages:
            seen[message.id] = (message.edit_date, message.topic_id)
        if len(seen) > SEEN_PER_CHAT + 100:
            for old in sorted(seen)[: len(seen) - SEEN_PER_CHAT]:
                del seen[old]

    def forget(self, chat_id: int | None, ids: Iterable[int]) -> None:
        """Drop deleted ids from the seen sets (all non-channel chats when chat_id is None)."""
        targets = (
            [chat_id] if chat_id is not None else [c for c in self.seen if c > -1_000_000_000_000]
        )
        for target in targets:
            seen = self.seen.get(target)
            if seen:
                for message_id in ids:
                    seen.pop(message_id, None)
