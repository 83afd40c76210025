"""The Telegram connection supervisor and watchdog, against the fake Telethon client.

Each test names the bug it guards against (issue 12: a second update loop after a reconnect,
a second catch-up, supervision dying on Telethon's CancelledError, a first round trip that
never answers, a silent half-open connection, a sleep/resume). Waits are bounded by tiny
real timeouts; the watchdog runs on a fake clock.
"""

from __future__ import annotations

import asyncio
import logging
import stat
from typing import Any

import pytest
from tgtriage.core.desk import events as ev
from tgtriage.core.desk.events import Connection
from tgtriage.core.sources.base import SendError
from tgtriage.core.sources.telegram.client import build_client, session_path, store_profile
from tgtriage.core.sources.telegram.connection import Phase, Timeouts
from tgtriage.core.sources.telegram.reconcile import Held
from tgtriage.core.sources.telegram.source import TelegramSource
from tgtriage.core.system.config import Config
from tgtriage.core.system.paths import Paths

from tests.fake_telethon import FakeClient
from tests.fake_tl import user
from tests.telegram_world import (
    ACME_ID,
    ALICE,
    NOW,
    Sleeper,
    config,
    of,
    queued,
    until,
    world,
)

FAST = Timeouts(
    connect=0.05, request=0.05, disconnect=0.05, watchdog=60, tick=5, quiet_probe=0, call=0.05
)


class FakeClock:
    """Monotonic and wall clocks that move only when the test says; the watchdog's sleep."""

    def __init__(self) -> None:
        self.mono = 1_000.0
        self.wall = float(NOW)
        self.sleepers: list[asyncio.Future[None]] = []

    def monotonic(self) -> float:
        return self.mono

    def time(self) -> float:
        return self.wall

    async def tick(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.sleepers.append(future)
        await future

    def advance(self, seconds: float, *, suspended: float = 0.0) -> None:
        """Let `seconds` pass (plus `suspended` seconds of wall clock only: a sleep/resume)."""
        self.mono += seconds
        self.wall += seconds + suspended
        sleepers, self.sleepers = self.sleepers, []
        for future in sleepers:
            if not future.done():
                future.set_result(None)


class Gate:
    """A back-off sleep that holds from the first long wait on (the desk stays offline)."""

    async def __call__(self, seconds: float) -> None:
        if seconds >= 1:
            await asyncio.get_running_loop().create_future()
        await asyncio.sleep(0)


async def start(
    fake: FakeClient,
    paths: Paths,
    clock: FakeClock | None = None,
    timeouts: Timeouts = FAST,
    cfg: Config | None = None,
    sleep: Any = None,
) -> TelegramSource:
    """A started, synced source on the fake client (the watchdog on `clock` when given)."""
    clock = clock or FakeClock()
    source = TelegramSource(
        cfg or config(),
        paths,
        lambda: fake,
        sleep=sleep or Sleeper(),
        clock=clock.time,
        monotonic=clock.monotonic,
        tick=clock.tick,
        history_interval=0,
        timeouts=timeouts,
    )
    await asyncio.wait_for(source.start(), 10)
    await source.wait_synced()
    return source


def states(events: list[ev.Event]) -> list[Connection]:
    """The connection states among `events`."""
    return [e.state for e in of(events, ev.ConnectionState)]


def connects_and_disconnects(fake: FakeClient) -> list[str]:
    """The client's connect/disconnect calls in order."""
    return [name for name, _ in fake.calls if name in ("connect", "disconnect")]


def phase(source: TelegramSource) -> Phase:
    """The supervisor's phase."""
    assert source.supervisor is not None
    return source.supervisor.phase


# --------------------------------------------------------------------------- reconnects


async def test_a_reconnect_disconnects_first_and_catches_up_once(paths: Paths) -> None:
    """Issue 12 item 1: never two update loops, never two getDifference runs."""
    fake = world()
    source = await start(fake, paths)
    queued(source)
    missed = fake.message(ACME_ID, "sent while we were away", sender=ALICE)
    fake.missed.append(fake.new_message_update(missed))
    fake.drop()
    await until(lambda: fake.connects == 2 and phase(source) is Phase.CONNECTED)
    await until(lambda: fake.difference_runs == 2)
    for _ in range(20):
        await asyncio.sleep(0)
    assert connects_and_disconnects(fake) == ["connect", "disconnect", "connect"]
    assert fake.max_update_loops == 1, "a second update loop ran beside the first"
    assert fake.difference_runs == 2 and fake.max_differences_running == 1
    assert fake.catch_ups == 0, "Telethon catches up by itself after each connect"
    texts = [e.message.text for e in of(queued(source), ev.NewMessage)]
    assert texts == ["sent while we were away"]
    await source.stop()


async def test_a_request_cancelled_by_telethon_means_reconnect_not_the_end(
    paths: Paths, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 12 item 2: Telethon cancels requests in flight when it drops the connection."""
    clock = FakeClock()
    fake = world()
    source = await start(fake, paths, clock, Timeouts(request=30, watchdog=60, quiet_probe=0))
    queued(source)
    caplog.set_level(logging.INFO, "tgtriage.core.sources.telegram")
    fake.hang_next("GetStateRequest")
    await until(lambda: bool(clock.sleepers))
    clock.advance(60)
    await until(lambda: phase(source) is Phase.CONNECTING)  # the probe waits for its answer
    fake.drop()  # … and Telethon cancels it
    await until(lambda: fake.connects == 2 and phase(source) is Phase.CONNECTED)
    assert states(queued(source)) == [
        Connection.CONNECTING,
        Connection.OFFLINE,
        Connection.CONNECTING,
        Connection.CONNECTED,
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "handled, not crashed"
    fake.drop()  # supervision is still alive for the next drop
    await until(lambda: fake.connects == 3 and phase(source) is Phase.CONNECTED)
    await source.stop()


async def test_a_cancelled_check_after_reconnect_does_not_end_supervision(paths: Paths) -> None:
    """Issue 12 item 2: the history check after a reconnect is cancelled by the next drop."""
    fake = world()
    source = await start(fake, paths)
    source.set_hints(watched=lambda: [ACME_ID])
    fake.hang_next("GetHistoryRequest")
    fake.drop()
    await until(lambda: fake.connects == 2 and bool(fake._in_flight))
    queued(source)
    fake.drop()  # cancels the hanging history request
    await until(lambda: fake.connects == 3 and phase(source) is Phase.CONNECTED)
    assert states(queued(source))[:1] == [Connection.OFFLINE]
    late = fake.message(ACME_ID, "after the second outage", sender=ALICE)
    await fake.deliver(fake.new_message_update(late))
    assert [e.message.text for e in of(queued(source), ev.NewMessage)][-1] == late.message
    await source.stop()


async def test_supervision_restarts_when_it_fails(
    paths: Paths, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 12 item 2: whatever ends the supervising task, it starts again."""
    fake = world()
    source = await start(fake, paths)
    queued(source)
    fake.fail_next("connect", RuntimeError("Should not be applying the difference"))
    fake.drop()
    await until(lambda: fake.connects == 2 and phase(source) is Phase.CONNECTED)
    assert any("restarting" in r.getMessage() for r in caplog.records)
    assert states(queued(source))[-1] is Connection.CONNECTED
    await source.stop()


# --------------------------------------------------------------------------- bounded steps


async def test_a_connect_that_never_completes_is_bounded_and_retried(paths: Paths) -> None:
    """Issue 12 item 3: Telethon's connect (with its GetConfig round trip) never answers."""
    fake = world()
    fake.connect_hangs = 1
    source = await start(fake, paths)
    assert states(queued(source)) == [
        Connection.CONNECTING,
        Connection.OFFLINE,
        Connection.CONNECTING,
        Connection.CONNECTED,
    ]
    assert connects_and_disconnects(fake) == ["connect", "disconnect", "connect"]
    await source.stop()


async def test_connected_only_after_a_round_trip(paths: Paths) -> None:
    """Issue 12 item 3: the first request after connect never answers: not `connected` yet."""
    fake = world()
    fake.hang_next("GetStateRequest")
    source = await start(fake, paths)
    events = queued(source)
    assert states(events) == [
        Connection.CONNECTING,
        Connection.OFFLINE,
        Connection.CONNECTING,
        Connection.CONNECTED,
    ]
    assert len(fake.requests_named("GetStateRequest")) == 2
    assert connects_and_disconnects(fake) == ["connect", "disconnect", "connect"]
    await source.stop()


# --------------------------------------------------------------------------- the watchdog


async def test_a_quiet_connection_is_probed_and_kept(paths: Paths) -> None:
    clock = FakeClock()
    fake = world()
    source = await start(fake, paths, clock, Timeouts(request=5, watchdog=60, quiet_probe=5))
    queued(source)
    probes = len(fake.requests_named("GetStateRequest"))
    await until(lambda: bool(clock.sleepers))
    clock.advance(30)
    await until(lambda: bool(clock.sleepers))
    assert len(fake.requests_named("GetStateRequest")) == probes, "30 s of quiet: no probe yet"
    clock.advance(30)
    await until(lambda: len(fake.requests_named("GetStateRequest")) == probes + 1)
    await until(lambda: bool(clock.sleepers))
    assert states(queued(source)) == [], "a quick answer leaves the status alone"
    assert phase(source) is Phase.CONNECTED and fake.connects == 1
    await source.stop()


async def test_a_silent_dead_connection_is_noticed_and_replaced(paths: Paths) -> None:
    """Issue 12: `● connected` while nothing arrives any more (a half-open connection)."""
    clock = FakeClock()
    fake = world()
    source = await start(fake, paths, clock)
    queued(source)
    fake.black_hole = True
    await until(lambda: bool(clock.sleepers))
    clock.advance(59)
    await until(lambda: bool(clock.sleepers))
    assert phase(source) is Phase.CONNECTED
    clock.advance(1)
    await until(lambda: fake.connects == 2 and phase(source) is Phase.CONNECTED)
    events = of(queued(source), ev.ConnectionState)
    assert [e.state for e in events] == [
        Connection.CONNECTING,
        Connection.OFFLINE,
        Connection.CONNECTING,
        Connection.CONNECTED,
    ]
    assert events[0].detail == "checking the connection"
    assert "stopped answering" in events[1].detail
    assert connects_and_disconnects(fake) == ["connect", "disconnect", "connect"]
    await source.stop()


async def test_after_a_sleep_resume_it_reconnects_at_once(paths: Paths) -> None:
    clock = FakeClock()
    fake = world()
    source = await start(fake, paths, clock)
    queued(source)
    probes = len(fake.requests_named("GetStateRequest"))
    await until(lambda: bool(clock.sleepers))
    clock.advance(5, suspended=3600)
    await until(lambda: fake.connects == 2 and phase(source) is Phase.CONNECTED)
    events = of(queued(source), ev.ConnectionState)
    assert "asleep" in events[0].detail
    assert len(fake.requests_named("GetStateRequest")) == probes + 1, "the new connection's only"
    await source.stop()


# --------------------------------------------------------------------------- sending while offline


async def test_a_send_while_offline_fails_at_once_and_can_be_retried(paths: Paths) -> None:
    fake = world()
    source = await start(fake, paths, sleep=Gate())
    fake.connect_failures = 1
    fake.drop()
    await until(lambda: phase(source) is Phase.OFFLINE)
    with pytest.raises(SendError) as caught:
        await source.send(ACME_ID, "on it", None, random_id=7)
    assert not caught.value.permanent and "No connection" in str(caught.value)
    assert fake.requests_named("SendMessageRequest") == []
    await source.stop()


async def test_a_send_on_a_dead_connection_is_bounded(paths: Paths) -> None:
    fake = world()
    source = await start(fake, paths)
    fake.black_hole = True
    with pytest.raises(SendError) as caught:
        await source.send(ACME_ID, "on it", None, random_id=7)
    assert not caught.value.permanent
    await source.stop()


# --------------------------------------------------------------------------- which chats, which server


async def test_telegrams_service_account_is_left_out_unless_included(paths: Paths) -> None:
    service = user(777000, "Telegram")
    fake = world()
    fake.add_chat(service)
    fake.message(777000, "Login code: 12345. Do not give this code to anyone", date=NOW - 10)
    source = await start(fake, paths, cfg=config(private_chats=True))
    assert 777000 not in {c.id for c in await source.dialogs()}
    assert all(e.message.chat_id != 777000 for e in of(queued(source), ev.NewMessage))
    code = fake.message(777000, "Login code: 67890", date=NOW)
    await fake.deliver(fake.new_message_update(code), [service])
    assert of(queued(source), ev.NewMessage) == []
    await source.stop()
    included = await start(world_with(service), paths, cfg=config(include=[777000]))
    assert 777000 in {c.id for c in await included.dialogs()}
    await included.stop()


def world_with(*people: Any) -> FakeClient:
    """The standard world plus private chats with `people`."""
    fake = world()
    for person in people:
        fake.add_chat(person)
        fake.message(person.id, "hello", date=NOW - 5)
    return fake


async def test_history_limit_zero_loads_no_history(paths: Paths) -> None:
    cfg = config()
    cfg.telegram.history_limit = 0
    fake = world()
    source = await start(fake, paths, cfg=cfg)
    assert of(queued(source), ev.NewMessage) == []
    assert fake.requests_named("GetHistoryRequest") == []
    await source.stop()


CREDENTIALS = {"api_id": 12345, "api_hash": "0123456789abcdef0123456789abcdef"}


def test_test_servers_use_their_own_session_on_the_test_dc(paths: Paths) -> None:
    cfg = Config(telegram={**CREDENTIALS, "test_servers": True})
    client: Any = build_client(cfg, paths)
    assert store_profile(paths, cfg) == "telegram-test", "the chats of a test account stay apart"
    path = paths.data_dir / "telegram-test.session"
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not session_path(paths).exists(), "the production session is left alone"
    assert (client.session.dc_id, client.session.server_address) == (2, "149.154.167.40")
    client.session.close()


def test_a_self_hosted_server_is_used_with_its_dc(paths: Paths) -> None:
    cfg = Config(telegram={**CREDENTIALS, "server": "127.0.0.1:4430", "dc_id": 3})
    client: Any = build_client(cfg, paths)
    assert session_path(paths, cfg).name == "telegram-127.0.0.1-4430.session"
    session = client.session
    assert (session.dc_id, session.server_address, session.port) == (3, "127.0.0.1", 4430)
    session.close()


async def test_a_request_never_answered_cuts_the_reconcile_round_short_not_hangs_it(
    paths: Paths,
) -> None:
    fake = world()
    source = await start(fake, paths)
    source.set_hints(held=lambda chat_id: Held())
    assert source.reconciling is not None
    fake.hangs.append("GetPeerDialogsRequest")  # the connection stays up; this answer never comes
    assert await asyncio.wait_for(source.reconciling.run_round(), 5) is None  # cut short
    report = await asyncio.wait_for(source.reconciling.run_round(), 5)  # the next one runs
    assert report is not None and report.complete
    await source.stop()
