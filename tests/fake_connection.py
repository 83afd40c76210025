"""The fake Telethon client's connection and update loop: connect, drop, getDifference, deliver."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from telethon import utils


class FakeConnection:
    """Connect, drop and disconnect like Telethon, and its update loop (a FakeClient mixin)."""

    # state set up by FakeClient.__init__
    connected: bool
    connects: int
    connect_failures: int
    connect_hangs: int
    catch_ups: int
    catch_up_on_connect: bool
    update_loops: int
    max_update_loops: int
    difference_runs: int
    differences_running: int
    max_differences_running: int
    hangs: list[str]
    black_hole: bool
    handlers: list[Callable[[Any], Any]]
    entities: dict[int, Any]
    missed: list[Any]
    calls: list[tuple[str, Any]]
    _loops: list[asyncio.Task[None]]
    _in_flight: list[asyncio.Future[Any]]
    _disconnected: asyncio.Future[None] | None

    if TYPE_CHECKING:  # provided by FakeClient

        def _maybe_fail(self, name: str, request: Any = None, *, after: bool = False) -> None: ...

    def check_connected(self) -> None:
        """Requests fail like the real client's when there is no connection."""
        if not self.connected:
            raise ConnectionError("Cannot send requests while disconnected")

    # ------------------------------------------------------------------ connection

    async def connect(self) -> None:
        """Connect like Telethon: a new update loop that first catches up (`catch_up=True`).

        Like the real client, connecting again after a drop without `disconnect()` leaves the
        old update loop running beside the new one (`max_update_loops` shows it).
        """
        self.calls.append(("connect", None))
        self._maybe_fail("connect")
        if self.connect_failures > 0:
            self.connect_failures -= 1
            raise ConnectionError("network is unreachable")
        if self.connect_hangs > 0:
            self.connect_hangs -= 1
            await self._never_answered()
        if self.connected:
            return
        self.connected = True
        self.connects += 1
        self._disconnected = asyncio.get_running_loop().create_future()
        if self.catch_up_on_connect:
            self._loops.append(asyncio.ensure_future(self._update_loop()))

    async def _update_loop(self) -> None:
        """Telethon's update loop: get the difference once, then wait for pushed updates."""
        self.update_loops += 1
        self.max_update_loops = max(self.max_update_loops, self.update_loops)
        try:
            await self._get_difference()
            await asyncio.get_running_loop().create_future()
        finally:
            self.update_loops -= 1

    async def _get_difference(self) -> None:
        """One getDifference run: deliver the updates queued in `missed`."""
        self.difference_runs += 1
        self.differences_running += 1
        self.max_differences_running = max(self.max_differences_running, self.differences_running)
        try:
            for _ in range(3):  # a round trip: lets a concurrent run overlap, as on a real network
                await asyncio.sleep(0)
            missed, self.missed = self.missed, []
            for update in missed:
                await self.deliver(update)
        finally:
            self.differences_running -= 1

    async def _never_answered(self) -> Any:
        """A request the server never answers: it waits until the connection ends."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._in_flight.append(future)
        return await future

    def _end_requests(self) -> None:
        """Telethon cancels the futures of requests in flight when the connection ends."""
        in_flight, self._in_flight = self._in_flight, []
        for future in in_flight:
            future.cancel()

    async def disconnect(self) -> None:
        """Disconnect on purpose: the update loop ends, requests in flight are cancelled."""
        self.calls.append(("disconnect", None))
        self.connected = False
        self.black_hole = False
        loops, self._loops = self._loops, []
        for loop in loops:
            loop.cancel()
        self._end_requests()
        if self._disconnected is not None and not self._disconnected.done():
            self._disconnected.set_result(None)

    def drop(self, error: BaseException | None = None) -> None:
        """The network dies: requests in flight are cancelled, `disconnected` raises `error`.

        The update loop keeps running, as Telethon's does until `disconnect()`.
        """
        self.connected = False
        self._end_requests()
        if self._disconnected is not None and not self._disconnected.done():
            self._disconnected.set_exception(error or ConnectionError("connection reset by peer"))

    def hang_next(self, name: str) -> None:
        """The next request `name` is never answered (until the connection ends)."""
        self.hangs.append(name)

    def is_connected(self) -> bool:
        """Whether connected."""
        return self.connected

    @property
    def disconnected(self) -> asyncio.Future[None]:
        """Resolves when the connection ends (raises the network error on a drop)."""
        if self._disconnected is None:
            self._disconnected = asyncio.get_running_loop().create_future()
            self._disconnected.set_result(None)
        return self._disconnected

    # ------------------------------------------------------------------ updates

    def add_event_handler(self, callback: Callable[[Any], Any], event: Any = None) -> None:
        """Register a raw-update handler."""
        self.handlers.append(callback)

    async def deliver(self, update: Any, entities: list[Any] | None = None) -> None:
        """Push one raw update to the handlers, with its entities like Telethon attaches them."""
        attached = {utils.get_peer_id(e): e for e in entities or []}
        if entities is None and hasattr(update, "message") and hasattr(update.message, "peer_id"):
            msg = update.message
            chat = self.entities.get(utils.get_peer_id(msg.peer_id))
            if chat is not None:
                attached[utils.get_peer_id(chat)] = chat
            if msg.from_id is not None and utils.get_peer_id(msg.from_id) in self.entities:
                attached[utils.get_peer_id(msg.from_id)] = self.entities[
                    utils.get_peer_id(msg.from_id)
                ]
        update._entities = attached
        for handler in list(self.handlers):
            await handler(update)

    async def catch_up(self) -> None:
        """Run getDifference now (Telethon's update loop already does after each connect)."""
        self.check_connected()
        self.catch_ups += 1
        await self._get_difference()


__all__ = ["FakeConnection"]
