"""The desk's lists and bars drawn fast but as Rich and Textual would draw them: chat rows,
scrollbars, the switcher's options, dimmed backgrounds, and where the list stays scrolled."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from tgtriage.tui.chat_list import ChatList
from tgtriage.tui.rows import RowModel
from tgtriage.tui.scrollbar import LineScrollBar

from tests.desk_harness import (
    CONSOLE,
    cells,
    make_desk,
    run_desk,
    screen_text,
    settle,
)

pytestmark = pytest.mark.usefixtures("utc_times")  # times on screen in UTC


# ----------------------------------------------------------------- rows


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


# ----------------------------------------------------------------- scrollbars


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


# ----------------------------------------------------------------- modal backgrounds, lists


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
    from tgtriage.tui.screens import SwitcherList

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
