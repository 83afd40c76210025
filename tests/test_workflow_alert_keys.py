"""Alerts, reminders, teammates' signals and business hours on the desk (split from tests/test_workflow_keys.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tgtriage.core.desk import events as ev
from tgtriage.core.rules.alerts import MOST_AT_ONCE, AlertKind
from tgtriage.core.system.config import Config

from tests.desk_harness import (
    FIXED_NOW,
    Desk,
    chat_id_by_title,
    details,
    header,
    make_desk,
    notices,
    open_next_waiting,
    row_of,
    run_desk,
    settle,
    status_line,
    wait_for,
    waiting_ids,
)

NOW = int(FIXED_NOW)


pytestmark = pytest.mark.usefixtures("utc_times")  # times on screen in UTC


# ----------------------------------------------------------------- alerts


def alert_desk(tmp_path: Path, env: dict[str, str], **alerts: object) -> tuple[Desk, list[str]]:
    """A desk whose terminal writes are captured, in the given environment."""
    written: list[str] = []
    cfg = Config(alerts=alerts) if alerts else Config()
    desk = make_desk(tmp_path, config=cfg)
    desk.app._terminal_write = written.append
    desk.app.env = env
    return desk, written


def advance(desk: Desk, seconds: int) -> None:
    """Move the desk's clock (the demo's live traffic follows)."""
    desk.clock.advance(seconds)


async def test_alerts_fire_once_per_level_through_bell_and_osc_and_not_for_the_backlog(
    tmp_path: Path,
) -> None:
    # the demo's handoff to you (core/desk/alert_watch.py) only toasts here: levels are tested
    desk, written = alert_desk(tmp_path, {"TMUX": "/tmp/tmux-0/default,1,0"}, reminder=["toast"])
    async with run_desk(desk) as pilot:
        app = desk.app
        assert app.check_alerts() == [], "the backlog is old: nothing at start-up"
        assert written == []
        initech = chat_id_by_title(app, "Initech")
        advance(desk, 240)  # Initech's customer: 1m05s → 5m05s, due
        await settle(pilot)
        fired = [a for a in app.check_alerts() if a.kind is AlertKind.LEVEL]
        assert (initech, 1) in [(a.chat_id, a.level) for a in fired]
        assert all(a.level == 1 for a in fired), "only what crossed 'due' just now"
        index = [a.chat_id for a in fired].index(initech)
        assert written[3 * index : 3 * index + 3] == [
            "\x07",
            "\x1bPtmux;\x1b\x1b]777;notify;tgtriage · Initech · Support;Waiting 5m: due"
            "\x1b\x1b\\\x1b\\",
            "\x1bPtmux;\x1b\x1b]9;tgtriage · Initech · Support: Waiting 5m: due\x1b\x1b\\\x1b\\",
        ]
        assert len(written) == 3 * len(fired), "bell, OSC 777, OSC 9 per alert"
        await settle(pilot)
        assert any("Waiting 5m: due" in n for n in notices(app)), "the in-app toast"
        assert app.check_alerts() == [], "no storm: once per level"
        assert len(written) == 3 * len(fired)
        advance(desk, 10 * 60)  # Initech: 15 minutes, late
        await settle(pilot)
        again = [(a.chat_id, a.level) for a in app.check_alerts()]
        assert (initech, 2) in again and (initech, 1) not in again


async def test_quiet_hours_keep_the_terminal_quiet(tmp_path: Path) -> None:
    desk, written = alert_desk(tmp_path, {}, quiet_hours="10:00-11:00")
    async with run_desk(desk) as pilot:
        app = desk.app
        advance(desk, 240)
        await settle(pilot)
        fired = [a for a in app.check_alerts() if a.kind is AlertKind.LEVEL]
        assert fired and {a.level for a in fired} == {1}
        assert written == [], "quiet hours: only the toast"
        await settle(pilot)
        assert any("Waiting 5m: due" in n for n in notices(app))
        assert "quiet hours" in status_line(app)


async def test_a_postponement_running_out_reminds_and_comes_back_up(tmp_path: Path) -> None:
    desk, written = alert_desk(tmp_path, {}, reminder=["toast", "bell"])
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        soylent = chat_id_by_title(app, "Soylent")
        await app.open_chat(soylent)
        await pilot.press("alt+p", "1")  # 15 minutes
        await settle(pilot)
        assert inbox.order()[-1] == soylent, "postponed: at the bottom"
        advance(desk, 15 * 60)
        await settle(pilot)
        app._tick()
        await settle(pilot)
        fired = [a for a in app.check_alerts() if a.chat_id == soylent]
        assert [a.body for a in fired] == ["Reminder: postponement ended"]
        assert "\x07" in written
        assert "◷" in row_of(app, soylent)
        assert "[◷ reminder]" in header(app)
        assert "reminder: postponement ended Tue 10:45" in details(app)
        await pilot.press("alt+h")  # acknowledged
        await settle(pilot)
        assert "◷" not in row_of(app, soylent)


# ----------------------------------------------------------------- team signals


async def test_a_typing_teammate_shows_in_the_row_and_header(desk: Desk) -> None:
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        chat_id = await open_next_waiting(pilot)
        inbox.submit(ev.Typing(chat_id, 1002, NOW + 6))
        await settle(pilot)
        assert "✎" in row_of(app, chat_id)
        assert "✎ Priya Shah typing…" in details(app)


async def test_a_teammates_reaction_counts_as_handled_with_the_config(tmp_path: Path) -> None:
    cfg = Config(staff={"reaction_handled": True})
    desk = make_desk(tmp_path, config=cfg)
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        stark = chat_id_by_title(app, "Stark")
        assert stark in waiting_ids(app), "Marcus said thanks 25 minutes ago"
        advance(desk, 60)  # Priya's scripted 👍 on that thanks lands after 50 s
        await wait_for(pilot, lambda: stark not in waiting_ids(app), "the reaction")
        assert inbox.triage[stark].waiting_since is None
        # The handled key sends the same reaction for the team to see.
        reacted: list[tuple[int, int, str]] = []
        send_reaction = desk.source.react

        async def recording(chat_id: int, message_id: int, emoji: str) -> None:
            reacted.append((chat_id, message_id, emoji))
            await send_reaction(chat_id, message_id, emoji)

        desk.source.react = recording  # type: ignore[method-assign]
        chat_id = await open_next_waiting(pilot)
        last_customer = [
            m
            for m in await inbox.store.messages(chat_id, limit=50)
            if inbox.role(m).value == "customer"
        ][-1]
        await pilot.press("alt+h")
        await wait_for(pilot, lambda: bool(reacted), "the reaction to be sent")
        assert reacted == [(chat_id, last_customer.id, "👍")]
        assert chat_id not in waiting_ids(app)


async def test_business_hours_pause_the_timers_on_screen(tmp_path: Path) -> None:
    # 10:30 UTC on a Tuesday, but this team starts at 11:00: every clock stands still.
    cfg = Config(business_hours={"enabled": True, "start": "11:00", "end": "19:00"})
    desk = make_desk(tmp_path, config=cfg)
    async with run_desk(desk, size=(120, 35)) as pilot:
        app, inbox = desk.app, desk.inbox
        chat_id = await open_next_waiting(pilot)
        assert "clocks paused until Tue 11:00" in status_line(app)
        row = row_of(app, chat_id)
        wait = inbox.wait(chat_id)
        assert wait is not None
        from tgtriage.core.rules.triage import format_wait

        assert f"({format_wait(wait)})" in row, "a paused timer is shown in brackets"
        assert "clock paused" in header(app)


async def test_many_alerts_at_once_send_a_few_whole_and_one_for_the_rest(tmp_path: Path) -> None:
    """Every waiting chat crossing a level in the same second (a night away, a laptop woken)
    rings a handful of times, not once per chat; the last one names how many more."""
    desk, written = alert_desk(tmp_path, {"TMUX": "/tmp/tmux-0/default,1,0"}, reminder=["toast"])
    async with run_desk(desk) as pilot:
        app = desk.app
        assert app.check_alerts() == []
        advance(desk, 3 * 3600)  # every waiting chat of the demo breaches at once
        await settle(pilot)
        fired = [a for a in app.check_alerts() if a.kind is AlertKind.LEVEL]
        assert len(fired) > MOST_AT_ONCE, "the demo's waiting chats cross a level together"
        assert written.count("\x07") == MOST_AT_ONCE, "one bell per alert sent"
        folded = f"{len(fired) - MOST_AT_ONCE + 1} more chats need you"
        assert sum(folded in w for w in written) == 2, "OSC 777 and OSC 9 of the folded alert"
        await settle(pilot)
        assert any("Ctrl+N walks the waiting chats" in n for n in notices(app))
