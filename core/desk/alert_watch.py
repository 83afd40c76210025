"""The desk's alerts over time: `AlertWatcher` remembers what was announced and asks the pure rule
in core/rules/alerts.py what is due now; `Alerter` sends each alert through its channels."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from heapq import heapify, heappop, heappush

from ..rules import triage
from ..rules.alerts import (
    Alert,
    AlertKind,
    Moment,
    Seen,
    away_summary,
    channels_for,
    decide,
    fold_storm,
)
from ..rules.sanitize import clean_line
from ..system.config import Channel, Config
from ..system.notify import DesktopNotifier, TerminalNotifier
from .catch_up import FinishedCatchUp
from .inbox import Inbox
from .models import ChatTriage
from .team_handoff import handed_to_me

CATCH_UP_HOLD = 120
"""Seconds a running catch-up holds the alerts back; one that never ends stops holding them."""


class AlertWatcher:
    """Turns the Inbox's state into alerts: once per chat and level, never for what was
    already so when the watcher started (the desk's start-up). While a source catches up
    (core/desk/catch_up.py) nothing alerts; afterwards only the waits it brought that are still
    open alert, at the level of their real wait, and one summary line says the rest."""

    def __init__(self, inbox: Inbox, started_at: int | None = None) -> None:
        """Start watching; `started_at` defaults to the Inbox's now."""
        self.inbox = inbox
        self.started_at = inbox.now() if started_at is None else started_at
        self._seen: dict[int, Seen] = {}
        self._at_start: dict[tuple[int, int, triage.Targets], triage.Level] = {}
        self._quiet: dict[int, tuple[ChatTriage, int]] = {}  # chat → (state, next check)
        self._moments: list[tuple[int, int]] = []  # heap of (next check, chat)
        self._seen_version = -1  # the summaries' version at the last check (-1: none yet)
        self._recheck: set[int] = set()  # chats to look at next check whatever changed
        self.visited = 0  # chats looked at by the checks so far (tests count a check's work)
        self._handoffs: set[int] = set()  # the handoffs (room message ids) announced
        self._learned: dict[int, int] = {}  # chat → a wait first heard of in a catch-up
        self.summaries: list[str] = []
        """Summary lines of finished catch-ups not yet shown (the desk takes them)."""

    def _level_at_start(self, state: ChatTriage, state_since: int) -> triage.Level | None:
        """The level a wait that began at `state_since` had when the desk started (None for a
        wait the desk first heard of in a catch-up: nobody saw it at start-up)."""
        chat_id = state.chat_id
        if state_since > self.started_at or self._learned.get(chat_id) == state.waiting_msg_id:
            return None
        targets = self.inbox.thresholds_for(chat_id)
        key = (chat_id, state_since, targets)
        level = self._at_start.get(key)
        if level is None:
            waited = self.inbox.elapsed(state_since, self.started_at)
            level = self._at_start[key] = triage.level_for(waited, targets)
        return level

    def check(self, now: int | None = None) -> list[Alert]:
        """The alerts that became due since the last check (each one only once)."""
        inbox = self.inbox
        now = inbox.now() if now is None else now
        catch_up = inbox.catch_up
        if catch_up.active and now - catch_up.began_at < CATCH_UP_HOLD:
            return []  # waits may still end within the catch-up: none alerts half-way
        finished = catch_up.take_finished()
        if finished is not None:
            self._after_catch_up(finished)
        alerts: list[Alert] = []
        timed = inbox.timed_chats(now)  # waiting or with a reminder: all that can alert
        triage_now = inbox.triage
        for chat_id in self._to_visit(timed, now):
            self.visited += 1
            state = triage_now.get(chat_id)
            chat = inbox.chats.get(chat_id)
            if state is None or chat is None:
                continue
            if state.waiting_since is None and triage.reminder_at(state) is None:
                continue  # nothing here can alert; a new wait resets the memory anyway
            quiet = self._quiet.get(chat_id)
            if quiet is not None and quiet[0] is state and now < quiet[1]:
                continue  # the same summary, and no level or reminder moment reached yet
            level_now = None if triage.is_parked(state, now) else inbox.level(chat_id, now)
            at_start = (
                self._level_at_start(state, state.waiting_since)
                if state.waiting_since is not None
                else None
            )
            moment = Moment(now, self.started_at, level_now, at_start)
            found, seen = decide(state, chat.title, moment, self._seen.get(chat_id, Seen()))
            self._seen[chat_id] = seen
            alerts.extend(found)
            moment_at = self._next_moment(state, now)
            self._quiet[chat_id] = (state, moment_at)
            heappush(self._moments, (moment_at, chat_id))
        alerts.extend(self._handoff_alerts())
        if len(self._at_start) > 4096:
            self._at_start.clear()
        if len(self._quiet) > 2 * len(inbox.triage) + 64:
            self._quiet.clear()
            self._seen_version = -1  # everything is looked at again next time
        if len(self._moments) > 2 * len(self._quiet) + 64:
            self._moments = [(at, c) for c, (_, at) in self._quiet.items()]
            heapify(self._moments)
        return alerts

    def _to_visit(self, timed: Mapping[int, object], now: int) -> list[int]:
        """The timed chats that may alert now: those whose summary changed since the last
        check, and those whose next moment (a level, a reminder) came; every timed chat
        when the changes are not known any more."""
        summaries = self.inbox.tracked_triage
        changed = summaries.changed_since(self._seen_version) if self._seen_version >= 0 else None
        self._seen_version = summaries.version
        moments = self._moments
        due: set[int] = set()
        while moments and moments[0][0] <= now:
            due.add(heappop(moments)[1])
        recheck, self._recheck = self._recheck, set()
        if changed is None:
            return list(timed)
        return [c for c in sorted(changed | due | recheck) if c in timed]

    def _handoff_alerts(self) -> list[Alert]:
        """One alert for each chat a teammate handed to this engineer since the watch began."""
        team = self.inbox.team
        alerts = []
        for chat_id in handed_to_me(team):
            handoff = team.state.handoffs[chat_id]
            if handoff.msg_id in self._handoffs or handoff.date < self.started_at:
                continue
            self._handoffs.add(handoff.msg_id)
            chat = self.inbox.chats.get(chat_id)
            title = clean_line(chat.title if chat else str(chat_id), 80)
            note = f": {clean_line(handoff.note, 200)}" if handoff.note else ""
            body = f"{clean_line(team.name(handoff.giver), 60)} handed {title} to you{note}"
            alerts.append(Alert(chat_id, AlertKind.HANDOFF, 0, f"→ {title}", body))
        return alerts

    def _after_catch_up(self, finished: FinishedCatchUp) -> None:
        """Learn the waits a finished catch-up brought, and word its summary line."""
        inbox = self.inbox
        if len(self._learned) > 2 * len(inbox.triage) + 64:
            self._learned.clear()
        still_waiting = 0
        for chat_id in finished.touched:
            state = inbox.triage.get(chat_id)
            if state is None or chat_id not in inbox.chats:
                continue
            if finished.learned_wait(state) and state.waiting_msg_id is not None:
                self._learned[chat_id] = state.waiting_msg_id
                self._quiet.pop(chat_id, None)
                self._recheck.add(chat_id)
            if state.waiting_since is not None:
                still_waiting += 1
        if finished.touched:
            self.summaries.append(away_summary(len(finished.touched), still_waiting))

    def _next_moment(self, state: ChatTriage, now: int) -> int:
        """The first second at which the same summary could alert: its wait reaching the next
        level, or its reminder (postponement end, due date). Every second under business
        hours, whose clock bends time."""
        if self.inbox.elapsed is not triage.wall_elapsed:
            return now + 1
        change = triage.next_time_change(state, now, self.inbox.configured_targets)
        return now + 3600 if change is None else max(now + 1, min(change, now + 3600))


Toast = Callable[[Alert], None]


class Alerter:
    """Sends alerts through the channels config chooses: toast, bell, OSC, notify-send."""

    def __init__(
        self,
        config: Config,
        terminal: TerminalNotifier,
        desktop: DesktopNotifier,
        toast: Toast,
        env: Mapping[str, str],
    ) -> None:
        """Wire the channels; nothing is sent until `send`."""
        self.config = config
        self.terminal = terminal
        self.desktop = desktop
        self.toast = toast
        self.env = dict(env)
        self.sent: deque[tuple[Alert, frozenset[Channel]]] = deque(maxlen=200)

    def send(self, alert: Alert, now: int) -> frozenset[Channel]:
        """Send one alert; returns the channels it went out through."""
        channels = channels_for(
            alert, self.config.alerts, now, self.config.business_hours.timezone, self.env
        )
        if "toast" in channels:
            self.toast(alert)
        if "bell" in channels:
            self.terminal.bell()
        if "osc" in channels:
            self.terminal.notify(f"tgtriage · {alert.title}", alert.body)
        if "desktop" in channels and self.desktop.available:
            self.desktop.notify(f"tgtriage · {alert.title}", alert.body, urgent=alert.level >= 3)
        self.sent.append((alert, channels))
        return channels

    def send_all(self, alerts: list[Alert], now: int) -> None:
        """Send the alerts of one check: a few whole, a storm folded (core/rules/alerts.py)."""
        for alert in fold_storm(alerts):
            self.send(alert, now)

    async def aclose(self) -> None:
        """Stop writing to the terminal and reap running notify-sends."""
        self.terminal.close()
        await self.desktop.aclose()
