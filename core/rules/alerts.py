"""What to alert about, and through which channels: pure rules over triage summaries.

An alert fires when a waiting chat reaches level 1, 2 or 3, when a postponement runs out or an
in-development due date passes, and when a customer brings a postponed or closed chat back.
Each fires once: per wait (the waiting message) and level, per reminder time, per reopening.
Nothing fires for what was already so when the desk started: a wait that had reached level 2
before start-up alerts only when it reaches level 3, and a backlog that arrives after start-up
with old dates is silent for the levels it had reached at start-up, unless a source's catch-up
brought it (core/desk/alert_watch.py: nobody saw that wait at start-up).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from ..desk.models import ChatTriage, Status
from ..system.config import Alerts, Channel
from . import triage
from .sanitize import clean_line

LEVEL_WORDS = ("fresh", "due", "late", "breached")


class AlertKind(StrEnum):
    """Why an alert fires."""

    LEVEL = "level"
    POSTPONED = "postponed"
    DUE = "due"
    REOPENED = "reopened"
    HANDOFF = "handoff"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: which chat, why, and the (already sanitised) words to show."""

    chat_id: int
    kind: AlertKind
    level: int
    title: str
    body: str


@dataclass(frozen=True, slots=True)
class Seen:
    """What was already announced (or silenced at start-up) for one chat."""

    wait: int | None = None
    level: int = 0
    reminder: int | None = None
    reopened: int | None = None


@dataclass(frozen=True, slots=True)
class Moment:
    """The chat's levels now and at start-up, and when the desk started."""

    now: int
    started_at: int
    level_now: triage.Level | None
    level_at_start: triage.Level | None


def _text(title: str, limit: int = 60) -> str:
    """A chat title as notification text: one line, no controls or escapes."""
    return clean_line(title, limit) or "a chat"


def decide(state: ChatTriage, title: str, moment: Moment, seen: Seen) -> tuple[list[Alert], Seen]:
    """The alerts due for one chat at `moment.now`, and the updated memory (pure).

    `level_now` must be None when nobody waits or the chat is parked; `level_at_start` is the
    level the same wait had when the desk started (None if it had not started or nobody waited).
    """
    alerts: list[Alert] = []
    if state.waiting_msg_id != seen.wait:
        seen = replace(seen, wait=state.waiting_msg_id, level=0)
    reminder = triage.reminder_at(state)
    if reminder is not None and reminder <= moment.now and reminder != seen.reminder:
        seen = replace(seen, reminder=reminder)
        if reminder > moment.started_at:
            postponed = state.status is Status.POSTPONED
            kind = AlertKind.POSTPONED if postponed else AlertKind.DUE
            what = "postponement ended" if postponed else f"{state.ticket or 'ticket'} is due"
            level = int(moment.level_now) if moment.level_now is not None else 0
            alerts.append(Alert(state.chat_id, kind, level, _text(title), f"Reminder: {what}"))
            # The reminder says it all: the levels reached meanwhile do not alert again.
            seen = replace(seen, level=max(seen.level, level))
    if (
        state.reopened
        and state.waiting_msg_id is not None
        and state.waiting_msg_id != seen.reopened
    ):
        seen = replace(seen, reopened=state.waiting_msg_id)
        if (state.waiting_since or 0) > moment.started_at and not alerts:
            alerts.append(
                Alert(
                    state.chat_id, AlertKind.REOPENED, 0, _text(title), "The customer wrote again"
                )
            )
    if moment.level_now is not None and state.waiting_since is not None:
        silenced = 0
        if state.waiting_since <= moment.started_at and moment.level_at_start is not None:
            silenced = int(moment.level_at_start)
        floor = max(seen.level, silenced)
        level = int(moment.level_now)
        if level > floor and level >= 1:
            waited = max(0, moment.now - state.waiting_since)
            alerts.append(
                Alert(
                    state.chat_id,
                    AlertKind.LEVEL,
                    level,
                    _text(title),  # cleaned only for an alert: checks run every second
                    f"Waiting {triage.format_wait(waited)}: {LEVEL_WORDS[level]}",
                )
            )
        seen = replace(seen, level=max(floor, level))
    return alerts, seen


MOST_AT_ONCE = 5
"""Alerts sent one by one in one check; more (a night away, a burst) are folded into one."""


def fold_storm(alerts: list[Alert], most: int = MOST_AT_ONCE) -> list[Alert]:
    """The alerts to send: all of them when few; else the most urgent `most - 1` whole and one
    alert for the rest, naming how many and the first few chats (handoffs are never folded)."""
    handoffs = [a for a in alerts if a.kind is AlertKind.HANDOFF]
    waits = [a for a in alerts if a.kind is not AlertKind.HANDOFF]
    if len(waits) <= most:
        return alerts
    ranked = sorted(waits, key=lambda alert: -alert.level)  # stable: the watcher's order next
    kept, rest = ranked[: most - 1], ranked[most - 1 :]
    named = ", ".join(alert.title for alert in rest[:3])
    more = f" and {len(rest) - 3} more" if len(rest) > 3 else ""
    folded = Alert(
        rest[0].chat_id,
        rest[0].kind,
        max(alert.level for alert in rest),
        f"{len(rest)} more chats need you",
        f"{named}{more} — Ctrl+N walks the waiting chats, longest first",
    )
    return [*kept, folded, *handoffs]


def away_summary(chats_with_messages: int, still_waiting: int) -> str:
    """The one line that sums up a catch-up, e.g. 'While you were away: 212 chats got
    messages, 37 still wait'."""
    chats = f"{chats_with_messages} chat{'' if chats_with_messages == 1 else 's'}"
    got = f"While you were away: {chats} got messages"
    if not still_waiting:
        return f"{got}, none still waits"
    return f"{got}, {still_waiting} still wait{'s' if still_waiting == 1 else ''}"


def in_quiet_hours(now: int, quiet: str | None, timezone: str) -> bool:
    """Whether `now` falls in a daily quiet range like '22:00-07:00' (local to `timezone`)."""
    if not quiet:
        return False
    first, _, last = quiet.partition("-")
    start, end = time.fromisoformat(first), time.fromisoformat(last)
    local = datetime.fromtimestamp(now, ZoneInfo(timezone)).time().replace(tzinfo=None)
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def desktop_session(env: Mapping[str, str]) -> bool:
    """Whether a graphical session is reachable (X11 or Wayland display set)."""
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def local_desktop(env: Mapping[str, str]) -> bool:
    """A desktop session on this machine, not one forwarded over SSH."""
    return desktop_session(env) and not env.get("SSH_CONNECTION")


def channels_for(
    alert: Alert, config: Alerts, now: int, timezone: str, env: Mapping[str, str]
) -> frozenset[Channel]:
    """The channels an alert goes out through (none when alerts are off).

    `notify` becomes `desktop` where a local desktop session exists, else `osc`; `desktop` is
    dropped without any desktop session; during quiet hours only `quiet_channels` are used.
    """
    if not config.enabled:
        return frozenset()
    if alert.kind is AlertKind.LEVEL:
        chosen: list[Channel] = [config.level_1, config.level_2, config.level_3][
            max(1, min(3, alert.level)) - 1
        ]
    else:
        chosen = config.reminder
    quiet = in_quiet_hours(now, config.quiet_hours, timezone)
    result: set[Channel] = set()
    for channel in chosen:
        if quiet and channel not in config.quiet_channels:
            continue
        if channel == "notify":
            result.add("desktop" if local_desktop(env) else "osc")
        else:
            result.add(channel)
    if not desktop_session(env):
        result.discard("desktop")  # notify-send has nowhere to show it (e.g. over SSH)
    return frozenset(result)
