"""The one owner of the Telegram connection: a small state machine with a watchdog.

    connecting ──round trip ok──▶ connected ──silence──▶ degraded ──probe ok──▶ connected
        ▲                            │                      │
        └──── back-off ◀── offline ◀─┴── drop / clock jump ─┴── probe failed

Only this module calls `client.connect()` and `client.disconnect()`. Every (re)connect first
disconnects the old connection (else Telethon runs a second update loop beside the first),
then connects and makes one request round trip, each step bounded by `asyncio.wait_for`; the
status says `connected` only after that round trip. Missed updates are fetched by Telethon
itself after each connect (the client is built with `catch_up=True`,
core/sources/telegram/client.py), so nothing here asks for them a second time. A request that
Telethon cancels because the connection went away counts as a network error, never as the end
of supervision, and the supervising task starts again if it ends for any reason.

The watchdog: when neither an update nor an answer has arrived for `watchdog` seconds it
probes with a cheap request under a timeout; no answer means reconnect. When the wall clock
jumped ahead of the monotonic clock (the computer slept) it reconnects at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ...desk.events import Connection, ConnectionState
from .client import is_network_error, network_detail
from .state import SourceState, guarded

log = logging.getLogger(__name__)

RECONNECT_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)


class Phase(StrEnum):
    """Where the supervisor's state machine is."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DEGRADED = "degraded"
    OFFLINE = "offline"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Bounds on each connection step, and the watchdog's rhythm (all in seconds)."""

    connect: float = 20.0
    request: float = 15.0
    disconnect: float = 5.0
    watchdog: float = 60.0
    tick: float = 5.0
    quiet_probe: float = 1.0
    """A probe answered within this long leaves the status alone (no flicker on quiet days)."""
    clock_jump: float = 30.0
    call: float = 60.0
    """A request of the sync, history or reconciler left unanswered this long is given up and
    retried: a connection can stay up while one request never gets its answer."""


Probe = Callable[[], Awaitable[Any]]
Tick = Callable[[float], Awaitable[None]]


def _is_connection_failure(exc: BaseException) -> bool:
    """Whether a step failed because of the network (retry) rather than a refusal (raise)."""
    return isinstance(exc, TimeoutError) or is_network_error(exc)


class ConnectionSupervisor:
    """Connects, watches and reconnects one Telethon client (see the module docstring)."""

    def __init__(
        self,
        state: SourceState,
        probe: Probe,
        *,
        on_reconnected: Callable[[], Awaitable[None]],
        delays: tuple[float, ...] = RECONNECT_DELAYS,
        timeouts: Timeouts | None = None,
        tick: Tick | None = None,
    ) -> None:
        """`probe()` makes one cheap request; `on_reconnected()` runs after each reconnect.

        `tick` is the watchdog's sleep (tests pass a fake clock's); back-off waits use the
        source's `sleep`.
        """
        self.state = state
        self.phase = Phase.STOPPED
        self.transitions: list[Phase] = []
        """Every phase entered, in order (for the log and for tests)."""
        self._probe = probe
        self._on_reconnected = on_reconnected
        self._delays = delays or (1.0,)
        self.timeouts = timeouts or Timeouts()
        self._tick: Tick = tick or asyncio.sleep
        self._opened = False
        self._task: asyncio.Task[None] | None = None
        self._wall_mark = 0.0
        self._mono_mark = 0.0

    # ------------------------------------------------------------------ transitions

    def _enter(self, phase: Phase, detail: str = "", retry_in: float | None = None) -> None:
        """Move to `phase`, log it, and tell the desk what the status line should say."""
        self.phase = phase
        self.transitions.append(phase)
        log.info("telegram connection: %s%s", phase.value, f" ({detail})" if detail else "")
        if phase is Phase.CONNECTING:
            self.state.emit(ConnectionState(Connection.CONNECTING, detail))
        elif phase is Phase.CONNECTED:
            self.state.online.set()
            self.state.emit(ConnectionState(Connection.CONNECTED, detail))
        elif phase is Phase.OFFLINE:
            self.state.online.clear()
            self.state.emit(ConnectionState(Connection.OFFLINE, detail, retry_in=retry_in))

    def announce_connected(self) -> None:
        """Say `connected` (start() does, once the account is known)."""
        self._enter(Phase.CONNECTED)

    def say_offline(self, detail: str) -> None:
        """Say `offline` with a reason (start() does when the session is not logged in)."""
        self._enter(Phase.OFFLINE, detail)

    # ------------------------------------------------------------------ connecting

    async def establish(self, *, announce: bool = True) -> None:
        """Connect with back-off until a request round trip succeeds (raises when stopped)."""
        attempt = 0
        while True:
            if self.state.stopping:
                raise ConnectionError("the Telegram source was stopped")
            self._enter(Phase.CONNECTING)
            try:
                await self._open()
            except Exception as exc:
                if not _is_connection_failure(exc):
                    raise
                delay = self._delays[min(attempt, len(self._delays) - 1)]
                attempt += 1
                log.info("cannot reach Telegram: %s", network_detail(exc))
                self._enter(Phase.OFFLINE, "cannot reach Telegram", retry_in=delay)
                await self.state.sleep(delay)
                continue
            self._mark_clocks()
            if announce:
                self._enter(Phase.CONNECTED)
            return

    async def _open(self) -> None:
        """Disconnect what was there, connect, and make one round trip, each step bounded."""
        client = self.state.client
        await self._close()
        self._opened = True
        await asyncio.wait_for(guarded(client.connect()), self.timeouts.connect)
        await asyncio.wait_for(guarded(self._probe()), self.timeouts.request)
        self.state.touch()

    async def _close(self) -> None:
        """Disconnect the client if this supervisor ever connected it (errors only logged)."""
        if not self._opened:
            return
        self._opened = False
        try:
            await asyncio.wait_for(
                guarded(self.state.client.disconnect()), self.timeouts.disconnect
            )
        except Exception as exc:
            log.info("disconnect before reconnecting failed: %s", network_detail(exc))

    # ------------------------------------------------------------------ supervision

    def supervise(self) -> None:
        """Start watching the connection in the background (restarted whenever it ends)."""
        self._launch(restarted=False)

    def _launch(self, *, restarted: bool) -> None:
        """Run the supervising task; when it ends for any reason but stop(), run it again."""
        task = asyncio.ensure_future(self._run(restarted=restarted))
        self._task = task

        def ended(finished: asyncio.Task[None]) -> None:
            if self.state.stopping or self._task is not finished:
                return
            if finished.cancelled():
                if finished.cancelling() > 0:
                    log.info("telegram connection supervision was cancelled from outside")
                    return
                log.error("telegram connection supervision was cancelled; restarting it")
            elif finished.exception() is not None:
                log.error(
                    "telegram connection supervision failed; restarting it",
                    exc_info=finished.exception(),
                )
            else:
                log.error("telegram connection supervision ended; restarting it")
            self._launch(restarted=True)

        task.add_done_callback(ended)

    async def _run(self, *, restarted: bool) -> None:
        """Watch until the connection is lost, then reconnect; forever until stopped."""
        reason = "the connection supervisor restarted" if restarted else ""
        if restarted:
            await self.state.sleep(self._delays[0])
        while not self.state.stopping:
            if not reason:
                reason = await self._watch()
            if self.state.stopping:
                return
            log.info("connection to Telegram lost: %s", reason)
            self._enter(Phase.OFFLINE, f"{reason}; reconnecting")
            await self.establish()
            reason = ""
            self.state.spawn(self._on_reconnected(), "check after reconnect")

    async def _watch(self) -> str:
        """Wait until the connection is lost (or looks dead); return why."""
        lost = asyncio.ensure_future(self._wait_disconnected())
        try:
            while True:
                tick = asyncio.ensure_future(self._tick(self.timeouts.tick))
                done, _ = await asyncio.wait({lost, tick}, return_when=asyncio.FIRST_COMPLETED)
                if lost in done:
                    tick.cancel()
                    return lost.result()
                if self._clock_jumped():
                    return "the computer was asleep"
                silence = self.state.monotonic() - self.state.last_activity
                if silence >= self.timeouts.watchdog and not await self._probe_alive(silence):
                    return "Telegram stopped answering"
        finally:
            lost.cancel()

    async def _wait_disconnected(self) -> str:
        """Resolve with a reason once the client says the connection is gone."""
        try:
            await guarded(self.state.client.disconnected)
        except Exception as exc:
            return f"connection lost: {network_detail(exc)}"
        return "connection lost: the connection was closed"

    async def _probe_alive(self, silence: float) -> bool:
        """Probe a silent connection; the status says `connecting` only if the answer is slow."""
        self.phase = Phase.DEGRADED
        self.transitions.append(Phase.DEGRADED)
        log.info("telegram connection: degraded (nothing for %.0f s); probing", silence)
        probe = asyncio.ensure_future(guarded(self._probe()))
        shown = False
        try:
            done, _ = await asyncio.wait({probe}, timeout=self.timeouts.quiet_probe)
            if not done:
                shown = True
                self._enter(Phase.CONNECTING, "checking the connection")
                await asyncio.wait_for(
                    probe, max(0.0, self.timeouts.request - self.timeouts.quiet_probe)
                )
            probe.result()
        except Exception as exc:
            if _is_connection_failure(exc):
                log.info("connection probe failed: %s", network_detail(exc))
                return False
            log.warning("connection probe refused (%s); the connection is up", exc)
        finally:
            probe.cancel()
        self.state.touch()
        if shown:
            self._enter(Phase.CONNECTED)
        else:
            self.phase = Phase.CONNECTED
            self.transitions.append(Phase.CONNECTED)
            log.info("telegram connection: connected (the probe was answered)")
        return True

    def _mark_clocks(self) -> None:
        """Remember both clocks now (to notice a sleep/resume later)."""
        self._wall_mark = self.state.clock()
        self._mono_mark = self.state.monotonic()

    def _clock_jumped(self) -> bool:
        """Whether the wall clock ran ahead of the monotonic clock (a suspend) since the mark."""
        wall, mono = self.state.clock(), self.state.monotonic()
        jumped = (wall - self._wall_mark) - (mono - self._mono_mark) > self.timeouts.clock_jump
        self._wall_mark, self._mono_mark = wall, mono
        return jumped

    async def stop(self) -> None:
        """Stop supervising and disconnect."""
        self.phase = Phase.STOPPED
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._opened = True
        await self._close()
