"""How the desk draws fast without drawing differently: lazy conversation, one frame per key,
rows and wraps equal to Rich's, scrollbars equal to Textual's, no leaked widgets."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual._styles_cache import StylesCache
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.widgets._footer import FooterKey
from tgtriage.core.desk import events as ev
from tgtriage.core.desk.models import Message
from tgtriage.core.rules.triage import Role
from tgtriage.core.storage.store import Note
from tgtriage.tui.app import DeskApp
from tgtriage.tui.chat_list import ChatList
from tgtriage.tui.conversation import Conversation
from tgtriage.tui.message_view import Styles, message_text
from tgtriage.tui.note_view import note_text, with_notes
from tgtriage.tui.rows import RowModel
from tgtriage.tui.scrollbar import LineScrollBar
from tgtriage.tui.wrap import _wrap, _wrap_rich

from tests.desk_harness import (
    chat_id_by_title,
    make_desk,
    run_desk,
    screen_text,
    settle,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("utc_times")  # times on screen in UTC


CONSOLE = Console(width=120, color_system="truecolor", force_terminal=True)
NULL = Style.null()


def cells(lines: list[list[Segment]] | list[Strip]) -> list[list[tuple[str, Style]]]:
    """Each line as (character, style) per character: what the terminal shows."""
    return [[(ch, seg.style or NULL) for seg in line for ch in seg.text] for line in lines]


# ------------------------------------------------------------------ wrapping


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


# ------------------------------------------------------------------ the lazy conversation


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


async def test_a_key_paints_the_chat_it_opens_in_its_first_frame(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    frames: list[tuple[int | None, str]] = []
    async with run_desk(desk) as pilot:
        app = desk.app
        original = app._display

        def record(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is not None:
                conversation = app.query_one(Conversation)
                frames.append((conversation.chat_id, screen_text(app)))

        app._display = record  # type: ignore[method-assign]
        for _ in range(4):
            target = app.inbox.next_waiting(exclude=app.inbox.open_chat_id)
            assert target is not None
            title = app.inbox.chats[target].title
            frames.clear()
            await pilot.press("ctrl+n")
            await wait_for(pilot, lambda: bool(frames), "a frame")
            chat_id, shown = frames[0]
            lines = shown.splitlines()
            assert chat_id == target
            assert title in lines[1]  # the header names it in that same frame
            assert any(title in line and "▕" in line for line in lines)  # the list marks it
            await app.inbox.mark_handled(target)
            await settle(pilot)


# ------------------------------------------------------------------ rows, bars, leaks


def _reference_row(widget: ChatList, row: RowModel, width: int, cursor: bool, open_: bool) -> Strip:
    """The chat row laid out with Rich Text (what the list drew before building segments)."""
    base = widget.rich_style
    if open_:
        base = base + widget.get_component_rich_style("chat-list--open")
    if cursor:
        base = base + widget.get_component_rich_style("chat-list--cursor")

    def style(name: str) -> Style:
        return widget.get_component_rich_style(f"chat-list--{name}")

    level = (
        style("parked")
        if row.parked
        else style(f"level-{row.level}")
        if row.level is not None
        else style("quiet")
    )
    right = Text()
    if row.typing:
        right.append("✎ ", style("typing"))
    if row.wait:
        right.append(row.wait, level + Style(bold=True))
    if row.unread:
        right.append(f" {row.unread}", style("unread"))
    if row.status:
        right.append(f" {row.status}", style("parked"))
    left = Text()
    left.append(row.slot, style("slot"))
    left.append(row.mark, level + Style(bold=True))
    left.append(" ")
    title = Text(row.title, style=level if row.level is not None else Style())
    title.truncate(max(1, width - left.cell_len - right.cell_len - 1), overflow="ellipsis")
    left.append_text(title)
    line = Text.assemble(left, " " * max(1, width - left.cell_len - right.cell_len), right)
    line.truncate(width, overflow="crop", pad=True)
    return Strip(
        [Segment(s.text, base + s.style if s.style else base) for s in line.render(CONSOLE)]
    )


async def test_list_rows_are_drawn_as_rich_would_lay_them_out(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        chat_list = desk.app.query_one(ChatList)
        titles = ["Acme · Support", "漢字のサポート · Support, a long one", "😀 a chat", "x" * 70]
        checked = 0
        for index, chat_id in enumerate(chat_list.chat_ids):
            model = desk.app._row(chat_id)
            for title in [model.title, *titles]:
                row = RowModel(
                    chat_id=chat_id,
                    slot=model.slot,
                    mark=model.mark,
                    title=title,
                    wait=model.wait or ("1h12m" if index % 2 else ""),
                    unread=model.unread or ("12" if index % 3 else ""),
                    status=model.status or ("⚙JIRA-123" if index % 4 == 0 else ""),
                    level=model.level,
                    parked=model.parked,
                    typing=index % 5 == 0,
                    preview="",
                )
                for width in (6, 20, 31, 44):
                    for cursor, open_ in ((False, False), (True, False), (False, True)):
                        drawn = chat_list._draw(row, width, cursor, open_)
                        expected = _reference_row(chat_list, row, width, cursor, open_)
                        assert cells([drawn]) == cells([expected]), (row, width)
                        checked += 1
        assert checked > 500
        await pilot.pause()


async def test_the_line_scrollbar_draws_what_textuals_scrollbar_draws(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk, size=(100, 30)) as pilot:
        app = desk.app
        chat_list = app.query_one(ChatList)
        bar = chat_list.vertical_scrollbar
        assert isinstance(bar, LineScrollBar)
        for virtual, position in ((40, 0), (40, 9), (300, 0), (300, 137.5), (1000, 999)):
            bar.window_virtual_size = virtual
            bar.position = position
            await pilot.pause()
            height = bar.size.height
            ours = [bar.render_line(y) for y in range(height)]
            bar._dirty_regions.add(bar.size.region)  # make the stock path render afresh
            stock = [ScrollBar.render_line(bar, y) for y in range(height)]
            assert cells(ours) == cells(stock), (virtual, position)


async def test_switching_all_day_does_not_pile_up_widgets(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app

        def alive(kind: type) -> int:
            gc.unfreeze()  # frozen objects are not listed by gc.get_objects()
            gc.collect()
            count = sum(1 for o in gc.get_objects() if type(o) is kind)
            gc.freeze()
            return count

        for _ in range(3):
            await pilot.press("ctrl+k", "a", "enter")
            await settle(pilot)
        keys, caches = alive(FooterKey), alive(StylesCache)
        for _ in range(15):  # each switcher and each focus change recomposes the footer
            await pilot.press("ctrl+k", "a", "enter", "escape")
            await settle(pilot)
        assert alive(FooterKey) <= keys + 2
        assert alive(StylesCache) <= caches + 12
        assert isinstance(app.screen.query_one(ChatList), ChatList)


async def test_the_startup_heap_is_frozen_while_the_desk_runs(tmp_path: Path) -> None:
    from tgtriage.core.system.gc_policy import THOROUGH_EVERY

    thresholds = gc.get_threshold()
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        await pilot.pause()
        assert gc.isenabled()
        frozen = gc.get_freeze_count()
        assert frozen > 10_000
        collector = desk.app.collector
        # A full collection that comes due runs after a frame and freezes its survivors.
        while gc.get_count()[2] < gc.get_threshold()[2]:
            gc.collect(1)
        assert collector.after_frame() == "full"
        assert gc.get_freeze_count() >= frozen
        # The thorough tidy-up waits for a quiet moment and for its quarter of an hour.
        assert not collector.when_idle(idle_for=0.5)
        assert collector.when_idle(idle_for=5.0, now=collector.thorough_at + THOROUGH_EVERY + 1)
        assert gc.get_freeze_count() > 10_000
    assert gc.get_freeze_count() == 0
    assert gc.isenabled() and gc.get_threshold() == thresholds
    assert isinstance(desk.app, DeskApp)


# ------------------------------------------------------------------ one frame for typing


def _frames_of(app: DeskApp) -> list[str]:
    """Record the screen text at every frame from now on."""
    frames: list[str] = []
    original = app._display

    def record(screen: Any, renderable: Any) -> None:
        original(screen, renderable)
        if renderable is not None:
            frames.append(screen_text(app))

    app._display = record  # type: ignore[method-assign]
    return frames


async def test_the_template_popup_is_in_the_frame_that_shows_the_slash(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        await settle(pilot)
        frames = _frames_of(app)
        for key in ("slash", "g", "r"):
            frames.clear()
            await pilot.press(key)
            await wait_for(pilot, lambda: bool(frames), "a frame")
            assert "/greet" in frames[0], f"the first frame after {key!r} shows the popup"
        # Esc keeps it closed while the same word goes on; after the text is replaced
        # (another chat's draft, a sent reply) a new "/" opens it again.
        await pilot.press("escape", "e")
        await settle(pilot)
        assert "/greet" not in screen_text(app)
        from tgtriage.tui.composer import Composer

        app.query_one(Composer).load("")
        await pilot.press("slash")
        await wait_for(pilot, lambda: "/greet" in screen_text(app), "the popup again")


async def test_the_switcher_filters_in_the_frame_that_shows_the_letter(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+k")
        await settle(pilot)
        frames = _frames_of(app)
        for key, expected in (("h", None), ("o", None), ("o", "Hooli")):
            frames.clear()
            await pilot.press(key)
            await wait_for(pilot, lambda: bool(frames), "a frame")
            boxed = [line.split("│")[1] for line in frames[0].splitlines() if line.count("│") >= 2]
            rows = [row for row in boxed if "· Support" in row]  # inside the switcher's box
            assert rows
            if expected:
                assert expected in rows[0]
            assert all("Acme" not in row for row in rows), "filtered in that same frame"
        await pilot.press("escape")


async def test_the_switcher_comes_back_empty_and_current(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+k", "z", "z", "z", "escape")
        await settle(pilot)
        target = app.inbox.next_waiting()
        assert target is not None
        await app.inbox.mark_handled(target)  # the order changes while the switcher is away
        await settle(pilot)
        await pilot.press("ctrl+k")
        await settle(pilot)
        from textual.widgets import Input, OptionList

        assert app.screen.query_one(Input).value == ""
        listed = app.screen.query_one(OptionList)
        ids = [int(listed.get_option_at_index(i).id or 0) for i in range(listed.option_count)]
        assert ids == app.inbox.order()[: len(ids)]


# ------------------------------------------------------------------ modal backgrounds, lists


def test_the_dimmed_background_tints_as_textual_does() -> None:
    from textual.color import Color
    from textual.renderables.background_screen import BackgroundScreen
    from tgtriage.tui.screens import DimmedBackground

    styles = [
        None,
        Style(color="#ff8800"),
        Style(bgcolor="#123456"),
        Style(color="red", bgcolor="#000000", bold=True),
        Style(color="#00ff00", meta={"@click": "app.quit"}),
        Style(link="https://example.com", color="#eeeeee"),
    ]
    strip = Strip([Segment(f"s{i}", style) for i, style in enumerate(styles)])
    for color in (Color(10, 10, 10, 0.6), Color(0, 0, 0, 0.0), Color(200, 30, 30, 0.25)):
        base = Style(color="#e0e0e0", bgcolor="#121212")
        ours = DimmedBackground._tint(strip, color, base)
        theirs = [
            Segment(s.text, base + s.style)
            for s in BackgroundScreen.process_segments(list(strip), color)
        ]
        assert cells([ours]) == cells([theirs])


async def test_the_switcher_list_draws_options_as_option_list_does(tmp_path: Path) -> None:
    from textual.content import Content
    from textual.widgets import OptionList
    from textual.widgets.option_list import Option
    from tgtriage.tui.switcher import SwitcherList

    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+k")
        await settle(pilot)
        listed = app.screen.query_one(SwitcherList)
        width = listed.scrollable_content_region.width
        labels = [
            Content("Acme · Support"),
            Content.assemble(Content("Hooli · Support").stylize("reverse", 0, 2), ("  w", "dim")),
            Content("x" * (width + 5)),  # too wide: OptionList's own path
            Content("漢字 · Support"),
        ]
        styles = [listed.get_visual_style("option-list--option")]
        styles.append(
            listed.get_visual_style("option-list--option", "option-list--option-highlighted")
        )
        for label in labels:
            option = Option(label, id="probe")
            listed._option_to_index[option] = 0
            for style in styles:
                ours = listed._get_option_render(option, style)
                listed._option_render_cache.clear()
                theirs = OptionList._get_option_render(listed, option, style)
                listed._option_render_cache.clear()
                assert cells(ours) == cells(theirs), label.plain
                assert [s._segments for s in ours] == [s._segments for s in theirs]
        await pilot.press("escape")


async def test_the_line_scrollbar_repaints_every_row_the_thumb_leaves(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk, size=(100, 30)) as pilot:
        bar = desk.app.query_one(ChatList).vertical_scrollbar
        assert isinstance(bar, LineScrollBar)
        steps = [(40, 0), (40, 5), (40, 9.5), (300, 9.5), (300, 120), (300, 270), (45, 2)]
        for virtual, position in steps * 2:
            bar.window_virtual_size = virtual
            bar.position = position
            await pilot.pause()
            region = bar.size.region
            painted = [bar._styles_cache._cache.get(y) for y in range(region.height)]
            ScrollBar.refresh(bar)  # everything, as the stock widget would
            fresh = bar.render_lines(region)
            assert cells([p for p in painted if p is not None]) == cells(fresh), (virtual, position)


async def test_the_list_stays_on_the_queue_until_the_engineer_goes_back_to_it(
    tmp_path: Path,
) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk, size=(100, 14)) as pilot:
        app = desk.app
        chat_list = app.query_one(ChatList)
        visible = chat_list.size.height
        far = chat_list.chat_ids[-1]  # below the visible rows
        assert chat_list.chat_ids.index(far) >= visible
        await app.inbox.pin(far, 9)
        await settle(pilot)
        await pilot.press("ctrl+n")  # the composer has focus from here on
        await settle(pilot)
        top = chat_list.scroll_y
        await pilot.press("alt+9")
        await settle(pilot)
        assert app.inbox.open_chat_id == far
        assert chat_list.scroll_y == top, "opening a slot leaves the list where it was"
        await pilot.press("escape")  # back to the list: it shows the open chat
        await settle(pilot)
        assert chat_list.scroll_y > top
        title = app.inbox.chats[far].title
        assert any(title in line for line in screen_text(app).splitlines())
        await pilot.press("ctrl+n")
        await settle(pilot)
        chat_list.scroll_home(animate=False, immediate=True)
        for _ in range(visible + 2):  # walking the list order follows it
            await pilot.press("alt+down")
        await settle(pilot)
        index = chat_list.chat_ids.index(app.inbox.open_chat_id or 0)
        assert chat_list.scroll_y <= index < chat_list.scroll_y + visible
