"""The stats screen in the desk under Pilot: F4 and the palette open it, ranges switch, the
figures are the live store's and follow it when the screen is opened again."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Static
from tgtriage.core.desk import events as ev
from tgtriage.core.desk.models import Message, User
from tgtriage.core.reports.stats import inbox_stats
from tgtriage.core.storage.store import StoreError
from tgtriage.tui.app import DeskApp
from tgtriage.tui.screens import HelpScreen
from tgtriage.tui.stats import StatsScreen

from tests.desk_harness import (
    Desk,
    conversation_text,
    make_desk,
    run_desk,
    screen_text,
    settle,
    type_text,
    wait_for,
)

pytestmark = pytest.mark.usefixtures("utc_times")  # times on screen in UTC


async def open_stats(pilot: object, app: DeskApp, key: str = "f4") -> StatsScreen:
    """Press `key` and wait until the stats screen has its figures."""
    loads = app.screen.loads if isinstance(app.screen, StatsScreen) else 0
    await pilot.press(key)  # type: ignore[attr-defined]
    await wait_for(
        pilot,  # type: ignore[arg-type]
        lambda: isinstance(app.screen, StatsScreen) and app.screen.loads > loads,
        "the stats to be computed",
    )
    await settle(pilot)  # type: ignore[arg-type]
    screen = app.screen
    assert isinstance(screen, StatsScreen)
    return screen


def tab_strip(app: DeskApp) -> str:
    """The range strip (the screen's first line)."""
    return screen_text(app).splitlines()[0]


def replies_shown(app: DeskApp) -> int:
    """The reply count of the summary line."""
    found = re.search(r"· (\d+) replies", screen_text(app))
    assert found, screen_text(app)
    return int(found.group(1))


async def test_f3_shows_the_figures_of_the_live_store(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        screen = await open_stats(pilot, app)
        expected = await inbox_stats(desk.inbox)
        assert screen.stats == expected
        week = expected.ranges["7d"].report
        shown = screen_text(app)
        assert "[7 days]" in tab_strip(app) and "as of Tue 05 Mar 10:30 UTC" in tab_strip(app)
        assert replies_shown(app) == week.total.count > 0
        assert f"Unanswered {len(week.unanswered)}" in shown
        for _sid, (name, summary) in week.per_staff.items():
            row = next(line for line in shown.splitlines() if line.startswith(f" {name} "))
            assert ("█" in row) == (summary.count > 0)
            assert row.rstrip().endswith(str(summary.count))
        assert "Median reply time per day" in shown and "Wed 28" in shown
        assert "Customer messages by hour (UTC)" in shown
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
            assert f"\n {day} " in shown


async def test_keys_switch_between_today_7_days_and_30_days(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        screen = await open_stats(pilot, app)
        assert screen.stats is not None
        counts = {k: r.report.total.count for k, r in screen.stats.ranges.items()}
        assert counts["today"] <= counts["7d"] <= counts["30d"]
        for key, expected in (
            ("tab", "30d"),
            ("tab", "today"),
            ("shift+tab", "30d"),
            ("left", "7d"),
            ("right", "30d"),
            ("1", "today"),
            ("2", "7d"),
            ("3", "30d"),
        ):
            await pilot.press(key)
            await settle(pilot)
            label = {"today": "Today", "7d": "7 days", "30d": "30 days"}[expected]
            assert f"[{label}]" in tab_strip(app), (key, tab_strip(app))
            assert replies_shown(app) == counts[expected]
        await pilot.press("1")
        await settle(pilot)
        assert "Median reply time per hour" in screen_text(app)


async def test_reopening_shows_a_reply_sent_meanwhile(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        screen = await open_stats(pilot, app)
        assert screen.stats is not None
        before = screen.stats.ranges["today"].report
        await pilot.press("escape")
        assert not isinstance(app.screen, StatsScreen)
        await pilot.press("ctrl+n")
        chat_id = inbox.open_chat_id
        assert chat_id is not None
        await type_text(pilot, "On it now")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not inbox.outbox.get(chat_id), "the reply delivered")
        await pilot.press("escape")
        screen = await open_stats(pilot, app)
        await pilot.press("1")
        await settle(pilot)
        assert screen.stats is not None
        after = screen.stats.ranges["today"].report
        assert after.total.count == before.total.count + 1
        assert len(after.unanswered) == len(before.unanswered) - 1
        assert replies_shown(app) == after.total.count


async def test_refresh_recomputes_while_open(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        screen = await open_stats(pilot, app)
        first = screen.stats
        assert first is not None
        desk.clock.advance(600)  # ten minutes on: the demo's customers write, waits age
        await settle(pilot)
        await open_stats(pilot, app, key="r")
        assert screen.stats is not None and screen.stats.now == first.now + 600


async def test_escape_q_and_f3_go_back_to_the_desk(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        for close in ("escape", "q", "f4"):
            await open_stats(pilot, app)
            await pilot.press(close)
            await settle(pilot)
            assert not isinstance(app.screen, StatsScreen), close
            assert "waiting:" in screen_text(app).splitlines()[-2]


async def test_the_palette_and_help_offer_the_stats(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=100, file=io.StringIO())
        console.print(app.screen.query_one("#help-text", Static).content)
        help_text = console.file.getvalue()  # type: ignore[attr-defined]
        assert re.search(r"F4\s+Reply-time stats: today, 7 days, 30 days", help_text)
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await type_text(pilot, "stats")
        await wait_for(
            pilot,
            lambda: "Reply-time stats: today, 7 days, 30 days (F4)" in screen_text(app),
            "the palette to list the stats",
        )
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, StatsScreen) and app.screen.loads > 0,
            "the palette to open the stats",
        )


async def test_the_stats_key_can_be_remapped(tmp_path: Path) -> None:
    desk = make_desk(tmp_path, keymap={"stats": "f6"})
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("f4")
        await settle(pilot)
        assert not isinstance(app.screen, StatsScreen)
        await open_stats(pilot, app, key="f6")


async def test_a_store_problem_is_one_line_on_the_screen(desk: Desk) -> None:
    async def broken() -> object:
        raise StoreError(desk.db_path, f"{desk.db_path}: database is locked; is another running?")

    async with run_desk(desk) as pilot:
        app = desk.app
        screen = StatsScreen(broken)  # type: ignore[arg-type]
        app.push_screen(screen)
        await wait_for(pilot, lambda: screen.loads == 1, "the failed load")
        assert screen.error is not None and "\n" not in screen.error
        assert screen.error.startswith("Could not compute the stats: ")
        shown = " ".join(line.strip() for line in screen_text(app).splitlines())
        assert "database is locked; is another running?" in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, StatsScreen)


async def test_80x24_without_colour_shows_every_picture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    desk = make_desk(tmp_path)
    async with run_desk(desk, size=(80, 24)) as pilot:
        app = desk.app
        assert app.no_color
        await open_stats(pilot, app)
        lines = screen_text(app).splitlines()
        assert len(lines) == 24 and max(len(line) for line in lines) <= 80
        text = "\n".join(lines)
        assert "[7 days]" in lines[0]  # the current range is bracketed, not only reversed
        assert re.search(r"█+░+", text), "staff bars: █ to the median, ░ on to the p90"
        assert "• fresh" in text and "⚠ breached" in text  # what the level marks mean
        title = next(i for i, line in enumerate(lines) if "Median reply time" in line)
        spark = lines[title + 1]
        assert set(spark.strip()) <= set("▁▂▃▄▅▆▇█· ") and len(set(spark.strip()) - {" "}) > 1
        heat = [line for line in lines if re.match(r" (mon|tue|wed|thu|fri|sat|sun) ", line)]
        assert len(heat) == 7, "all seven weekdays fit on an 80×24 screen"
        assert set("".join(heat)) & set("░▒▓█") and "· 0" in text


async def test_messages_that_arrive_while_the_stats_are_open_are_shown_after(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        chat_id = inbox.open_chat_id
        assert chat_id is not None
        await open_stats(pilot, app)
        customer = User(id=880_001, first_name="Latecomer")
        late = Message(
            chat_id=chat_id,
            id=10**7,
            date=inbox.now(),
            sender_id=customer.id,
            sender_name=customer.first_name,
            text="are you still there?",
        )
        inbox.submit(ev.NewMessage(late, customer))
        await wait_for(pilot, lambda: inbox.triage[chat_id].last_msg_id == 10**7, "the message")
        await settle(pilot)
        await pilot.press("escape")
        await wait_for(
            pilot,
            lambda: "are you still there?" in conversation_text(app),
            "the conversation to show what arrived behind the stats",
        )
        assert "are you still there?" in screen_text(app)
