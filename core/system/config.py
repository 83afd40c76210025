"""The desk's configuration: TOML file + TGTRIAGE_* environment + CLI flags, validated by pydantic.

The models build their validators only when first used (`defer_build`): a start whose config is
unchanged revives it from its snapshot (core/system/config_snapshot.py) without validating, and
pydantic-settings (the environment) is imported only when the config is validated
(core/system/config_settings.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from ..rules.durations import is_clock

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WORKWEEK: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")


class ConfigError(Exception):
    """A configuration problem, as one line naming the file/line or key and the fix."""


class Section(BaseModel):
    """Base for config sections: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class Levels(Section):
    """Response thresholds in minutes: waiting longer than each raises the level."""

    due: float = Field(5, gt=0, description="Minutes until a waiting chat is 'due' (level 1).")
    late: float = Field(15, gt=0, description="Minutes until it is 'late' (level 2).")
    breached: float = Field(60, gt=0, description="Minutes until it is 'breached' (level 3).")

    @field_validator("late", "breached")
    @classmethod
    def _increasing(cls, value: float, info: ValidationInfo) -> float:
        below = "due" if info.field_name == "late" else "late"
        earlier = info.data.get(below)
        if earlier is not None and value <= earlier:
            raise ValueError(
                f"{info.field_name} = {value:g} must be more minutes than {below} = {earlier:g}; "
                "levels rise in order, e.g. due = 5, late = 15, breached = 60"
            )
        return value

    def seconds(self) -> tuple[int, int, int]:
        """The three thresholds in seconds."""
        return (int(self.due * 60), int(self.late * 60), int(self.breached * 60))


class BusinessHours(Section):
    """When the response clocks run; outside these hours they pause."""

    enabled: bool = Field(False, description="Pause the clocks outside business hours.")
    timezone: str = Field("UTC", description="IANA time zone, e.g. 'Europe/Berlin'.")
    days: list[Weekday] = Field(
        default_factory=lambda: list(WORKWEEK),
        description="Working weekdays.",
    )
    start: str = Field("09:00", description="Start of the working day, HH:MM.")
    end: str = Field("18:00", description="End of the working day, HH:MM.")
    holidays: list[str] = Field(default_factory=list, description="Dates off, YYYY-MM-DD.")

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not is_clock(value):
            raise ValueError("must be a time like '09:00'")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use a name like 'Europe/Berlin'"
            ) from exc
        return value


class Staff(Section):
    """Who counts as staff besides the logged-in account, and who is ignored."""

    ids: list[int | str] = Field(
        default_factory=list, description="Teammates: numeric ids or @usernames."
    )
    ignore: list[int | str] = Field(
        default_factory=list, description="Bots or accounts whose messages never count."
    )
    reaction_handled: bool = Field(
        False, description="A staff emoji reaction on the customer's last message marks it handled."
    )
    handled_reaction: str = Field("👍", description="The reaction the handled key sends.")


class Team(Section):
    """The team room: a private Telegram group of the support staff that carries claims, notes and statuses."""

    room: int | str | None = Field(
        None,
        description='The team room: "@name", a numeric chat id, or the exact title; none = no team.',
    )
    claim_quiet_minutes: float = Field(
        15,
        gt=0,
        description="A claim lapses after this long without the claimer's activity in the chat.",
    )
    presence_seconds: float = Field(
        30, ge=5, description="At most one presence edit per this many seconds while typing."
    )
    share_notes: bool = Field(
        True, description="Notes go to the team room by default (a modifier keeps one private)."
    )
    catch_up_hours: float = Field(
        24, gt=0, description="How far back a starting desk reads the room to rebuild team state."
    )
    catch_up_messages: int = Field(
        5000,
        gt=0,
        description="At most this many room messages are read at start-up (a day of 20 engineers).",
    )


class Chats(Section):
    """Which chats are support chats."""

    title_patterns: list[str] = Field(
        default_factory=list, description="Shell-style title patterns, e.g. '* Support'."
    )
    folder: str | None = Field(None, description="A Telegram folder (dialog filter) by name.")
    include: list[int | str] = Field(default_factory=list, description="Always include these.")
    exclude: list[int | str] = Field(default_factory=list, description="Never include these.")
    private_chats: bool = Field(True, description="Include private one-to-one chats.")


class Telegram(Section):
    """The Telegram account connection."""

    api_id: int | None = Field(None, description="From https://my.telegram.org → API tools.")
    api_hash: str | None = Field(None, description="From https://my.telegram.org → API tools.")
    history_limit: int = Field(200, ge=0, le=5000, description="Messages backfilled per chat.")
    reconcile_minutes: float = Field(
        3,
        ge=0,
        description="Compare watched chats with Telegram this often (0 = only on reconnect).",
    )
    mark_read: Literal["on_open", "on_reply", "never"] = Field(
        "on_open", description="When opening a chat marks it read in Telegram."
    )
    watchdog_seconds: int = Field(
        60,
        ge=5,
        le=3600,
        description="After this many seconds without any sign from Telegram, check the "
        "connection with a cheap request; no answer means reconnect.",
    )
    test_servers: bool = Field(
        False, description="Use Telegram's test servers (with a session file of their own)."
    )
    server: str | None = Field(
        None,
        description='A self-hosted MTProto server as "host:port" (needs dc_id); its own session.',
    )
    dc_id: int | None = Field(
        None, ge=1, le=1000, validate_default=True, description="The data center id of `server`."
    )

    @field_validator("server")
    @classmethod
    def _server(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.data.get("test_servers"):
            raise ValueError("choose either server or test_servers = true, not both")
        host, sep, port = value.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError('must be "host:port", e.g. "127.0.0.1:4430"')
        return f"{host}:{int(port)}"

    @field_validator("dc_id")
    @classmethod
    def _dc_id(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None and info.data.get("server") is not None:
            raise ValueError("the data center id of `server` is needed too, e.g. dc_id = 2")
        return value


class Templates(Section):
    """Where canned replies live."""

    paths: list[Path] = Field(
        default_factory=list, description="Extra template folders besides the config dir's."
    )


class Postpone(Section):
    """Postpone choices."""

    tomorrow_at: str = Field("09:00", description="'Tomorrow' means this time, HH:MM.")

    @field_validator("tomorrow_at")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not is_clock(value):
            raise ValueError("must be a time like '09:00'")
        return value


Channel = Literal["toast", "bell", "osc", "desktop", "notify"]
OscCode = Literal["777", "9"]
_DEFAULT_CHANNELS: list[Channel] = ["toast", "bell", "notify"]
_QUIET_CHANNELS: list[Channel] = ["toast"]
_OSC_CODES: list[OscCode] = ["777", "9"]


class Alerts(Section):
    """How the desk tells you that a chat reached a level or a reminder came due.

    Channels: `toast` (inside the desk), `bell` (the terminal bell; tmux flags the window),
    `osc` (OSC 777 / OSC 9 desktop notifications written to the terminal, wrapped in tmux's
    passthrough when $TMUX is set), `desktop` (notify-send, where a desktop session exists),
    `notify` (`desktop` when there is a local desktop session, else `osc`).
    """

    enabled: bool = Field(True, description="Send alerts at all.")
    level_1: list[Channel] = Field(
        default_factory=lambda: list(_DEFAULT_CHANNELS),
        description="Channels when a chat becomes due (level 1).",
    )
    level_2: list[Channel] = Field(
        default_factory=lambda: list(_DEFAULT_CHANNELS),
        description="Channels when a chat becomes late (level 2).",
    )
    level_3: list[Channel] = Field(
        default_factory=lambda: list(_DEFAULT_CHANNELS),
        description="Channels when a chat's response target is breached (level 3).",
    )
    reminder: list[Channel] = Field(
        default_factory=lambda: list(_DEFAULT_CHANNELS),
        description="Channels when a postponed chat or an in-development due date comes back.",
    )
    osc: list[OscCode] = Field(
        default_factory=lambda: list(_OSC_CODES),
        description="Which terminal notifications `osc` writes: OSC 777 (foot, WezTerm, "
        "Ghostty, urxvt, VTE) and/or OSC 9 (iTerm2, Windows Terminal, ConEmu).",
    )
    quiet_hours: str | None = Field(
        None, description="A daily quiet time like '22:00-07:00' (business_hours.timezone)."
    )
    quiet_channels: list[Channel] = Field(
        default_factory=lambda: list(_QUIET_CHANNELS),
        description="The only channels used during quiet hours.",
    )

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str | None) -> str | None:
        if value is not None and not (
            value.count("-") == 1 and all(is_clock(part) for part in value.split("-"))
        ):
            raise ValueError("must be a time range like '22:00-07:00'")
        return value


class Tickets(Section):
    """Ticket references in messages (JIRA-123, #1234) and where they open."""

    url: str | None = Field(
        None,
        description="URL of a reference like JIRA-123; {ticket}, {key} and {number} are "
        "filled in, e.g. 'https://jira.example.com/browse/{ticket}'.",
    )
    hash_url: str | None = Field(
        None,
        description="URL of a reference like #1234, e.g. "
        "'https://github.com/acme/app/issues/{number}'; without it `url` is used.",
    )
    projects: list[str] = Field(
        default_factory=list,
        description="Only these project keys count as tickets (e.g. ['JIRA', 'OPS']); "
        "empty means any upper-case key.",
    )
    ignore: list[str] = Field(
        default_factory=lambda: ["UTF", "ISO", "SHA", "MD", "RFC", "TLS", "SSL", "HTTP", "PEP"],
        description="Keys that look like tickets but are not (UTF-8, ISO-8601…).",
    )

    @field_validator("url", "hash_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://", value):
            raise ValueError("must start with http:// or https://")
        try:
            value.format(ticket="T-1", key="T", number="1")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError("may only use the placeholders {ticket}, {key} and {number}") from exc
        return value

    @field_validator("projects", "ignore")
    @classmethod
    def _keys(cls, value: list[str]) -> list[str]:
        for key in value:
            if not re.match(r"^[A-Z][A-Z0-9]{1,9}$", key):
                raise ValueError(f"{key!r} is not a project key like 'JIRA' (2–10 capitals/digits)")
        return value


def _targets(name: str, value: object) -> tuple[float, float, float]:
    """Validate one `[targets]` entry: three increasing positive minutes."""
    shape = f"{name!r} must be three numbers of minutes like [2, 5, 15]"
    if not isinstance(value, list | tuple) or len(value) != 3:
        raise ValueError(shape)
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise ValueError(shape)
    due, late, breached = (float(v) for v in value)
    if not 0 < due <= late <= breached:
        raise ValueError(f"{name!r} must be positive and in order due <= late <= breached")
    return (due, late, breached)


class Config(BaseModel):
    """All settings; every field has a default so an empty file is valid."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    agent_name: str | None = Field(None, description="Your name in templates; else from Telegram.")
    undo_send_seconds: float = Field(
        5,
        ge=0,
        le=60,
        description="A reply waits this long before it leaves, and Alt+Z takes it back (0: off). "
        "Five seconds, as mail clients do: time to see it went to the wrong chat.",
    )
    levels: Levels = Field(default_factory=Levels)
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    staff: Staff = Field(default_factory=Staff)
    chats: Chats = Field(default_factory=Chats)
    team: Team = Field(default_factory=Team)
    telegram: Telegram = Field(default_factory=Telegram)
    templates: Templates = Field(default_factory=Templates)
    postpone: Postpone = Field(default_factory=Postpone)
    alerts: Alerts = Field(default_factory=Alerts)
    tickets: Tickets = Field(default_factory=Tickets)
    targets: dict[str, tuple[float, float, float]] = Field(
        default_factory=dict,
        description="Per-chat response targets in minutes (due, late, breached) by chat title "
        'pattern, @username or id, e.g. "Initech · Support" = [2, 5, 15].',
    )
    keys: dict[str, str] = Field(
        default_factory=dict,
        description="Key remapping: binding id → keys, e.g. next_waiting = 'ctrl+n,f2'.",
    )

    @field_validator("targets", mode="before")
    @classmethod
    def _check_targets(cls, value: object) -> object:
        if isinstance(value, dict):
            return {str(k): _targets(str(k), v) for k, v in value.items()}
        return value


def _line_of(text: str, loc: tuple[int | str, ...]) -> int | None:
    """Best-effort line number of the key at `loc` in the TOML text."""
    if not loc:
        return None
    lines = text.splitlines()
    section = [str(p) for p in loc[:-1] if isinstance(p, str)]
    key = str(loc[-1]) if isinstance(loc[-1], str) else (section.pop() if section else "")
    in_section = not section
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            in_section = stripped.strip("[] ") == ".".join(section)
            continue
        if in_section and re.match(rf"^[\"']?{re.escape(key)}[\"']?\s*=", stripped):
            return number
    if len(loc) == 1:  # a whole section: its [table] header
        for number, line in enumerate(lines, start=1):
            if re.match(rf"^\[\s*{re.escape(key)}\s*[\].]", line.strip()):
                return number
    return None


def where_in_file(path: Path, loc: tuple[int | str, ...]) -> str:
    """`path:line` of the setting at `loc` (e.g. ("keys", "next_waiting")), else `path`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return str(path)
    line = _line_of(text, loc)
    return f"{path}:{line}" if line else str(path)


def load_config(
    path: Path | None, overrides: dict[str, Any] | None = None, snapshot: Path | None = None
) -> Config:
    """Load and validate config from `path` (missing file = defaults), env and `overrides`.

    With `snapshot` (a file in the data dir), a config whose file, environment and schema are
    unchanged since it last validated is revived from that file without validating again; any
    change validates it anew (a bad edit fails as always) and refreshes the snapshot.
    """
    from . import config_snapshot

    raw = _read_bytes(path)
    key = config_snapshot.snapshot_key(path, raw, overrides) if snapshot is not None else ""
    if snapshot is not None:
        kept = config_snapshot.read_snapshot(snapshot, key)
        if kept is not None:
            return config_snapshot.revive(Config, kept)
    from .config_settings import validate_config

    config = validate_config(path, raw, overrides)
    if snapshot is not None:
        config_snapshot.write_snapshot(snapshot, key, config)
    return config


def _read_bytes(path: Path | None) -> bytes | None:
    """The config file's bytes; None when there is no file; a ConfigError when unreadable."""
    if path is None or not path.exists():
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read the file ({exc}); fix its permissions or encoding"
        ) from exc
