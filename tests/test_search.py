"""Search: the query parser and FTS5 builder, MessageSearch over a real store, the stripe export."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tgtriage.core.desk.models import Chat, Message, User
from tgtriage.core.rules.search_query import Term, fold, fts_match, parse, word_spans
from tgtriage.core.sources.export import load_export
from tgtriage.core.storage.search import MessageSearch
from tgtriage.core.storage.store import Store

NOW = int(datetime(2024, 3, 5, 10, 30, tzinfo=UTC).timestamp())
SUPPORT = -1001
BILLING = -1002
ANN, BORIS = 501, 502


def q(text: str) -> object:
    """A search parsed at NOW in UTC."""
    return parse(text, NOW, UTC)


def build(path: Path, chats: list[Chat], users: list[User], messages: list[Message]) -> None:
    """Write a real store the way the desk does."""

    async def write() -> None:
        store = await Store.open(path)
        try:
            await store.upsert_chats(chats)
            await store.upsert_users(users)
            await store.add_messages(messages)
        finally:
            await store.close()

    asyncio.run(write())


def msg(chat_id: int, id: int, text: str, sender: int, day: int, **kw: object) -> Message:
    """A message on March `day`, 2024 (noon UTC)."""
    when = int(datetime(2024, 3, day, 12, tzinfo=UTC).timestamp())
    return Message(chat_id=chat_id, id=id, date=when, sender_id=sender, text=text, **kw)


@pytest.fixture
def search(tmp_path: Path) -> Iterator[MessageSearch]:
    """A small store: two chats, two customers, Latin with diacritics and Cyrillic."""
    path = tmp_path / "s.sqlite3"
    build(
        path,
        [
            Chat(id=SUPPORT, title="Acme · Support", kind="supergroup"),
            Chat(id=BILLING, title="Billing Café", kind="supergroup"),
        ],
        [User(id=ANN, first_name="Ann", last_name="Lee"), User(id=BORIS, first_name="Борис")],
        [
            msg(SUPPORT, 1, "The backup failed again", ANN, 1),
            msg(SUPPORT, 2, "Crème brûlée for the team", BORIS, 2),
            msg(BILLING, 3, "Резервная копия не работает, backup broken", BORIS, 3),
            msg(BILLING, 4, 'refund the invoice (AND "quoted" OR *)', ANN, 4),
            msg(SUPPORT, 5, "backup restored, thanks", ANN, 5),
        ],
    )
    found = MessageSearch(path)
    yield found
    found.close()


def ids(search: MessageSearch, text: str) -> list[int]:
    """Ids of the hits of a typed search, in the order shown."""
    return [hit.message.id for hit in search.find(parse(text, NOW, UTC))]


# --- the parser ----------------------------------------------------------------------------


def test_filters_words_and_phrases_are_read() -> None:
    query = parse('Refund from:ann in:"acme sup" "card declined" after:2024-03-01 x', NOW, UTC)
    assert query.terms == (
        Term(("Refund",)),
        Term(("card", "declined")),
        Term(("x",), prefix=True),
    )
    assert query.senders == (Term(("ann",), prefix=True),)
    assert query.chats == (Term(("acme", "sup"), prefix=True),)
    assert query.after == int(datetime(2024, 3, 2, tzinfo=UTC).timestamp())
    assert query.before is None


def test_a_finished_word_is_exact_and_bad_dates_are_reported() -> None:
    assert parse("backup ", NOW, UTC).terms == (Term(("backup",)),)
    query = parse("before:last-week backup", NOW, UTC)
    assert query.before is None
    assert query.problems == (
        "before:last-week is not a date (use YYYY-MM-DD, today, yesterday, or an age: 7d)",
    )
    assert parse("after:7d", NOW, UTC).after == NOW - 7 * 86400
    assert parse("before:1h30m", NOW, UTC).before == NOW - 5400
    assert parse("before:today", NOW, UTC).before == int(
        datetime.combine(date(2024, 3, 5), datetime.min.time(), UTC).timestamp()
    )


def test_fts_match_quotes_every_term() -> None:
    assert fts_match(parse('a"b AND (x', NOW, UTC).terms) == '"a b" AND "AND" AND "x"*'
    assert fts_match(parse('" ( ) *', NOW, UTC).terms) is None


def test_word_spans_fold_case_and_diacritics() -> None:
    text = "CRÈME brûlée, crèmerie"
    spans = word_spans(text, parse("creme brul", NOW, UTC).terms)
    assert [text[s:e] for s, e in spans] == ["CRÈME", "brûlée"]
    assert fold("Ёлка Straße") == "елка strasse"


TYPED = st.lists(
    st.sampled_from(
        [*list("aZé9жЁ -_.,:;!?\"()*^+~{}[]\\'/@#"), "AND", "OR", "NEAR", "from:", "in:"]
    ),
    max_size=30,
).map("".join)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=40))
def test_any_string_is_a_valid_fts5_query(typed: str) -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(text, tokenize='unicode61 remove_diacritics 2')")
    db.execute("INSERT INTO t VALUES (?)", (typed,))
    match = fts_match(parse(typed, NOW, UTC).terms)
    if match is not None:
        db.execute("SELECT count(*) FROM t WHERE t MATCH ?", (match,)).fetchone()


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TYPED)
def test_typed_operators_and_quotes_are_literal(typed: str) -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(text, tokenize='unicode61 remove_diacritics 2')")
    db.execute("INSERT INTO t VALUES (?)", (typed,))
    query = parse(typed, NOW, UTC)
    match = fts_match(query.terms)
    if match is not None:
        found = db.execute("SELECT count(*) FROM t WHERE t MATCH ?", (match,)).fetchone()[0]
        if not query.senders and not query.chats and query.after is None and not query.problems:
            # every typed word is literal: the text that was typed is found by it
            assert found == 1, match


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(alphabet=st.sampled_from("ab \"():*-^+~AND OR NEAR{}\\'é€"), max_size=30))
def test_any_typed_string_searches_the_store_without_error(
    search: MessageSearch, typed: str
) -> None:
    for hit in search.find(parse(typed, NOW, UTC)):
        assert hit.message.chat_id in (SUPPORT, BILLING)


def test_operators_are_words(search: MessageSearch) -> None:
    assert ids(search, '"AND" OR') == [4]
    assert ids(search, "(AND") == [4]
    assert ids(search, "quoted*") == [4]


# --- MessageSearch -------------------------------------------------------------------------


def test_words_match_body_newest_first_case_and_diacritic_blind(search: MessageSearch) -> None:
    assert ids(search, "BACKUP") == [5, 3, 1]
    assert ids(search, "creme brulee") == [2]
    assert ids(search, "резервная") == [3]
    assert ids(search, "РЕЗЕРВ") == [3]  # the last word is a prefix while typing
    assert ids(search, '"backup restored"') == [5]
    assert ids(search, '"restored backup"') == []


def test_words_also_match_sender_and_chat_title(search: MessageSearch) -> None:
    assert ids(search, "борис") == [3, 2]
    assert ids(search, "cafe invoice") == [4]
    assert ids(search, "acme backup") == [5, 1]


def test_filters(search: MessageSearch) -> None:
    assert ids(search, "backup from:ann") == [5, 1]
    assert ids(search, "from:борис") == [3, 2]
    assert ids(search, "backup in:billing") == [3]
    assert ids(search, "in:acme") == [5, 2, 1]
    assert ids(search, "backup before:2024-03-03") == [1]
    assert ids(search, "backup after:2024-03-03") == [5]
    assert ids(search, "from:nobody") == []
    hit = search.find(parse("refund", NOW, UTC))[0]
    assert (hit.chat_title, hit.sender) == ("Billing Café", "Ann Lee")


def test_history_lists_one_sender_everywhere_with_waits(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    build(
        path,
        [
            Chat(id=SUPPORT, title="Support", kind="supergroup"),
            Chat(id=7, title="Ann", kind="private"),
        ],
        [User(id=ANN, first_name="Ann")],
        [
            msg(SUPPORT, 1, "help", ANN, 1),
            Message(
                chat_id=SUPPORT,
                id=2,
                date=msg(SUPPORT, 1, "", ANN, 1).date + 600,
                sender_id=1,
                text="on it",
                out=True,
            ),
            msg(7, 3, "still broken", ANN, 2),
        ],
    )
    search = MessageSearch(path)
    try:
        from tgtriage.core.reports.report import ReportStaff

        now = msg(7, 3, "", ANN, 2).date + 300
        rows = search.history_with_waits(ANN, ReportStaff(ids=frozenset({1})), now)
    finally:
        search.close()
    assert [(hit.message.id, wait) for hit, wait in rows] == [(3, (300, False)), (1, (600, True))]


def test_search_reads_beside_a_writer_and_never_writes(tmp_path: Path) -> None:
    path = tmp_path / "w.sqlite3"
    build(
        path, [Chat(id=SUPPORT, title="S", kind="supergroup")], [], [msg(SUPPORT, 1, "x", ANN, 1)]
    )
    search = MessageSearch(path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            search._db.execute("DELETE FROM messages")
        assert ids(search, "x") == [1]
    finally:
        search.close()


# --- the stripe export -----------------------------------------------------------------------


@pytest.fixture
def stripe_search(stripe_export: Path, tmp_path: Path) -> Iterator[MessageSearch]:
    """The Stripe support export written into a real store."""
    export = load_export(stripe_export)
    path = tmp_path / "stripe.sqlite3"
    build(path, export.chats, list(export.users.values()), export.messages)
    found = MessageSearch(path)
    yield found
    found.close()


def test_stripe_webhook_hits_are_newest_first_and_hold_the_word(
    stripe_search: MessageSearch,
) -> None:
    hits = stripe_search.find(parse("webhook", NOW, UTC), limit=500)
    assert len(hits) > 20
    dates = [(h.message.date, h.message.id) for h in hits]
    assert dates == sorted(dates, reverse=True)
    for hit in hits:
        assert "webhook" in fold(hit.message.text + " " + hit.sender + " " + hit.chat_title)


def test_stripe_filters_narrow_to_sender_chat_and_dates(stripe_search: MessageSearch) -> None:
    everything = stripe_search.find(parse("webhook ", NOW, UTC), limit=1000)  # a whole word
    mine = stripe_search.find(parse("webhook from:karllekko", NOW, UTC), limit=1000)
    assert mine and {h.sender for h in mine} == {"karllekko"}
    assert {h.message.id for h in mine} < {h.message.id for h in everything}
    chat = stripe_search.find(parse("in:monove", NOW, UTC), limit=1000)
    assert chat and {h.chat_title for h in chat} == {"monove · Support"}
    middle = sorted(h.message.date for h in everything)[len(everything) // 2]
    day = datetime.fromtimestamp(middle, UTC).date().isoformat()
    before = stripe_search.find(parse(f"webhook before:{day}", NOW, UTC), limit=1000)
    after = stripe_search.find(parse(f"webhook after:{day}", NOW, UTC), limit=1000)
    start = int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())
    assert before and all(h.message.date < start for h in before)
    assert all(h.message.date >= start + 86400 for h in after)
    on_the_day = [h for h in everything if start <= h.message.date < start + 86400]
    assert len(before) + len(on_the_day) + len(after) == len(everything)
    phrase = stripe_search.find(parse('"webhook endpoint"', NOW, UTC), limit=1000)
    assert all("webhook endpoint" in " ".join(fold(h.message.text).split()) for h in phrase)


def test_a_store_from_before_search_gains_its_indexes_and_keeps_its_messages(
    tmp_path: Path,
) -> None:
    from tgtriage.core.storage import schema

    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
    before_search = 5  # v6 added the search indexes
    for step in schema.MIGRATIONS[:before_search]:
        db.executescript(step)
    db.execute("INSERT INTO chats (id, title, kind) VALUES (-1001, 'Acme', 'supergroup')")
    db.execute(
        "INSERT INTO messages (chat_id, id, date, sender_id, text) VALUES (-1001, 1, 5, 7, 'hi')"
    )
    db.execute(f"PRAGMA user_version = {before_search}")
    db.commit()
    db.close()
    build(path, [], [], [])  # the desk opens it: the missing steps run
    db = sqlite3.connect(path)
    indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"messages_date", "messages_sender_date"} <= indexes
    assert db.execute("PRAGMA user_version").fetchone() == (schema.LATEST,)
    db.close()
    search = MessageSearch(path)
    try:
        assert [h.message.id for h in search.history(7)] == [1]
        assert ids(search, "hi") == [1]
    finally:
        search.close()


def test_a_newer_query_runs_to_its_end_though_the_older_one_was_still_reading(
    search: MessageSearch,
) -> None:
    """A keystroke interrupts the query of the keystroke before; the new query must not die in
    its place while the old one sits between two fetches (its results would never show)."""
    older = search._db.execute("SELECT seq FROM messages ORDER BY seq")  # the older walk
    older.fetchone()  # it is between two fetches: its statement is still running
    search.interrupt()  # the next keystroke stops it …
    assert ids(search, "restore") == ids(search, "restore") != []  # … and its own query runs
    older.close()


def test_interrupt_stops_the_running_query_only(search: MessageSearch) -> None:
    """Interrupting with no query running changes nothing; a running query stops."""
    search.interrupt()
    assert ids(search, "restore") != []
    stop_after_first_fetch = search._tested

    def interrupted(*args: object, **kwargs: object) -> object:
        search.interrupt()  # as a keystroke on the UI thread would, mid-query
        return stop_after_first_fetch(*args, **kwargs)  # type: ignore[arg-type]

    search._tested = interrupted  # type: ignore[method-assign]
    with pytest.raises(sqlite3.OperationalError):
        search.find(parse("restore", NOW, UTC))
    search._tested = stop_after_first_fetch  # type: ignore[method-assign]
    assert ids(search, "restore") != []
