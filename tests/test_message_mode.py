"""Message mode (issue 16 item 3): ↑ on an empty composer (or Ctrl+↑) puts a cursor on the
conversation's messages; ↑ ↓ PgUp PgDn Home End move it, Esc gives the keys back to the
composer; R replies to the selected message (quoted above the composer, sent with reply_to),
C copies its text (OSC 52, escapes stripped)."""

from __future__ import annotations

import base64
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from tgtriage.core.desk.models import Message
from tgtriage.core.rules import message_cursor as mc
from tgtriage.core.system.config import Config
from tgtriage.tui.composer import Composer
from tgtriage.tui.conversation import Conversation

from tests.desk_harness import make_desk, run_desk, screen_text, settle, type_text, wait_for


def held(app: object) -> list[Message]:
    """The messages the open conversation holds."""
    return app.query_one(Conversation).messages  # type: ignore[attr-defined, no-any-return]


def _selected_line(app: object) -> str:
    """The screen line that carries the cursor's bar."""
    lines = [line for line in screen_text(app).splitlines() if "▌" in line]  # type: ignore[arg-type]
    assert len(lines) == 1, lines
    return lines[0]


async def test_up_on_an_empty_composer_puts_a_cursor_on_the_newest_message_and_keys_move_it(
    tmp_path: Path,
) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        await settle(pilot)
        conversation = app.query_one(Conversation)
        ids = mc.selectable(conversation.messages)
        assert len(ids) >= 3
        assert "▌" not in screen_text(app)
        await pilot.press("up")
        await settle(pilot)
        assert conversation.has_focus and conversation.selected_id == ids[-1]
        newest = conversation.messages[-1]
        assert newest.sender_name.split()[0] in _selected_line(app) or "You" in _selected_line(app)
        await pilot.press("up", "up")
        await settle(pilot)
        assert conversation.selected_id == ids[-3], "↑ goes to older messages, one at a time"
        await pilot.press("down")
        await settle(pilot)
        assert conversation.selected_id == ids[-2]
        await pilot.press("home")
        await settle(pilot)
        assert conversation.selected_id == ids[0]
        assert "▌" in screen_text(app), "the oldest one is scrolled into view"
        await pilot.press("end")
        await settle(pilot)
        assert conversation.selected_id == ids[-1]
        await pilot.press("escape")
        await settle(pilot)
        assert app.query_one(Composer).has_focus, "Esc gives the keys back to the composer"
        assert conversation.selected_id is None and "▌" not in screen_text(app)


async def test_up_in_a_composer_with_text_moves_in_the_text_not_to_the_messages(
    tmp_path: Path,
) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        await settle(pilot)
        await type_text(pilot, "first")
        await pilot.press("ctrl+j")
        await type_text(pilot, "second")
        await pilot.press("up")
        await settle(pilot)
        composer = app.query_one(Composer)
        assert composer.has_focus and composer.cursor_location[0] == 0
        assert app.query_one(Conversation).selected_id is None


async def test_r_replies_to_the_selected_message_with_its_quote_above_the_composer(
    tmp_path: Path,
) -> None:
    desk = make_desk(tmp_path, config=Config(undo_send_seconds=0))
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        await settle(pilot)
        chat_id = inbox.open_chat_id
        assert chat_id is not None
        conversation = app.query_one(Conversation)
        await pilot.press("up", "up")
        await settle(pilot)
        target = conversation.selected_id
        quoted = next(m for m in conversation.messages if m.id == target)
        await pilot.press("r")
        await settle(pilot)
        assert app.query_one(Composer).has_focus
        assert "↪ Replying to" in screen_text(app)
        assert quoted.text[:20] in screen_text(app)
        await type_text(pilot, "About that one: fixed.")
        await pilot.press("enter")
        await settle(pilot)
        await wait_for(
            pilot, lambda: any(m.text.startswith("About") for m in held(app)), "the reply"
        )
        sent = [m for m in held(app) if m.text.startswith("About")]
        assert [m.reply_to for m in sent] == [target], "sent as a reply to the selected message"
        assert f"↪ {quoted.sender_name.split()[0]}" in screen_text(app), "drawn with its quote"
        assert "↪ Replying to" not in screen_text(app), "the quote goes once the reply is sent"


async def test_esc_in_the_composer_cancels_the_reply_first(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        await settle(pilot)
        await pilot.press("up", "r")
        await settle(pilot)
        assert "↪ Replying to" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert "↪ Replying to" not in screen_text(app)
        assert app.query_one(Composer).has_focus, "the first Esc only cancelled the reply"


async def test_c_copies_the_selected_text_with_escapes_stripped_through_osc_52(
    tmp_path: Path,
) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        await settle(pilot)
        chat_id = inbox.open_chat_id
        assert chat_id is not None
        conversation = app.query_one(Conversation)
        hostile = Message(
            chat_id=chat_id,
            id=conversation.messages[-1].id + 1,
            date=conversation.messages[-1].date + 1,
            sender_id=conversation.messages[-1].sender_id,
            sender_name="Mallory",
            text="log:\x1b]52;c;ZXZpbA==\x07 run \x1b[31mrm -rf\x1b[0m",
        )
        conversation.add([hostile])
        written: list[str] = []
        assert app._driver is not None
        write = app._driver.write
        app._driver.write = lambda data: (written.append(data), write(data))[-1]  # type: ignore[method-assign, func-returns-value]
        await pilot.press("up", "c")
        await settle(pilot)
        assert conversation.selected_id == hostile.id
        assert app.clipboard == "log: run rm -rf"
        osc = [data for data in written if data.startswith("\x1b]52;c;")]
        assert osc and base64.b64decode(osc[-1][7:-1]).decode() == "log: run rm -rf"
        assert any("Copied 15 characters" in n.message for n in app._notifications)


def _messages(ids: list[int]) -> list[Message]:
    return [Message(chat_id=1, id=i, date=i) for i in ids]


@given(
    st.lists(st.integers(1, 10_000), min_size=1, max_size=40, unique=True).map(sorted),
    st.sampled_from(sorted(mc.MOVES)),
    st.integers(1, 30),
    st.data(),
)
def test_the_cursor_always_lands_on_a_held_message_and_moves_the_right_way(
    ids: list[int], key: str, page: int, data: st.DataObject
) -> None:
    current = data.draw(st.sampled_from(ids))
    target = mc.moved(ids, current, key, page)
    assert target in ids
    if key in ("up", "pageup", "home"):
        assert target is not None and target <= current
    else:
        assert target is not None and target >= current


def test_a_cursor_on_a_deleted_message_lands_on_the_next_one_and_services_are_skipped() -> None:
    assert mc.moved([1, 2, 5, 9], 4, "down", 3) == 5
    assert mc.moved([1, 2, 5, 9], 12, "up", 3) == 9
    assert mc.moved([], 3, "up", 3) is None
    held = [*_messages([1, 2]), Message(chat_id=1, id=3, date=3, service=True)]
    assert mc.selectable(held) == [1, 2]
    assert mc.moved([1, 2, 3, 4, 5], 5, "pageup", 3) == 2
    assert mc.moved([1, 2, 3, 4, 5], 2, "pageup", 3) == 1
