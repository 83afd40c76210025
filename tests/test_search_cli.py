"""`tgtriage search`: the desk's search from the shell, beside a desk that has the store open."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

from tgtriage.core.desk.models import Chat, Message, User
from tgtriage.core.storage.store import Store

from tgtriage.cli import main
from tgtriage.cli.search import run_search


async def _fill(path: Path) -> Store:
    """A store with two messages, left open as a running desk would hold it."""
    store = await Store.open(path)
    await store.upsert_chats([Chat(id=-1001, title="Acme · Support", kind="supergroup")])
    await store.upsert_users([User(id=5, first_name="Ann", last_name="Lee")])
    await store.add_messages(
        [
            Message(chat_id=-1001, id=1, date=1_700_000_000, sender_id=5, text="backup failed"),
            Message(
                chat_id=-1001,
                id=2,
                date=1_700_000_600,
                sender_id=5,
                text="backup \x1b[31mok\x1b[0m",
            ),
            Message(chat_id=-1001, id=3, date=1_700_000_900, sender_id=5, text="thanks"),
        ]
    )
    return store


def test_search_prints_newest_first_as_table_and_json_beside_an_open_store(
    data_dirs: tuple[Path, Path],
) -> None:
    _, data_dir = data_dirs

    async def scenario() -> tuple[str, str]:
        store = await _fill(data_dir / "demo.sqlite3")
        try:
            table, as_json = io.StringIO(), io.StringIO()
            assert run_search(["--profile", "demo", "backup", "from:ann"], stdout=table) == 0
            assert (
                run_search(["--profile", "demo", "--format", "json", "BACKUP"], stdout=as_json) == 0
            )
            return table.getvalue(), as_json.getvalue()
        finally:
            await store.close()

    table, as_json = asyncio.run(scenario())
    lines = table.splitlines()
    assert len(lines) == 2
    assert "Acme · Support" in lines[0] and "Ann Lee" in lines[0] and "backup ok" in lines[0]
    assert "\x1b" not in table  # escapes in chat text are stripped
    assert "backup failed" in lines[1]
    rows = json.loads(as_json)
    assert [r["message_id"] for r in rows] == [2, 1]
    assert rows[1] == {
        "chat_id": -1001,
        "chat": "Acme · Support",
        "message_id": 1,
        "date": 1_700_000_000,
        "sender_id": 5,
        "sender": "Ann Lee",
        "text": "backup failed",
    }


def test_search_without_a_store_says_how_to_make_one(
    data_dirs: tuple[Path, Path], capsys: object
) -> None:
    assert main(["search", "--profile", "demo", "x"]) == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert "no store yet; run tgtriage demo first" in err
    assert not (data_dirs[1] / "demo.sqlite3").exists()
