"""Alerts: levels and reminders as toasts, bells and desktop notifications."""

from __future__ import annotations

import asyncio

from textual.notifications import SeverityLevel

from ..core.desk.alert_watch import Alerter, AlertWatcher
from ..core.rules.alerts import Alert
from ..core.system.notify import DesktopNotifier, TerminalNotifier
from .desk_base import DeskBase


class DeskAlerts(DeskBase):
    """Alerts: levels and reminders as toasts, bells and desktop notifications."""

    def _start_alerts(self) -> None:
        """Watch for levels and reminders from now on (what is already so stays quiet)."""
        config = self.inbox.config
        terminal = TerminalNotifier(self._write_terminal, self.env, config.alerts.osc)
        self._alerter = Alerter(config, terminal, DesktopNotifier(), self._toast, self.env)
        self._watcher = AlertWatcher(self.inbox)
        self.set_interval(self.tick_seconds, self.check_alerts)

    def _write_terminal(self, data: str) -> None:
        """Bell and OSC notifications go out between frames, through Textual's writer."""
        if self._terminal_write is not None:
            self._terminal_write(data)
        else:
            self.write_between_frames(data)

    def check_alerts(self) -> list[Alert]:
        """Send the alerts that came due (called once a second)."""
        if self._watcher is None or self._alerter is None:
            return []
        now = self.inbox.now()
        alerts = self._watcher.check(now)
        self._alerter.send_all(alerts, now)  # a night away sends a few alerts, not hundreds
        summaries, self._watcher.summaries = self._watcher.summaries, []
        for line in summaries:  # one line for a whole catch-up, never one per chat
            self.notify(line, title="Caught up", severity="information", timeout=12, markup=False)
        return alerts

    def _toast(self, alert: Alert) -> None:
        """The in-app notification of an alert."""
        severity: SeverityLevel = (
            "error" if alert.level >= 3 else "warning" if alert.level else "information"
        )
        self.notify(alert.body, title=alert.title, severity=severity, timeout=8, markup=False)

    def frame_displayed(self) -> None:
        """A frame went to the terminal: let the garbage collector run right after it."""
        if not self._collect_scheduled:
            self._collect_scheduled = True
            asyncio.get_running_loop().call_soon(self._collect_after_frame)

    def _collect_after_frame(self) -> None:
        """Run a collection that is due now, between frames (core/system/gc_policy.py)."""
        self._collect_scheduled = False
        self.collector.after_frame()
