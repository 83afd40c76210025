"""The login screen's box: it draws one step of the login (tui/login.py runs the steps).

Every message it shows comes from core (`telegram_login.describe_error`) or from the step it
is on. Secrets (phone, code, password) live in the Input until submitted and are never put in
the box's text (the password field is masked).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from ..core.rules.sanitize import clean_line
from ..core.sources.telegram.login import (
    NETWORK_MESSAGE,
    LoginFailed,
    LoginState,
    NeedCode,
    NeedPassword,
    NeedPhone,
    QrWaiting,
)
from .login_qr import QrCode


class Connecting:
    """Not connected yet (the first step, and each try after Telegram could not be reached)."""


class Busy:
    """A step is on its way to Telegram; `what` says which."""

    def __init__(self, what: str) -> None:
        self.what = what


Step = LoginState | Connecting | Busy


def countdown(seconds: float) -> str:
    """'45 s', '9:58', '1:02:03' for a wait."""
    total = max(0, int(seconds + 0.999))
    if total < 60:
        return f"{total} s"
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True, slots=True)
class LoginPicture:
    """What the box shows: the step, the failure over it, and the clocks that count down."""

    state: Step
    failure: LoginFailed | None
    now: float
    blocked_until: float | None  # Telegram asked to wait until then
    retry_at: float | None  # Telegram out of reach: tried again by itself then
    attempting: bool  # a connection attempt is on its way
    connected: bool  # Telegram was reached once
    cancel_label: str  # what Esc does on the first step

    @property
    def blocked(self) -> bool:
        """Whether Telegram asked to wait before the next try."""
        return self.blocked_until is not None and self.blocked_until > self.now


class LoginView(Vertical):
    """Title, explanation, the field or the QR code, a message line and the keys."""

    def compose(self) -> ComposeResult:
        """The parts of a step, each shown or hidden by `draw`."""
        yield Static(id="login-title")
        yield Static(id="login-lead")
        yield Static(id="login-label")
        yield Input(id="login-input")
        yield QrCode(id="login-qr")
        yield Static(id="login-message")
        yield Static(id="login-keys")

    @property
    def field(self) -> Input:
        """The field the phone number, code or password is typed in."""
        return self.query_one("#login-input", Input)

    def draw(self, picture: LoginPicture, *, field_value: str | None) -> None:
        """Put a step on screen; `field_value`, if given, replaces what the field holds."""
        state = picture.state
        title, lead, label, placeholder = _texts(state)
        if isinstance(state, Connecting) and picture.failure is not None:
            reachable = picture.failure.message != NETWORK_MESSAGE
            title = "Cannot log in" if reachable else "Cannot reach Telegram"
            lead = Text("")
        self.query_one("#login-title", Static).update(Text(title, "bold"))
        self.query_one("#login-lead", Static).update(lead)
        self.query_one("#login-label", Static).update(Text(label, "bold"))
        self.query_one("#login-label", Static).display = bool(label)
        field = self.field
        asks = isinstance(state, NeedPhone | NeedCode | NeedPassword)
        field.display = asks
        if asks:
            field.password = isinstance(state, NeedPassword)
            field.placeholder = placeholder
            if field_value is not None:
                field.value = field_value
            field.disabled = picture.blocked
            if not field.disabled:
                field.focus()
        qr = self.query_one("#login-qr", QrCode)
        qr.display = isinstance(state, QrWaiting)
        if isinstance(state, QrWaiting):
            qr.url = state.url
        self.draw_message(picture)
        self.query_one("#login-keys", Static).update(_keys_text(picture))

    def draw_message(self, picture: LoginPicture) -> None:
        """The failure (with a countdown when Telegram asked to wait) or the QR code's expiry."""
        text = Text()
        now = picture.now
        failure, state = picture.failure, picture.state
        if failure is not None:
            text.append("✗ " + failure.message, "bold red")
            if picture.blocked_until is not None:
                if picture.blocked_until > now:
                    wait = countdown(picture.blocked_until - now)
                    text.append(f"\n  You can try again in {wait}.")
                else:
                    text.append("\n  You can try again now.", "green")
            elif isinstance(state, Connecting) and picture.attempting:
                text.append("\n  Trying again now…", "italic")
            elif isinstance(state, Connecting) and picture.retry_at is not None:
                wait = countdown(picture.retry_at - now)
                text.append(f"\n  Trying again in {wait} — Enter or F5: now.")
        if isinstance(state, Busy):
            text = Text(state.what, "italic")
        elif isinstance(state, QrWaiting) and failure is None:
            text.append(
                f"This code renews in {countdown(state.expires - now)}; "
                "a new one is drawn by itself.",
                "dim",
            )
        self.query_one("#login-message", Static).update(text)

    def unlock(self, picture: LoginPicture) -> None:
        """A wait that ran out: the field takes typing again."""
        field = self.field
        if field.disabled and not picture.blocked and field.display:
            field.disabled = False
            field.focus()


def _keys_text(picture: LoginPicture) -> Text:
    """What Enter does on this step (the other keys are in the footer)."""
    state = picture.state
    enter = {
        NeedPhone: "send the code",
        NeedCode: "log in",
        NeedPassword: "log in",
    }.get(type(state))
    text = Text()
    if enter is not None:
        text.append("Enter", "bold")
        text.append(f": {enter}   ")
    elif isinstance(state, Connecting) and picture.failure is not None:
        text.append("Enter", "bold")
        text.append(": try again   ")
    text.append("Esc", "bold")
    if isinstance(state, QrWaiting):
        text.append(": phone number instead   ")
    elif isinstance(state, NeedCode | NeedPassword) and picture.connected:
        text.append(": other phone number   ")
    else:
        text.append(f": {picture.cancel_label}   ")
    text.append("Ctrl+Q", "bold")
    text.append(": quit")
    return text


def _texts(state: Step) -> tuple[str, Text, str, str]:
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
