"""The benchmark's phase breakdown (bench/phases.py) times steps by name: each must still exist,
or `python -m bench.run` dies in its last step after minutes of measuring."""

from __future__ import annotations

import pytest

from bench import phases


def test_every_step_the_phase_breakdown_times_still_exists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    named: list[tuple[object, str, str]] = []
    monkeypatch.setattr(
        phases, "_wrap", lambda owner, attr, name: named.append((owner, attr, name))
    )
    phases.instrument()
    assert len(named) > 20
    missing = [name for owner, attr, name in named if not callable(getattr(owner, attr, None))]
    assert missing == []
