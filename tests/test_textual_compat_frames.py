"""tui/textual_compat/ paint path: a partial update renders only what shows, one frame holds every
repaint asked before it, and layouts leave what did not change alone."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.geometry import Region, Size
from textual.screen import Screen
from textual.strip import Strip
from textual.widgets import Static
from textual.widgets.option_list import Option
from tgtriage.tui import textual_compat as compat

from tests.terminal_copy import Terminal, cells, differences


async def test_a_partial_update_renders_only_its_lines() -> None:
    asked: list[Region] = []

    class Tall(Static):
        def render_lines(self, crop: Region) -> Any:
            asked.append(crop)
            return super().render_lines(crop)

    class Probe(App[None]):
        def compose(self) -> ComposeResult:
            yield Tall("\n".join(f"line {n}" for n in range(10)))

    app = Probe()
    async with app.run_test(size=(20, 10)) as pilot:
        await pilot.pause()
        asked.clear()
        renders = list(app.screen._compositor._get_renders(Region(0, 3, 20, 1)))
        assert asked and all(crop.height == 1 for crop in asked)
        assert all(len(lines) == 1 for _, _, lines in renders)


class Layered(App[None]):
    """A tall text under a box drawn in a layer over it, and a line beside it."""

    CSS = """
    Screen { layers: default box; align: center middle; }
    #box { layer: box; width: 20; height: 5; display: none; background: blue; }
    #under { height: 10; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.terminal = Terminal()
        self.asked: list[tuple[str, Region]] = []

    def compose(self) -> ComposeResult:
        yield Asking("box", id="box")
        yield Asking("\n".join(f"line {n} " * 4 for n in range(10)), id="under")
        yield Asking("beside", id="beside")

    def _display(self, screen: Any, renderable: Any) -> None:
        super()._display(screen, renderable)
        if renderable is not None:
            self.terminal.apply(renderable)


class Asking(Static):
    """A Static that notes each crop it is asked to render."""

    def render_lines(self, crop: Region) -> Any:
        app = self.app
        assert isinstance(app, Layered)
        app.asked.append((str(self.id), crop))
        return super().render_lines(crop)


async def test_a_box_shown_over_a_widget_does_not_render_the_widget_under_it() -> None:
    app = Layered()
    async with app.run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        app.asked.clear()
        app.query_one("#box").display = True
        await pilot.pause()
        assert "box" in {name for name, _ in app.asked}
        assert "under" not in {name for name, _ in app.asked}  # wholly covered by the box
        app.asked.clear()
        app.query_one("#beside", Static).update("next")
        await pilot.pause()
        assert {name for name, _ in app.asked} == {"beside"}  # alone in the updated region


async def test_what_the_terminal_shows_after_partial_updates_is_the_screen() -> None:
    app = Layered()
    async with app.run_test(size=(40, 12)) as pilot:
        under = app.query_one("#under", Static)
        for step in range(6):
            app.query_one("#box").display = step % 2 == 0
            under.update("\n".join(f"step {step} row {n} " * 3 for n in range(10)))
            app.query_one("#beside", Static).update(f"beside {step}")
            await pilot.pause()
            await pilot.pause()
            full = app.screen._compositor.render_strips()
            assert not differences(app.terminal.lines(40, 12), cells(full, 40)), f"step {step}"


class Quiet(App[None]):
    """Two lines on a QuietFocusScreen; a frame is recorded with what each line showed."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[list[str]] = []

    def get_default_screen(self) -> Screen[Any]:
        return compat.QuietFocusScreen(id="_default")

    def compose(self) -> ComposeResult:
        yield Static("top 0", id="top")
        yield Static("bottom 0", id="bottom")

    def _display(self, screen: Any, renderable: Any) -> None:
        super()._display(screen, renderable)
        if renderable is not None:
            self.frames.append(
                [strip.text.strip() for strip in screen._compositor.render_strips()[:2]]
            )


async def test_a_frame_holds_every_repaint_asked_for_before_it() -> None:
    app = Quiet()
    async with app.run_test(size=(20, 4)) as pilot:
        await pilot.pause()
        top, bottom = app.query_one("#top", Static), app.query_one("#bottom", Static)
        for step in range(1, 4):
            app.frames.clear()
            top.update(f"top {step}")
            bottom.update(f"bottom {step}")
            app.screen._compositor_refresh()  # a frame now, before either widget has idled
            assert app.frames == [[f"top {step}", f"bottom {step}"]]
            await pilot.pause()
            await pilot.pause()
            assert len(app.frames) == 1, "nothing left for a second frame"


async def test_an_option_list_refilled_at_the_same_width_keeps_its_drawn_options() -> None:
    class Probe(App[None]):
        CSS = "OneLineOptionList { height: 8; scrollbar-gutter: stable; }"

        def compose(self) -> ComposeResult:
            yield compat.OneLineOptionList(*[Option(Content(f"chat {n}")) for n in range(3)])

    app = Probe()
    async with app.run_test(size=(30, 10)) as pilot:
        await pilot.pause()
        options = app.query_one(compat.OneLineOptionList)
        cleared: list[str] = []
        original = options._clear_caches

        def clear() -> None:
            cleared.append("cleared")
            original()

        options._clear_caches = clear  # type: ignore[method-assign]
        options.display = False  # a dialog's list, closed, refilled and shown again
        await pilot.pause()
        options.add_options([Option(Content(f"chat {n}")) for n in range(3, 40)])
        options.display = True
        await pilot.pause()
        await pilot.pause()
        assert options.virtual_size.height == 40  # shown again: Textual sent a Resize
        assert cleared == []
        assert options.get_option_at_index(39).prompt.plain == "chat 39"


async def test_refreshing_a_hidden_widget_does_not_lay_the_screen_out_again() -> None:
    class Probe(App[None]):
        CSS = "#box { display: none; }"

        def compose(self) -> ComposeResult:
            yield Static("shown", id="shown")
            with Vertical(id="box"):  # a closed dialog
                yield Static("", id="inner")

    app = Probe()
    async with app.run_test(size=(30, 6)) as pilot:
        await pilot.pause()
        compositor = app.screen._compositor
        arranged: list[bool] = []
        original = compositor._arrange_root

        def arrange(*args: Any, **kwargs: Any) -> Any:
            arranged.append(True)
            return original(*args, **kwargs)

        compositor._arrange_root = arrange  # type: ignore[method-assign]
        inner = app.query_one("#inner", Static)
        for _ in range(3):  # the closed dialog's widgets repainted (refilled) and measured
            inner.refresh()
            await pilot.pause()
            assert inner.size.width == 0
        assert arranged == []
        app.query_one("#shown", Static).update("a longer line\nand another")
        await pilot.pause()
        assert arranged  # a real layout still happens
        app.query_one("#box").display = True
        await pilot.pause()
        assert inner.size.width == 30  # shown: placed by the layout


async def test_a_layout_of_the_screen_leaves_a_self_sized_scroll_views_scrollbar_alone() -> None:
    class Lines(compat.SelfSizedScrollView):
        def on_mount(self) -> None:
            self.virtual_size = Size(10, 100)

        def render_line(self, y: int) -> Strip:
            return Strip.blank(self.size.width)

    class Probe(App[None]):
        CSS = "#box { display: none; } Lines { height: 5; }"

        def compose(self) -> ComposeResult:
            yield Lines()
            yield Static("a dialog", id="box")

    app = Probe()
    async with app.run_test(size=(30, 8)) as pilot:
        await pilot.pause()
        lines = app.query_one(Lines)
        bar = lines.vertical_scrollbar
        assert lines.show_vertical_scrollbar and bar.window_virtual_size == 100
        repainted: list[bool] = []
        original = bar.refresh

        def refresh(*args: Any, **kwargs: Any) -> Any:
            repainted.append(True)
            return original(*args, **kwargs)

        bar.refresh = refresh  # type: ignore[method-assign]
        for shown in (True, False, True):
            app.query_one("#box").display = shown  # a layout of the whole screen
            await pilot.pause()
        assert repainted == []
        assert lines.virtual_size == Size(10, 100)
