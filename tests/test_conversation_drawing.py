"""The conversation drawn fast but as Rich lays it out: the wrap, and only the tail laid out."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.segment import Segment
from rich.style import Style
from tgtriage.core.desk import events as ev
from tgtriage.core.desk.models import Message
from tgtriage.core.rules.triage import Role
from tgtriage.core.storage.store import Note
from tgtriage.tui.conversation import Conversation
from tgtriage.tui.message_view import Styles, message_text
from tgtriage.tui.note_view import note_text, with_notes
from tgtriage.tui.wrap import _wrap, _wrap_rich

from tests.desk_harness import (
    CONSOLE,
    cells,
    chat_id_by_title,
    make_desk,
    run_desk,
    screen_text,
    settle,
)

pytestmark = pytest.mark.usefixtures("utc_times")  # times on screen in UTC


# ----------------------------------------------------------------- wrapping


WORDS = st.sampled_from(
    [
        "server",
        "down",
        "Привет",
        "漢字テキスト",
        "😀",
        "a" * 90,
        "x",
        "ok.",
        "  ",
        "\n",
        "\n\n",
        "é",
    ]
)


BODIES = st.lists(st.tuples(WORDS, st.sampled_from(["", " ", "   "])), max_size=40).map(
    lambda parts: "".join(w + s for w, s in parts)
)


@settings(max_examples=300, deadline=None)
@given(
    body=BODIES,
    width=st.integers(min_value=1, max_value=100),
    quote=st.booleans(),
    note=st.one_of(st.none(), BODIES),
)
def test_the_fast_wrap_lays_a_message_out_exactly_as_rich_does(
    body: str, width: int, quote: bool, note: str | None
) -> None:
    message = Message(chat_id=1, id=5, date=1_709_634_000, sender_id=7, text=body, reply_to=3)
    text = message_text(
        message,
        "Lena Hoffmann",
        Role.CUSTOMER,
        False,
        (lambda _: ("Bob", "an earlier message " * 3)) if quote else (lambda _: None),
        5,
        Styles(),
    )
    if note is not None:
        text = with_notes(text, [], [Note(id=1, chat_id=1, date=0, author="Alex", text=note)])
    base = Style(color="#e0e0e0", bgcolor="#121212")
    ours = _wrap(text.copy(), CONSOLE, width, base)
    assert cells(ours) == cells(_wrap_rich(text, CONSOLE, width, base))


def _plain(lines: list[list[Segment]]) -> list[str]:
    """Each wrapped line as the text a user reads (padding stripped)."""
    return ["".join(seg.text for seg in line).rstrip() for line in lines]


@pytest.mark.parametrize("fast", [True, False])
def test_a_wrapped_message_stays_indented_under_its_sender(fast: bool) -> None:
    body = "the backup of db-main failed again tonight and the restore is stuck at ninety percent"
    message = Message(chat_id=1, id=5, date=1_709_634_000, sender_id=7, text=body + "\tok")
    text = message_text(message, "Lena", Role.CUSTOMER, False, lambda _: None, None, Styles())
    if fast:  # the fast path does not take tabs; without one it must lay out the same
        message = message.model_copy(update={"text": body + " ok"})
        text = message_text(message, "Lena", Role.CUSTOMER, False, lambda _: None, None, Styles())
    lines = _plain((_wrap if fast else _wrap_rich)(text, CONSOLE, 30))
    assert lines[0].startswith("Lena")
    body_lines = [line for line in lines[1:] if line]
    assert len(body_lines) >= 3
    assert all(line.startswith("  ") and line[2] != " " for line in body_lines)
    assert " ".join(" ".join(body_lines).split()) == body + " ok"  # Rich expands the tab


def test_a_wrapped_note_keeps_its_bar() -> None:
    note = Note(chat_id=1, id=1, author="Alex", date=1_709_634_000, text="restore " * 12)
    lines = _plain(_wrap(note_text(note), CONSOLE, 30))
    body_lines = [line for line in lines if "restore" in line]
    assert len(body_lines) >= 3
    assert all(line.startswith("▌ restore") for line in body_lines)


# ----------------------------------------------------------------- the lazy conversation


async def test_only_the_tail_is_laid_out_and_scrolling_up_brings_the_rest(
    tmp_path: Path,
) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        chat_id = chat_id_by_title(app, "Umbrella")
        last = app.inbox.triage[chat_id].last_msg_id
        for n in range(1, 161):
            text = f"line {n}: the backup of db-main is still running, please wait a little"
            app.inbox.submit(
                ev.NewMessage(
                    Message(chat_id=chat_id, id=last + n, date=1_709_634_000 + n, text=text)
                )
            )
        await settle(pilot)
        await app.open_chat(chat_id)
        await settle(pilot)
        conversation = app.query_one(Conversation)
        held = len(conversation.messages)
        assert held == 50  # the first page read when the chat opens
        assert "line 160:" in screen_text(app)  # the newest message is on screen
        laid = conversation.line_count
        assert laid < len(conversation.plain_lines())  # not every held message was wrapped
        assert laid >= 2 * conversation.size.height  # but the view and a screen above it were

        # Scroll to the top again and again: more is laid out, then older pages are read.
        def at_the_very_top() -> bool:
            everything = conversation.line_count == len(conversation.plain_lines())
            return len(conversation.messages) > 150 and everything and conversation.scroll_y == 0

        for _ in range(60):
            conversation.scroll_home(animate=False, immediate=True)
            await settle(pilot, rounds=2)
            if at_the_very_top():
                break
        assert len(conversation.messages) > 150
        assert "line 1:" in "\n".join(conversation.plain_lines())
        # Page back down from the top: every line of the conversation comes by, in order.
        conversation.focus()
        seen: list[int] = []
        for _ in range(200):
            for line in screen_text(app).splitlines():
                if "line " in line and ":" in line:
                    number = int(line.split("line ", 1)[1].split(":", 1)[0])
                    if not seen or number > seen[-1]:
                        seen.append(number)
            if seen and seen[-1] == 160:
                break
            await pilot.press("pagedown")
            await settle(pilot, rounds=1)
        assert seen[0] == 1 and seen[-1] == 160
        assert seen == sorted(seen) and len(seen) == 160, "no message skipped or repeated"
