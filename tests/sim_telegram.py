"""A simulated Telegram with seeded fault injection, built on the fake Telethon client.

`SimTelegram` holds the ground truth: per-chat message logs (ids, edits, deletions), read marks,
unread counts and pts (per channel, account-wide otherwise). It serves the raw requests the desk
and its reconciler use with real `telethon.tl` objects (GetDialogs, GetPeerDialogs, GetHistory,
messages/channels GetMessages with `MessageEmpty` for deleted ids, GetState, SendMessage with
random_id dedup) and pushes live updates to the client's handlers from its own update loop.

Faults, seeded by `Faults` and the sim's `random.Random`, or scripted one by one:
- the transport dies (`cut`/`heal`, `drop`): requests in flight are cancelled like Telethon
  cancels them (the caller's `await` raises `CancelledError`), `disconnected` raises;
- single updates are dropped (lost for good), duplicated or reordered;
- a request is delayed, or never answered (until the connection drops), or answered with
  `FloodWaitError`;
- chats change while the desk is closed (`closed()`): nothing of that reaches any catch-up.

Telethon's own failure modes that the desk must avoid are modelled by their symptoms as seen
against a real server: `connect()` after a drop without `disconnect()` leaves a half-open
client (`is_connected()` says yes, `disconnected` never resolves, every request fails with
"No connection" and no update arrives, until `disconnect()`), and a `catch_up()` while the
catch-up that `connect()` runs is still going is Telethon's "Fatal error handling updates …
Should not be applying the difference": the update loop ends and nothing arrives any more. Time is the event loop's (tests run on looptime's
virtual clock), so `now()` is simulated seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from telethon import utils
from telethon.tl import types

from tests.fake_telethon import FakeClient
from tests.fake_tl import flood, message_update, peer_of, when
from tests.sim_serving import CHANNEL_FLOOR, SimServing

EPOCH = 1_700_000_000
"""Unix time at loop time 0."""


@dataclass
class Faults:
    """Probabilities (0..1) of the seeded faults, drawn per update or per request."""

    drop_update: float = 0.0
    duplicate_update: float = 0.0
    reorder_update: float = 0.0
    flood: float = 0.0
    flood_seconds: int = 7
    delay: float = 0.0
    delay_seconds: float = 3.0
    stall: float = 0.0


@dataclass
class Script:
    """Faults scripted for the next request(s), consumed in order."""

    floods: list[int] = field(default_factory=list)
    stalls: int = 0
    drops_mid_request: int = 0


class SimTelegram(SimServing, FakeClient):
    """The fake client with a ground truth, a transport that can die and seeded faults."""

    def __init__(
        self, me: types.User | None = None, *, seed: int = 0, faults: Faults | None = None
    ):
        """A world with one account and no chats; `seed` drives every random fault."""
        super().__init__(me)
        self.rng = random.Random(seed)
        self.faults = faults or Faults()
        self.script = Script()
        self.network_up = True
        self.deleted: dict[int, set[int]] = {}
        self.channel_pts: dict[int, int] = {}
        self.account_pts = 1
        self.read_inbox: dict[int, int] = {}
        self.read_outbox: dict[int, int] = {}
        self.updates_alive = True
        self.dead_reason = ""
        self.auto_catch_up = True
        """Like TelegramClient(catch_up=True): connect() runs a catch-up of its own."""
        self.catch_up_seconds = 0.5
        self.desk_closed = False
        self.pushed = 0
        self.posted_replies: list[str] = []
        """Every text a SendMessageRequest posted, in order (also those deleted later)."""
        self.delivered = 0
        self.lost_updates = 0
        self.cancelled_requests = 0
        self.on_request: Callable[[Any], None] | None = None
        self.answer_locally: Callable[[Any], Any] | None = None
        """The source's hook for requests it can answer itself (core/sources/telegram/client.py)."""
        """Called with every raw request before it is served (a test injects a fault there)."""
        self._stale = False
        self.half_open = False
        """connect() on a client that was never disconnect()ed: looks connected, carries nothing."""
        self._catching_up = False
        self._requests_on_wire: set[asyncio.Future[None]] = set()
        self._updates: asyncio.Queue[Any] | None = None
        self._pump: asyncio.Task[None] | None = None
        self._held: Any = None
        self._loop_tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ time

    @staticmethod
    def now() -> int:
        """Simulated Unix seconds (the running loop's clock)."""
        return EPOCH + int(asyncio.get_running_loop().time())

    # ------------------------------------------------------------------ ground truth

    def add_chat(self, entity: Any, **dialog: Any) -> int:
        """Put a chat in the dialog list with its read marks and pts."""
        chat_id = super().add_chat(entity, **dialog)
        self.read_inbox[chat_id] = int(dialog.get("read_inbox_max_id", 0))
        self.read_outbox[chat_id] = int(dialog.get("read_outbox_max_id", 0))
        if chat_id < CHANNEL_FLOOR:
            self.channel_pts[chat_id] = 1
        self.deleted.setdefault(chat_id, set())
        self._sync_meta(chat_id)
        return chat_id

    def truth(self, chat_id: int) -> list[Any]:
        """The chat's messages as Telegram holds them, by id."""
        return sorted(self.history.get(chat_id, []), key=lambda m: m.id)

    def unread_count(self, chat_id: int) -> int:
        """Incoming messages after our read mark."""
        mark = self.read_inbox.get(chat_id, 0)
        return sum(1 for m in self.history.get(chat_id, []) if not m.out and m.id > mark)

    def _sync_meta(self, chat_id: int) -> None:
        """Mirror read marks, unread count and pts into the dialog the fake serves."""
        meta = self.dialog_meta[chat_id]
        meta["read_inbox_max_id"] = self.read_inbox[chat_id]
        meta["read_outbox_max_id"] = self.read_outbox[chat_id]
        meta["unread_count"] = self.unread_count(chat_id)
        if chat_id in self.channel_pts:
            meta["pts"] = self.channel_pts[chat_id]

    def _next_pts(self, chat_id: int) -> int:
        """Advance the pts that counts this chat's events (the channel's, else the account's)."""
        if chat_id in self.channel_pts:
            self.channel_pts[chat_id] += 1
            return self.channel_pts[chat_id]
        self.account_pts += 1
        return self.account_pts

    def post(
        self, chat_id: int, text: str, *, sender: Any = None, out: bool = False, push: bool = True
    ) -> types.Message:
        """A new message in the truth (a customer's, a teammate's, or ours from another device)."""
        msg = self.message(chat_id, text, sender=sender, out=out, date=self.now())
        if msg.id in self.deleted.get(chat_id, set()):
            raise AssertionError("message ids are never reused")
        pts = self._next_pts(chat_id)
        if out:
            self.read_inbox[chat_id] = max(self.read_inbox[chat_id], msg.id)
        self._sync_meta(chat_id)
        if push:
            self.push(message_update(msg, pts))
        return msg

    def edit(self, chat_id: int, msg_id: int, text: str) -> types.Message | None:
        """Edit a message in the truth (None if it is gone)."""
        for index, old in enumerate(self.history[chat_id]):
            if old.id == msg_id and isinstance(old, types.Message):
                new = types.Message(
                    id=old.id,
                    peer_id=old.peer_id,
                    date=old.date,
                    message=text,
                    out=old.out,
                    from_id=old.from_id,
                    reply_to=old.reply_to,
                    media=old.media,
                    edit_date=when(max(self.now(), int(old.date.timestamp()) + 1)),
                )
                self.history[chat_id][index] = new
                pts = self._next_pts(chat_id)
                self._sync_meta(chat_id)
                self.push(message_update(new, pts, edit=True))
                return new
        return None

    def delete(self, chat_id: int, ids: Iterable[int]) -> list[int]:
        """Delete messages from the truth; returns the ids that existed."""
        wanted = set(ids)
        gone = [m.id for m in self.history[chat_id] if m.id in wanted]
        if not gone:
            return []
        self.history[chat_id] = [m for m in self.history[chat_id] if m.id not in wanted]
        self.deleted[chat_id].update(gone)
        pts = self._next_pts(chat_id)
        self._sync_meta(chat_id)
        if chat_id < CHANNEL_FLOOR:
            channel_id = utils.resolve_id(chat_id)[0]
            self.push(
                types.UpdateDeleteChannelMessages(
                    channel_id=channel_id, messages=gone, pts=pts, pts_count=len(gone)
                )
            )
        else:
            self.push(types.UpdateDeleteMessages(messages=gone, pts=pts, pts_count=len(gone)))
        return gone

    def read(self, chat_id: int, max_id: int, *, outbox: bool = False) -> None:
        """A read mark moves: ours from another device, or the customer read our messages."""
        marks = self.read_outbox if outbox else self.read_inbox
        if max_id <= marks[chat_id]:
            return
        marks[chat_id] = max_id
        # a channel's read marks carry its current pts but take no pts slot of their own
        pts = self.channel_pts[chat_id] if chat_id in self.channel_pts else self._next_pts(chat_id)
        self._sync_meta(chat_id)
        peer = peer_of(self.entities[chat_id])
        if chat_id < CHANNEL_FLOOR:
            cid = utils.resolve_id(chat_id)[0]
            if outbox:
                self.push(types.UpdateReadChannelOutbox(channel_id=cid, max_id=max_id))
            else:
                self.push(
                    types.UpdateReadChannelInbox(
                        channel_id=cid,
                        max_id=max_id,
                        still_unread_count=self.unread_count(chat_id),
                        pts=pts,
                    )
                )
        elif outbox:
            self.push(types.UpdateReadHistoryOutbox(peer=peer, max_id=max_id, pts=pts, pts_count=1))
        else:
            self.push(
                types.UpdateReadHistoryInbox(
                    peer=peer,
                    max_id=max_id,
                    still_unread_count=self.unread_count(chat_id),
                    pts=pts,
                    pts_count=1,
                )
            )

    @contextlib.contextmanager
    def closed(self) -> Iterator[None]:
        """While the desk is closed: changes made here reach no update stream and no catch-up."""
        self.desk_closed = True
        try:
            yield
        finally:
            self.desk_closed = False

    # ------------------------------------------------------------------ the transport

    def cut(self) -> None:
        """The network goes away: the connection drops and connect() fails until `heal()`."""
        self.network_up = False
        self.drop()

    def heal(self) -> None:
        """The network is back."""
        self.network_up = True

    def drop(self, error: BaseException | None = None) -> None:
        """The connection dies: requests in flight are cancelled, the update loop stops."""
        was_connected = self.connected
        super().drop(error)
        if was_connected:
            self._stale = True
        for future in list(self._requests_on_wire):
            if not future.done():
                future.cancel()
                self.cancelled_requests += 1
        self._stop_update_loop()

    @property
    def transport_up(self) -> bool:
        """Whether requests can go through right now."""
        return self.connected and self.network_up and not self.half_open

    def check_connected(self) -> None:
        """Requests fail like the real client's when there is no (working) connection."""
        super().check_connected()
        if self.half_open:
            raise ConnectionError("No connection")

    async def connect(self) -> None:
        """Connect; after a drop without disconnect() this starts a second update loop."""
        self.calls.append(("connect", None))
        if not self.network_up:
            raise ConnectionError("network is unreachable")
        if self._stale or self.connected:
            # Telethon: a second _update_loop beside the first, on a sender that never reconnected
            self._kill_updates("connect() on a client that was not disconnected")
            self.half_open = True
            self.connected = True
            self._disconnected = asyncio.get_running_loop().create_future()
            return
        self.connected = True
        self.connects += 1
        self._disconnected = asyncio.get_running_loop().create_future()
        self._start_update_loop()
        if self.auto_catch_up:
            self._spawn(self._auto_catch_up())

    async def disconnect(self) -> None:
        """Disconnect on purpose (a later connect() starts clean)."""
        await super().disconnect()
        self._stale = False
        self.updates_alive = True
        self.dead_reason = ""
        self.half_open = False
        for future in list(self._requests_on_wire):
            if not future.done():
                future.cancel()
        self._stop_update_loop()

    async def _auto_catch_up(self) -> None:
        """The getDifference that connect() runs by itself."""
        self._catching_up = True
        try:
            await asyncio.sleep(self.catch_up_seconds)
            if self.connected and self.updates_alive:
                await self.fetch_missed()
        finally:
            self._catching_up = False

    async def catch_up(self) -> None:
        """An explicit getDifference; fatal while the automatic one still runs."""
        self.check_connected()
        self.catch_ups += 1
        if self._catching_up:
            self._kill_updates("Should not be applying the difference when catching up")
            raise RuntimeError("Should not be applying the difference when catching up")
        if self.updates_alive:
            await self.fetch_missed()

    async def fetch_missed(self) -> None:
        """What a catch-up does: here the missed updates are replayed through the update loop."""
        self._flush_missed()

    def _kill_updates(self, reason: str) -> None:
        """Telethon's 'Fatal error handling updates': nothing arrives any more on this client."""
        self.updates_alive = False
        self.dead_reason = reason

    # ------------------------------------------------------------------ the update stream

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._loop_tasks.add(task)
        task.add_done_callback(self._loop_tasks.discard)

    def _start_update_loop(self) -> None:
        self._updates = asyncio.Queue()
        self._pump = asyncio.ensure_future(self._pump_updates(self._updates))

    def _stop_update_loop(self) -> None:
        if self._updates is not None:
            while not self._updates.empty():
                self.missed.append(self._updates.get_nowait())
        if self._pump is not None:
            self._pump.cancel()
        self._updates = None
        self._pump = None

    async def _pump_updates(self, queue: asyncio.Queue[Any]) -> None:
        """Hand queued updates to the handlers one by one, like Telethon's update loop."""
        while True:
            update = await queue.get()
            if not self.updates_alive:
                self.lost_updates += 1
                continue
            await self.deliver(update)
            self.delivered += 1

    def push(self, update: Any) -> None:
        """Telegram sends an update: to the live stream, or to the next catch-up when offline."""
        self.pushed += 1
        if self.desk_closed:
            self.lost_updates += 1
            return
        if self._updates is None or not self.connected:
            self.missed.append(update)
            return
        if not self.updates_alive:
            self.lost_updates += 1
            return
        roll = self.rng.random()
        if roll < self.faults.drop_update:
            self.lost_updates += 1
            return
        roll -= self.faults.drop_update
        if roll < self.faults.reorder_update and self._held is None:
            self._held = update
            return
        self._updates.put_nowait(update)
        roll -= self.faults.reorder_update
        if roll < self.faults.duplicate_update:
            self._updates.put_nowait(update)
        if self._held is not None:
            held, self._held = self._held, None
            self._updates.put_nowait(held)

    def _flush_missed(self) -> None:
        """getDifference: what was queued while offline reaches the handlers (through the loop)."""
        missed, self.missed = self.missed, []
        if self._held is not None:
            missed.append(self._held)
            self._held = None
        if self._updates is None:
            self.missed = missed
            return
        for update in missed:
            self._updates.put_nowait(update)

    # ------------------------------------------------------------------ requests

    async def __call__(self, request: Any) -> Any:
        """Serve one raw request, after the seeded or scripted faults had their say."""
        if self.on_request is not None:
            self.on_request(request)
        self.check_connected()
        name = type(request).__name__
        self.requests.append(request)
        self.snapshots.append((name, request.to_dict()))
        self._maybe_fail(name, request)
        if self.script.floods:
            raise flood(self.script.floods.pop(0))
        if self.rng.random() < self.faults.flood:
            raise flood(self.faults.flood_seconds)
        if self.script.drops_mid_request:
            self.script.drops_mid_request -= 1
            waiter = self._wait_in_flight()
            asyncio.get_running_loop().call_soon(self.drop)
            await waiter
        stall = bool(self.script.stalls) or self.rng.random() < self.faults.stall
        if stall:
            self.script.stalls = max(0, self.script.stalls - 1)
            await self._wait_in_flight()
        applied_first = name == "SendMessageRequest" and self.rng.random() < 0.5
        result: Any = None
        if applied_first:
            result = self._serve(name, request)
        if self.rng.random() < self.faults.delay:
            await self._wait_in_flight(self.faults.delay_seconds)
            self.check_connected()
        return result if applied_first else self._serve(name, request)

    def _serve(self, name: str, request: Any) -> Any:
        handler = getattr(self, f"_serve_{name}", None)
        if handler is None:
            raise NotImplementedError(name)
        return handler(request)

    async def _wait_in_flight(self, seconds: float | None = None) -> None:
        """Wait like a request on the wire: forever (or `seconds`), cancelled by a drop."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._requests_on_wire.add(future)
        timer = None
        if seconds is not None:
            timer = asyncio.get_running_loop().call_later(
                seconds, lambda: future.done() or future.set_result(None)
            )
        try:
            await future
        finally:
            self._requests_on_wire.discard(future)
            if timer is not None:
                timer.cancel()

    async def send_read_acknowledge(
        self, entity: Any, message: Any = None, *, max_id: int | None = None
    ) -> bool:
        """We read a chat on this device: the truth's read mark moves."""
        self.check_connected()
        chat_id = utils.get_peer_id(entity)
        self.read_acks.append((entity, max_id))
        if chat_id in self.read_inbox and max_id:
            self.read_inbox[chat_id] = max(self.read_inbox[chat_id], max_id)
            self._sync_meta(chat_id)
        return True

    # ------------------------------------------------------------------ accounting

    def request_count(self, *names: str) -> int:
        """How many raw requests of these kinds (all kinds when none given) were served or tried."""
        if not names:
            return len(self.requests)
        return sum(1 for r in self.requests if type(r).__name__ in names)


__all__ = ["EPOCH", "Faults", "Script", "SimTelegram"]
