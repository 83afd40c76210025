"""The `tgtriage` command: parses arguments and hands off to the desk, reports or templates.

Heavy imports (Textual, Telethon) happen only inside the command that needs them, and the
garbage collector sleeps while they do: start-up builds tens of thousands of objects that all
live on, and collecting them over and over only delays the first frame (~0.1 s).
"""

from __future__ import annotations

from ..core.system import gc_policy

with gc_policy.paused():
    import argparse
    import asyncio
    import logging
    import os
    import sys
    from collections.abc import Callable, Sequence
    from pathlib import Path
    from typing import TYPE_CHECKING, Any

    from ..core.system.config import Config, ConfigError, load_config
    from ..core.system.paths import Paths, UnsafePathError, open_private_fd

if TYPE_CHECKING:
    from ..core.desk.models import Message
    from ..core.sources.demo import DemoSource
    from ..core.sources.replay import ReplaySource
    from ..core.storage.recovery import StoreCheck
    from ..core.system.lock import ProfileLock

    SimulatedSource = DemoSource | ReplaySource

EXIT_USAGE = 2


def _parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    parser = argparse.ArgumentParser(
        prog="tgtriage",
        description="A terminal triage desk for support engineers who work in Telegram.",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    parser.add_argument(
        "--config", type=Path, help="config file (default: the user config dir's config.toml)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo", help="open the desk on the built-in simulated support desk (no account needed)"
    )
    demo.add_argument("--seed", type=int, default=None, help="make the simulation repeatable")
    demo.add_argument(
        "--speed", type=float, default=1.0, help="time compression, e.g. 5 = five times faster"
    )
    demo.add_argument(
        "--fail-rate", type=float, default=0.0, help="share of sends that fail (to try retry)"
    )
    _add_run_flags(demo)
    _add_fresh_flag(demo, "demo")

    replay = sub.add_parser(
        "replay", help="play a Telegram Desktop export (result.json) as live traffic"
    )
    replay.add_argument("export", type=Path, help="path to result.json")
    replay.add_argument("--speed", type=float, default=60.0, help="time compression (default 60×)")
    replay.add_argument(
        "--staff", default="", help="teammates: ids like user123 or 123, comma-separated"
    )
    _add_run_flags(replay)
    _add_fresh_flag(replay, "replay")

    sub.add_parser("login", help="log in to your Telegram account (phone and code, or a QR code)")
    sub.add_parser("logout", help="log out of Telegram and delete the saved session")
    report = sub.add_parser(
        "report", help="response-time report from the store or an export", add_help=False
    )
    report.add_argument("args", nargs=argparse.REMAINDER)
    templates = sub.add_parser(
        "templates", help="canned replies: init | check | list", add_help=False
    )
    templates.add_argument("args", nargs=argparse.REMAINDER)
    search = sub.add_parser(
        "search", help="search every stored message (from:, in:, before:, after:)", add_help=False
    )
    search.add_argument("args", nargs=argparse.REMAINDER)
    return parser


class _Version(argparse.Action):
    """`--version`, looking the version up only when asked (importlib.metadata is slow)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        """Print `tgtriage VERSION` and exit."""
        from .. import __version__

        print(f"tgtriage {__version__}")
        parser.exit()


def _add_run_flags(parser: argparse.ArgumentParser) -> None:
    """Flags shared by the commands that open the desk."""
    parser.add_argument("--headless-seconds", type=float, default=None, help=argparse.SUPPRESS)


def _add_fresh_flag(parser: argparse.ArgumentParser, what: str) -> None:
    """`--fresh`: start the simulated desk over instead of going on from the kept store."""
    parser.add_argument(
        "--fresh",
        action="store_true",
        help=f"start the {what} over: forget the statuses, notes, tags, slots, drafts and "
        "replies kept from the last run",
    )


class SetupError(Exception):
    """The data dir, lock or log cannot be made; the message is one line naming the path."""


def _setup_logging(paths: Paths) -> None:
    """Log to a private file in the data dir (never to the terminal the desk draws on)."""
    from .crash import setup_logging

    setup_logging(paths, _configured_secrets(paths))


def _configured_secrets(paths: Paths) -> list[str]:
    """Secret values the log must never hold: the configured api_hash (when the config reads)."""
    try:
        api_hash = load_config(paths.config_file, snapshot=paths.config_snapshot).telegram.api_hash
    except (ConfigError, OSError):
        return []
    return [api_hash] if api_hash else []


def _claim_profile(paths: Paths, profile: str) -> ProfileLock:
    """Take the profile's lock, then open the log; one-line SetupError when either fails.

    The lock comes first, so a second desk on the profile stops before it touches anything.
    """
    from ..core.system.lock import ProfileBusyError, ProfileLock

    try:
        lock = ProfileLock.acquire(paths.lock_file(profile), profile)
        _setup_logging(paths)
    except (UnsafePathError, ProfileBusyError) as exc:
        raise SetupError(str(exc)) from None
    except OSError as exc:
        where = exc.filename or paths.data_dir
        raise SetupError(
            f"{where}: cannot create tgtriage's files here ({exc.strerror or exc}); check the "
            "folder's permissions and free space, or point TGTRIAGE_DATA_DIR elsewhere"
        ) from None
    return lock


def _load_config(path: Path | None, paths: Paths) -> Config:
    """Load config (revived from its snapshot when unchanged); a bad file is a one-line ConfigError."""
    return load_config(path or paths.config_file, snapshot=paths.config_snapshot)


def _delegated(argv: list[str]) -> int | None:
    """Run `report` / `templates`, which parse their own options; None for other commands."""
    config: list[str] = []
    if len(argv) >= 2 and argv[0] == "--config":
        config, argv = argv[:2], argv[2:]
    if argv and argv[0] == "report":
        from .report import run_report

        return run_report([*config, *argv[1:]])
    if argv and argv[0] == "templates":
        from .templates import run_templates

        return run_templates(argv[1:])
    if argv and argv[0] == "team":
        from .team import run_team

        return run_team([*config, *argv[1:]])
    if argv and argv[0] == "search":
        from .search import run_search

        return run_search(argv[1:])
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `tgtriage` command: one line for a setup problem, a crash to the log."""
    try:
        return _main(argv)
    except (SetupError, UnsafePathError) as exc:
        print(f"tgtriage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        from .crash import log_unexpected

        log_unexpected(exc, Paths.default())
        return 1


def _main(argv: Sequence[str] | None) -> int:
    """Parse the command line and run the command."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    delegated = _delegated(arguments)
    if delegated is not None:
        return delegated
    pause_for_startup()
    args = _parser().parse_args(arguments)
    _forget_stale_terminal_size(os.environ, sys.stdout.isatty())
    paths = Paths.default()
    try:
        config = _load_config(args.config, paths)
        keymap = _keymap(config, args.config or paths.config_file)
        if args.command == "demo":
            from ..core.sources.demo import DemoSource

            source: SimulatedSource = DemoSource(
                seed=args.seed, speed=args.speed, fail_rate=args.fail_rate
            )
            return _run_desk(
                source, "demo", config, paths, keymap, args.fresh, args.headless_seconds
            )
        if args.command == "replay":
            from ..core.sources.export import ExportError, load_export, parse_peer_id
            from ..core.sources.replay import ReplaySource

            try:
                export = load_export(args.export)
                staff = [parse_peer_id(s) for s in args.staff.split(",") if s.strip()]
                source = ReplaySource(export, speed=args.speed, staff=staff)
            except (ExportError, ValueError) as exc:
                print(f"tgtriage: {exc}", file=sys.stderr)
                return EXIT_USAGE
            for warning in export.warnings[:5]:
                print(f"tgtriage: warning: {warning}", file=sys.stderr)
            if len(export.warnings) > 5:
                print(f"tgtriage: … and {len(export.warnings) - 5} more warnings", file=sys.stderr)
            return _run_desk(
                source, "replay", config, paths, keymap, args.fresh, args.headless_seconds
            )
        if args.command in (None, "login", "logout"):
            return _telegram(args.command, config, paths, keymap)
    except ConfigError as exc:
        print(f"tgtriage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def _forget_stale_terminal_size(environ: dict[str, str] | os._Environ[str], tty: bool) -> None:
    """Drop exported COLUMNS/LINES on a terminal so the desk asks the terminal for its size.

    Textual sizes the screen with shutil.get_terminal_size(), which trusts these variables over
    the terminal; a shell that exported them (or a tmux pane that inherited them) would make the
    desk draw 80×24 inside a bigger window and ignore every resize.
    """
    if tty:
        environ.pop("COLUMNS", None)
        environ.pop("LINES", None)


def _keymap(config: Config, path: Path) -> dict[str, str]:
    """The user's key remapping, validated against the action registry; a problem names its line."""
    from ..core.system.config import where_in_file
    from ..core.system.keys import key_problems
    from ..tui.keymap import action_groups, keymap_from_config

    for problem in key_problems(config.keys, action_groups()):
        where = where_in_file(path, ("keys", problem.action))
        raise ConfigError(f"{where}: keys.{problem.action}: {problem.message}")
    return keymap_from_config(config.keys)[0]


def pause_for_startup() -> None:
    """No garbage collection from here to the desk's first frame (it turns it back on).

    Everything made on the way — config, keymap, Textual, the cache — lives on; collecting
    it again and again only delays the first paint.
    """
    gc_policy.pause()


def desk_modules() -> tuple[Any, Any, Any, Any]:
    """Import the desk: Inbox, Store, StoreError, DeskApp."""
    from ..core.desk.inbox import Inbox
    from ..core.storage.store import Store, StoreError
    from ..tui.app import DeskApp

    return Inbox, Store, StoreError, DeskApp


def _telegram(command: str | None, config: Config, paths: Paths, keymap: dict[str, str]) -> int:
    """The real account: `tgtriage`, `tgtriage login`, `tgtriage logout`."""
    from ..core.sources.telegram.client import store_profile

    profile = store_profile(paths, config)
    lock = _claim_profile(paths, profile)
    try:
        check = _start_store_check(paths.database(profile)) if command is None else None
        from .telegram import run_telegram  # imports the desk: the check runs meanwhile

        return run_telegram(command, config, paths, keymap, check)
    finally:
        lock.release()


def _run_desk(
    source: SimulatedSource,
    profile: str,
    config: Config,
    paths: Paths,
    keymap: dict[str, str],
    fresh: bool,
    headless: float | None,
) -> int:
    """Open the profile's store and run the desk on a demo or replay source until quit.

    The store is kept between runs (statuses, notes, tags, slots, drafts, unsent replies) and
    the source goes on from what it holds; `fresh` deletes it first. The profile's lock is
    taken before anything is touched.
    """
    from ..core.sources.replay import ReplaySource

    lock = _claim_profile(paths, profile)
    try:
        db_path = paths.database(profile)
        origin = Path(f"{db_path}.origin")  # what the kept store was made from
        made_from = (
            str(source.export.path.resolve()) if isinstance(source, ReplaySource) else profile
        )
        if origin.exists() and origin.read_text(encoding="utf-8") != made_from:
            print(f"tgtriage: {profile} of another file: starting it over", file=sys.stderr)
            fresh = True
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db_path}{suffix}").unlink(missing_ok=True)
        _write_private_text(origin, made_from)
        check = _start_store_check(db_path)
        return asyncio.run(_desk(source, profile, config, db_path, keymap, headless, check))
    finally:
        lock.release()


def _write_private_text(path: Path, text: str) -> None:
    """Replace a small private file's text (0600, never through a link)."""
    fd = open_private_fd(path, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def _start_store_check(db_path: Path) -> StoreCheck:
    """Start the store's full check on a thread, so it runs while the desk is imported."""
    from ..core.storage.recovery import StoreCheck

    return StoreCheck(db_path)


async def open_desk_store(
    db_path: Path, check: StoreCheck | None, clock: Callable[[], float] | None = None
) -> Any:
    """The desk's store, rebuilt with its marks kept if damaged; None after a one-line refusal."""
    from ..core.storage.recovery import open_recovering
    from ..core.storage.store import StoreError

    try:
        if clock is not None:
            store, rebuilt = await open_recovering(db_path, check, clock=clock)
        else:
            store, rebuilt = await open_recovering(db_path, check)
    except StoreError as exc:
        print(f"tgtriage: {exc}", file=sys.stderr)
        return None
    if rebuilt is not None:
        logging.getLogger("tgtriage.store").warning(rebuilt.line())
        print(f"tgtriage: {rebuilt.line()}", file=sys.stderr)
    return store


async def _desk(
    source: SimulatedSource,
    label: str,
    config: Config,
    db_path: Path,
    keymap: dict[str, str],
    headless: float | None,
    check: StoreCheck | None = None,
) -> int:
    """Run the app inside one event loop with the store open, the source resumed from it."""
    from ..core.sources.replay import ReplaySource

    Inbox, _Store, _StoreError, DeskApp = desk_modules()
    # A replay keeps its own time (SourceClock in core/sources/base.py): the desk's now is its.
    clock = source.clock if isinstance(source, ReplaySource) else None
    store = await open_desk_store(db_path, check, clock)
    if store is None:
        return EXIT_USAGE
    source.resume(await _stored_messages(store))

    async def factory() -> Any:
        inbox = Inbox(store, source, config, story_clock=clock)
        await inbox.load_cached()
        if not isinstance(source, ReplaySource) and not inbox.chats:
            # A fresh demo has nothing cached to paint and starts in no time (no network, no
            # export to read): started here, its first frame already shows the waiting chats.
            await inbox.start_before_paint()
            app.start_source = False
        return inbox

    app = DeskApp(factory, source_label=label, keymap=keymap)
    from .crash import current_log_file, report_desk_crashes

    report_desk_crashes(app, current_log_file())
    try:
        if headless is not None:
            return await _headless(app, headless)
        await app.run_async()
    finally:
        if clock is not None:  # where the replay stopped: `tgtriage report`'s now for it
            await store.set_meta("story_clock", str(int(clock())))
        await store.close()
    return app.return_code or 0


async def _stored_messages(store: Any) -> dict[int, list[Message]]:
    """Every message the store keeps, by chat (what a demo or replay goes on from)."""
    stored: dict[int, list[Message]] = {}
    async for message in store.iter_messages():
        stored.setdefault(message.chat_id, []).append(message)
    return stored


async def _headless(app: Any, seconds: float) -> int:
    """Run the desk without a terminal for a while and print what it showed (smoke check)."""
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.pause(seconds)
        await app.run_action("next_waiting")
        await pilot.pause(0.5)
        inbox = app.inbox
        counts = inbox.level_counts()
        print(
            f"tgtriage {app.source_label}: {len(inbox.chats)} chats, "
            f"{sum(counts)} waiting (levels {counts}), open: "
            f"{inbox.chats[inbox.open_chat_id].title if inbox.open_chat_id else 'none'}"
        )
    return 0 if app.inbox.chats else 1


if __name__ == "__main__":
    raise SystemExit(main())
