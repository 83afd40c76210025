"""Alerts: once per chat and level, silent for what was already so at start-up, reminders when a
postponement runs out or a due date passes, channels per level and quiet hours."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tgtriage.core.desk.alert_watch import Alerter, AlertWatcher
from tgtriage.core.desk.models import ChatTriage
from tgtriage.core.rules import triage
from tgtriage.core.rules.alerts import (
    Alert,
    AlertKind,
    Moment,
    Seen,
    channels_for,
    decide,
    in_quiet_hours,
)
from tgtriage.core.system.config import Alerts, Config
from tgtriage.core.system.notify import DesktopNotifier, TerminalNotifier

from tests.inbox_harness import (
    ACME,
    ALICE,
    BOB,
    GLOBEX,
    INITECH,
    ME,
    T0,
    Desk,
    FakeClock,
    config,
    new,
    running_desk,
)

LEVELS = (300, 900, 3600)
START = T0 + 10_000


def waiting(since: int, msg_id: int = 10, **kw: object) -> ChatTriage:
    """A chat whose customer waits since `since`."""
    return ChatTriage.model_validate(
        {"chat_id": 7, "last_msg_id": msg_id, "waiting_since": since, "waiting_msg_id": msg_id} | kw
    )


def at(state: ChatTriage, now: int, seen: Seen, started: int = START) -> tuple[list[Alert], Seen]:
    """Decide at `now` the way the watcher does (wall-clock levels)."""
    level_now = None if triage.is_parked(state, now) else triage.chat_level(state, now, LEVELS)
    since = state.waiting_since
    at_start = None
    if since is not None and since <= started:
        at_start = triage.level_for(started - since, LEVELS)
    return decide(state, "Acme · Support", Moment(now, started, level_now, at_start), seen)


# ---------------------------------------------------------------- the pure rule


def test_each_level_alerts_once_per_wait() -> None:
    state = waiting(START + 10)
    seen = Seen()
    fired = []
    for now in range(START, START + 4000, 7):
        alerts, seen = at(state, now, seen)
        fired += [(a.kind, a.level) for a in alerts]
    assert fired == [(AlertKind.LEVEL, 1), (AlertKind.LEVEL, 2), (AlertKind.LEVEL, 3)]


def test_a_jump_over_levels_is_one_alert_at_the_highest() -> None:
    state = waiting(START + 10)
    alerts, seen = at(state, START + 20, Seen())
    assert alerts == []
    alerts, seen = at(state, START + 10 + 3600, seen)  # e.g. the laptop slept for an hour
    assert [(a.level, a.body) for a in alerts] == [(3, "Waiting 1h: breached")]
    assert at(state, START + 7200, seen)[0] == []


def test_a_new_wait_alerts_again() -> None:
    first = waiting(START + 10, msg_id=10)
    _, seen = at(first, START + 400, Seen())
    answered = first.model_copy(update={"waiting_since": None, "waiting_msg_id": None})
    _, seen = at(answered, START + 500, seen)
    second = waiting(START + 600, msg_id=12)
    alerts, _ = at(second, START + 900, seen)
    assert [(a.kind, a.level) for a in alerts] == [(AlertKind.LEVEL, 1)]


def test_waits_older_than_the_start_alert_only_for_levels_reached_after_it() -> None:
    late_at_start = waiting(START - 1000)  # 16m40s at start-up: already late
    alerts, seen = at(late_at_start, START, Seen())
    assert alerts == [], "no alert for what was already so at start-up"
    alerts, seen = at(late_at_start, START + 2000, seen)
    assert alerts == []
    alerts, seen = at(late_at_start, START + 2600, seen)
    assert [a.level for a in alerts] == [3], "reaching 'breached' while the desk runs alerts"
    backlog = waiting(START - 4000, msg_id=3)  # arrives after start-up, an hour old
    assert at(backlog, START + 30, Seen())[0] == []


def test_a_postponement_that_runs_out_reminds_once() -> None:
    state = triage.postpone(waiting(START - 100), START + 900)
    alerts, seen = at(state, START + 899, Seen())
    assert alerts == []
    alerts, seen = at(state, START + 900, seen)
    assert [(a.kind, a.body) for a in alerts] == [
        (AlertKind.POSTPONED, "Reminder: postponement ended")
    ]
    alerts, seen = at(state, START + 1500, seen)
    assert alerts == [], "the level it reached meanwhile (late) is not announced again"
    alerts, seen = at(state, START + 5000, seen)
    assert [(a.kind, a.level) for a in alerts] == [(AlertKind.LEVEL, 3)], "breaching later is news"
    again = triage.postpone(state, START + 6000)
    assert [a.kind for a in at(again, START + 6000, seen)[0]] == [AlertKind.POSTPONED]


def test_a_reminder_that_came_due_before_start_up_is_quiet() -> None:
    state = triage.postpone(ChatTriage(chat_id=7, last_msg_id=3), START - 60)
    assert at(state, START + 5, Seen())[0] == []


def test_an_in_development_due_date_reminds_with_its_ticket() -> None:
    state = triage.set_in_development(ChatTriage(chat_id=7), "JIRA-42", START + 60)
    alerts, _ = at(state, START + 60, Seen())
    assert [(a.kind, a.body) for a in alerts] == [(AlertKind.DUE, "Reminder: JIRA-42 is due")]


def test_a_customer_bringing_a_closed_chat_back_alerts() -> None:
    reopened = waiting(START + 50, msg_id=20, reopened=True)
    alerts, seen = at(reopened, START + 60, Seen())
    assert [(a.kind, a.body) for a in alerts] == [(AlertKind.REOPENED, "The customer wrote again")]
    assert at(reopened, START + 70, seen)[0] == []


def test_titles_in_alerts_are_sanitised() -> None:
    state = waiting(START + 10)
    alerts, _ = decide(
        state,
        "Evil\x1b]52;c;eA==\x07 Corp",
        Moment(START + 400, START, triage.Level.DUE, None),
        Seen(),
    )
    assert alerts[0].title == "Evil Corp"


# Random runs: a wait that starts at some moment, checks at random later times.
@settings(max_examples=200, deadline=None)
@given(
    st.integers(-5000, 5000),
    st.lists(st.integers(0, 600), min_size=1, max_size=60),
)
def test_no_storms_and_start_up_silence(since_offset: int, steps: list[int]) -> None:
    state = waiting(START + since_offset)
    seen = Seen()
    now = START
    fired: list[int] = []
    for step in steps:
        now += step
        alerts, seen = at(state, now, seen)
        fired += [a.level for a in alerts]
        assert all(a.kind is AlertKind.LEVEL for a in alerts)
        assert len(alerts) <= 1, "one alert per check per chat"
    assert fired == sorted(set(fired)), "each level at most once, rising"
    at_start = triage.level_for(-since_offset, LEVELS) if since_offset <= 0 else None
    if at_start is not None:
        assert all(level > at_start for level in fired), "nothing already reached at start-up"
    final = triage.level_for(max(0, now - (START + since_offset)), LEVELS)
    if final > (at_start or 0):
        assert fired and fired[-1] == final, "the level reached last was announced"


# ---------------------------------------------------------------- channels, quiet hours


def alert(level: int, kind: AlertKind = AlertKind.LEVEL) -> Alert:
    """An alert of some level."""
    return Alert(7, kind, level, "Acme", "Waiting")


def test_channels_per_level_and_notify_picks_desktop_or_osc() -> None:
    config = Alerts(level_1=["toast"], level_2=["toast", "bell"], level_3=["notify", "bell"])
    local = {"DISPLAY": ":0"}
    ssh = {"SSH_CONNECTION": "10.0.0.2 5000 10.0.0.1 22"}
    assert channels_for(alert(1), config, START, "UTC", local) == {"toast"}
    assert channels_for(alert(2), config, START, "UTC", local) == {"toast", "bell"}
    assert channels_for(alert(3), config, START, "UTC", local) == {"desktop", "bell"}
    assert channels_for(alert(3), config, START, "UTC", ssh) == {"osc", "bell"}
    forwarded = {"DISPLAY": "localhost:10.0", **ssh}
    assert channels_for(alert(3), config, START, "UTC", forwarded) == {"osc", "bell"}
    desktop_only = Alerts(level_1=["desktop"])
    assert channels_for(alert(1), desktop_only, START, "UTC", ssh) == set(), "no display"
    reminder = alert(0, AlertKind.POSTPONED)
    assert channels_for(reminder, Alerts(reminder=["bell"]), START, "UTC", {}) == {"bell"}
    assert channels_for(alert(3), Alerts(enabled=False), START, "UTC", local) == set()


def test_quiet_hours_leave_only_the_quiet_channels() -> None:
    night = 1_709_593_200  # Mon 2024-03-04 23:00 UTC
    assert in_quiet_hours(night, "22:00-07:00", "UTC")
    assert not in_quiet_hours(night, "22:00-07:00", "Asia/Tokyo")  # 08:00 there
    assert not in_quiet_hours(night + 9 * 3600, "22:00-07:00", "UTC")
    assert in_quiet_hours(night, "09:00-23:30", "UTC")
    assert not in_quiet_hours(night, None, "UTC")
    config = Alerts(quiet_hours="22:00-07:00")
    assert channels_for(alert(3), config, night, "UTC", {}) == {"toast"}
    loud = Alerts(quiet_hours="22:00-07:00", quiet_channels=["toast", "bell"])
    assert channels_for(alert(3), loud, night, "UTC", {}) == {"toast", "bell"}


# ---------------------------------------------------------------- on a live Inbox


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Desk]:
    """A started desk whose clock stands at START."""
    async with running_desk(tmp_path / "desk.sqlite3", clock=FakeClock(START)) as desk:
        yield desk


def fired(watcher: AlertWatcher) -> list[tuple[int, AlertKind, int]]:
    """Check now and list what fired."""
    return [(a.chat_id, a.kind, a.level) for a in watcher.check()]


async def test_watcher_on_the_inbox_alerts_each_level_once_and_not_the_backlog(
    live: Desk,
) -> None:
    # The backlog: Acme's customer has waited 20 minutes when the desk starts.
    await live.feed(new(ACME, 1, ALICE, START - T0 - 1200, "checkout is down"))
    watcher = AlertWatcher(live.inbox, started_at=START - 5)
    assert fired(watcher) == []
    await live.feed(new(GLOBEX, 1, BOB, START - T0 + 10, "hello?"))
    live.clock.now = START + 10 + 300
    assert fired(watcher) == [(GLOBEX.id, AlertKind.LEVEL, 1)]
    assert fired(watcher) == [], "checking again sends nothing"
    live.clock.now = START + 10 + 900
    assert fired(watcher) == [(GLOBEX.id, AlertKind.LEVEL, 2)]
    live.clock.now = START + 2500  # Acme: 3700 s — breached while the desk runs
    assert fired(watcher) == [(ACME.id, AlertKind.LEVEL, 3)]
    await live.feed(new(GLOBEX, 2, ME, START - T0 + 2500, "On it"))
    await live.feed(new(GLOBEX, 3, BOB, START - T0 + 2510, "thanks, one more"))
    live.clock.now = START + 2510 + 300
    assert fired(watcher) == [(GLOBEX.id, AlertKind.LEVEL, 1)], "a new wait alerts again"


async def test_watcher_uses_per_chat_targets_and_stays_quiet_while_postponed(
    live: Desk,
) -> None:
    watcher = AlertWatcher(live.inbox, started_at=START)
    await live.feed(new(INITECH, 1, ALICE, START - T0 + 1, "hi"))
    await live.inbox.set_levels(INITECH.id, (120, 300, 900))
    live.clock.now = START + 121
    assert fired(watcher) == [(INITECH.id, AlertKind.LEVEL, 1)], "VIP: due after 2 minutes"
    await live.inbox.postpone(INITECH.id, START + 1000)
    live.clock.now = START + 999
    assert fired(watcher) == [], "parked: no level alerts"
    live.clock.now = START + 1000
    assert fired(watcher) == [(INITECH.id, AlertKind.POSTPONED, 3)]


async def test_business_hours_pause_the_clock_of_alerts(tmp_path: Path) -> None:
    friday_evening = 1_709_917_200  # Fri 2024-03-08 17:00 UTC
    cfg = config(business_hours={"enabled": True})
    clock = FakeClock(friday_evening)
    async with running_desk(tmp_path / "bh.sqlite3", cfg=cfg, clock=clock) as desk:
        watcher = AlertWatcher(desk.inbox)
        sent = friday_evening + 3000  # Fri 17:50: ten business minutes left today
        await desk.feed(new(ACME, 1, ALICE, sent - T0, "weekend question"))
        clock.now = sent + 4 * 60
        assert fired(watcher) == []
        clock.now = sent + 40 * 60  # 18:30: due was reached at 17:55
        assert fired(watcher) == [(ACME.id, AlertKind.LEVEL, 1)]
        assert desk.inbox.wait(ACME.id) == 600, "the clock stopped at 18:00"
        clock.now = friday_evening + 2 * 86_400  # Sunday
        assert fired(watcher) == [], "the weekend does not count"
        assert desk.inbox.wait(ACME.id) == 600
        monday = 1_710_147_600  # Mon 2024-03-11 09:00 UTC
        clock.now = monday + 4 * 60
        assert fired(watcher) == []
        clock.now = monday + 5 * 60
        assert fired(watcher) == [(ACME.id, AlertKind.LEVEL, 2)], "10 + 5 business minutes"


class Capture:
    """What the alerter wrote to the terminal and showed as toasts."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.toasts: list[Alert] = []


async def test_the_alerter_sends_each_channel_exactly(live: Desk) -> None:
    capture = Capture()
    cfg = Config(alerts={"level_1": ["toast", "bell", "osc"], "osc": ["777"]})
    spawned: list[tuple[object, ...]] = []

    class Done:
        async def wait(self) -> int:
            return 0

        def kill(self) -> None:
            pass

    async def spawn(*args: object, **kwargs: object) -> Done:
        spawned.append(args)
        return Done()

    alerter = Alerter(
        cfg,
        TerminalNotifier(capture.written.append, {"TMUX": "x"}, cfg.alerts.osc),
        DesktopNotifier("/usr/bin/notify-send", spawn),
        capture.toasts.append,
        {"TMUX": "x"},
    )
    watcher = AlertWatcher(live.inbox, started_at=START)
    await live.feed(new(ACME, 1, ALICE, START - T0 + 1, "hi"))
    live.clock.now = START + 301
    for item in watcher.check():
        assert alerter.send(item, live.inbox.now()) == {"toast", "bell", "osc"}
    assert [a.title for a in capture.toasts] == ["Acme · Support"]
    assert capture.written == [
        "\x07",
        "\x1bPtmux;\x1b\x1b]777;notify;tgtriage · Acme · Support;Waiting 5m: due\x1b\x1b\\\x1b\\",
    ]
    assert spawned == [], "no desktop channel at level 1 here"
    await alerter.aclose()
    assert live.inbox.triage[ACME.id].waiting_since == START + 1, "alerts change no state"


async def test_a_watcher_that_skips_quiet_chats_fires_what_checking_every_chat_fires(
    live: Desk,
) -> None:
    """Seeded timeline of waits, replies, handled marks, postponements, due dates and clock
    moves, checked every few seconds: the watcher (which skips a chat until its next level or
    reminder moment) sends the same alerts, at the same checks, as one that looks at every
    chat every time."""

    class Everything(AlertWatcher):
        """The same rule with no skipping."""

        def _next_moment(self, state: ChatTriage, now: int) -> int:
            return now  # never quiet

    rng = random.Random(11)
    skipping, checking_all = AlertWatcher(live.inbox, START), Everything(live.inbox, START)
    chats = [ACME, GLOBEX, INITECH]
    ids = dict.fromkeys((c.id for c in chats), 0)
    kinds: set[tuple[AlertKind, int]] = set()
    for _ in range(400):
        chat = rng.choice(chats)
        ids[chat.id] += 1
        at = int(live.clock.now) - T0
        action = rng.randrange(12)
        if action == 0:
            await live.feed(new(chat, ids[chat.id], rng.choice([ALICE, BOB]), at, "hello?"))
        elif action == 1:
            await live.feed(new(chat, ids[chat.id], ME, at, "on it"))
        elif action == 2 and chat.id in live.inbox.triage:
            await live.inbox.mark_handled(chat.id)
        elif action == 3 and chat.id in live.inbox.triage:
            await live.inbox.postpone(chat.id, int(live.clock.now) + rng.choice([20, 200]))
        else:
            live.clock.now += rng.choice([1, 2, 3, 4, 5, 30, 120, 600])
        one, other = fired(skipping), fired(checking_all)
        assert one == other
        kinds |= {(kind, level) for _, kind, level in one}
    # the timeline did alert: every level and a postponement running out
    assert {(AlertKind.LEVEL, n) for n in (1, 2, 3)} <= kinds
    assert any(kind is AlertKind.POSTPONED for kind, _ in kinds)


def test_a_storm_of_alerts_folds_into_the_most_urgent_few_and_one_for_the_rest() -> None:
    from tgtriage.core.rules.alerts import Alert, fold_storm

    waits = [Alert(i, AlertKind.LEVEL, 1 + (i % 3), f"Chat {i}", "Waiting") for i in range(9)]
    handoff = Alert(99, AlertKind.HANDOFF, 0, "→ Acme", "Priya handed Acme to you")
    sent = fold_storm([*waits, handoff], most=5)
    assert [a.chat_id for a in sent[:4]] == [2, 5, 8, 1], "most urgent first, in order"
    folded = sent[4]
    assert folded.title == "5 more chats need you" and folded.level == 2
    assert folded.body.startswith("Chat 4, Chat 7, Chat 0 and 2 more")
    assert sent[5] is handoff, "a handoff is never folded away"
    assert fold_storm(waits[:5], most=5) == waits[:5], "few alerts go as they are"


async def test_a_check_looks_at_the_chats_that_changed_or_whose_moment_came(live: Desk) -> None:
    """Issue 18 (idle at 10,000 chats): with hundreds of waiting chats, a check a second later
    with nothing changed looks at no chat; a new message, or a wait reaching its level, is
    looked at (and alerts) still."""
    from tgtriage.core.desk import events as ev
    from tgtriage.core.desk.models import Chat, Message

    customers = [Chat(id=-1003000000000 - n, title=f"Group {n}") for n in range(400)]
    live.clock.now = START
    for n, chat in enumerate(customers):
        live.source.emit(ev.ChatUpdated(chat))
        since = START - 100 if n == 0 else START - 50  # Group 0 reaches a level first
        message = Message(chat_id=chat.id, id=1, date=since, sender_id=5000 + n)
        live.source.emit(ev.NewMessage(message))
    await live.settle()
    watcher = AlertWatcher(live.inbox, started_at=START)
    assert fired(watcher) == []
    assert watcher.visited >= len(customers)  # the first check looks at every waiting chat
    for second in (1, 2, 3):
        live.clock.now = START + second
        visited = watcher.visited
        assert fired(watcher) == []
        assert watcher.visited == visited  # nothing changed, no wait reached a level
    await live.feed(new(GLOBEX, 1, BOB, 2, "hello?"))
    live.clock.now = START + 4
    visited = watcher.visited
    assert fired(watcher) == []
    assert watcher.visited - visited <= 2
    live.clock.now = START + 200  # Group 0 has waited 300 s
    visited = watcher.visited
    assert fired(watcher) == [(customers[0].id, AlertKind.LEVEL, 1)]
    assert watcher.visited - visited <= 2
