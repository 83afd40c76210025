"""What the desk shows stays literal and legible: untrusted text, NO_COLOR, an 80×24 terminal."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.color import Color as RichColor
from textual.color import Color
from textual.widgets import OptionList
from tgtriage.core.desk import events as ev
from tgtriage.core.desk.models import Chat, Message, User

from tests.desk_harness import (
    FIXED_NOW,
    Desk,
    make_desk,
    palette_rows,
    run_desk,
    screen_text,
    settle,
    switcher_rows,
    type_text,
    wait_for,
    waiting_ids,
)

pytestmark = pytest.mark.usefixtures("utc_times")  # times on screen in UTC


# ----------------------------------------------------------------- untrusted text


EVIL_CHAT = 990_001


EVIL_TITLE = "[bold]x[/] [@click=app.quit]Evil\x1b[2J Corp"


EVIL_TEXT = (
    "[@click=app.quit]click me[/] [link=https://evil.example]link[/link] "
    "\x1b]52;c;ZXZpbA==\x07clip \x1b[31mred\x1b[0m \x1b]8;;https://evil.example\x07osc8\x1b]8;;\x07"
)


async def test_untrusted_titles_and_messages_are_shown_literally_and_do_not_quit(
    desk: Desk,
) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        mallory = User(id=4242, first_name="[red]Mallory[/]")
        inbox.submit(ev.ChatUpdated(Chat(id=EVIL_CHAT, title=EVIL_TITLE, kind="private")))
        message = Message(
            chat_id=EVIL_CHAT,
            id=1,
            date=int(FIXED_NOW) - 90,
            sender_id=mallory.id,
            sender_name=mallory.first_name,
            text=EVIL_TEXT,
        )
        inbox.submit(ev.NewMessage(message, mallory))
        await wait_for(pilot, lambda: EVIL_CHAT in waiting_ids(app), "the evil chat to wait")
        await pilot.press("ctrl+k")
        await type_text(pilot, "evil")
        assert switcher_rows(app)[0].startswith("[bold]x[/] [@click=app.quit]Evil")
        await pilot.press("enter")
        assert inbox.open_chat_id == EVIL_CHAT
        await settle(pilot)

        shown = screen_text(app)
        assert "[bold]x[/] [@click=app.quit]Evil" in shown
        assert "[red]Mallory[/]" in shown
        assert "[@click=app.quit]click me[/]" in shown
        assert "[link=https://evil.example]link[/link]" in shown
        assert "\x1b" not in shown and "\x07" not in shown
        assert "ZXZpbA==" not in shown, "the OSC 52 payload is dropped with its sequence"
        for strip in app.screen._compositor.render_strips():
            for segment in strip:
                meta = segment.style.meta if segment.style else {}
                assert "@click" not in meta, f"clickable markup leaked: {segment.text!r}"

        await pilot.press("alt+w")
        pin_choices = [str(o.prompt) for o in app.screen.query_one(OptionList).options]
        assert any("[bold]x[/] [@click=app.quit]Evil Corp" in c for c in pin_choices)
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await type_text(pilot, "evil")
        await wait_for(
            pilot,
            lambda: any("[@click=app.quit]Evil" in r for r in palette_rows(app)),
            "the pinned evil chat in the palette, shown literally",
        )
        await pilot.press("escape")
        await pilot.press("escape")

        for y, line in enumerate(shown.splitlines()):
            x = line.find("[@click")
            if x >= 0:
                await pilot.click(offset=(x + 3, y))
        await settle(pilot)
        assert not app._exit, "clicking the text did not quit"


# ----------------------------------------------------------------- small terminal, no colour


def brightness(color: RichColor) -> float:
    """A Rich colour's brightness, 0 (black) … 1 (white)."""
    return Color.from_rich_color(color).brightness


async def test_no_color_at_80x24_renders_every_level_mark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    desk = make_desk(tmp_path)
    async with run_desk(desk, size=(80, 24)) as pilot:
        app, inbox = desk.app, desk.inbox
        assert app.no_color
        quiet = [c for c in inbox.order() if inbox.wait(c) is None][:4]
        for n, (chat_id, ago) in enumerate(zip(quiet, (30, 400, 1200, 4000), strict=True)):
            customer = User(id=880_000 + n, first_name=f"Customer{n}")
            msg = Message(
                chat_id=chat_id,
                id=10**7 + n,
                date=int(FIXED_NOW) - ago,
                sender_id=customer.id,
                sender_name=customer.first_name,
                text="hello?",
            )
            inbox.submit(ev.NewMessage(msg, customer))
        await wait_for(pilot, lambda: set(quiet) <= waiting_ids(app), "the new waits")
        await pilot.press("ctrl+n")
        await settle(pilot)
        shown = screen_text(app)
        lines = shown.splitlines()
        assert len(lines) == 24 and max(len(line) for line in lines) <= 80
        for mark in ("•", "!", "‼", "⚠"):
            assert any(line[:4].count(mark) for line in lines[1:-2]), f"no {mark} row"
        assert "waiting:" in lines[-2]
        assert app.export_screenshot()
        # Every character drawn is a grey far enough from its background to be read.
        faint = []
        for y, strip in enumerate(app.screen._compositor.render_strips(app.size)):
            for text, style, _ in strip:
                if style is None or style.color is None or not text.strip():
                    continue
                fore, back = style.color, style.bgcolor or style.color
                if style.reverse:
                    fore, back = back, fore
                gap = abs(Color.from_rich_color(fore).brightness - brightness(back))
                if gap < 0.35:
                    faint.append((y, text.strip(), round(gap, 2)))
        assert not faint, f"hard to read under NO_COLOR: {faint[:8]}"


async def test_with_no_chat_open_the_whole_hint_is_readable_at_80x24(desk: Desk) -> None:
    async with run_desk(desk, size=(80, 24)) as pilot:
        assert desk.app.inbox.open_chat_id is None
        await settle(pilot)
        right = [
            line.split("▕", 1)[1] for line in screen_text(desk.app).splitlines()[2:] if "▕" in line
        ]
        shown = " ".join(" ".join(right).split())
        assert (
            "Pick a chat on the left (↑ ↓ Enter), or press Ctrl+N for the most urgent waiting chat."
            in shown
        )
