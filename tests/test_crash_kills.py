"""SIGKILL at random moments while the desk sends: no reply is lost and none is posted twice.

A real desk process (tests/crash_desk.py: the core Inbox on the demo source over a real SQLite
store) is killed with SIGKILL at a seeded random moment while it queues and sends replies, and
restarted on the same store, KILLS times; a last run resumes whatever is left and drains the
outbox. The simulated Telegram side (a file the process appends to, deduplicating by random id
as Telegram does) then must hold every reply whose Inbox.send had returned, each exactly once.
"""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.crash_desk import read_lines

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261203
KILLS = 20
SENDS_PER_RUN = 40


def _start(tmp_path: Path, seed: int, sends: int) -> subprocess.Popen[str]:
    """One desk process on the shared store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TGTRIAGE_")}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.crash_desk",
            str(tmp_path / "desk.sqlite3"),
            str(tmp_path / "server.jsonl"),
            str(tmp_path / "journal.txt"),
            str(seed),
            str(sends),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(proc: subprocess.Popen[str], word: str, timeout: float = 60.0) -> list[str]:
    """Read the process's lines until one is `word` (fail with its stderr otherwise)."""
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.1)
        if ready:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
            if line.strip() == word:
                return lines
    proc.kill()
    _, err = proc.communicate()
    pytest.fail(f"the desk process never said {word!r}: {lines}\n{err[-3000:]}")


def test_sigkill_while_sending_loses_no_reply_and_doubles_none(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    finished_before_kill = 0
    for run in range(KILLS):
        proc = _start(tmp_path, seed=run, sends=SENDS_PER_RUN)
        _wait_for(proc, "ready")
        time.sleep(rng.uniform(0.0, 0.8))
        if proc.poll() is not None:
            finished_before_kill += 1
        proc.send_signal(signal.SIGKILL)
        proc.communicate()

    last = _start(tmp_path, seed=1000, sends=0)
    said = _wait_for(last, "drained")
    _, err = last.communicate(timeout=60)
    assert last.returncode == 0, err
    assert not [line for line in said if line.startswith("failed")], said

    journal = read_lines(tmp_path / "journal.txt")
    intended = {line.removeprefix("intent ") for line in journal if line.startswith("intent ")}
    queued = {line.removeprefix("queued ") for line in journal if line.startswith("queued ")}
    lines = [json.loads(line) for line in read_lines(tmp_path / "server.jsonl")]
    posted = Counter(line["text"] for line in lines if not line.get("team"))
    doubled = sorted(text for text, n in posted.items() if n > 1)
    lost = sorted(queued - set(posted))
    print(
        f"\n{KILLS} kills ({finished_before_kill} runs had finished first): "
        f"{len(intended)} replies typed, {len(queued)} queued before a kill, "
        f"{len(posted)} posted, {len(lost)} lost, {len(doubled)} doubled"
    )
    assert lost == [] and doubled == []
    assert set(posted) <= intended
    assert len(queued) > KILLS  # the kills did land while replies were going out
