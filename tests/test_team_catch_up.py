"""A starting desk rebuilds the team state from the room's recent history, within its bounds;
a public room is refused."""

from __future__ import annotations

from pathlib import Path

from tgtriage.core.desk.inbox import Inbox
from tgtriage.core.desk.models import Chat, User
from tgtriage.core.sources.demo import DemoSource
from tgtriage.core.storage.store import Store
from tgtriage.core.system.config import Config
from tgtriage.core.team.codec import Kind, TeamEvent, encode

from tests.desk_harness import FIXED_NOW, DeskClock

PRIYA = User(id=1002, first_name="Priya", last_name="Shah")
ACME, GLOBEX, STARK = -1001700000101, -1001700000103, -1001700000107


async def started(tmp_path: Path, config: Config, claims: list[tuple[int, int]]) -> Inbox:
    """A demo desk whose team room already holds Priya's claims (chat, seconds ago)."""
    clock = DeskClock()
    source = DemoSource(seed=3, clock=clock, sleep=clock.sleep)
    assert source.room is not None
    for chat, ago in claims:
        message = source.room.append(PRIYA, encode(TeamEvent(Kind.CLAIM, chat), "✋"))
        source.room.messages[-1] = message.model_copy(update={"date": int(FIXED_NOW) - ago})
    store = await Store.open(tmp_path / "desk.sqlite3", clock=clock)
    inbox = Inbox(store, source, config, clock=clock)
    await inbox.load_cached()
    await inbox.start()
    for _ in range(50):
        await inbox.flushed()
        if inbox.team.log.messages or not claims:
            break
    return inbox


async def stop(inbox: Inbox) -> None:
    """Stop the desk and close its store."""
    await inbox.stop()
    await inbox.store.close()


async def test_catch_up_reads_only_the_configured_hours_and_messages(tmp_path: Path) -> None:
    config = Config.model_validate({"team": {"catch_up_hours": 1, "catch_up_messages": 2}})
    claims = [(ACME, 2 * 3600), (GLOBEX, 600), (STARK, 300)]
    inbox = await started(tmp_path, config, claims)
    try:
        assert set(inbox.team.state.claims) == {GLOBEX, STARK}, "two hours ago is too old"
        assert inbox.team.holder(STARK) is not None  # five minutes: still held
    finally:
        await stop(inbox)
    config = Config.model_validate({"team": {"catch_up_hours": 24, "catch_up_messages": 1}})
    inbox = await started(tmp_path / "b", config, claims)
    try:
        assert set(inbox.team.state.claims) == {STARK}, "only the newest message"
    finally:
        await stop(inbox)


def test_a_public_room_is_refused() -> None:
    from tgtriage.core.team.room import is_room, room_problem

    public = Chat(id=-1001, title="Support team", username="acme_team")
    assert is_room(public, "@Acme_Team") and is_room(public, "Support team")
    assert is_room(public, -1001) and is_room(public, "-1001") and not is_room(public, None)
    assert room_problem(public) == (
        "The team room 'Support team' is public (@acme_team): make it private."
    )
    assert room_problem(Chat(id=-1001, title="Support team")) is None
