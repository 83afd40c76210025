"""Logging in to Telegram, step by step: a state machine that a login screen drives.

    login = TelegramLogin(config, paths)
    state = await login.begin()            # Done (already logged in) or NeedPhone
    state = await login.submit_phone(text)  # NeedCode, or LoginFailed(message, retry=NeedPhone)
    state = await login.submit_code(text)   # Done, NeedPassword (2FA) or LoginFailed(…)
    state = await login.submit_password(pw) # Done or LoginFailed(…, retry=NeedPassword)
    # or, instead of the phone: the QR code
    state = await login.start_qr()          # QrWaiting(url, expires): draw core.qr.qr_lines(url)
    state = await login.wait_qr()           # Done, NeedPassword, or a fresh QrWaiting on expiry

Every method returns the new state (also kept in `login.state`). A failure is a
`LoginFailed(message, retry, retry_after)`: show the message and continue from `retry`.
Methods never raise for Telegram or network errors.

Secrets: the phone number, the code, the 2FA password and the api_hash are held only in
memory, never logged and never put in a message.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ...desk.models import User
from ...system.config import Config
from ...system.paths import Paths
from .client import (
    ClientFactory,
    CredentialsMissing,
    TelegramClientLike,
    default_factory,
    delete_session_files,
    is_network_error,
    network_detail,
    tighten_session_files,
)

log = logging.getLogger(__name__)

_PHONE = re.compile(r"\+?\d{5,15}")
_PHONE_NOISE = re.compile(r"[\s\-().]")


@dataclass(frozen=True, slots=True)
class NeedPhone:
    """Ask for the phone number (international format), or offer the QR code."""


@dataclass(frozen=True, slots=True)
class NeedCode:
    """Ask for the login code Telegram just sent (`via`: where it went)."""

    via: str = "Telegram"
    length: int | None = None


@dataclass(frozen=True, slots=True)
class NeedPassword:
    """Ask for the two-step verification password (masked); `hint` is the user's own hint."""

    hint: str = ""


@dataclass(frozen=True, slots=True)
class QrWaiting:
    """Show `url` as a QR code until `expires` (Unix seconds); then call `wait_qr()`."""

    url: str
    expires: int


@dataclass(frozen=True, slots=True)
class Done:
    """Logged in as `user`."""

    user: User


@dataclass(frozen=True, slots=True)
class LoginFailed:
    """A step failed: show `message`, then continue from `retry` (after `retry_after` s if set)."""

    message: str
    retry: LoginState
    retry_after: int | None = None


LoginState = NeedPhone | NeedCode | NeedPassword | QrWaiting | Done | LoginFailed

NETWORK_MESSAGE = "Cannot reach Telegram. Check the network (or a proxy/firewall), then try again."


def describe_error(exc: BaseException, retry: LoginState) -> LoginState:
    """The state after a Telegram or network error: a clear message and where to retry.

    `retry` is the state the failed step started from. SessionPasswordNeededError is not a
    failure: it leads to NeedPassword.
    """
    from telethon import errors

    if isinstance(exc, errors.SessionPasswordNeededError):
        return NeedPassword()
    if isinstance(exc, errors.FloodWaitError | errors.FloodPremiumWaitError):
        seconds = int(exc.seconds)
        return LoginFailed(
            f"Telegram asks to wait {_duration(seconds)} before trying again (too many attempts).",
            retry,
            seconds,
        )
    phone = NeedPhone()
    table: list[tuple[type[BaseException], str, LoginState]] = [
        (
            errors.PhoneNumberInvalidError,
            "That phone number is not valid. Enter it in international format, e.g. +49 151 23456789.",
            phone,
        ),
        (
            errors.PhoneNumberBannedError,
            "Telegram has banned this phone number. Use another account, or ask recover@telegram.org.",
            phone,
        ),
        (
            errors.PhoneNumberUnoccupiedError,
            "No Telegram account uses this number. Sign up in an official Telegram app first.",
            phone,
        ),
        (
            errors.PhoneNumberFloodError,
            "Too many login attempts for this number. Wait a while, then try again.",
            phone,
        ),
        (
            errors.PhoneCodeInvalidError,
            "That code is not right. Check the code Telegram sent and type it again.",
            retry if isinstance(retry, NeedCode) else NeedCode(),
        ),
        (
            errors.PhoneCodeEmptyError,
            "Enter the code Telegram sent.",
            retry if isinstance(retry, NeedCode) else NeedCode(),
        ),
        (
            errors.PhoneCodeExpiredError,
            "That code has expired. Enter your phone number again to get a new code.",
            phone,
        ),
        (
            errors.PasswordHashInvalidError,
            "Wrong password. Type your two-step verification password again.",
            retry if isinstance(retry, NeedPassword) else NeedPassword(),
        ),
        (
            errors.PasswordEmptyError,
            "Enter your two-step verification password.",
            retry if isinstance(retry, NeedPassword) else NeedPassword(),
        ),
        (
            errors.PhonePasswordFloodError,
            "Too many password attempts. Wait a while, then try again.",
            retry,
        ),
        (
            errors.ApiIdInvalidError,
            "Telegram rejected the api_id/api_hash. Check them in config.toml (from my.telegram.org).",
            phone,
        ),
        (
            errors.AuthRestartError,
            "Telegram asked to restart the login. Enter your phone number again.",
            phone,
        ),
    ]
    for kind, message, state in table:
        if isinstance(exc, kind):
            return LoginFailed(message, state)
    if isinstance(exc, errors.RPCError):
        if (exc.code or 0) >= 500:
            return LoginFailed("Telegram had an internal problem. Try again in a moment.", retry)
        return LoginFailed(f"Telegram refused the login step ({exc.message}).", retry)
    if is_network_error(exc):
        return LoginFailed(NETWORK_MESSAGE, retry)
    if isinstance(exc, CredentialsMissing):
        return LoginFailed(str(exc), NeedPhone())
    return LoginFailed(f"The login failed unexpectedly ({type(exc).__name__}). Try again.", retry)


def _duration(seconds: int) -> str:
    """'45 s', '12 min', '3 h 20 min'."""
    if seconds < 120:
        return f"{seconds} s"
    minutes = (seconds + 59) // 60
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def normalize_phone(text: str) -> str | None:
    """The phone number without spaces, dashes and brackets, or None if it cannot be one."""
    phone = _PHONE_NOISE.sub("", text.strip())
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    return phone if _PHONE.fullmatch(phone) else None


class LoginPrompt(Protocol):
    """What the Telegram source asks when its session is not logged in (the TUI implements it).

    The source never calls the UI itself: it awaits `log_in(client)` on the connected client
    and goes on when it returns True (False: the user declined, the source says
    `LoginRequired`). An implementation drives a `TelegramLogin` over that client.
    """

    async def log_in(self, client: TelegramClientLike) -> bool:
        """Log the connected client in (e.g. show the login screen); True once logged in."""
        ...


class TelegramLogin:
    """Drives Telethon's login (phone → code → 2FA password, or QR code) one step at a time."""

    def __init__(
        self,
        config: Config,
        paths: Paths,
        client_factory: ClientFactory | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Prepare a login; nothing connects until `begin()` (or the first step)."""
        self.config = config
        self.paths = paths
        self._factory = client_factory or default_factory(config, paths)
        self._clock = clock
        self._client: TelegramClientLike | None = None
        self._phone: str | None = None
        self._qr: Any = None
        self.state: LoginState = NeedPhone()

    @property
    def client(self) -> TelegramClientLike | None:
        """The connected client (hand it to the TelegramSource after `Done`)."""
        return self._client

    def _set(self, state: LoginState) -> LoginState:
        """Record and return the new state (logging only its kind)."""
        self.state = state
        log.info("login state: %s", type(state).__name__)
        return state

    async def _connected(self) -> TelegramClientLike:
        """The client, created and connected on first use."""
        if self._client is None:
            self._client = self._factory()
        if not self._client.is_connected():
            await self._client.connect()
        return self._client

    async def _done(self, user: object) -> LoginState:
        """Finish: the session file is private, the account is known."""
        from .convert import convert_user

        self._phone = None
        with contextlib.suppress(OSError):
            tighten_session_files(self.paths, self.config)
        return self._set(Done(convert_user(user)))

    async def _password_state(self) -> NeedPassword:
        """NeedPassword with the account's password hint, when Telegram gives it."""
        from telethon.tl import functions

        hint = ""
        client = self._client
        if client is not None:
            try:
                info = await client(functions.account.GetPasswordRequest())
                hint = str(getattr(info, "hint", "") or "")
            except Exception as exc:
                log.info("password hint unavailable: %s", type(exc).__name__)
        return NeedPassword(hint)

    async def _fail(self, exc: BaseException, retry: LoginState) -> LoginState:
        """Turn an exception into the next state."""
        state = describe_error(exc, retry)
        if isinstance(state, NeedPassword):
            return self._set(await self._password_state())
        log.info("login step failed: %s", type(exc).__name__)
        return self._set(state)

    async def begin(self) -> LoginState:
        """Connect; Done if the session is already logged in, else NeedPhone."""
        try:
            client = await self._connected()
            if await client.is_user_authorized():
                me = await client.get_me()
                if me is not None:
                    return await self._done(me)
        except Exception as exc:
            return await self._fail(exc, NeedPhone())
        return self._set(NeedPhone())

    async def submit_phone(self, phone: str) -> LoginState:
        """Ask Telegram to send a login code to `phone`."""
        number = normalize_phone(phone)
        if number is None:
            return self._set(
                LoginFailed(
                    "That does not look like a phone number. Use international format, "
                    "e.g. +49 151 23456789.",
                    NeedPhone(),
                )
            )
        from .convert import sent_code_via

        try:
            client = await self._connected()
            sent = await client.send_code_request(number)
        except Exception as exc:
            return await self._fail(exc, NeedPhone())
        self._phone = number
        length = getattr(getattr(sent, "type", None), "length", None)
        log.info("login code requested")
        return self._set(NeedCode(via=sent_code_via(sent), length=length))

    async def resend_code(self) -> LoginState:
        """Ask for the code again (to the number given before)."""
        if self._phone is None:
            return self._set(NeedPhone())
        return await self.submit_phone(self._phone)

    async def submit_code(self, code: str) -> LoginState:
        """Sign in with the code Telegram sent."""
        retry = self.state if isinstance(self.state, NeedCode) else NeedCode()
        digits = re.sub(r"[\s\-]", "", code)
        if not digits:
            return self._set(LoginFailed("Enter the code Telegram sent.", retry))
        if self._phone is None:
            return self._set(LoginFailed("Enter your phone number first.", NeedPhone()))
        try:
            client = await self._connected()
            user = await client.sign_in(phone=self._phone, code=digits)
        except Exception as exc:
            return await self._fail(exc, retry)
        return await self._done(user)

    async def submit_password(self, password: str) -> LoginState:
        """Finish a login that needs the two-step verification password."""
        retry = self.state if isinstance(self.state, NeedPassword) else NeedPassword()
        if not password:
            return self._set(LoginFailed("Enter your two-step verification password.", retry))
        try:
            client = await self._connected()
            user = await client.sign_in(password=password)
        except Exception as exc:
            return await self._fail(exc, retry)
        return await self._done(user)

    async def start_qr(self) -> LoginState:
        """Start a QR login: QrWaiting(url, expires) to draw, then call `wait_qr()`."""
        try:
            client = await self._connected()
            self._qr = await client.qr_login()
        except Exception as exc:
            return await self._fail(exc, NeedPhone())
        return self._set(self._qr_state())

    def _qr_state(self) -> QrWaiting:
        """The current QR token as a state."""
        from .convert import unix

        qr = self._qr
        url = str(getattr(qr, "url", ""))
        expires = unix(getattr(qr, "expires", None)) or int(self._clock()) + 30
        return QrWaiting(url=url, expires=expires)

    async def wait_qr(self) -> LoginState:
        """Wait for the QR code to be scanned; on expiry a new code (a fresh QrWaiting).

        Returns Done, NeedPassword (the account has 2FA), a new QrWaiting, or LoginFailed.
        Cancel the awaiting task to stop waiting (e.g. when the user switches to the phone).
        """
        qr = self._qr
        if qr is None:
            return await self.start_qr()
        retry = self.state if isinstance(self.state, QrWaiting) else NeedPhone()
        timeout = max(1.0, self._qr_state().expires - self._clock())
        try:
            user = await qr.wait(timeout)
        except TimeoutError:
            try:
                await qr.recreate()
            except Exception as exc:
                return await self._fail(exc, NeedPhone())
            log.info("login QR code refreshed")
            return self._set(self._qr_state())
        except Exception as exc:
            return await self._fail(exc, retry)
        return await self._done(user)

    async def close(self) -> None:
        """Disconnect (when the client is not handed on to the source)."""
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.disconnect()

    async def logout(self) -> str:
        """Log this session out of Telegram and delete the session file; say what happened."""
        return await logout(self.config, self.paths, lambda: self._client or self._factory())


async def logout(config: Config, paths: Paths, client_factory: ClientFactory | None = None) -> str:
    """Log the saved session out on Telegram's side, delete it locally, and say what happened.

    Without network the local session is still deleted, and the message says to end the
    session from another device (Settings → Devices).
    """
    from .client import session_path

    if not session_path(paths, config).exists():
        return "Not logged in: there is no saved Telegram session."
    remote = False
    problem = ""
    try:
        client = (client_factory or default_factory(config, paths))()
        if not client.is_connected():
            await client.connect()
        if await client.is_user_authorized():
            remote = bool(await client.log_out())
            if not remote:
                problem = "Telegram did not confirm the logout"
        else:
            remote = True
        with contextlib.suppress(Exception):
            await client.disconnect()
    except CredentialsMissing:
        problem = "no api_id/api_hash configured to reach Telegram"
    except Exception as exc:
        problem = "no connection to Telegram" if is_network_error(exc) else type(exc).__name__
        log.info("logout could not reach Telegram: %s", network_detail(exc))
    delete_session_files(paths, config)
    if remote:
        return "Logged out; the session file was deleted."
    return (
        f"The session file was deleted, but {problem}: end the session from another device "
        "(Telegram → Settings → Devices)."
    )
