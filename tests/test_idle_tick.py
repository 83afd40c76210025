"""The once-a-second tick of a large desk: it touches the rows on screen, not every chat."""

from __future__ import annotations

from pathlib import Path

from tgtriage.core.desk import events as ev
from tgtriage.core.desk.models import Chat, Message
from tgtriage.tui.chat_list import ChatList

from tests.desk_harness import make_desk, run_desk, settle, wait_for

CUSTOMERS = 600


async def test_a_tick_rebuilds_the_visible_rows_only_however_many_chats_wait(
    tmp_path: Path,
) -> None:
    """Issue 18 (idle ≈ 0 at 10,000 chats): with hundreds of waiting chats, each tick rebuilds
    at most the rows on screen, forgets only rows it had drawn, and re-checks no chat's time
    facts while no wait reaches its next level; the timers on screen still move."""
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        inbox = app.inbox
        now = inbox.now()
        for n in range(CUSTOMERS):
            chat = Chat(id=-1002000000000 - n, title=f"Customer group {n}")
            inbox.submit(ev.ChatUpdated(chat))
            text = f"help {n}"
            inbox.submit(
                ev.NewMessage(
                    Message(chat_id=chat.id, id=1, date=now - 5, sender_id=900_000 + n, text=text)
                )
            )
        await wait_for(
            pilot,
            lambda: (
                sum(1 for s in inbox.triage.values() if s.waiting_since is not None) > CUSTOMERS
            ),
            "the customers waiting",
        )
        await settle(pilot)
        chat_list = app.query_one(ChatList)
        visible = chat_list.size.height + 1
        forgotten: list[int] = []
        forget = chat_list._forget

        def counting_forget(chat_id: int) -> None:
            forgotten.append(chat_id)
            forget(chat_id)

        chat_list._forget = counting_forget  # type: ignore[method-assign]
        first_row = chat_list.chat_ids[0]
        before = app._row(first_row).wait
        for _ in range(3):
            rebuilt, checked = chat_list.rows_rebuilt, inbox.order_index.facts_checked
            forgotten.clear()
            desk.clock.advance(1)
            app._tick()
            assert chat_list.rows_rebuilt - rebuilt <= visible
            assert len(forgotten) <= visible * 3  # rows drawn around the screen at most
            assert inbox.order_index.facts_checked == checked  # no wait reached a level
        desk.clock.advance(60)
        app._tick()
        await settle(pilot)
        assert app._row(first_row).wait != before  # the timer on screen moved
