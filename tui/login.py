"""The login screen: phone → code → 2FA password, or a QR code, over core's TelegramLogin.

The screen runs the steps (workers, retries, keys) and hands each one to its box to draw
(tui/login_view.py). Secrets (phone, code, password) live in the Input until submitted and are
never put in a notification or a log line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from importlib.resources import files
from typing import ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import Footer, Input

from ..core.desk.models import User
from ..core.sources.telegram.login import (
    NETWORK_MESSAGE,
    Done,
    LoginFailed,
    NeedCode,
    NeedPassword,
    NeedPhone,
    QrWaiting,
    TelegramLogin,
)
from . import keymap as km
from .login_view import Busy, Connecting, LoginPicture, LoginView, Step, countdown
from .no_color import use_readable_no_color

__all__ = ["Busy", "Connecting", "LoginApp", "LoginScreen", "countdown"]

log = logging.getLogger(__name__)

Clock = Callable[[], float]
OFFLINE_RETRY = (5, 10, 20, 30)
"""Seconds before trying to reach Telegram again by itself, one entry per failed attempt."""


class LoginScreen(Screen[User | None]):
    """Log in to Telegram, step by step; dismisses with the account, or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = list(km.bindings(km.LOGIN_ACTIONS))
    CSS_PATH = str(files("tgtriage.styles").joinpath("login.tcss"))

    def __init__(
        self,
        login: TelegramLogin,
        *,
        clock: Clock = time.time,
        cancel_label: str = "cancel",
        preload: Callable[[], None] | None = None,
    ) -> None:
        """Drive `login`; `preload` runs in a thread first (it imports Telethon off the loop)."""
        super().__init__()
        self.login = login
        self.clock = clock
        self.cancel_label = cancel_label
        self._preload = preload
        self.state: Step = Connecting()
        self.failure: LoginFailed | None = None
        self.blocked_until: float | None = None
        self.retry_at: float | None = None
        self.already_logged_in = False
        self._offline_tries = 0
        self._connected = False
        self._attempting = False
        self._phone = ""  # what was typed as the number, to show again on the phone step

    # ----------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        """The step's box (tui/login_view.py) and the keys."""
        yield LoginView(id="login-box")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        """Connect (in the background) and tick once a second for the countdowns."""
        self.set_interval(1.0, self.tick)
        self._draw()
        self.run_worker(self._begin(), group="login", exclusive=True)

    # ----------------------------------------------------------------- steps (workers)

    async def _begin(self) -> None:
        """Connect and find out whether the session is already logged in."""
        self._attempting = True
        self._apply(Connecting())
        try:
            if self._preload is not None:
                await asyncio.to_thread(self._preload)
                self._preload = None
            state = await self.login.begin()
        finally:
            self._attempting = False
        if isinstance(state, LoginFailed) and not self._connected_now():
            if state.message == NETWORK_MESSAGE:
                self._offline(state)
            else:  # e.g. no api_id/api_hash: retrying by itself cannot help
                self.failure = state
                self.retry_at = None
                self.state = Connecting()
                self._draw()
            return
        self._connected = True
        self._offline_tries = 0
        if isinstance(state, Done):
            self.already_logged_in = True
        self._apply(state)

    def _connected_now(self) -> bool:
        """Whether the login's client is connected."""
        client = self.login.client
        try:
            return client is not None and bool(client.is_connected())
        except Exception:
            return False

    def _offline(self, failure: LoginFailed) -> None:
        """Telegram could not be reached: say so, and try again by itself after a while."""
        delay = OFFLINE_RETRY[min(self._offline_tries, len(OFFLINE_RETRY) - 1)]
        self._offline_tries += 1
        self.retry_at = self.clock() + delay
        self.failure = failure
        self.state = Connecting()
        self._draw()

    async def _submit(self, value: str) -> None:
        """Send what was typed for the current step."""
        state = self.state
        if isinstance(state, NeedPhone):
            self._phone = value
            self._apply(Busy("Asking Telegram to send a login code…"))
            result = await self.login.submit_phone(value)
        elif isinstance(state, NeedCode):
            self._apply(Busy("Checking the code…"))
            result = await self.login.submit_code(value)
        elif isinstance(state, NeedPassword):
            self._apply(Busy("Checking the password…"))
            result = await self.login.submit_password(value)
        else:
            return
        self._apply(result)

    async def _resend(self) -> None:
        """Ask for the code again."""
        self._apply(Busy("Asking Telegram to send the code again…"))
        self._apply(await self.login.resend_code())

    async def _qr(self) -> None:
        """Show QR codes until one is scanned (each refreshed when it expires)."""
        self._apply(Busy("Asking Telegram for a QR code…"))
        state = await self.login.start_qr()
        while True:
            self._apply(state)
            if not isinstance(state, QrWaiting):
                return
            state = await self.login.wait_qr()

    # ----------------------------------------------------------------- state → screen

    def _apply(self, state: Step) -> None:
        """Show a new state (a failure shows its message over the step to retry)."""
        if isinstance(state, Done):
            self.state = state
            self.failure = None
            log.info("login finished")
            self.dismiss(state.user)
            return
        if isinstance(state, LoginFailed):
            self.failure = state
            self.blocked_until = (
                self.clock() + state.retry_after if state.retry_after is not None else None
            )
            self.state = state.retry
            self._draw()
            return
        if not isinstance(state, Busy | Connecting | QrWaiting):
            self.failure = None
            self.blocked_until = None
        self.state = state
        self._draw(clear_input=not isinstance(state, Busy))

    def _picture(self) -> LoginPicture:
        """The state as the box draws it."""
        return LoginPicture(
            state=self.state,
            failure=self.failure,
            now=self.clock(),
            blocked_until=self.blocked_until,
            retry_at=self.retry_at,
            attempting=self._attempting,
            connected=self._connected,
            cancel_label=self.cancel_label,
        )

    def _draw(self, *, clear_input: bool = True) -> None:
        """Put the current state on screen."""
        value = None
        if clear_input:
            value = self._phone if isinstance(self.state, NeedPhone) else ""
        self.query_one(LoginView).draw(self._picture(), field_value=value)
        self.refresh_bindings()

    def _blocked(self) -> bool:
        """Whether Telegram asked to wait before the next try."""
        return self.blocked_until is not None and self.blocked_until > self.clock()

    def tick(self) -> None:
        """Once a second: countdowns move; a wait that ran out unlocks the field or retries."""
        view = self.query_one(LoginView)
        view.unlock(self._picture())
        if (
            isinstance(self.state, Connecting)
            and self.retry_at is not None
            and self.retry_at <= self.clock()
        ):
            self.retry_at = None
            self.run_worker(self._begin(), group="login", exclusive=True)
        view.draw_message(self._picture())

    # ----------------------------------------------------------------- input and keys

    @on(Input.Submitted, "#login-input")
    def _submitted(self, event: Input.Submitted) -> None:
        if self._blocked():
            return
        self.run_worker(self._submit(event.value), group="login", exclusive=True)

    def on_key(self, event: object) -> None:
        """Enter while Telegram is out of reach: try again now."""
        key = getattr(event, "key", "")
        if key == "enter" and isinstance(self.state, Connecting) and self.failure is not None:
            self.action_retry()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Offer only the keys that make sense on the current step."""
        state = self.state
        if action == "toggle_qr":
            return isinstance(state, NeedPhone | QrWaiting) and not self._blocked()
        if action == "resend":
            return isinstance(state, NeedCode) and not self._blocked()
        if action == "retry":
            return self.failure is not None and not self._blocked()
        return True

    def action_toggle_qr(self) -> None:
        """Switch between the QR code and the phone number."""
        if isinstance(self.state, QrWaiting):
            self.workers.cancel_group(self, "qr")
            self.failure = None
            self._apply(NeedPhone())
        elif isinstance(self.state, NeedPhone):
            self.failure = None
            self.run_worker(self._qr(), group="qr", exclusive=True)

    def action_resend(self) -> None:
        """Ask Telegram for the code again."""
        if isinstance(self.state, NeedCode):
            self.run_worker(self._resend(), group="login", exclusive=True)

    def action_retry(self) -> None:
        """Repeat the step that failed."""
        failure = self.failure
        if failure is None or self._blocked():
            return
        if isinstance(self.state, Connecting):
            self.retry_at = None
            self.run_worker(self._begin(), group="login", exclusive=True)
        elif isinstance(failure.retry, QrWaiting) or isinstance(self.state, QrWaiting):
            self.failure = None
            self.run_worker(self._qr(), group="qr", exclusive=True)
        else:
            field = self.query_one(LoginView).field
            if field.value.strip():
                self.run_worker(self._submit(field.value), group="login", exclusive=True)
            else:
                field.focus()

    def action_back(self) -> None:
        """One step back: code/password/QR → phone number; on the phone number, cancel."""
        state = self.state
        if isinstance(state, QrWaiting) or (
            isinstance(state, NeedCode | NeedPassword | Busy) and self._connected
        ):
            self.workers.cancel_group(self, "qr")
            self.workers.cancel_group(self, "login")
            self.failure = None
            self.blocked_until = None
            self._apply(NeedPhone())
            return
        self.workers.cancel_group(self, "qr")
        self.workers.cancel_group(self, "login")
        self.dismiss(None)


class LoginApp(App[User | None]):
    """`tgtriage login`: the login screen on its own; exits with the account, or None."""

    TITLE = "tgtriage login"
    BINDINGS: ClassVar[list[BindingType]] = [*km.bindings(a for a in km.ACTIONS if a.id == "quit")]
    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self,
        login: TelegramLogin,
        *,
        keymap: Mapping[str, str] | None = None,
        clock: Clock = time.time,
        preload: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        use_readable_no_color(self)
        self.login = login
        self.user_keymap = dict(keymap or {})
        self.screen_clock = clock
        self.preload = preload
        self.login_screen: LoginScreen | None = None

    def on_mount(self) -> None:
        """Show the login screen; its result ends the app."""
        if self.user_keymap:
            self.set_keymap(self.user_keymap)
        self.login_screen = LoginScreen(self.login, clock=self.screen_clock, preload=self.preload)
        self.push_screen(self.login_screen, self.exit)
