"""The SQLite store: files, migrations, damage, round trips, dedupe, deletions, paging and search."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from tgtriage.core.desk.models import Chat, Media, Message, User
from tgtriage.core.storage import messages as message_queries
from tgtriage.core.storage import store as store_module
from tgtriage.core.storage.schema import APPLICATION_ID, LATEST
from tgtriage.core.storage.store import (
    CorruptStoreError,
    NewerSchemaError,
    Store,
    StoreError,
    fts_query,
    quarantine,
)

from tests.store_harness import BASIC, GROUP, PRIVATE, T0, msg, raw

# --- files, migrations, damage -------------------------------------------------------------


async def test_new_store_is_private_and_at_latest_schema(db_path: Path) -> None:
    async with await Store.open(db_path) as s:
        await s.set_draft(PRIVATE, "hi")  # a write, so the WAL exists
        assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700
        for name in (db_path.name, db_path.name + "-wal", db_path.name + "-shm"):
            f = db_path.parent / name
            assert f.exists(), name
            assert stat.S_IMODE(f.stat().st_mode) == 0o600, name
    assert raw(db_path, "PRAGMA user_version") == [(LATEST,)]
    assert raw(db_path, "PRAGMA application_id") == [(APPLICATION_ID,)]
    assert raw(db_path, "PRAGMA journal_mode") == [("wal",)]


async def test_existing_loose_permissions_are_tightened(db_path: Path) -> None:
    async with await Store.open(db_path) as first:
        await first.set_draft(PRIVATE, "keeps the WAL open")
        side = [db_path.parent / (db_path.name + s) for s in ("", "-wal", "-shm")]
        for f in side:
            os.chmod(f, 0o644)
        os.chmod(db_path.parent, 0o755)
        async with await Store.open(db_path):
            for f in side:
                assert stat.S_IMODE(f.stat().st_mode) == 0o600, f.name
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700


async def test_reopening_keeps_data_and_version(db_path: Path) -> None:
    async with await Store.open(db_path) as s:
        await s.upsert_chats([Chat(id=GROUP, title="Acme · Support")])
    async with await Store.open(db_path) as s:
        assert [c.title for c in await s.all_chats()] == ["Acme · Support"]
    assert raw(db_path, "PRAGMA user_version") == [(LATEST,)]


async def test_newer_schema_is_refused_and_not_moved(db_path: Path) -> None:
    async with await Store.open(db_path):
        pass
    raw(db_path, f"PRAGMA user_version = {LATEST + 1}")
    with pytest.raises(NewerSchemaError) as info:
        await Store.open(db_path)
    message = str(info.value)
    assert str(db_path) in message and "upgrade tgtriage" in message and "\n" not in message
    with pytest.raises(NewerSchemaError):
        await Store.open_or_quarantine(db_path)
    assert db_path.exists()
    assert list(db_path.parent.glob("*.corrupt-*")) == []


async def test_garbage_file_is_refused_then_quarantined_with_its_bytes(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    garbage = os.urandom(8192)
    db_path.write_bytes(garbage)
    with pytest.raises(CorruptStoreError) as info:
        await Store.open(db_path)
    message = str(info.value)
    assert str(db_path) in message and "rebuild" in message and "\n" not in message
    assert db_path.read_bytes() == garbage  # refusing does not touch the file

    s, moved = await Store.open_or_quarantine(db_path)
    try:
        assert moved is not None and moved.name.startswith("desk.sqlite3.corrupt-")
        assert moved.read_bytes() == garbage
        assert await s.message_count() == 0
        assert await s.add_messages([msg(GROUP, 1, "fresh")])
    finally:
        await s.close()


async def test_damaged_pages_are_refused(db_path: Path) -> None:
    async with await Store.open(db_path) as s:
        await s.add_messages([msg(PRIVATE, i, "x" * 300) for i in range(1, 200)])
    data = bytearray(db_path.read_bytes())
    data[100:4096] = b"\xa5" * (4096 - 100)  # keep the header, wreck the schema page
    db_path.write_bytes(bytes(data))
    with pytest.raises(CorruptStoreError, match="rebuild"):
        await Store.open(db_path)


async def test_foreign_sqlite_database_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    raw(db_path, "CREATE TABLE chats (x)")
    with pytest.raises(CorruptStoreError, match="another program"):
        await Store.open(db_path)
    assert raw(db_path, "PRAGMA user_version") == [(0,)]


def test_quarantine_moves_wal_and_shm_along(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    for suffix, content in (("", b"main"), ("-wal", b"wal"), ("-shm", b"shm")):
        (tmp_path / f"s.sqlite3{suffix}").write_bytes(content)
    first = quarantine(db)
    assert not db.exists()
    assert first.read_bytes() == b"main"
    assert Path(f"{first}-wal").read_bytes() == b"wal"
    assert Path(f"{first}-shm").read_bytes() == b"shm"
    db.write_bytes(b"again")
    second = quarantine(db)  # same second: a distinct name, nothing overwritten
    assert second != first and second.read_bytes() == b"again" and first.read_bytes() == b"main"


async def test_migrations_are_applied_in_order_each_atomically(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with await Store.open(db_path):
        pass
    # A later release adds step 2; its failure must leave the v1 database as it was.
    broken = "CREATE TABLE extra (x); INSERT INTO no_such_table VALUES (1);"
    monkeypatch.setattr(store_module, "MIGRATIONS", (*store_module.MIGRATIONS, broken))
    monkeypatch.setattr(store_module, "LATEST", LATEST + 1)
    with pytest.raises(StoreError):
        await Store.open(db_path)
    assert raw(db_path, "PRAGMA user_version") == [(LATEST,)]
    assert raw(db_path, "SELECT name FROM sqlite_master WHERE name = 'extra'") == []

    good = "CREATE TABLE extra (x); INSERT INTO extra VALUES (1);"
    monkeypatch.setattr(store_module, "MIGRATIONS", (*store_module.MIGRATIONS[:-1], good))
    async with await Store.open(db_path):
        pass
    assert raw(db_path, "PRAGMA user_version") == [(LATEST + 1,)]
    assert raw(db_path, "SELECT x FROM extra") == [(1,)]


# --- chats, users, messages ----------------------------------------------------------------


async def test_chats_and_users_round_trip_and_update(store: Store) -> None:
    chats = [
        Chat(
            id=GROUP,
            title="Acme · Support 🛟",
            kind="supergroup",
            username="acme",
            folder_ids=(2, 5),
        ),
        Chat(id=BASIC, title="Ünïcödé 客户", kind="group"),
        Chat(id=PRIVATE, title="Zoë", kind="private"),
    ]
    await store.upsert_chats(chats)
    assert await store.all_chats() == sorted(chats, key=lambda c: c.id)
    renamed = Chat(id=GROUP, title="Acme", kind="forum", folder_ids=())
    await store.upsert_chats([renamed])
    assert {c.id: c for c in await store.all_chats()}[GROUP] == renamed

    users = [
        User(id=1, first_name="Ann", last_name="Lee", username="ann"),
        User(id=2, first_name="Бот", bot=True),
    ]
    await store.upsert_users(users)
    await store.upsert_users([User(id=1, first_name="Annie")])
    assert await store.users() == {1: User(id=1, first_name="Annie"), 2: users[1]}


async def test_every_message_field_round_trips(store: Store) -> None:
    full = Message(
        chat_id=GROUP,
        id=42,
        date=T0,
        sender_id=9,
        sender_name="Zoë «Ops» 客户",
        text="Hello 👋\nline two\x1b[2J [bold]not markup[/]",
        out=True,
        reply_to=40,
        edit_date=T0 + 60,
        media=Media(kind="document", name="log file.txt", size=1_234_567, mime="text/plain"),
        service=False,
        topic_id=7,
    )
    service = Message(chat_id=GROUP, id=43, date=T0 + 1, text="Ann joined", service=True)
    photo = Message(chat_id=GROUP, id=44, date=T0 + 2, media=Media(kind="photo"))
    assert await store.add_messages([full, service, photo]) == [full, service, photo]
    assert await store.message(GROUP, 42) == full
    assert await store.messages(GROUP) == [full, service, photo]
    assert await store.message(GROUP, 99) is None
    loaded = await store.message(GROUP, 42)
    assert loaded is not None
    assert loaded.model_copy(update={"text": "edited"}).text == "edited"
    assert hash(loaded) == hash(full)


async def test_add_messages_returns_only_new_ones(store: Store) -> None:
    first = [msg(GROUP, i, f"m{i}") for i in range(1, 6)]
    assert await store.add_messages(first) == first
    # catch-up after a reconnect: overlaps what is stored and repeats itself
    catch_up = [msg(GROUP, i, f"m{i}") for i in range(4, 9)] + [msg(GROUP, 8, "m8 again")]
    new = await store.add_messages(catch_up)
    assert [(m.id, m.text) for m in new] == [(6, "m6"), (7, "m7"), (8, "m8")]
    stored = await store.message(GROUP, 8)
    assert stored is not None and stored.text == "m8"  # what is returned is what is stored
    assert await store.add_messages(catch_up) == []
    assert await store.add_messages([]) == []
    # same id in another chat is a different message
    assert await store.add_messages([msg(PRIVATE, 1, "other chat")]) == [
        msg(PRIVATE, 1, "other chat")
    ]
    assert await store.message_count() == 9


async def test_large_batches_dedupe_across_chunks(store: Store) -> None:
    batch = [msg(GROUP + i % 3, i, f"text {i}") for i in range(1, 1601)]
    assert len(await store.add_messages(batch)) == 1600
    mixed = batch[::2] + [msg(GROUP, 5000 + i) for i in range(700)]
    new = await store.add_messages(mixed)
    assert [m.id for m in new] == [5000 + i for i in range(700)]
    assert await store.message_count() == 2300


async def test_edits_replace_text_media_and_edit_date(store: Store) -> None:
    await store.add_messages([msg(GROUP, 1, "old wording", sender_name="Ann")])
    edited = msg(GROUP, 1, "new wording", edit_date=T0 + 99, media=Media(kind="photo", size=10))
    unknown = msg(GROUP, 2, "never stored")
    assert await store.update_messages([edited, unknown]) == [edited]
    stored = await store.message(GROUP, 1)
    assert stored is not None
    assert (stored.text, stored.edit_date, stored.media) == ("new wording", T0 + 99, edited.media)
    assert stored.sender_name == "Ann"
    assert await store.message(GROUP, 2) is None
    assert [m.id for m in await store.search("new")] == [1]
    assert await store.search("old") == []


async def test_delete_with_chat_id_touches_only_that_chat(store: Store) -> None:
    await store.add_messages([msg(GROUP, 1), msg(GROUP, 2), msg(BASIC, 1)])
    assert await store.delete_messages(GROUP, [1, 3]) == [(GROUP, 1)]
    assert await store.message(BASIC, 1) is not None
    assert await store.delete_messages(GROUP, [1]) == []
    assert await store.delete_messages(GROUP, []) == []


async def test_delete_without_chat_id_skips_channels(store: Store) -> None:
    await store.add_messages(
        [msg(GROUP, 10, "supergroup"), msg(BASIC, 10, "basic"), msg(PRIVATE, 11, "private")]
    )
    deleted = await store.delete_messages(None, [10, 11, 12])
    assert deleted == sorted([(BASIC, 10), (PRIVATE, 11)])
    assert await store.message(GROUP, 10) is not None
    assert await store.message(BASIC, 10) is None
    assert await store.search("private") == []


async def test_paging_is_oldest_first_and_before_id_is_exclusive(store: Store) -> None:
    # inserted out of order, in two chats
    await store.add_messages([msg(GROUP, i) for i in (5, 1, 9, 3, 7, 2, 8, 4, 6, 10)])
    await store.add_messages([msg(PRIVATE, i) for i in range(1, 4)])
    assert [m.id for m in await store.messages(GROUP)] == list(range(1, 11))
    assert [m.id for m in await store.messages(GROUP, limit=3)] == [8, 9, 10]
    assert [m.id for m in await store.messages(GROUP, before_id=8, limit=3)] == [5, 6, 7]
    assert [m.id for m in await store.messages(GROUP, before_id=3, limit=3)] == [1, 2]
    assert await store.messages(GROUP, before_id=1) == []
    assert [m.id for m in await store.tail(GROUP, 7)] == [8, 9, 10]
    assert await store.tail(GROUP, 10) == []


async def test_iter_messages_streams_in_order_with_filters(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(message_queries, "_FETCH_ROWS", 7)  # force many blocks
    chats = [GROUP, BASIC, PRIVATE]
    batch = [
        msg(chat, i, date=T0 + (i * 37) % 50)  # dates not in id order, some equal
        for chat in chats
        for i in range(1, 41)
    ]
    await store.add_messages(batch)
    every = [m async for m in store.iter_messages()]
    key = lambda m: (m.chat_id, m.date, m.id)  # noqa: E731
    assert every == sorted(batch, key=key)
    window = [m async for m in store.iter_messages(since=T0 + 10, until=T0 + 20)]
    assert window == sorted((m for m in batch if T0 + 10 <= m.date < T0 + 20), key=key)
    two = [m async for m in store.iter_messages(chat_ids=[PRIVATE, GROUP])]
    assert two == sorted((m for m in batch if m.chat_id in (PRIVATE, GROUP)), key=key)
    assert [m async for m in store.iter_messages(chat_ids=[])] == []


async def test_breaking_out_of_iteration_leaves_the_store_usable(store: Store) -> None:
    await store.add_messages([msg(GROUP, i) for i in range(1, 50)])
    async for _ in store.iter_messages():
        break
    await store.add_messages([msg(GROUP, 100)])
    assert await store.message_count() == 50


# --- search --------------------------------------------------------------------------------


async def test_search_matches_all_words_newest_first(store: Store) -> None:
    await store.add_messages(
        [
            msg(GROUP, 1, "Refund for invoice 1234 please"),
            msg(GROUP, 2, "the webhook fails again"),
            msg(PRIVATE, 3, "REFUND the invoice?"),
            msg(PRIVATE, 4, "Crème brûlée café"),
            msg(PRIVATE, 5, "客户 支持"),
            msg(PRIVATE, 6, 'he said "AND (" then left'),
        ]
    )
    assert [m.id for m in await store.search("refund invoice")] == [3, 1]
    assert [m.id for m in await store.search("refund invoice", chat_id=GROUP)] == [1]
    assert [m.id for m in await store.search("refund invoice", limit=1)] == [3]
    assert [m.id for m in await store.search("webho")] == [2]  # last word is a prefix
    assert [m.id for m in await store.search("creme brulee")] == [4]
    assert [m.id for m in await store.search("客户")] == [5]
    assert await store.search("refund webhook") == []


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "AND (",
        "NEAR(a b",
        "*",
        "a OR",
        "-x",
        "col:text",
        "^start",
        "''",
        "   ",
        "",
        "(",
        "\x00",
    ],
)
async def test_search_accepts_any_input(store: Store, query: str) -> None:
    await store.add_messages([msg(GROUP, 1, 'quote " and AND ( near a b')])
    result = await store.search(query)
    assert all(m.chat_id == GROUP for m in result)


async def test_search_operators_are_matched_as_words(store: Store) -> None:
    await store.add_messages([msg(GROUP, 1, "cats AND dogs"), msg(GROUP, 2, "cats dogs")])
    assert [m.id for m in await store.search('"AND" (')] == [1]
    assert [m.id for m in await store.search("cats OR")] == []
    assert fts_query('a"b AND') == '"a""b" "AND"*'
    assert fts_query('" ( ) *') is None
