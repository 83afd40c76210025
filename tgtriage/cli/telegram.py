"""`tgtriage`, `tgtriage login`, `tgtriage logout`: the desk and the login on the real account.

`tgtriage` opens the desk from the store at once; the Telegram source (which imports Telethon
in a thread and connects) starts in a worker behind it. When the session turns out not to be
logged in, the login screen is shown over the desk on that same connection, and the desk goes
on when it is done.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..core.rules import triage
from ..core.sources.telegram.client import (
    CredentialsMissing,
    TelegramClientLike,
    credentials,
    preload_telethon,
    store_profile,
)
from ..core.sources.telegram.login import TelegramLogin, logout
from ..core.sources.telegram.reconcile import WINDOW, Held
from ..core.system.config import Config
from ..core.system.paths import Paths
from ..tui.app import DeskApp
from ..tui.login import LoginApp, LoginScreen
from .crash import current_log_file, report_desk_crashes

if TYPE_CHECKING:
    from ..core.desk.inbox import Inbox
    from ..core.sources.telegram.source import TelegramSource
    from ..core.storage.recovery import StoreCheck
    from ..core.storage.store import Store

EXIT_USAGE = 2
LOGIN_ACTIONS_ALLOWED = frozenset({"quit", "toggle_qr", "resend", "retry", "back"})


def run_telegram(
    command: str | None,
    config: Config,
    paths: Paths,
    keymap: dict[str, str],
    store_check: StoreCheck | None = None,
) -> int:
    """Run one of the account commands; return the exit status."""
    if command == "logout":
        print(asyncio.run(logout(config, paths)))
        cache = paths.database(store_profile(paths, config))
        if cache.exists():
            print(
                f"The desk's cache of your chats is kept in {cache}; delete that file too if "
                "this computer should keep none of them."
            )
        return 0
    try:
        credentials(config)
    except CredentialsMissing as exc:
        print(f"tgtriage: {exc} (config file: {paths.config_file})", file=sys.stderr)
        return EXIT_USAGE
    if command == "login":
        return asyncio.run(login_command(config, paths, keymap))
    return asyncio.run(desk_command(config, paths, keymap, store_check))


async def login_command(config: Config, paths: Paths, keymap: dict[str, str]) -> int:
    """`tgtriage login`: the login screen on its own; say who is logged in afterwards."""
    login = TelegramLogin(config, paths)
    app = LoginApp(login, keymap=keymap, preload=preload_telethon)
    try:
        await app.run_async()
    finally:
        await login.close()
    return report_login(app)


def report_login(app: LoginApp) -> int:
    """Say how `tgtriage login` ended (who is logged in, never how); return the exit status."""
    user = app.return_value
    if user is None:
        print("tgtriage: not logged in (the login was cancelled).", file=sys.stderr)
        return 1
    name = user.name + (f" (@{user.username})" if user.username else "")
    if app.login_screen is not None and app.login_screen.already_logged_in:
        print(
            f"Already logged in as {name}. Run `tgtriage` to open the desk, or "
            "`tgtriage logout` first to use another account."
        )
    else:
        print(f"Logged in as {name}. Run `tgtriage` to open the desk.")
    return 0


class TelegramDesk(DeskApp):
    """The desk on the Telegram source: desk keys rest while the login screen is up."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only the login screen's own keys (and quitting) while logging in."""
        if isinstance(self.screen, LoginScreen) and action not in LOGIN_ACTIONS_ALLOWED:
            return False
        return super().check_action(action, parameters)

    def action_help(self) -> None:
        """The desk's help, except over the login screen."""
        if not isinstance(self.screen, LoginScreen):
            super().action_help()

    def source_started(self) -> None:
        """Show the source's one-line problems (an unknown folder, an unresolved teammate)."""
        for warning in self.inbox.source_warnings()[:5]:
            self.notify(warning, title="Telegram", severity="warning", timeout=20, markup=False)

    async def log_in(self, client: TelegramClientLike) -> bool:
        """The source's LoginPrompt: the login screen on its connected client; True once logged in."""
        login = TelegramLogin(self.inbox.config, self.paths, lambda: client)
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def finished(user: object) -> None:
            if not done.done():
                done.set_result(user is not None)

        screen = LoginScreen(login, cancel_label="skip: the desk without Telegram")
        await self.push_screen(screen, finished)
        return await done


def watched_chats(inbox: Inbox) -> Iterable[int]:
    """The chats to check against history after a reconnect: the open one and the slots."""
    chats = [inbox.open_chat_id] if inbox.open_chat_id is not None else []
    return [*chats, *inbox.slots.values()]


async def desk_command(
    config: Config, paths: Paths, keymap: dict[str, str], store_check: StoreCheck | None = None
) -> int:
    """`tgtriage`: the desk on the account, logging in first when the session needs it."""
    from . import open_desk_store

    store = await open_desk_store(paths.database(store_profile(paths, config)), store_check)
    if store is None:
        return EXIT_USAGE
    app = build_desk(config, paths, keymap, store)
    report_desk_crashes(app, current_log_file())
    try:
        await app.run_async()
    finally:
        await store.close()
    return app.return_code or 0


def build_desk(
    config: Config,
    paths: Paths,
    keymap: dict[str, str],
    store: Store,
    source: TelegramSource | None = None,
    *,
    tick: float = 1.0,
    **options: Any,
) -> TelegramDesk:
    """The desk over `store` and a Telegram source whose login prompt is the desk.

    `options` go to the Inbox (tests pass a fixed clock).
    """
    from ..core.desk.inbox import Inbox
    from ..core.sources.telegram.source import TelegramSource

    telegram = source or TelegramSource(config, paths)

    async def factory() -> Inbox:
        inbox = Inbox(store, telegram, config, **options)
        await inbox.load_cached()
        hint_source(telegram, inbox)
        return inbox

    app = TelegramDesk(factory, source_label="telegram", keymap=keymap, paths=paths, tick=tick)
    telegram.set_login_prompt(app)
    return app


def hint_source(source: TelegramSource, inbox: Inbox) -> None:
    """Give the source callables for what it needs from the desk (never the Inbox itself)."""

    def last_known(chat_id: int) -> int | None:
        state = inbox.triage.get(chat_id)
        return state.last_msg_id if state is not None and state.last_msg_id else None

    def waiting() -> list[int]:
        now = inbox.now()
        return [c for c, state in inbox.triage.items() if triage.is_awaiting(state, now)]

    def held(chat_id: int) -> Held:
        state = inbox.triage.get(chat_id)
        messages = inbox.recent(chat_id, limit=WINDOW)
        return Held(
            messages={m.id: m.edit_date for m in messages},
            read_inbox_max=state.read_inbox_max if state else 0,
            read_outbox_max=state.read_outbox_max if state else 0,
            unread=state.unread if state else 0,
            unread_mark=state.unread_mark if state else False,
        )

    source.set_hints(
        watched=lambda: watched_chats(inbox), last_known_id=last_known, waiting=waiting, held=held
    )
