"""Every way `MessageSearch.find` reads the store gives the newest page a full scan would.

`find` picks its source by how common the words are (core/storage/search.py): the FTS index's
list of a rare word, a walk of the date index testing each row, or the FTS list held as a set
while the date index alone is walked. The store here is small, so the module's thresholds are
made small too, and every path runs; each answer is compared with a scan of every message.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
from tgtriage.core.desk.models import Chat, Message, User
from tgtriage.core.rules.search_query import matches, parse, text_matcher, words_of
from tgtriage.core.storage import search as search_module
from tgtriage.core.storage.search import MessageSearch

from tests.test_search import NOW, build

WORDS = ["backup", "backend", "bank", "cron", "nginx", "panel", "renew", "timeout", "zone"]
CHATS = {-2001: "Hosting desk", -2002: "Bank transfers", -2003: "Zone ops"}
USERS = {701: ("Nina", "Cron"), 702: ("Bob", "Banks"), 703: ("Ada", "")}
DAY = 86_400


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """1,200 messages of random workload words, dates in ties of three, a few service ones."""
    rng = random.Random(7)
    messages = []
    for seq in range(1200):
        chat_id = rng.choice(list(CHATS))
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))
        if seq % 97 == 0:
            text += " zebra crossing"  # a rare phrase
        messages.append(
            Message(
                chat_id=chat_id,
                id=seq + 1,
                date=NOW - DAY * 30 + (seq * 7919 % 1200) // 3 * 60,  # out of seq order
                sender_id=rng.choice(list(USERS)),
                text=text,
                service=seq % 53 == 0,
            )
        )
    path = tmp_path / "paths.sqlite3"
    build(
        path,
        [Chat(id=cid, title=title, kind="supergroup") for cid, title in CHATS.items()],
        [User(id=uid, first_name=first, last_name=last) for uid, (first, last) in USERS.items()],
        messages,
    )
    return path


@pytest.fixture(params=["small", "as shipped"])
def search(store: Path, request: pytest.FixtureRequest) -> Iterator[MessageSearch]:
    """The search over the store, with thresholds small enough for each path to run."""
    patch = pytest.MonkeyPatch()
    if request.param == "small":
        for name, value in (
            ("_FEW", 20),
            ("_WALK_FIRST", 60),
            ("_WALK_STEP", 15),
            ("_SET", 400),
            ("_SET_STEP", 25),
        ):
            patch.setattr(search_module, name, value)
    found = MessageSearch(store)
    yield found
    found.close()
    patch.undo()


def scanned(store: Path, typed: str, limit: int) -> list[tuple[int, int]]:
    """(chat, id) of the newest `limit` messages matching `typed`, from a scan of every row."""
    query = parse(typed, NOW, UTC)
    db = sqlite3.connect(store)
    rows = db.execute(
        "SELECT chat_id, id, date, sender_id, text FROM messages WHERE service = 0"
    ).fetchall()
    db.close()
    names = {uid: words_of(f"{first} {last}") for uid, (first, last) in USERS.items()}
    titles = {cid: words_of(title) for cid, title in CHATS.items()}
    kept = []
    for chat_id, message_id, date, sender_id, text in rows:
        body = text.lower()
        if all(
            text_matcher((term,))(body)
            or matches(term, names[sender_id])
            or matches(term, titles[chat_id])
            for term in query.terms
        ):
            kept.append((date, message_id, chat_id))
    kept.sort(reverse=True)
    return [(chat_id, message_id) for _, message_id, chat_id in kept[:limit]]


@pytest.mark.parametrize(
    "typed",
    [
        "b",  # a short prefix of common words, and of a chat title and a name
        "back",  # a prefix being typed
        "backup",  # a finished common word
        "backup cron",  # two common words
        "cron ban",  # a word and a prefix that is also a name and a title
        '"zebra crossing"',  # a rare phrase: the FTS list sorted by date
        '"backup cron"',  # a phrase of common words: the FTS list as a set, the index walked
        '"nginx panel" timeout',
        "zone",  # a word that is also a chat title
        "qqq",  # in no message
    ],
)
@pytest.mark.parametrize("limit", [5, 50])
def test_every_path_gives_the_newest_page_of_a_full_scan(
    search: MessageSearch, store: Path, typed: str, limit: int
) -> None:
    found = search.find(parse(typed, NOW, UTC), limit=limit)
    assert [(hit.message.chat_id, hit.message.id) for hit in found] == scanned(store, typed, limit)
    assert not any(hit.message.service for hit in found)


def test_a_prefix_being_typed_over_common_words_is_found_without_the_fts_index(
    search: MessageSearch,
) -> None:
    """FTS5 merges the whole lists of every word a prefix starts: the walk answers first."""
    asked: list[str] = []
    search._db.set_trace_callback(asked.append)
    hits = search.find(parse("backu", NOW, UTC), limit=5)
    assert len(hits) == 5
    assert not [sql for sql in asked if "messages_fts" in sql]


def test_senders_without_a_user_row_are_found_by_name_and_names_are_read_by_seeking(
    tmp_path: Path,
) -> None:
    """Names come from the users table, the newest message of a sender it lacks, and the
    messages without a sender id; reading them seeks the sender index, never every message."""
    chat = Chat(id=-2001, title="Hosting desk", kind="supergroup")
    messages = [
        Message(chat_id=-2001, id=i + 1, date=NOW - i, sender_id=701, text=f"note {i}")
        for i in range(3000)
    ]
    messages.append(
        Message(chat_id=-2001, id=5001, date=NOW, sender_id=999, sender_name="Zed Unlisted")
    )
    messages.append(
        Message(chat_id=-2001, id=5002, date=NOW, sender_id=None, sender_name="Relay Bot")
    )
    path = tmp_path / "names.sqlite3"
    build(path, [chat], [User(id=701, first_name="Nina", last_name="Cron")], messages)
    found = MessageSearch(path)
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    found._db.set_progress_handler(count, 100)
    found.refresh()
    assert steps * 100 < len(messages)  # SQLite's steps, not one per message
    found._db.set_progress_handler(found._stopped, 1000)
    assert [h.message.id for h in found.find(parse("zed", NOW, UTC))] == [5001]
    assert [h.message.id for h in found.find(parse("from:relay", NOW, UTC))] == [5002]
    assert len(found.find(parse("from:nina", NOW, UTC), limit=5)) == 5
    found.close()
