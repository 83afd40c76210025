"""The fake Telethon client's login: code, 2FA password and QR login (FakeQR), and logging out."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telethon import errors
from telethon.tl import types

from tests.fake_tl import T0, when

if TYPE_CHECKING:
    from tests.fake_telethon import FakeClient


@dataclass
class FakeQR:
    """Telethon's QRLogin as the fake serves it: url, expires, recreate(), wait()."""

    client: FakeClient
    generation: int = 0
    outcomes: list[str] = field(default_factory=list)
    gated: bool = False
    """When set, each wait() holds until the test calls `release()` (to look at each code)."""
    _gate: asyncio.Event | None = None
    waits: int = 0

    def release(self) -> None:
        """Let the pending wait() come to its scripted outcome."""
        if self._gate is None:
            self._gate = asyncio.Event()
        self._gate.set()

    @property
    def url(self) -> str:
        """The tg://login URL of the current token."""
        return f"tg://login?token=FAKETOKEN{self.generation}"

    @property
    def expires(self) -> dt.datetime:
        """When the current token expires."""
        return when(T0 + 30 * (self.generation + 1))

    async def recreate(self) -> None:
        """A fresh token."""
        self.client.check_connected()
        self.generation += 1

    async def wait(self, timeout: float | None = None) -> types.User:
        """The scripted outcome: 'timeout', 'password' (2FA), 'network' or 'ok'."""
        self.waits += 1
        if self.gated:
            if self._gate is None:
                self._gate = asyncio.Event()
            await self._gate.wait()
            self._gate.clear()
        outcome = self.outcomes.pop(0) if self.outcomes else "timeout"
        if outcome == "timeout":
            raise TimeoutError
        if outcome == "password":
            raise errors.SessionPasswordNeededError(request=None)
        if outcome == "network":
            raise ConnectionError("connection reset")
        self.client.authorized = True
        return self.client.me


class FakeLogin:
    """Authorization state and the login methods the desk calls (a FakeClient mixin)."""

    # state set up by FakeClient.__init__
    me: types.User
    authorized: bool
    connected: bool
    session_file: Path | None
    code: str
    password: str | None
    qr: FakeQR
    calls: list[tuple[str, Any]]

    if TYPE_CHECKING:  # provided by FakeClient and FakeConnection

        def check_connected(self) -> None: ...

        def _maybe_fail(self, name: str, request: Any = None, *, after: bool = False) -> None: ...

    async def is_user_authorized(self) -> bool:
        """Whether logged in."""
        self.check_connected()
        return self.authorized

    async def get_me(self) -> types.User | None:
        """The account, when logged in."""
        self.check_connected()
        return self.me if self.authorized else None

    async def send_code_request(self, phone: str) -> types.auth.SentCode:
        """Send a code (or fail as scripted)."""
        self.check_connected()
        self.calls.append(("send_code_request", None))
        self._maybe_fail("send_code_request")
        return types.auth.SentCode(
            type=types.auth.SentCodeTypeApp(length=5), phone_code_hash="hash"
        )

    async def sign_in(
        self, phone: str | None = None, code: str | None = None, *, password: str | None = None
    ) -> types.User:
        """Check the code or password like Telegram does."""
        self.check_connected()
        self.calls.append(("sign_in", "password" if password else "code"))
        self._maybe_fail("sign_in")
        if password is not None:
            if password != self.password:
                raise errors.PasswordHashInvalidError(request=None)
        else:
            if code != self.code:
                raise errors.PhoneCodeInvalidError(request=None)
            if self.password is not None:
                raise errors.SessionPasswordNeededError(request=None)
        self.authorized = True
        return self.me

    async def qr_login(self) -> FakeQR:
        """Start a QR login."""
        self.check_connected()
        self._maybe_fail("qr_login")
        return self.qr

    async def log_out(self) -> bool:
        """Log out and delete the session file like Telethon."""
        self.check_connected()
        self.authorized = False
        self.connected = False
        if self.session_file is not None and self.session_file.exists():
            self.session_file.unlink()
        return True


__all__ = ["FakeLogin", "FakeQR"]
