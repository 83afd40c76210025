"""tui/textual_compat/: the private Textual/Rich members it relies on still exist as used,
and each work-around still does its job (a Textual or Rich upgrade must fail here first)."""

from __future__ import annotations

import contextlib
import gc
import inspect
import weakref
from typing import Any

import pytest
from textual import events
from textual._compositor import Compositor
from textual._parser import ParseError
from textual._styles_cache import StylesCache
from textual._xterm_parser import XTermParser
from textual.app import App, ComposeResult
from textual.color import Color
from textual.css.stylesheet import Stylesheet
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.widget import Widget
from textual.widgets import Footer, Input, OptionList, TextArea
from textual.widgets.option_list import Option
from tgtriage.tui import textual_compat as compat

compat.apply()


def params(member: Any) -> list[str]:
    """The parameter names of a function or method (without self)."""
    return [name for name in inspect.signature(member).parameters if name != "self"]


# ----------------------------------------------------------------- the members relied on


@pytest.mark.parametrize(
    ("owner", "name", "expected"),
    [
        (TextArea, "_on_key", ["event"]),
        (TextArea, "_undo_batch", ["edits"]),
        (TextArea, "_redo_batch", ["edits"]),
        (TextArea, "_restart_blink", []),
        (TextArea, "_toggle_cursor_blink_visible", []),
        (TextArea, "_pause_blink", ["visible"]),
        (TextArea, "_replace_via_keyboard", ["insert", "start", "end"]),
        (TextArea, "_refresh_size", []),
        (Input, "_watch_value", ["value"]),
        (App, "_display", ["screen", "renderable"]),
        (App, "_start_widget", ["parent", "widget"]),
        (Widget, "_scroll_update", ["virtual_size"]),
        (OptionList, "_update_lines", []),
        (Compositor, "_get_renders", ["crop"]),
        (Compositor, "render_partial_update", []),
        (Compositor, "update_widgets", ["widgets"]),
        (Compositor, "reflow", ["parent", "size"]),
        (Compositor, "_arrange_root", ["root", "size", "visible_only"]),
        (Screen, "_compositor_refresh", []),
        (OptionList, "_on_resize", []),
        (OptionList, "_clear_caches", []),
        (ScrollView, "_size_updated", ["size", "virtual_size", "container_size", "layout"]),
        (OptionList, "_get_visual", ["option"]),
        (OptionList, "_get_option_render", ["option", "style"]),
        (OptionList, "_get_left_gutter_width", []),
        (App, "update_styles", ["node", "animate"]),
        (Stylesheet, "apply", ["node", "animate", "cache"]),
        (Stylesheet, "replace_rules", ["node", "rules", "animate"]),
    ],
)
def test_overridden_and_called_methods_keep_their_signature(
    owner: type, name: str, expected: list[str]
) -> None:
    assert params(getattr(owner, name)) == expected


async def test_private_attributes_read_are_there() -> None:
    class Probe(App[None]):
        def compose(self) -> ComposeResult:
            yield OptionList(Option("one"), id="list")
            yield Input(id="field")
            yield TextArea(id="area")
            yield Footer()

    app = Probe()
    async with app.run_test() as pilot:
        await pilot.pause()
        key = compat.FooterKey("f1", "F1", "Help", "help")  # tui/footer.py fits keys by these
        assert (key.key_display, key.description, key.action) == ("F1", "Help", "help")
        widget = app.query_one("#list", OptionList)
        assert isinstance(widget._dirty_regions, set)
        assert hasattr(widget, "_vertical_scrollbar")
        assert hasattr(widget, "_line_cache") and hasattr(widget._line_cache, "heights")
        assert isinstance(widget._option_to_index, dict)
        assert callable(widget._get_style)
        assert isinstance(widget.options[0]._divider, bool)
        assert isinstance(compat.line_filters(app), list)
        assert compat.input_suggestion(app.query_one("#field", Input)) == ""
        assert app.query_one("#area", TextArea)._theme is not None
        assert compat.bindings_ready(app.query_one(Footer))
        assert app.screen._compositor.render_strips(app.size)
        assert isinstance(widget._repaint_regions, set)
        assert isinstance(app.screen._compositor.visible_widgets, dict)
        assert isinstance(app.screen._compositor._full_map_invalidated, bool)
        assert isinstance(app.screen._compositor._full_map, dict)
        assert isinstance(app.query_one("#area", TextArea)._component_styles, dict)


# ----------------------------------------------------------------- each work-around works


def keys_of(data: str) -> list[str]:
    """The key names Textual's parser makes of `data`."""
    parser = XTermParser()
    parsed = list(parser.feed(data))
    with contextlib.suppress(ParseError):
        parsed += list(parser.feed(""))
    return [event.key for event in parsed if hasattr(event, "key")]


def test_esc_digit_is_alt_digit_and_typed_option_characters_stay_characters() -> None:
    assert keys_of("\x1b3") == ["alt+3"]
    assert keys_of("\x1b0") == ["alt+0"]
    assert keys_of("£") == ["pound_sign"]
    assert keys_of("•") == ["bullet"]
    assert keys_of("\x1bh") == ["alt+h"]  # other Alt keys as Textual reads them


def test_an_alt_key_from_the_terminal_carries_no_character() -> None:
    """ESC n is Alt+N: with the character 'n' a dialog's field typed it (tags 'billingn')."""

    def parsed(data: str) -> list[tuple[str, str | None]]:
        parser = XTermParser()
        found = list(parser.feed(data))
        with contextlib.suppress(ParseError):
            found += list(parser.feed(""))
        return [(e.key, e.character) for e in found if isinstance(e, events.Key)]

    assert parsed("\x1bn") == [("alt+n", None)]
    assert parsed("\x1bN") == [("alt+shift+n", None)]
    assert parsed("n") == [("n", "n")]


def test_styles_cache_inner_outer_does_not_keep_widgets_caches_alive() -> None:
    cache = StylesCache()
    first = cache.get_inner_outer(Color(0, 0, 0), Color(10, 20, 30))
    alive = weakref.ref(cache)
    del cache
    gc.collect()
    assert alive() is None
    assert StylesCache().get_inner_outer(Color(0, 0, 0), Color(10, 20, 30)) == first


async def test_undo_of_a_multi_line_insertion_that_hides_the_scrollbar_does_not_crash() -> None:
    replayed: list[str] = []

    class Area(compat.HookedTextArea):
        def history_replayed(self) -> None:
            replayed.append(self.text)

    class Probe(App[None]):
        CSS = "Area { height: 4; }"

        def compose(self) -> ComposeResult:
            yield Area(soft_wrap=True)

    app = Probe()
    async with app.run_test(size=(40, 12)) as pilot:
        area = app.query_one(Area)
        area.focus()
        await pilot.press("/", "d")
        area.replace("\n".join(f"line {n}" for n in range(8)), (0, 0), (0, 2))
        area.move_cursor(area.document.end)
        await pilot.pause()
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert area.text == "/d"
        assert replayed == ["/d"]
        assert app.return_code is None  # still running: nothing raised


async def test_hooks_report_keys_values_and_frames() -> None:
    seen: list[str] = []

    class Area(compat.HookedTextArea):
        def take_key(self, event: Any) -> bool:
            if event.key == "enter":
                seen.append("enter")
                return True
            return False

    class Field(compat.HookedInput):
        def value_now(self, value: str) -> None:
            seen.append(f"value {value}")

    class Probe(compat.HookedApp[None]):
        def compose(self) -> ComposeResult:
            yield Area(id="area")
            yield Field(id="field")

        def frame_displayed(self) -> None:
            seen.append("frame")

    app = Probe()
    async with app.run_test() as pilot:
        app.query_one(Area).focus()
        await pilot.press("a", "enter")
        assert app.query_one(Area).text == "a"
        app.query_one(Field).value = "x"
        assert "value x" in seen
        assert "enter" in seen
        await pilot.pause()
        assert "frame" in seen
        assert app.write_between_frames("\a") is False  # headless: no terminal to write to


class Looks(compat.HookedApp[None]):
    """Two text areas whose frame and cursor line change colour with the focus."""

    CSS = """
    TextArea { border: round blue; }
    TextArea:focus { border: round $accent; }
    TextArea.-note:focus { border: heavy yellow; }
    TextArea:focus > .text-area--cursor-line { background: green; }
    """

    def compose(self) -> ComposeResult:
        yield TextArea("one", id="one")
        yield TextArea("two", id="two")


def look(area: TextArea) -> tuple[str, Color, Color | None]:
    """The frame's kind and colour and the cursor line's background, as drawn."""
    kind, colour = area.styles.border_top
    return kind, colour, area.get_component_styles("text-area--cursor-line").background


def fresh_look(app: App[Any], area: TextArea) -> tuple[str, Color, Color | None]:
    """The look Textual's own restyle gives the area now."""
    Stylesheet.update_nodes(app.stylesheet, [area])
    return look(area)


async def test_focus_moving_back_and_forth_restyles_from_memory_as_textual_would() -> None:
    app = Looks()
    async with app.run_test() as pilot:
        one, two = app.query_one("#one", TextArea), app.query_one("#two", TextArea)
        accent = fresh_look(app, one)[1]  # the theme's accent as Textual works it out
        two.focus()
        await pilot.pause()
        assert fresh_look(app, two)[1] == accent
        for _ in range(3):
            for focused, other in ((one, two), (two, one)):
                focused.focus()
                await pilot.pause()
                assert look(focused)[:2] == ("round", accent)
                assert look(other)[:2] == ("round", Color.parse("blue"))
                assert look(focused)[2] != look(other)[2]
                assert look(focused) == fresh_look(app, focused)
                assert look(other) == fresh_look(app, other)
        assert app._look_memo is not None and app._look_memo.hits >= 8
        one.add_class("-note")  # a class of its own: another look, not the kept one
        one.focus()
        await pilot.pause()
        assert look(one)[:2] == ("heavy", Color.parse("yellow"))


async def test_a_theme_change_is_not_hidden_by_the_kept_looks() -> None:
    app = Looks()
    async with app.run_test() as pilot:
        one, two = app.query_one("#one", TextArea), app.query_one("#two", TextArea)
        for area in (one, two, one, two):
            area.focus()
            await pilot.pause()
        before = look(two)
        app.theme = "nord"
        await pilot.pause()
        one.focus()
        await pilot.pause()
        two.focus()
        await pilot.pause()
        assert look(two)[1] != before[1], "the new theme's accent"
        assert look(two) == fresh_look(app, two)


def test_every_patch_is_installed_once() -> None:
    compat.apply()
    assert getattr(Compositor._get_renders, "_tgtriage_fixed", False)
    assert getattr(StylesCache.get_inner_outer, "_tgtriage_fixed", False)
    assert getattr(XTermParser._sequence_to_key_events, "_tgtriage_fixed", False)
