"""The paths a key takes without waiting: messages in memory, write-behind, the kept order."""

from __future__ import annotations

import random
from pathlib import Path

from tgtriage.core.desk import events as ev
from tgtriage.core.rules import triage
from tgtriage.core.storage.rows import message_from_row
from tgtriage.core.storage.store import Store

from tests.inbox_harness import (
    ACME,
    ALICE,
    BOB,
    GLOBEX,
    INITECH,
    ME,
    PRIVATE,
    T0,
    UMBRELLA,
    Desk,
    FakeClock,
    msg,
    new,
    running_desk,
)

# ------------------------------------------------------------------ the chats' windows in memory


async def test_newest_rows_are_what_messages_reads_for_many_chats(tmp_path: Path) -> None:
    async with await Store.open(tmp_path / "s.sqlite3", clock=FakeClock()) as store:
        await store.add_messages([msg(ACME, i, ALICE, i, f"m{i}") for i in range(1, 31)])
        await store.add_messages([msg(GLOBEX, 1, BOB, 5, "elsewhere")])
        rows = await store.newest_rows([ACME.id, GLOBEX.id, INITECH.id], 10)
        expected = [
            *await store.messages(ACME.id, limit=10),
            *await store.messages(GLOBEX.id, limit=10),
        ]
        assert [message_from_row(row) for row in rows] == sorted(
            expected, key=lambda m: (m.chat_id, m.id)
        )


async def test_recent_is_served_from_memory_and_follows_new_edited_and_deleted_messages(
    tmp_path: Path,
) -> None:
    path = tmp_path / "d.sqlite3"
    async with await Store.open(path, clock=FakeClock()) as store:
        await store.upsert_chats([ACME])
        await store.add_messages([msg(ACME, i, ALICE, i, f"m{i}") for i in range(1, 61)])
    async with running_desk(path, cached=True) as desk:
        inbox = desk.inbox
        await inbox.flushed()
        assert [m.id for m in inbox.recent(ACME.id)] == list(range(11, 61))
        assert inbox.has_older(ACME.id, 50)

        async def no_reads(*args: object) -> None:
            raise AssertionError("the window is kept in memory, not read again")

        desk.store.newest_rows = no_reads  # type: ignore[method-assign,assignment]
        await desk.feed(new(ACME, 61, BOB, 100, "newest"))
        await desk.feed(ev.MessageEdited(msg(ACME, 60, ALICE, 60, "m60 (edited)")))
        await desk.feed(ev.MessagesDeleted(ACME.id, (59,)))
        recent = inbox.recent(ACME.id, limit=3)
        assert [(m.id, m.text) for m in recent] == [
            (58, "m58"),
            (60, "m60 (edited)"),
            (61, "newest"),
        ]
        assert inbox.recent(ACME.id, limit=50) == (await desk.store.messages(ACME.id, limit=50))[1:]


async def test_a_chat_with_few_messages_has_nothing_older(tmp_path: Path) -> None:
    async with running_desk(tmp_path / "d.sqlite3") as desk:
        await desk.feed(new(GLOBEX, 1, BOB, 0, "hi"))
        await desk.inbox.flushed()
        assert [m.text for m in desk.inbox.recent(GLOBEX.id)] == ["hi"]
        assert not desk.inbox.has_older(GLOBEX.id, 1)


# ------------------------------------------------------------------ write-behind


async def test_open_changes_the_live_state_at_once_and_the_store_next(
    tmp_path: Path,
) -> None:
    async with running_desk(tmp_path / "d.sqlite3") as desk:
        await desk.feed(new(ACME, 1, ALICE, 0, "Hello"))
        assert desk.inbox.triage[ACME.id].unread == 1
        assert desk.inbox.open(ACME.id)
        # The screen paints from this straight away...
        assert desk.inbox.open_chat_id == ACME.id
        assert desk.inbox.slots == {1: ACME.id}
        assert desk.inbox.triage[ACME.id].unread == 0
        # ...and the store has it once the queued writes ran.
        await desk.inbox.flushed()
        assert await desk.store.slots() == {1: ACME.id}
        await desk.inbox.flushed()
        assert (await desk.store.load_triage())[ACME.id].unread == 0
        assert not desk.inbox.open(999)


async def test_queued_slot_writes_land_in_the_order_they_were_made(tmp_path: Path) -> None:
    async with running_desk(tmp_path / "d.sqlite3") as desk:
        inbox = desk.inbox
        for chat in (ACME, GLOBEX, INITECH):
            inbox.open(chat.id)
        await inbox.pin(ACME.id, 5)  # must not be overtaken by the three queued slot writes
        inbox.open(UMBRELLA.id)
        await inbox.flushed()
        assert inbox.slots == {5: ACME.id, 2: GLOBEX.id, 3: INITECH.id, 1: UMBRELLA.id}
        await desk.inbox.flushed()
        assert await desk.store.slots() == inbox.slots


async def test_a_draft_typed_fast_is_stored_once_with_its_last_text(tmp_path: Path) -> None:
    async with running_desk(tmp_path / "d.sqlite3") as desk:
        inbox, writes = desk.inbox, []
        original = desk.store.set_draft

        async def counted(chat_id: int, text: str) -> None:
            writes.append(text)
            await original(chat_id, text)

        desk.store.set_draft = counted  # type: ignore[method-assign]
        for text in ("h", "he", "hel", "hell", "hello"):
            inbox.set_draft(ACME.id, text)
        assert inbox.drafts[ACME.id] == "hello"
        await inbox.flushed()
        assert (await desk.store.drafts())[ACME.id] == "hello"
        assert writes[-1] == "hello" and len(writes) <= 2  # the first may already be running


async def test_stopping_the_inbox_makes_the_queued_writes(tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite3"
    async with running_desk(path) as desk:
        desk.inbox.open(GLOBEX.id)
        desk.inbox.set_draft(GLOBEX.id, "half a reply")
    async with await Store.open(path, clock=FakeClock()) as store:
        assert await store.slots() == {1: GLOBEX.id}
        assert await store.drafts() == {GLOBEX.id: "half a reply"}


async def test_a_failed_background_write_is_announced(tmp_path: Path) -> None:
    async with running_desk(tmp_path / "d.sqlite3") as desk:

        async def broken(chat_id: int, text: str) -> None:
            raise OSError("disk full")

        desk.store.set_draft = broken  # type: ignore[method-assign]
        start = len(desk.recorder.calls)
        desk.inbox.set_draft(ACME.id, "lost?")
        await desk.inbox.flushed()
        await desk.settle()
        notices = desk.recorder.since(start).notices
        assert notices == ["Could not save to the store: disk full"]
        assert desk.inbox.drafts[ACME.id] == "lost?"  # still in the composer's state


# ------------------------------------------------------------------ the kept order


def _truth(desk: Desk) -> list[int]:
    """The order computed from scratch by the triage rules."""
    inbox = desk.inbox
    states = [inbox.triage[c] for c in inbox.chats]
    ordered = triage.ordered(states, inbox.now(), inbox.thresholds, inbox.elapsed)
    return [s.chat_id for s in ordered]


async def test_the_kept_order_follows_time_levels_and_postponements(tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_desk(tmp_path / "d.sqlite3", clock=clock) as desk:
        inbox = desk.inbox
        await desk.feed(
            new(ACME, 1, ALICE, 0, "first"),
            new(GLOBEX, 1, BOB, 250, "second"),
            new(INITECH, 1, ME, 260, "we wrote last"),
        )
        clock.now = T0 + 260
        assert inbox.order() == _truth(desk)
        assert inbox.order()[:2] == [ACME.id, GLOBEX.id]
        # Acme crosses "due" (5 min): still first; then the order is recomputed, not stale.
        clock.now = T0 + 301
        assert inbox.order() == _truth(desk)
        assert inbox.level_counts() == triage.level_counts(
            inbox.triage.values(), inbox.now(), inbox.thresholds, inbox.elapsed
        )
        # Postponing Acme moves it to the bottom; when the time runs out it comes back.
        await inbox.postpone(ACME.id, T0 + 400)
        assert inbox.order()[-1] == ACME.id
        assert inbox.order() == _truth(desk)
        clock.now = T0 + 401
        assert inbox.order() == _truth(desk)
        assert inbox.order()[0] == ACME.id
        assert inbox.level_counts() == (1, 1, 0, 0)  # Globex fresh, Acme due


async def test_the_kept_order_sees_a_summary_replaced_anywhere(tmp_path: Path) -> None:
    async with running_desk(tmp_path / "d.sqlite3") as desk:
        inbox = desk.inbox
        await desk.feed(new(GLOBEX, 1, BOB, 0, "waiting"), new(ACME, 1, ALICE, 10, "me too"))
        assert inbox.order()[:2] == [GLOBEX.id, ACME.id]
        inbox.triage[GLOBEX.id] = triage.mark_handled(inbox.triage[GLOBEX.id])
        assert inbox.order() == _truth(desk)
        assert inbox.order()[0] == ACME.id
        inbox.chats.pop(GLOBEX.id)
        inbox.triage.pop(GLOBEX.id)
        assert GLOBEX.id not in inbox.order()


async def test_the_kept_order_is_right_at_every_second_of_an_hour(tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_desk(tmp_path / "d.sqlite3", clock=clock) as desk:
        inbox = desk.inbox
        await desk.feed(
            new(ACME, 1, ALICE, 0, "first"),
            new(GLOBEX, 1, BOB, 200, "second"),
            new(INITECH, 1, ALICE, 890, "third"),
        )
        await inbox.postpone(UMBRELLA.id, T0 + 1_234)
        for second in range(0, 3_700, 7):
            clock.now = T0 + 890 + second
            assert inbox.order() == _truth(desk), second
            assert inbox.level_counts() == triage.level_counts(
                inbox.triage.values(), inbox.now(), inbox.thresholds, inbox.elapsed
            )


async def test_chats_summaries_and_users_read_back_equal_to_what_was_written(
    tmp_path: Path,
) -> None:
    from tgtriage.core.desk.models import Chat, ChatTriage, Status, User

    chats = [
        ACME,
        Chat(id=7, title="Private · Ann", kind="private", username="ann", folder_ids=(1, 2)),
    ]
    states = [
        ChatTriage(chat_id=ACME.id),
        ChatTriage(
            chat_id=7,
            last_msg_id=9,
            waiting_since=T0,
            status=Status.POSTPONED,
            postponed_until=T0 + 60,
            reopened=True,
            ticket="JIRA-1",
            levels_override=(60, 120, 180),
        ),
    ]
    users = [ALICE, BOB, User(id=5, username="bot", bot=True)]
    async with await Store.open(tmp_path / "s.sqlite3", clock=FakeClock()) as store:
        await store.upsert_chats(chats)
        await store.save_triage(states)
        await store.upsert_users(users)
        assert await store.all_chats() == sorted(chats, key=lambda c: c.id)
        assert await store.load_triage() == {s.chat_id: s for s in states}
        assert await store.users() == {u.id: u for u in users}
        for read in (await store.all_chats(), (await store.load_triage()).values()):
            for model in read:
                assert model == type(model).model_validate(model.model_dump())
                assert hash(model) == hash(type(model).model_validate(model.model_dump()))


async def test_next_waiting_is_the_first_awaiting_chat_of_the_kept_order(tmp_path: Path) -> None:
    clock = FakeClock()
    async with running_desk(tmp_path / "d.sqlite3", clock=clock) as desk:
        inbox = desk.inbox

        def truth(exclude: int | None) -> int | None:
            best = triage.longest_waiting(
                (inbox.triage[c] for c in inbox.chats),
                inbox.now(),
                inbox.configured_targets,
                exclude,
                inbox.elapsed,
            )
            return best.chat_id if best else None

        assert inbox.next_waiting() is None
        await desk.feed(
            new(ACME, 1, ALICE, 0, "a"),
            new(GLOBEX, 1, BOB, 100, "b"),
            new(INITECH, 1, BOB, 50, "c"),
        )
        await inbox.postpone(INITECH.id, T0 + 2_000)
        for second in (100, 400, 950, 1_999, 2_001, 4_000):
            clock.now = T0 + second
            for exclude in (None, ACME.id, GLOBEX.id, INITECH.id):
                assert inbox.next_waiting(exclude) == truth(exclude), (second, exclude)


async def test_the_kept_order_re_placed_chat_by_chat_equals_a_full_sort(tmp_path: Path) -> None:
    """Random customer messages, replies, handled marks, opens, postponements and clock moves:
    after each, the order (patched for the chats that changed) is the order sorted anew."""
    clock = FakeClock()
    chats = [ACME, GLOBEX, INITECH, UMBRELLA, PRIVATE]
    async with running_desk(tmp_path / "d.sqlite3", clock=clock) as desk:
        inbox = desk.inbox
        rng = random.Random(7)
        ids = dict.fromkeys((c.id for c in chats), 0)
        patched = 0
        patch = inbox.order_index._patched

        def counted(*args: object) -> object:
            nonlocal patched
            result = patch(*args)  # type: ignore[arg-type]
            patched += result is not None
            return result

        inbox.order_index._patched = counted  # type: ignore[method-assign,assignment]
        for step in range(300):
            chat = rng.choice(chats)
            ids[chat.id] += 1
            at = int(clock.now) - T0
            action = rng.randrange(6)
            if action == 0:
                await desk.feed(new(chat, ids[chat.id], rng.choice([ALICE, BOB]), at, "help"))
            elif action == 1:
                await desk.feed(new(chat, ids[chat.id], ME, at, "on it"))
            elif action == 2 and chat.id in inbox.triage:
                await inbox.mark_handled(chat.id)
            elif action == 3 and chat.id in inbox.triage:
                inbox.open(chat.id)
            elif action == 4 and chat.id in inbox.triage:
                await inbox.postpone(chat.id, int(clock.now) + rng.choice([30, 400, 4000]))
            else:
                clock.now += rng.choice([1, 59, 301, 900, 3600])
            assert inbox.order() == _truth(desk), step
        assert patched > 50  # the patch path was taken, not only full sorts


async def test_a_chat_language_guessed_before_its_messages_are_read_is_not_kept(
    tmp_path: Path,
) -> None:
    """The template popup's language comes from the chat's messages in memory; a guess made
    before they were read (at start, under load) must not stick for the rest of the session."""
    from tgtriage.core.desk.replies import Replies
    from tgtriage.core.system.paths import Paths

    path = tmp_path / "d.sqlite3"
    async with await Store.open(path, clock=FakeClock()) as store:
        await store.upsert_chats([ACME])
        await store.add_messages([msg(ACME, 1, ALICE, 0, "Здравствуйте, не работает оплата")])
    async with running_desk(path) as desk:
        replies = Replies(desk.inbox, Paths(tmp_path / "config", tmp_path / "data"))
        desk.inbox.windows.forget(ACME.id)  # as if its read had not landed yet
        assert replies.language_now(ACME.id) is None
        desk.inbox.read_windows([ACME.id])
        await desk.inbox.flushed()
        assert replies.language_now(ACME.id) == "ru"
