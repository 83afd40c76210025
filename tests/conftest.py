"""Shared fixtures: private data/config dirs, the real support-chat exports, the desk, the tmux demo."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tgtriage.core.storage.store import Store
    from tgtriage.core.system.paths import Paths

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def data_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    """Point TGTRIAGE_CONFIG_DIR / TGTRIAGE_DATA_DIR at fresh temporary folders."""
    config_dir = tmp_path / "config"
    data_dir = tmp_path / "data"
    monkeypatch.setenv("TGTRIAGE_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("TGTRIAGE_DATA_DIR", str(data_dir))
    for name in list(__import__("os").environ):
        if name.startswith("TGTRIAGE_") and name not in (
            "TGTRIAGE_CONFIG_DIR",
            "TGTRIAGE_DATA_DIR",
        ):
            monkeypatch.delenv(name)
    yield config_dir, data_dir


def shared_export(name: str) -> Path:
    """Path of ../shared/data/<name>/result.json, skipping the test where it is absent."""
    path = SHARED_DATA / name / "result.json"
    if not path.exists():
        pytest.skip(f"{path} not present (../shared/data is only beside the project's own clone)")
    return path


@pytest.fixture
def stripe_export() -> Path:
    """The real Stripe IRC support export (full-account shape)."""
    return shared_export("stripe-support")


@pytest.fixture
def gitter_export() -> Path:
    """The real Gitter support export (single-chat shape)."""
    return shared_export("gitter-support")


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    """A private config and data dir in tmp."""
    from tgtriage.core.system.paths import Paths

    return Paths(config_dir=tmp_path / "config", data_dir=tmp_path / "data")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the test store lives (its folder does not exist yet)."""
    return tmp_path / "data" / "desk.sqlite3"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    """An open store on a fresh file with a settable clock at T0, closed after the test."""
    from tgtriage.core.storage.store import Store

    from tests.store_harness import FakeClock

    opened = await Store.open(db_path, clock=FakeClock())
    yield opened
    await opened.close()


@pytest.fixture
def utc_times() -> Iterator[None]:
    """Local times on screen drawn in UTC (a module asks for it with `usefixtures`)."""
    from tests.desk_harness import utc  # the desk harness imports Textual: only when asked

    with utc():
        yield


@pytest.fixture
def desk(tmp_path: Path) -> object:
    """The desk on demo seed 3 over a fresh store (a `tests.desk_harness.Desk`)."""
    from tests.desk_harness import make_desk

    return make_desk(tmp_path)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[object]:
    """`tgtriage demo --seed 3` in a 120×35 tmux pane (a `tests.test_tmux_e2e.Terminal`)."""
    from tests.test_tmux_e2e import demo_terminal

    with demo_terminal(tmp_path) as term:
        yield term
