"""A desk with more chats than it keeps messages for: every waiting chat shown, any chat opens."""

from __future__ import annotations

from pathlib import Path

from tgtriage.core.desk.inbox import Inbox
from tgtriage.core.desk.models import Chat, ChatTriage, Message
from tgtriage.core.desk.windows import MAX_CHATS, MessageWindows
from tgtriage.core.rules import chat_match
from tgtriage.core.storage.rows import message_params
from tgtriage.core.storage.store import Store

from tests.inbox_harness import ALICE, ME, T0, FakeClock, ScriptedSource, config

CHATS = MAX_CHATS + 500
WAITING = 150


def _message(chat_id: int, id: int, sender: int, at: int) -> Message:
    return Message(
        chat_id=chat_id, id=id, date=at, sender_id=sender, out=sender == ME.id, text=f"m{id}"
    )


async def _big_store(path: Path) -> tuple[set[int], list[int]]:
    """CHATS chats of three messages; the first WAITING end with the customer, unanswered."""
    waiting: set[int] = set()
    chats = [Chat(id=-5000 - i, title=f"Customer {i} · Support") for i in range(CHATS)]
    messages: list[Message] = []
    states: list[ChatTriage] = []
    for i, chat in enumerate(chats):
        last = ALICE.id if i < WAITING else ME.id
        at = T0 - 10 * i
        messages += [
            _message(chat.id, 1, ALICE.id, at - 20),
            _message(chat.id, 2, ME.id, at - 10),
            _message(chat.id, 3, last, at),
        ]
        if last == ALICE.id:
            waiting.add(chat.id)
            states.append(
                ChatTriage(
                    chat_id=chat.id,
                    last_msg_id=3,
                    last_activity=at,
                    waiting_since=at,
                    waiting_msg_id=3,
                    read_inbox_max=2,
                )
            )
        else:
            states.append(ChatTriage(chat_id=chat.id, last_msg_id=3, last_activity=at))
    async with await Store.open(path, clock=FakeClock()) as store:
        await store.upsert_chats(chats)
        await store.add_messages(messages)
        await store.save_triage(states)
        await store.set_meta("me_id", str(ME.id))
    return waiting, [chat.id for chat in chats]


async def test_a_desk_larger_than_its_windows_shows_every_waiting_chat_and_opens_any_chat(
    tmp_path: Path,
) -> None:
    path = tmp_path / "big.sqlite3"
    waiting, chat_ids = await _big_store(path)
    clock = FakeClock()
    async with await Store.open(path, clock=clock) as store:
        listed = [Chat(id=c, title=f"Customer {-5000 - c} · Support") for c in chat_ids]
        inbox = Inbox(store, ScriptedSource(listed, clock=clock), config(), clock=clock)
        await inbox.load_cached()
        await inbox.flushed()
        order = inbox.order()
        assert len(order) == CHATS
        assert set(order[:WAITING]) == waiting  # every waiting chat, at the top
        assert sum(inbox.level_counts()) == WAITING
        assert inbox.windows.kept() <= MAX_CHATS  # not every chat's messages in memory
        assert all(inbox.messages_known(c) for c in order[:WAITING])
        await inbox.start()  # the source lists every chat again: nothing read twice or dropped
        await inbox.flushed()
        assert inbox.windows.kept() <= MAX_CHATS
        assert all(inbox.messages_known(c) for c in order[:WAITING])
        last = order[-1]
        assert not inbox.messages_known(last)  # read when it is shown, not at start
        inbox.open(last)
        await inbox.flushed()
        assert [m.id for m in inbox.recent(last)] == [1, 2, 3]
        assert inbox.windows.kept() <= MAX_CHATS
        await inbox.stop()
    assert set(chat_ids) == set(order)


def test_windows_drop_the_least_recently_used_chat_first() -> None:
    windows = MessageWindows(size=5, chats=3)

    def rows(chat_id: int) -> list[tuple[object, ...]]:
        return [message_params(_message(chat_id, i, ALICE.id, T0 + i)) for i in (1, 2)]

    for chat_id in (1, 2, 3):
        windows.fill(chat_id, rows(chat_id))  # type: ignore[arg-type]
    assert [m.id for m in windows.recent(1, 5)] == [1, 2]  # shown: now the most recent
    windows.fill(4, rows(4))  # type: ignore[arg-type]
    assert windows.missing([1, 2, 3, 4]) == [2]
    assert windows.kept() == 3


def test_the_switcher_shortlist_puts_whole_query_matches_first() -> None:
    titles = [f"Ace Mercury {i}7 · Support" for i in range(5_000)] + ["Acme 77 · Support"]
    lowered = [t.lower() for t in titles]
    found = chat_match.candidates("acme 7", lowered)
    assert found[-1] == len(titles) - 1  # scattered letters match too ("a…c…m…e… 7")
    assert len(found) > chat_match.SCORE_AT_MOST
    short = chat_match.shortlist("acme 7", lowered, found)
    assert len(short) == chat_match.SCORE_AT_MOST
    assert short[0] == len(titles) - 1  # the title that starts with the query comes first
    narrowed = chat_match.candidates("acme 77", lowered, found)  # from the last query's
    assert narrowed == chat_match.candidates("acme 77", lowered)
    assert len(titles) - 1 in narrowed and 0 not in narrowed
