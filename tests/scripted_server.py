"""A real TelegramClient whose network is a server scripted to answer login like Telegram."""

from __future__ import annotations

from typing import Any

from telethon import errors
from telethon.tl import types

from tests.fake_tl import T0, when


def telegram_prime() -> bytes:
    """Telegram's well-known 2048-bit SRP prime, as Telethon's password module embeds it."""
    import telethon.password

    consts = telethon.password.check_prime_and_good.__code__.co_consts
    return bytes(next(c for c in consts if isinstance(c, tuple) and len(c) == 256))


class ScriptedServer:
    """Answers a real TelegramClient's raw login requests like Telegram (2FA account)."""

    def __init__(self, me: types.User, *, code: str, hint: str, bad_passwords: int = 1) -> None:
        """An account that needs `code`, then a 2FA password (the first `bad_passwords` fail)."""
        import os

        self.me = me
        self.code = code
        self.hint = hint
        self.bad_passwords = bad_passwords
        self.authorized = False
        self.seen: list[str] = []
        self.algo = types.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow(
            salt1=os.urandom(8), salt2=os.urandom(16), g=3, p=telegram_prime()
        )

    def __call__(self, request: Any) -> Any:
        """One request → one TL result (or a real Telethon error)."""
        name = type(request).__name__
        self.seen.append(name)
        if name in ("GetStateRequest", "GetUsersRequest") and not self.authorized:
            raise errors.AuthKeyUnregisteredError(request=request)
        if name == "GetStateRequest":
            return types.updates.State(pts=1, qts=0, date=when(T0), seq=0, unread_count=0)
        if name == "GetUsersRequest":
            return [self.me]
        if name == "GetDifferenceRequest":
            return types.updates.DifferenceEmpty(date=when(T0), seq=0)
        if name == "SendCodeRequest":
            return types.auth.SentCode(
                type=types.auth.SentCodeTypeSms(length=5), phone_code_hash="h4sh"
            )
        if name == "SignInRequest":
            if request.phone_code != self.code:
                raise errors.PhoneCodeInvalidError(request=request)
            raise errors.SessionPasswordNeededError(request=request)
        if name == "GetPasswordRequest":
            p = int.from_bytes(self.algo.p, "big")
            return types.account.Password(
                new_algo=types.PasswordKdfAlgoUnknown(),
                new_secure_algo=types.SecurePasswordKdfAlgoUnknown(),
                secure_random=b"\x00" * 32,
                has_password=True,
                current_algo=self.algo,
                srp_B=(p // 3).to_bytes(256, "big"),
                srp_id=42,
                hint=self.hint,
            )
        if name == "CheckPasswordRequest":
            if self.bad_passwords > 0:
                self.bad_passwords -= 1
                raise errors.PasswordHashInvalidError(request=request)
            self.authorized = True
            return types.auth.Authorization(user=self.me)
        if name == "LogOutRequest":
            self.authorized = False
            return types.auth.LoggedOut()
        raise NotImplementedError(name)


def scripted_telethon(session: str, api_id: int, api_hash: str, server: ScriptedServer) -> Any:
    """A real `telethon.TelegramClient` whose only fake part is the network call.

    Telethon's own login code (send_code_request, sign_in, the SRP password check, _on_login,
    log_out) and its loggers run for real against `server`.
    """
    from telethon import TelegramClient
    from telethon import utils as tl_utils

    class ScriptedTelegramClient(TelegramClient):
        """TelegramClient with the network replaced by `server`."""

        _up = False

        async def connect(self) -> None:
            self._up = True

        def is_connected(self) -> bool:
            return self._up

        async def disconnect(self) -> None:
            self._up = False

        async def _call(
            self,
            sender: Any,
            request: Any,
            ordered: bool = False,
            flood_sleep_threshold: Any = None,
        ) -> Any:
            if not self._up:
                raise ConnectionError("Cannot send requests while disconnected")
            result = server(request)
            await tl_utils.maybe_async(self.session.process_entities(result))
            return result

    return ScriptedTelegramClient(session, api_id, api_hash, flood_sleep_threshold=0)


__all__ = ["ScriptedServer", "scripted_telethon", "telegram_prime"]
