"""Demo and replay keep their store between runs and go on from it; replay runs on the export's clock.

Each test runs the real `tgtriage` command (headless) twice over one data dir, acting on the
store in between as the desk would, and reads the SQLite file it leaves.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from tgtriage.core.desk.models import ChatTriage, Status
from tgtriage.core.storage.store import Store

from tests.cli_harness import cli_env, run_tgtriage

STRIPE_STAFF = "user227703622,user805557969,user497406595,user19932276,user338083830"


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """`python -m tgtriage ARGS` with private config and data dirs under `home`; it must succeed."""
    result = run_tgtriage(*args, env=cli_env(home), timeout=300)
    assert result.returncode == 0, result.stderr
    return result


Rows = dict[tuple[int, int], tuple[int, int | None, str]]


async def _messages(path: Path) -> Rows:
    """Every stored message as (chat, id) → (date, sender, text)."""
    async with await Store.open(path) as store:
        return {
            (m.chat_id, m.id): (m.date, m.sender_id, m.text) async for m in store.iter_messages()
        }


def messages(path: Path) -> Rows:
    """The stored messages of the store at `path`."""
    return asyncio.run(_messages(path))


async def _act(path: Path, chat_id: int) -> None:
    """What an engineer does at the desk: status, note, tags, slot, draft, a reply in the outbox."""
    async with await Store.open(path) as store:
        state = (await store.load_triage()).get(chat_id, ChatTriage(chat_id=chat_id))
        await store.save_triage([state.model_copy(update={"status": Status.IN_DEVELOPMENT})])
        await store.add_note(chat_id, "me", "customer is on the old plan")
        await store.set_tags(chat_id, ["billing", "vip"])
        await store.set_slot(4, chat_id)
        await store.set_draft(chat_id, "half-written answer")
        await store.outbox_add(chat_id, "sent while the desk was closed")


async def _state(path: Path, chat_id: int) -> dict[str, object]:
    """What the engineer left in one chat, as the store has it."""
    async with await Store.open(path) as store:
        return {
            "status": (await store.load_triage())[chat_id].status,
            "notes": [n.text for n in await store.notes(chat_id)],
            "tags": (await store.tags()).get(chat_id),
            "slot": {s: c for s, c in (await store.slots()).items() if c == chat_id},
            "draft": (await store.drafts()).get(chat_id),
        }


def newest_ids(rows: Rows) -> dict[int, int]:
    """The highest message id of each chat."""
    top: dict[int, int] = {}
    for chat_id, message_id in rows:
        top[chat_id] = max(top.get(chat_id, 0), message_id)
    return top


def test_the_demo_keeps_everything_and_goes_on_without_reusing_ids(tmp_path: Path) -> None:
    demo = ("demo", "--seed", "7", "--speed", "60", "--headless-seconds", "2")
    db = tmp_path / "data" / "demo.sqlite3"
    run(*demo, home=tmp_path)
    first = messages(db)
    chat_id = next(iter(newest_ids(first)))
    asyncio.run(_act(db, chat_id))

    run(*demo, home=tmp_path)
    second = messages(db)
    kept = asyncio.run(_state(db, chat_id))
    assert kept == {
        "status": Status.IN_DEVELOPMENT,
        "notes": ["customer is on the old plan"],
        "tags": {"billing", "vip"},
        "slot": {4: chat_id},
        "draft": "half-written answer",
    }
    assert {key: second[key] for key in first} == first, "a stored message was overwritten"
    new = {key: row for key, row in second.items() if key not in first}
    assert new, "the simulation did not go on"
    before = newest_ids(first)
    assert all(message_id > before.get(chat, 0) for chat, message_id in new)
    assert any(text == "sent while the desk was closed" for _, _, text in new.values())

    run(*demo, "--fresh", home=tmp_path)
    assert asyncio.run(_state(db, chat_id))["notes"] == []


def test_a_replay_goes_on_where_it_stopped(tmp_path: Path, stripe_export: Path) -> None:
    replay = ("replay", str(stripe_export), "--staff", STRIPE_STAFF, "--speed", "600")
    db = tmp_path / "data" / "replay.sqlite3"
    run(*replay, "--headless-seconds", "1", home=tmp_path)
    first = messages(db)
    run(*replay, "--headless-seconds", "1", home=tmp_path)
    second = messages(db)
    assert {key: second[key] for key in first} == first
    assert len(second) > len(first)
    signatures = Counter(
        (chat, date, sender, text) for (chat, _), (date, sender, text) in second.items()
    )
    assert max(signatures.values()) == 1, "an export message was delivered twice"
    # every message has its export date: the replay runs on the export's clock
    export = json.loads(stripe_export.read_text(encoding="utf-8"))
    dates = {int(m["date_unixtime"]) for chat in export["chats"]["list"] for m in chat["messages"]}
    assert {date for date, _, _ in second.values()} <= dates


def test_after_a_full_replay_the_report_equals_the_exports(
    tmp_path: Path, stripe_export: Path
) -> None:
    replay = ("replay", str(stripe_export), "--staff", STRIPE_STAFF, "--speed", "1000000")
    run(*replay, "--headless-seconds", "4", "--fresh", home=tmp_path)
    store = run("report", "--profile", "replay", "--format", "json", home=tmp_path)
    export = run(
        "report",
        "--from-export",
        str(stripe_export),
        "--staff",
        STRIPE_STAFF,
        "--format",
        "json",
        home=tmp_path,
    )
    assert json.loads(store.stdout) == json.loads(export.stdout)
    assert json.loads(store.stdout)["replies"]["median_s"] == 128  # 2m08s, as the issue says


@pytest.mark.parametrize("second", ["other.json", "result.json"])
def test_a_replay_of_another_file_starts_over(tmp_path: Path, second: str) -> None:
    from tests.test_replay_source import small_export

    first_dir, other_dir = tmp_path / "a", tmp_path / "b"
    first_dir.mkdir()
    other_dir.mkdir()
    path = small_export(first_dir)
    other = small_export(other_dir)
    run("replay", str(path), "--headless-seconds", "0.5", home=tmp_path)
    db = tmp_path / "data" / "replay.sqlite3"
    asyncio.run(_act(db, -1000000000555))
    again = path if second == "result.json" else other
    result = run("replay", str(again), "--headless-seconds", "0.5", home=tmp_path)
    notes = asyncio.run(_state(db, -1000000000555))["notes"]
    if again == path:
        assert notes == ["customer is on the old plan"]
    else:
        assert notes == [] and "starting it over" in result.stderr
