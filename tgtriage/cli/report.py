"""`tgtriage report`: response-time figures from the desk's store or a Telegram Desktop export."""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from fnmatch import fnmatchcase
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO
from zoneinfo import ZoneInfo

from ..core.desk.models import Chat, User
from ..core.reports.format import to_csv, to_json, to_table
from ..core.reports.report import (
    Duration,
    Report,
    ReportMessage,
    ReportStaff,
    build_report,
    wall_seconds,
)
from ..core.rules.business_hours import business_seconds
from ..core.rules.durations import parse_duration
from ..core.system import gc_policy
from ..core.system.config import Config, ConfigError, load_config
from ..core.system.paths import Paths

if TYPE_CHECKING:
    from ..core.storage.store import Store

PROG = "tgtriage report"
_CHANNEL_OFFSET = 10**12
_SHOWN_WARNINGS = 5  # as `tgtriage replay` shows them


class ReportError(Exception):
    """A problem the user can fix, reported as one line with exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        """Turn a usage error into a one-line ReportError."""
        raise ReportError(f"{message} (see {PROG} --help)")


@dataclass(repr=False)  # no repr: asyncio.run would format its 200,000 messages (CPython 3.11)
class Conversations:
    """What a report reads: the chats, their messages, the people, and who the account is."""

    chats: list[Chat]
    by_chat: Mapping[int, Sequence[ReportMessage]]  # empty for a store: it is read in place
    users: dict[int, User]
    me_id: int | None
    default_now: int
    out_is_staff: bool
    extra_staff: frozenset[int] = frozenset()
    store: Path | None = None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `tgtriage report`."""
    parser = _Parser(
        prog=PROG,
        add_help=False,
        description=(
            "Reply-time figures: replies (count, median, p90, max), per staff member and chat, "
            "unanswered waits, the share answered within each level, and customer load by "
            "weekday × hour. Reads the desk's store, or a Telegram Desktop export."
        ),
    )
    parser.add_argument("-h", "--help", action="store_true", help="show this help and exit")
    parser.add_argument(
        "--since",
        metavar="7d|DATE",
        help="only waits opened from then on: a span back from --now (30m, 24h, 7d, 2w) or a date/ISO time",
    )
    parser.add_argument(
        "--until", metavar="DATE", help="stop reading at this date/ISO time (exclusive)"
    )
    parser.add_argument(
        "--chat",
        action="append",
        default=[],
        metavar="ID|TITLE",
        help="only this chat: an id, or a title (case-insensitive; * and ? wildcards); repeatable",
    )
    parser.add_argument(
        "--staff",
        action="append",
        default=[],
        metavar="ID,...",
        help="teammates besides the account: ids like 123, export ids like user123, or @username",
    )
    parser.add_argument(
        "--from-export", metavar="FILE", type=Path, help="a Telegram Desktop result.json"
    )
    parser.add_argument(
        "--now",
        metavar="EPOCH|ISO",
        help="the report's 'now' (default: newest message of an export, else the current time)",
    )
    parser.add_argument(
        "--business-hours",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="count only business time ([business_hours] in the config; default: as configured)",
    )
    parser.add_argument(
        "--format", choices=("table", "csv", "json"), default="table", help="output format"
    )
    parser.add_argument("--config", metavar="PATH", type=Path, help="config file to use")
    parser.add_argument(
        "--profile",
        choices=("telegram", "demo", "replay"),
        default="telegram",
        help="which store to read when there is no --from-export (default: telegram)",
    )
    return parser


def run_report(argv: list[str], stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run `tgtriage report` with `argv`; print the report and return the exit status."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.help:
            parser.print_help(out)
            return 0
        tty = args.format == "table" and out.isatty()
        width = shutil.get_terminal_size().columns if tty else None
        # Hundreds of thousands of acyclic objects: the cyclic collector only costs time.
        with gc_policy.paused():
            text = make_report_text(
                args, width=width, color=tty, warn=lambda line: print(f"{PROG}: {line}", file=err)
            )
    except ReportError as exc:
        print(f"{PROG}: {exc}", file=err)
        return 2
    try:
        out.write(text)
        out.flush()
    except BrokenPipeError:
        # The reader stopped early (`| head`): nothing is wrong with the report.
        _discard_output(out)
    return 0


def _discard_output(out: TextIO) -> None:
    """Point `out` at /dev/null so that the interpreter's last flush raises nothing more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def make_report_text(
    args: argparse.Namespace,
    width: int | None = None,
    color: bool = False,
    warn: Callable[[str], None] | None = None,
) -> str:
    """Compute the report that parsed arguments ask for and render it in the chosen format.

    `warn` receives one-line warnings that do not stop the report (a --staff id nobody used).
    """
    config = _load_config(args.config)
    bh = config.business_hours
    use_bh = bh.enabled if args.business_hours is None else args.business_hours
    if use_bh and not bh.enabled:
        bh = bh.model_copy(update={"enabled": True})
    zone = ZoneInfo(bh.timezone)
    duration: Duration = partial(business_seconds, bh=bh) if use_bh else wall_seconds
    until = _parse_instant(args.until, zone, "--until") if args.until else None
    _parse_ids(args.staff, "--staff", None)  # a typo stops the report before anything is read

    convo = _read_export(args.from_export, warn) if args.from_export else _read_store(args.profile)
    known = _known_users(convo)
    flag_staff = _parse_ids(args.staff, "--staff", known)
    staff_ids = set(flag_staff) | convo.extra_staff
    staff_ids |= _config_ids(config.staff.ids, known, "staff.ids")
    if convo.me_id is not None:
        staff_ids.add(convo.me_id)
    if not staff_ids and not convo.out_is_staff:
        raise ReportError(
            "no staff known: this export has no exporting account (a single-chat export); "
            "name the staff with --staff user123,456"
        )
    ignore = _config_ids(config.staff.ignore, known, "staff.ignore") - staff_ids
    staff = ReportStaff(
        ids=frozenset(staff_ids), out_is_staff=convo.out_is_staff, ignore=frozenset(ignore)
    )

    now = _parse_instant(args.now, zone, "--now") if args.now else convo.default_now
    since = _parse_since(args.since, now, zone) if args.since else None
    if since is not None and until is not None and since >= until:
        raise ReportError("--since must be before --until")

    chats = _select_chats(convo.chats, args.chat)

    def unheard(missing: int) -> None:
        if warn is not None:
            warn(f"warning: --staff {missing}: nobody with this id wrote in the chats reported on")

    figures = {
        "since": since,
        "until": until,
        "duration": duration,
        "thresholds": config.levels.seconds(),
        "load_zone": None if bh.timezone == "UTC" else zone,
        "chat_titles": {chat.id: chat.title for chat in chats},
        "staff_names": {uid: user.name for uid, user in convo.users.items()},
        "business_hours": use_bh,
    }
    if convo.store is not None:
        figures["list_replies"] = args.format == "csv"  # json and table show only figures
        report = _store_report(
            convo.store, [c.id for c in chats], staff, now, flag_staff, unheard, figures
        )
    else:
        selected = {chat.id: convo.by_chat.get(chat.id, []) for chat in chats}
        senders = {m.sender_id for messages in selected.values() for m in messages}
        for missing in sorted(set(flag_staff) - senders):
            unheard(missing)
        report = build_report(selected, staff, now, **figures)  # type: ignore[arg-type]
    return render(report, args.format, width=width, color=color)


def _store_report(
    path: Path,
    chat_ids: list[int],
    staff: ReportStaff,
    now: int,
    flag_staff: list[int],
    unheard: Callable[[int], None],
    figures: dict[str, Any],
) -> Report:
    """The report read in place from the store at `path` (core/reports/store_report.py)."""
    from ..core.reports.store_report import store_report

    try:
        return store_report(
            path, chat_ids, staff, now, staff_to_check=flag_staff, warn=unheard, **figures
        )
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        raise ReportError(_damaged(path, exc)) from None


def render(report: Report, fmt: str, width: int | None = None, color: bool = False) -> str:
    """The report as text in `fmt` (table, csv or json)."""
    if fmt == "json":
        return to_json(report)
    if fmt == "csv":
        return to_csv(report)
    return to_table(report, width=width, color=color)


def _load_config(path: Path | None) -> Config:
    """The config from --config, else the default file (missing default file = defaults)."""
    if path is not None and not path.is_file():
        raise ReportError(f"{path}: config file not found; pass an existing file to --config")
    try:
        return load_config(path if path is not None else Paths.default().config_file)
    except ConfigError as exc:
        raise ReportError(str(exc)) from None


def _read_export(path: Path, warn: Callable[[str], None] | None = None) -> Conversations:
    """Conversations from a Telegram Desktop export; its warnings go to `warn`, like replay's."""
    from ..core.sources.export import ExportError, load_export

    try:
        export = load_export(path)
    except ExportError as exc:
        raise ReportError(str(exc)) from None
    if warn is not None:
        for line in export.warnings[:_SHOWN_WARNINGS]:
            warn(f"warning: {line}")
        if len(export.warnings) > _SHOWN_WARNINGS:
            warn(f"… and {len(export.warnings) - _SHOWN_WARNINGS} more warnings")
    newest = max((m.date for m in export.messages), default=None)
    if newest is None:
        raise ReportError(f"{path}: the export has no messages; export a chat with history")
    return Conversations(
        chats=list(export.chats),
        by_chat=export.by_chat(),
        users=dict(export.users),
        me_id=export.me_id,
        default_now=newest,
        out_is_staff=export.me_id is not None,
    )


def _read_store(profile: str) -> Conversations:
    """Conversations from the desk's store of `profile` (never creating one)."""
    path = Paths.default().database(profile)
    if not path.is_file():
        hint = "tgtriage demo" if profile == "demo" else "tgtriage"
        raise ReportError(
            f"{path}: no store yet; run {hint} first, or pass --from-export result.json"
        )
    return asyncio.run(_read_store_async(path))


async def _read_store_async(path: Path) -> Conversations:
    """Read the chats, users and facts of the store at `path` (bringing its schema up to date)."""
    from ..core.storage.store import Store, StoreError

    try:
        store = await Store.open(path)
    except StoreError as exc:
        raise ReportError(str(exc)) from None
    try:
        chats = list(await store.all_chats())
        users = dict(await store.users())
        me_id = _meta_int(await _meta(store, "me_id"))
        teammates = _meta_ids(await _meta(store, "staff_ids"))
        # A replay's store is on the export's clock: its now is where the replay stopped.
        story_now = _meta_int(await _meta(store, "story_clock"))
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        raise ReportError(_damaged(path, exc)) from None
    finally:
        await store.close()
    return Conversations(
        chats=chats,
        by_chat={},
        users=users,
        me_id=me_id,
        default_now=int(time.time()) if story_now is None else story_now,
        out_is_staff=True,
        extra_staff=teammates,
        store=path,
    )


def _damaged(path: Path, exc: Exception) -> str:
    """The one-line message for a store that fails while it is read."""
    return (
        f"{path}: the store is damaged ({exc}); the desk rebuilds it when it next starts, "
        "keeping your notes, statuses and drafts"
    )


async def _meta(store: Store, key: str) -> str | None:
    """A value of the store's `meta` key/value table."""
    return await store.get_meta(key)


def _meta_int(value: str | None) -> int | None:
    """An id stored as text, or None."""
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _meta_ids(value: str | None) -> frozenset[int]:
    """Ids stored as a JSON list or comma-separated text (bad entries are skipped)."""
    if not value:
        return frozenset()
    parts = value.strip().strip("[]").split(",")
    return frozenset(int(p) for p in (x.strip() for x in parts) if p.lstrip("-").isdigit())


def _known_users(convo: Conversations) -> dict[str, int]:
    """Usernames (lower case, no @) → ids, to resolve config entries given as @usernames."""
    return {u.username.lower(): uid for uid, u in convo.users.items() if u.username}


def _parse_ids(values: Sequence[str], flag: str, known: Mapping[str, int] | None) -> list[int]:
    """Ids from repeated comma-separated flag values like "user123,456,@priya".

    An @username is looked up in `known` (usernames → ids); with `known` None names are not
    resolved yet, so that a typo in an id stops the report before anything is read.
    """
    from ..core.sources.export import parse_peer_id

    ids: list[int] = []
    for value in values:
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            if part.startswith("@") and len(part) > 1:
                if known is not None:
                    if part[1:].lower() not in known:
                        raise ReportError(
                            f"{flag} {part}: nobody with this username in the chats; "
                            "use the numeric id (or user123 from the export)"
                        )
                    ids.append(known[part[1:].lower()])
                continue
            try:
                ids.append(parse_peer_id(part))
            except ValueError as exc:
                raise ReportError(f"{flag}: {exc}") from None
    return ids


def _config_ids(entries: Sequence[int | str], known: Mapping[str, int], key: str) -> set[int]:
    """Numeric ids of config entries; @usernames resolve through the known users (else skipped)."""
    ids: set[int] = set()
    for entry in entries:
        if isinstance(entry, int):
            ids.add(entry)
            continue
        text = entry.strip()
        if text.lstrip("-").isdigit():
            ids.add(int(text))
        elif text.lower().startswith("user") and text[4:].isdigit():
            ids.add(int(text[4:]))
        elif text.lstrip("@").lower() in known:
            ids.add(known[text.lstrip("@").lower()])
    return ids


def _select_chats(chats: Sequence[Chat], specs: Sequence[str]) -> list[Chat]:
    """The chats named by --chat (all when none); an unmatched spec is an error."""
    if not specs:
        return list(chats)
    chosen: dict[int, Chat] = {}
    for spec in specs:
        matches = [chat for chat in chats if _chat_matches(chat, spec)]
        if not matches:
            raise ReportError(f"--chat {spec!r}: no chat has this id or title")
        for chat in matches:
            chosen[chat.id] = chat
    return [chat for chat in chats if chat.id in chosen]


def _chat_matches(chat: Chat, spec: str) -> bool:
    """Whether --chat `spec` names `chat`: marked or bare id, exact title or wildcard pattern."""
    text = spec.strip()
    if text.lstrip("-").isdigit():
        number = int(text)
        bare = -chat.id - _CHANNEL_OFFSET if chat.id < -_CHANNEL_OFFSET else abs(chat.id)
        return number in (chat.id, bare)
    title = chat.title.casefold()
    pattern = text.casefold()
    return title == pattern or fnmatchcase(title, pattern)


def _parse_instant(text: str, zone: ZoneInfo, flag: str) -> int:
    """Unix seconds from an epoch number, a date (midnight in `zone`) or an ISO date-time."""
    value = text.strip()
    if value.isdigit():
        return int(value)
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return int(datetime.combine(day, datetime.min.time(), tzinfo=zone).timestamp())
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ReportError(
            f"{flag} {text!r}: not a date; use 2024-05-31, 2024-05-31T14:00 or Unix seconds"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return int(moment.timestamp())


def _parse_since(text: str, now: int, zone: ZoneInfo) -> int:
    """--since: a span back from `now` (7d, 24h, 2w, 30m) or an absolute date/time."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        return _parse_instant(text, zone, "--since")
    except ReportError:
        raise ReportError(
            f"--since {text!r}: use a span like 7d, 24h, 2w or a date like 2024-05-31"
        ) from None
