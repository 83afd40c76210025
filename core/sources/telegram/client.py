"""The Telethon client the Telegram source and the login use: credentials, session file, shape.

Nothing here imports Telethon at module level; `build_client` does, when it is called.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from ...system.config import Config
from ...system.paths import Paths, ensure_private_dir, make_private_file, tighten_private_file

CREDENTIALS_HELP = (
    "get your own api_id and api_hash at https://my.telegram.org → API development tools, then "
    'put them under [telegram] in config.toml (api_id = 123456, api_hash = "…") or set '
    "TGTRIAGE_API_ID and TGTRIAGE_API_HASH"
)


def is_network_error(exc: BaseException) -> bool:
    """Whether `exc` means Telegram could not be reached (not that it refused something).

    Besides the OS-level errors this covers a connection closed mid-answer
    (`asyncio.IncompleteReadError`, e.g. a proxy or captive portal answering instead of
    Telegram) and Telethon's transport errors for garbage on the wire.
    """
    if isinstance(exc, OSError | EOFError | TimeoutError):
        return True
    return type(exc).__module__.startswith("telethon") and type(exc).__name__ in _TRANSPORT_ERRORS


_TRANSPORT_ERRORS = frozenset({"InvalidBufferError", "SecurityError", "InvalidChecksumError"})


def network_detail(exc: BaseException | None) -> str:
    """What went wrong with the connection, in words (never a request's contents)."""
    if exc is None:
        return "the connection was closed"
    if isinstance(exc, EOFError) or type(exc).__name__ in _TRANSPORT_ERRORS:
        return (
            "the connection was closed before Telegram answered (a proxy or firewall in the way?)"
        )
    if isinstance(exc, TimeoutError):
        return "Telegram did not answer in time"
    text = str(exc).strip()
    return f"{type(exc).__name__}{': ' + text[:80] if text else ''}"


class CredentialsMissing(Exception):
    """The Telegram api_id / api_hash are not configured (the message says how to fix it)."""


class LoginRequired(Exception):
    """The session is not logged in: run `tgtriage login` (or show the login screen)."""


class TelegramClientLike(Protocol):
    """The part of `telethon.TelegramClient` the desk uses (a fake implements it in tests)."""

    async def connect(self) -> None:
        """Open the connection."""
        ...

    def disconnect(self) -> Any:
        """Close the connection (awaitable)."""
        ...

    def is_connected(self) -> bool:
        """Whether the connection is up."""
        ...

    @property
    def disconnected(self) -> Awaitable[Any]:
        """Resolves (or raises the network error) when the connection is lost."""
        ...

    async def is_user_authorized(self) -> bool:
        """Whether the session is logged in."""
        ...

    async def get_me(self) -> Any:
        """The logged-in User, or None."""
        ...

    async def __call__(self, request: Any) -> Any:
        """Invoke a raw TL request."""
        ...

    async def catch_up(self) -> None:
        """Fetch the updates missed while offline (they arrive through the handlers)."""
        ...

    def add_event_handler(
        self, callback: Callable[[Any], Awaitable[None]], event: Any = None
    ) -> None:
        """Register a handler; with no event it receives raw TL updates."""
        ...

    async def get_entity(self, entity: Any) -> Any:
        """Resolve a username or peer to a User/Chat/Channel."""
        ...

    async def get_input_entity(self, peer: Any) -> Any:
        """Resolve a peer to an InputPeer (from the session's cache)."""
        ...

    async def get_messages(self, entity: Any, *args: Any, **kwargs: Any) -> Any:
        """Fetch messages (by `ids=` here)."""
        ...

    async def send_read_acknowledge(
        self, entity: Any, message: Any = None, *, max_id: int | None = None
    ) -> bool:
        """Mark a chat read up to `max_id`."""
        ...

    async def download_media(self, message: Any, file: Any = None) -> Any:
        """Download a message's media to `file`; return the path."""
        ...

    async def send_code_request(self, phone: str) -> Any:
        """Ask Telegram to send a login code."""
        ...

    async def sign_in(
        self, phone: str | None = None, code: str | None = None, *, password: str | None = None
    ) -> Any:
        """Log in with the code or the 2FA password."""
        ...

    async def qr_login(self) -> Any:
        """Start a QR login (an object with url, expires, recreate() and wait())."""
        ...

    async def log_out(self) -> bool:
        """Log the session out on Telegram's side and delete the session file."""
        ...


ClientFactory = Callable[[], TelegramClientLike]

LocalAnswer = Callable[[Any], Awaitable[Any]]
"""The source's answer to a raw request from what it fetched itself, or None (ask Telegram)."""


def answer_locally(client: Any, hook: LocalAnswer | None) -> bool:
    """Let the source answer the client's own requests first (Telethon's update loop asks
    through `client(request)` too); False for a client without the `answer_locally` seam."""
    if not hasattr(client, "answer_locally"):
        return False
    client.answer_locally = hook
    return True


def _desk_client_class() -> type[Any]:
    """`TelegramClient` whose every request is first offered to the `answer_locally` hook
    (core/sources/telegram/channel_catch_up.py answers a catch-up's channel differences)."""
    from telethon import TelegramClient

    class DeskClient(TelegramClient):
        """The Telethon client with the `answer_locally` seam."""

        answer_locally: LocalAnswer | None = None

        async def __call__(
            self, request: Any, ordered: bool = False, flood_sleep_threshold: int | None = None
        ) -> Any:
            """Invoke a raw request, unless the hook answers it."""
            hook = self.answer_locally
            if hook is not None:
                answer = await hook(request)
                if answer is not None:
                    return answer
            return await super().__call__(
                request, ordered=ordered, flood_sleep_threshold=flood_sleep_threshold
            )

    return DeskClient


def preload_telethon() -> None:
    """Import Telethon and the conversion code; run it in a thread (it takes about 0.5 s)."""
    import telethon
    import telethon.tl.functions  # noqa: F401

    from . import convert as telegram_convert  # noqa: F401


def credentials(config: Config) -> tuple[int, str]:
    """The api_id / api_hash from config, else TGTRIAGE_API_ID / TGTRIAGE_API_HASH."""
    api_id: int | str | None = config.telegram.api_id or os.environ.get("TGTRIAGE_API_ID")
    api_hash = config.telegram.api_hash or os.environ.get("TGTRIAGE_API_HASH")
    if not api_id or not api_hash:
        raise CredentialsMissing(f"Telegram api_id/api_hash are not set: {CREDENTIALS_HELP}")
    try:
        number = int(api_id)
    except ValueError:
        raise CredentialsMissing(
            f"TGTRIAGE_API_ID must be a number (the api_id from my.telegram.org); {CREDENTIALS_HELP}"
        ) from None
    return number, str(api_hash)


TEST_DC = (2, "149.154.167.40", 80)
"""Telegram's test data center (id, address, port), as Telethon's documentation gives it."""


def session_stem(paths: Paths, config: Config | None = None) -> Path:
    """The session file's stem: its own file for the test servers or a self-hosted server.

    An authorization belongs to one server, so `[telegram] test_servers` and `server` never
    share the production session (`telegram.session`).
    """
    stem = paths.session_file
    settings = config.telegram if config is not None else None
    if settings is not None and settings.test_servers:
        return stem.with_name(stem.name + "-test")
    if settings is not None and settings.server:
        host, _, port = settings.server.rpartition(":")
        safe_host = re.sub(r"[^A-Za-z0-9.-]", "_", host.strip("[]"))
        return stem.with_name(f"{stem.name}-{safe_host}-{port}")
    return stem


def store_profile(paths: Paths, config: Config) -> str:
    """The desk's store profile: test and self-hosted servers keep their chats apart too."""
    return "telegram" + session_stem(paths, config).name.removeprefix(paths.session_file.name)


def session_path(paths: Paths, config: Config | None = None) -> Path:
    """The SQLite session file Telethon writes (it appends `.session` to the stem)."""
    stem = session_stem(paths, config)
    return stem.with_name(stem.name + ".session")


def _session_family(paths: Paths, config: Config | None) -> tuple[Path, ...]:
    """The session file and its SQLite side files."""
    path = session_path(paths, config)
    return (path, *(path.with_name(path.name + s) for s in ("-journal", "-wal", "-shm")))


def secure_session_files(paths: Paths, config: Config | None = None) -> Path:
    """Create the session file 0600 in a 0700 folder (and tighten any SQLite side files)."""
    ensure_private_dir(paths.data_dir)
    path = make_private_file(session_path(paths, config))
    for side in _session_family(paths, config)[1:]:
        tighten_private_file(side)
    return path


def tighten_session_files(paths: Paths, config: Config | None = None) -> None:
    """Make an existing session file and its SQLite side files 0600 (creates nothing)."""
    for candidate in _session_family(paths, config):
        tighten_private_file(candidate)


def delete_session_files(paths: Paths, config: Config | None = None) -> bool:
    """Remove the session file and its SQLite side files; True when something was removed."""
    removed = False
    for candidate in _session_family(paths, config):
        try:
            candidate.unlink()
            removed = True
        except FileNotFoundError:
            pass
    return removed


def build_client(config: Config, paths: Paths) -> TelegramClientLike:
    """A real Telethon client on the persistent, private session file.

    Flood waits are never slept through silently (threshold 0: the source shows and waits
    them itself); reconnection is the source's job (it reports offline/connecting/connected and
    catches up afterwards), so each connect is one attempt; updates are dispatched in order;
    missed updates are fetched from the session's saved state by Telethon itself after every
    connect (`catch_up=True`: the source never asks a second time).
    """
    api_id, api_hash = credentials(config)
    secure_session_files(paths, config)
    from .... import __version__

    client = _desk_client_class()(
        str(session_stem(paths, config)),
        api_id,
        api_hash,
        flood_sleep_threshold=0,
        auto_reconnect=False,
        sequential_updates=True,
        catch_up=True,
        device_model="tgtriage",
        app_version=__version__,
        request_retries=3,
        connection_retries=1,
        timeout=10,
    )
    point_at_server(client, config)
    secure_session_files(paths, config)
    return client


def point_at_server(client: Any, config: Config) -> None:
    """Aim a fresh session at the test servers or a self-hosted server (before connecting).

    Only a session without an authorization key is pointed: once logged in, Telegram may
    have moved the account to another data center, which the session remembers.
    """
    settings = config.telegram
    if getattr(client.session, "auth_key", None) is not None:
        return
    if settings.test_servers:
        client.session.set_dc(*TEST_DC)
    elif settings.server and settings.dc_id is not None:
        host, _, port = settings.server.rpartition(":")
        client.session.set_dc(settings.dc_id, host.strip("[]"), int(port))


def default_factory(config: Config, paths: Paths) -> ClientFactory:
    """A factory that builds the real client on first use."""
    return lambda: build_client(config, paths)
