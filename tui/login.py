"""The login screen: phone → code → 2FA password, or a QR code, over core's TelegramLogin.

The screen only draws the state the login state machine returns and forwards what is typed;
every message it shows comes from core (`telegram_login.describe_error`) or from the step it
is on. Secrets (phone, code, password) live in the Input until submitted and are never put in
a notification, a log line or the screen's text (the password field is masked).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from importlib.resources import files
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from ..core.desk.models import User
from ..core.rules.sanitize import clean_line
from ..core.sources.telegram.login import (
    NETWORK_MESSAGE,
    Done,
    LoginFailed,
    LoginState,
    NeedCode,
    NeedPassword,
    NeedPhone,
    QrWaiting,
    TelegramLogin,
)
from . import keymap as km
from .login_qr import QrCode
from .no_color import use_readable_no_color

log = logging.getLogger(__name__)

Clock = Callable[[], float]
OFFLINE_RETRY = (5, 10, 20, 30)
"""Seconds before trying to reach Telegram again by itself, one entry per failed attempt."""


class Connecting:
    """Not connected yet (the first step, and each try after Telegram could not be reached)."""


class Busy:
    """A step is on its way to Telegram; `what` says which."""

    def __init__(self, what: str) -> None:
        self.what = what


def countdown(seconds: float) -> str:
    """'45 s', '9:58', '1:02:03' for a wait."""
    total = max(0, int(seconds + 0.999))
    if total < 60:
        return f"{total} s"
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


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
        self.state: LoginState | Connecting | Busy = Connecting()
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
        """Title, explanation, the field or the QR code, a message line and the keys."""
        with Vertical(id="login-box"):
            yield Static(id="login-title")
            yield Static(id="login-lead")
            yield Static(id="login-label")
            yield Input(id="login-input")
            yield QrCode(id="login-qr")
            yield Static(id="login-message")
            yield Static(id="login-keys")
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

    def _apply(self, state: LoginState | Connecting | Busy) -> None:
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

    def _draw(self, *, clear_input: bool = True) -> None:
        """Put the current state on screen."""
        state = self.state
        title, lead, label, placeholder = _texts(state)
        if isinstance(state, Connecting) and self.failure is not None:
            reachable = self.failure.message != NETWORK_MESSAGE
            title = "Cannot log in" if reachable else "Cannot reach Telegram"
            lead = Text("")
        self.query_one("#login-title", Static).update(Text(title, "bold"))
        self.query_one("#login-lead", Static).update(lead)
        self.query_one("#login-label", Static).update(Text(label, "bold"))
        self.query_one("#login-label", Static).display = bool(label)
        field = self.query_one("#login-input", Input)
        asks = isinstance(state, NeedPhone | NeedCode | NeedPassword)
        field.display = asks
        if asks:
            field.password = isinstance(state, NeedPassword)
            field.placeholder = placeholder
            if clear_input:
                field.value = self._phone if isinstance(state, NeedPhone) else ""
            field.disabled = self._blocked()
            if not field.disabled:
                field.focus()
        qr = self.query_one("#login-qr", QrCode)
        qr.display = isinstance(state, QrWaiting)
        if isinstance(state, QrWaiting):
            qr.url = state.url
        self._draw_message()
        self.query_one("#login-keys", Static).update(self._keys_text())
        self.refresh_bindings()

    def _blocked(self) -> bool:
        """Whether Telegram asked to wait before the next try."""
        return self.blocked_until is not None and self.blocked_until > self.clock()

    def _draw_message(self) -> None:
        """The failure (with a countdown when Telegram asked to wait) or the QR code's expiry."""
        text = Text()
        now = self.clock()
        if self.failure is not None:
            text.append("✗ " + self.failure.message, "bold red")
            if self.blocked_until is not None:
                if self.blocked_until > now:
                    text.append(f"\n  You can try again in {countdown(self.blocked_until - now)}.")
                else:
                    text.append("\n  You can try again now.", "green")
            elif isinstance(self.state, Connecting) and self._attempting:
                text.append("\n  Trying again now…", "italic")
            elif isinstance(self.state, Connecting) and self.retry_at is not None:
                wait = countdown(self.retry_at - now)
                text.append(f"\n  Trying again in {wait} — Enter or F5: now.")
        state = self.state
        if isinstance(state, Busy):
            text = Text(state.what, "italic")
        elif isinstance(state, QrWaiting) and self.failure is None:
            text.append(
                f"This code renews in {countdown(state.expires - now)}; "
                "a new one is drawn by itself.",
                "dim",
            )
        self.query_one("#login-message", Static).update(text)

    def _keys_text(self) -> Text:
        """What Enter does on this step (the other keys are in the footer)."""
        state = self.state
        enter = {
            NeedPhone: "send the code",
            NeedCode: "log in",
            NeedPassword: "log in",
        }.get(type(state))
        text = Text()
        if enter is not None:
            text.append("Enter", "bold")
            text.append(f": {enter}   ")
        elif isinstance(state, Connecting) and self.failure is not None:
            text.append("Enter", "bold")
            text.append(": try again   ")
        text.append("Esc", "bold")
        if isinstance(state, QrWaiting):
            text.append(": phone number instead   ")
        elif isinstance(state, NeedCode | NeedPassword) and self._connected:
            text.append(": other phone number   ")
        else:
            text.append(f": {self.cancel_label}   ")
        text.append("Ctrl+Q", "bold")
        text.append(": quit")
        return text

    def tick(self) -> None:
        """Once a second: countdowns move; a wait that ran out unlocks the field or retries."""
        field = self.query_one("#login-input", Input)
        if field.disabled and not self._blocked() and field.display:
            field.disabled = False
            field.focus()
        if (
            isinstance(self.state, Connecting)
            and self.retry_at is not None
            and self.retry_at <= self.clock()
        ):
            self.retry_at = None
            self.run_worker(self._begin(), group="login", exclusive=True)
        self._draw_message()

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
            field = self.query_one("#login-input", Input)
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


def _texts(state: LoginState | Connecting | Busy) -> tuple[str, Text, str, str]:
    """(title, explanation, field label, placeholder) of a step."""
    if isinstance(state, NeedPhone):
        lead = Text(
            "tgtriage signs in as you, like Telegram Desktop does. Your phone number, the "
            "code and your password go only to Telegram; tgtriage keeps just the session "
            "file, private to you.\n\nOr press F2 to scan a QR code with your phone instead "
            "(Telegram → Settings → Devices → Link Desktop Device)."
        )
        return (
            "Log in to Telegram",
            lead,
            "Phone number, in international format",
            "+49 151 23456789",
        )
    if isinstance(state, NeedCode):
        digits = f"the {state.length}-digit code" if state.length else "the code"
        lead = Text(f"Telegram sent {digits} to {state.via}. Type it here.")
        if state.via == "your Telegram app":
            lead.append(" It arrives as a message from “Telegram” on your other devices.", "dim")
        return ("Enter the login code", lead, "Login code", "12345")
    if isinstance(state, NeedPassword):
        lead = Text(
            "This account has two-step verification. Type your cloud password "
            "(it is not shown as you type)."
        )
        if state.hint:
            lead.append("\nYour hint: ", "dim")
            lead.append(clean_line(state.hint, 60), "italic")
        return ("Two-step verification", lead, "Password", "password")
    if isinstance(state, QrWaiting):
        lead = Text(
            "On your phone: Telegram → Settings → Devices → Link Desktop Device, then point "
            "it at this code. F2: use the phone number instead."
        )
        return ("Scan to log in", lead, "", "")
    if isinstance(state, Busy):
        return ("Log in to Telegram", Text(""), "", "")
    return ("Connecting to Telegram…", Text("Opening a connection to Telegram's servers."), "", "")


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
