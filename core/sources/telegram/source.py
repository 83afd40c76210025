"""The Telegram source: the engineer's own account through a Telethon user session.

Life of a source:

1. `start()` connects through the connection supervisor (core/sources/telegram/connection.py:
   connecting/offline with back-off until a request round trip succeeds), checks the session
   is logged in (else asks the `LoginPrompt`, else `LoginRequired`), fetches the account,
   resolves the configured teammates (core/sources/telegram/staff.py) and returns the account.
   It does not wait for the chat list: the desk shows its cached screen meanwhile.
2. In the background it pages the dialog list and selects the support chats
   (core/sources/telegram/chats.py), then backfills their recent history
   (core/sources/telegram/history.py) as ordinary `NewMessage` events framed by `SyncProgress`.
3. Live updates become events (core/sources/telegram/updates.py); replies, reactions and read
   marks go out through core/sources/telegram/outgoing.py.
4. The supervisor watches the connection; after each reconnect the watched chats (see
   `set_hints`) are checked against their history (`gap_fill`).
5. Telethon's own catch-up (getDifference) arrives as late updates; core/sources/telegram/
   catching_up.py frames it, with the repairs after it, by `CatchingUp` events; a catch-up
   over many channels fetches their newest pages a few at once instead of Telethon's
   channel differences one by one (core/sources/telegram/channel_catch_up.py).
6. The reconciler (core/sources/telegram/reconciling.py) compares the desk with Telegram
   after the backfill, after each reconnect and every `[telegram] reconcile_minutes`, and
   emits what was lost as ordinary events.

The parts share one `SourceState` (core/sources/telegram/state.py). They import Telethon, so
they are imported by `start()`, never at module import: the desk's cold start does not pay
for Telethon.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...desk.events import Event
from ...desk.models import Message, User
from ...rules.search_query import SourceFound, SourcePage
from ...system.config import Config
from ...system.paths import Paths
from ..base import Dialogs, SendError, SourceTraits
from .client import (
    ClientFactory,
    LoginRequired,
    TelegramClientLike,
    answer_locally,
    default_factory,
    preload_telethon,
)
from .connection import RECONNECT_DELAYS, ConnectionSupervisor, Timeouts
from .login import LoginPrompt
from .search import search_messages as search_part
from .state import Hints, SourceState, guarded

if TYPE_CHECKING:
    from .catching_up import CatchUpMarks
    from .channel_catch_up import ChannelCatchUp
    from .chats import ChatDirectory
    from .history import HistorySync
    from .outgoing import Outgoing
    from .reconcile import Held, RoundReport
    from .reconciling import ReconcileLoop
    from .updates import UpdateRouter

Sleep = Callable[[float], Awaitable[None]]
NOT_LOGGED_IN = "this Telegram session is not logged in; run `tgtriage login`"


class TelegramSource:
    """A ChatSource backed by a Telethon user session (see the module docstring)."""

    name = "telegram"
    traits = SourceTraits(events_before_start=True, backfills_itself=True)
    """The start-up backfill arrives as NewMessage events; connecting/offline show at once."""

    def __init__(
        self,
        config: Config,
        paths: Paths,
        client_factory: ClientFactory | None = None,
        *,
        sleep: Sleep | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        history_interval: float = 0.35,
        reconnect_delays: tuple[float, ...] = RECONNECT_DELAYS,
        timeouts: Timeouts | None = None,
        tick: Callable[[float], Awaitable[None]] | None = None,
        login_prompt: LoginPrompt | None = None,
    ) -> None:
        """Prepare the source; nothing connects until `start()`.

        `login_prompt.log_in(client)` is awaited when the session turns out not to be logged
        in; without it, or when it returns False, `start()` raises LoginRequired. `timeouts`
        and `tick` (the watchdog's sleep) default to the config's and the real clock's.
        """
        self.config = config
        self.paths = paths
        self._factory = client_factory or default_factory(config, paths)
        self._sleep: Sleep = sleep or asyncio.sleep
        self._clock = clock
        self._monotonic = monotonic
        self._history_interval = history_interval
        self._reconnect_delays = reconnect_delays
        self._timeouts = timeouts or Timeouts(watchdog=float(config.telegram.watchdog_seconds))
        self._tick = tick
        self._login_prompt = login_prompt
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._hints = Hints()
        self._state: SourceState | None = None
        self.supervisor: ConnectionSupervisor | None = None
        self._chats: ChatDirectory | None = None
        self._history: HistorySync | None = None
        self._updates: UpdateRouter | None = None
        self._outgoing: Outgoing | None = None
        self.reconciling: ReconcileLoop | None = None
        self.catch_up_marks: CatchUpMarks | None = None
        self.channel_catch_up: ChannelCatchUp | None = None

    # ------------------------------------------------------------------ what the desk reads

    @property
    def dialogs_complete(self) -> bool:
        """True once the whole dialog list was paged and every configured rule could be applied,
        so a cached chat missing from `dialogs()` really is gone (left, or not selected)."""
        return self._state is not None and self._state.dialogs_complete

    @property
    def warnings(self) -> list[str]:
        """One-line problems the desk may show (an unknown folder name, an unresolved teammate)."""
        return self._state.warnings if self._state is not None else []

    @property
    def client(self) -> TelegramClientLike | None:
        """The Telethon client, once started."""
        return self._state.client if self._state is not None else None

    def set_hints(
        self,
        *,
        watched: Callable[[], Iterable[int]] | None = None,
        last_known_id: Callable[[int], int | None] | None = None,
        waiting: Callable[[], Iterable[int]] | None = None,
        held: Callable[[int], Held] | None = None,
    ) -> None:
        """Tell the source what the desk knows, as callables the source asks when it needs to.

        `watched()` gives the chats to check after a reconnect (the open chat and the working
        set; without it the most recently active support chats); `last_known_id(chat_id)` the
        newest message id the store holds (the start-up backfill fetches only what is newer);
        `waiting()` the chats waiting for an answer; `held(chat_id)` what the desk holds of a
        chat, for the reconciler (without it the source does not reconcile).
        """
        self._hints.watched = watched or self._hints.watched
        self._hints.last_known_id = last_known_id or self._hints.last_known_id
        self._hints.waiting = waiting or self._hints.waiting
        self._hints.held = held or self._hints.held

    def set_login_prompt(self, prompt: LoginPrompt | None) -> None:
        """Set (or clear) what `start()` asks when the session is not logged in."""
        self._login_prompt = prompt

    # ------------------------------------------------------------------ life

    def _build(self) -> SourceState:
        """Create the shared state and the parts (this imports Telethon)."""
        from telethon.tl import functions

        from .catching_up import CatchUpMarks
        from .channel_catch_up import ChannelCatchUp
        from .chats import ChatDirectory
        from .history import HistorySync
        from .outgoing import Outgoing
        from .reconciling import ReconcileLoop
        from .updates import UpdateRouter

        state = SourceState(
            config=self.config,
            paths=self.paths,
            client=self._factory(),
            queue=self._queue,
            hints=self._hints,
            sleep=self._sleep,
            clock=self._clock,
            monotonic=self._monotonic,
            history_interval=self._history_interval,
            request_timeout=self._timeouts.call,
        )
        self._history = HistorySync(state)
        self._chats = ChatDirectory(state, self._history.backfill_chat)
        self._updates = UpdateRouter(state, self._chats)
        self._outgoing = Outgoing(state, self._history, self._timeouts.request)
        history = self._history
        reconciling = self.reconciling = ReconcileLoop(state, history.watched)
        marks = self.catch_up_marks = CatchUpMarks(state)
        state.client.add_event_handler(marks.on_update)  # first: the mark precedes the messages
        state.client.add_event_handler(self._updates.on_update)
        state.client.add_event_handler(reconciling.note_update)
        channels = self.channel_catch_up = ChannelCatchUp(state, reconciling.reconciler.vouch)
        if answer_locally(state.client, channels.answer):
            state.client.add_event_handler(channels.on_update)

        async def after_reconnect() -> None:
            async with marks.repairing(opens=True):
                await history.after_reconnect()
                await marks.telethon_done()  # what Telethon's catch-up brings is not asked twice
                await reconciling.run_round()

        async def probe() -> Any:
            result = await state.client(functions.updates.GetStateRequest())
            if state.first_pts is None:  # before the start-up sync fetched anything
                state.first_pts = getattr(result, "pts", None)
            return result

        self.supervisor = ConnectionSupervisor(
            state,
            probe,
            on_reconnected=after_reconnect,
            delays=self._reconnect_delays,
            timeouts=self._timeouts,
            tick=self._tick,
        )
        self._state = state
        return state

    async def start(self) -> User:
        """Connect, check the login, resolve teammates; return the account (see the module doc)."""
        if self._state is None:
            await asyncio.to_thread(preload_telethon)
        state = self._state or self._build()
        supervisor = self.supervisor
        assert supervisor is not None and self._history is not None and self._chats is not None
        assert self._updates is not None
        from . import convert as conv
        from .staff import resolve_staff

        state.stopping = False
        client = state.client
        await supervisor.establish(announce=False)
        if not await guarded(client.is_user_authorized()):
            prompt = self._login_prompt
            if prompt is None or not await prompt.log_in(client):
                supervisor.say_offline("not logged in: tgtriage login")
                raise LoginRequired(NOT_LOGGED_IN)
            if not client.is_connected():
                await supervisor.establish(announce=False)
        me = await guarded(client.get_me())
        if me is None:
            raise LoginRequired(NOT_LOGGED_IN)
        state.me = conv.convert_user(me)
        state.known[me.id] = me
        supervisor.announce_connected()
        await resolve_staff(state)
        state.spawn(self._start_up(), "sync")
        supervisor.supervise()
        if self.reconciling is not None:
            state.spawn(self.reconciling.loop(), "reconcile")
        return state.me

    async def _start_up(self) -> None:
        """The start-up sync, then a first reconcile round."""
        assert self._history is not None and self._chats is not None
        assert self._updates is not None and self.reconciling is not None
        assert self.catch_up_marks is not None
        async with self.catch_up_marks.repairing():
            await self._history.start_up(self._chats, self._updates.release_backlog)
            await self.reconciling.run_round()

    async def reconcile(self) -> RoundReport | None:
        """One reconcile round now (core/sources/telegram/reconciling.py); None if cut short."""
        if self.reconciling is None:
            raise RuntimeError("start() the source first")
        return await self.reconciling.run_round()

    async def stop(self) -> None:
        """Disconnect, cancel background work and end the event stream."""
        state = self._state
        if state is not None:
            state.stopping = True
            for task in list(state.tasks):
                task.cancel()
            for task in list(state.tasks):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if self.supervisor is not None:
                await self.supervisor.stop()
        self._queue.put_nowait(None)

    def _parts(self) -> tuple[SourceState, HistorySync, Outgoing]:
        """The started parts, or a network SendError before `start()`."""
        if self._state is None or self._history is None or self._outgoing is None:
            raise SendError("Not connected to Telegram yet; retry in a moment")
        return self._state, self._history, self._outgoing

    # ------------------------------------------------------------------ the ChatSource API

    async def dialogs(self) -> Dialogs:
        """The support chats, once the dialog list has been paged (most recent first)."""
        if self._state is None:
            raise RuntimeError("start() the source first")
        await self._state.dialogs_ready.wait()
        state = self._state
        return Dialogs(state.selected.values(), complete=state.dialogs_complete)

    async def history(self, chat_id: int, before: int | None, limit: int) -> list[Message]:
        """Up to `limit` messages older than id `before` (the newest if None), oldest first."""
        return await self._parts()[1].older(chat_id, before, limit)

    async def send(self, chat_id: int, text: str, reply_to: int | None, random_id: int) -> Message:
        """Send a reply; the same `random_id` never posts twice (see core/sources/telegram/outgoing.py)."""
        return await self._parts()[2].send(chat_id, text, reply_to, random_id)

    async def edit(self, chat_id: int, message_id: int, text: str) -> Message:
        """Edit one of our own messages (see core/sources/base.py `EditsMessages`)."""
        return await self._parts()[2].edit(chat_id, message_id, text)

    async def delete(self, chat_id: int, message_ids: list[int]) -> None:
        """Delete our messages for everyone (see core/sources/base.py `DeletesMessages`)."""
        await self._parts()[2].delete(chat_id, message_ids)

    async def mark_read(self, chat_id: int, upto: int) -> None:
        """Mark the chat read in Telegram up to message `upto` (failures are only logged)."""
        await self._parts()[2].mark_read(chat_id, upto)

    async def mark_unread(self, chat_id: int, unread: bool) -> None:
        """Set or clear the chat's unread mark in Telegram (raises SendError on failure)."""
        await self._parts()[2].mark_unread(chat_id, unread)

    async def react(self, chat_id: int, message_id: int, emoji: str) -> None:
        """Put an emoji reaction on a message (raises SendError with a clear message on failure)."""
        await self._parts()[2].react(chat_id, message_id, emoji)

    async def download_media(self, chat_id: int, message_id: int, dest_dir: Path) -> Path:
        """Download a message's media into `dest_dir` under a safe, unique name; return the path."""
        return await self._parts()[2].download_media(chat_id, message_id, dest_dir)

    async def members(self, chat_id: int) -> list[User]:
        """The human members of a group (see core/sources/base.py `ListsMembers`)."""
        from .members import list_members

        return await list_members(self._parts()[0], chat_id)

    async def search_messages(
        self,
        text: str,
        chat_id: int | None,
        limit: int,
        after: int | None,
        before: int | None,
        sender_id: int | None = None,
        page: SourcePage | None = None,
    ) -> SourceFound:
        """Telegram's search in one chat or across (core/sources/base.py `SearchesMessages`)."""
        state = self._parts()[0]
        return await search_part(state, text, chat_id, limit, after, before, sender_id, page)

    async def wait_synced(self) -> None:
        """Wait until the start-up sync (chat list and history backfill) has finished."""
        if self._state is None:
            raise RuntimeError("start() the source first")
        await self._state.synced.wait()

    def staff_ids(self) -> frozenset[int]:
        """The account itself plus configured teammates (numeric ids and resolved @usernames)."""
        if self._state is None:
            return frozenset()
        ids = set(self._state.staff)
        if self._state.me is not None:
            ids.add(self._state.me.id)
        return frozenset(ids)

    async def events(self) -> AsyncIterator[Event]:
        """The event stream; it ends after `stop()`."""
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event

    async def gap_fill(self, chat_ids: Iterable[int]) -> int:
        """Check chats against their latest history; return how many new messages were found."""
        return await self._parts()[1].gap_fill(chat_ids)
