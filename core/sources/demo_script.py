"""The demo desk's script engine: reads core/sources/demo_script.toml into checked, typed steps.

The data (people, support chats, conversations) is the TOML file, whose header explains its
vocabulary; this module turns it into the dataclasses the simulator in demo.py plays, and
reports any mistake as one line `path:line: problem; fix` (a `ScriptError`).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, TypeAdapter, ValidationError

from ..desk.models import ChatKind, Media, User
from ..rules.durations import parse_duration

Lang = Literal["en", "ru"]
SCRIPT_PATH = Path(__file__).with_name("demo_script.toml")
CUSTOMER = "c"
MATE = "mate"
_STRICT = ConfigDict(extra="forbid")


class ScriptError(ValueError):
    """A mistake in a demo script, as one line naming the file, the line and the fix."""


@dataclass(frozen=True, slots=True)
class Person:
    """Someone in the demo: the engineer, a teammate or a customer."""

    __pydantic_config__ = _STRICT
    key: str
    id: int
    first_name: str
    last_name: str = ""
    username: str | None = None
    lang: Lang = "en"


@dataclass(frozen=True, slots=True)
class Past:
    """A backlog line, written `ago` before the demo starts."""

    __pydantic_config__ = _STRICT
    ago: str
    who: str
    text: str = ""
    tag: str | None = None
    quote: str | None = None
    media: Media | None = None
    edited: bool = False
    service: bool = False


@dataclass(frozen=True, slots=True)
class Say:
    """A live message from a customer or a teammate."""

    __pydantic_config__ = _STRICT
    who: str
    text: str = ""
    wait: str = "0s"
    after: Literal["prev", "staff"] = "prev"
    tag: str | None = None
    quote: str | None = None
    media: Media | None = None
    unless_answered: bool = False


@dataclass(frozen=True, slots=True)
class Edit:
    """A live edit of an earlier tagged message (the sender fixes a typo)."""

    __pydantic_config__ = _STRICT
    tag: str
    text: str
    wait: str = "0s"


@dataclass(frozen=True, slots=True)
class Delete:
    """A live deletion of an earlier tagged message."""

    __pydantic_config__ = _STRICT
    tag: str
    wait: str = "0s"


@dataclass(frozen=True, slots=True)
class React:
    """A live emoji reaction by `who` on an earlier tagged message."""

    __pydantic_config__ = _STRICT
    who: str
    tag: str
    emoji: str
    wait: str = "0s"


def to_user(person: Person) -> User:
    """The `User` model of a scripted person."""
    return User(
        id=person.id,
        first_name=person.first_name,
        last_name=person.last_name,
        username=person.username,
    )


Step = Say | Edit | Delete | React
_STEP_KINDS: dict[str, tuple[type[Step], str]] = {
    "say": (Say, "who"),
    "edit": (Edit, "tag"),
    "delete": (Delete, "tag"),
    "react": (React, "who"),
}


@dataclass(frozen=True, slots=True)
class Scenario:
    """One support chat: who is in it, what happened before the start, what happens live."""

    key: str
    title: str
    kind: ChatKind
    chat_id: int
    customers: tuple[Person, ...]
    past: tuple[Past, ...] = ()
    live: tuple[Step, ...] = ()
    patience: str | None = "30s"
    older: int = 2
    appears: str | None = None

    @property
    def lang(self) -> Lang:
        """The chat's language: that of its first customer."""
        return self.customers[0].lang


Lines = Mapping[str, tuple[str, ...]]

TEAM_ACTIONS = ("claim", "note", "handoff", "release")


@dataclass(frozen=True, slots=True)
class TeamStep:
    """One teammate's team event in the demo's team room (core/sources/demo_team.py)."""

    wait: str
    who: str
    do: str
    chat: str
    text: str = ""
    to: str = ""


@dataclass(frozen=True, slots=True)
class TeamScript:
    """The demo's team room: its title and chat id, and what the teammates post there."""

    title: str
    chat_id: int
    steps: tuple[TeamStep, ...] = ()


@dataclass(frozen=True, slots=True)
class Script:
    """A whole demo script: the desk's people, its chats and the lines the simulator picks from."""

    me: Person
    teammates: tuple[Person, ...]
    scenarios: tuple[Scenario, ...]
    nudges: Lines = field(default_factory=dict)
    replies: Lines = field(default_factory=dict)
    pickups: Lines = field(default_factory=dict)
    resolutions: Lines = field(default_factory=dict)
    closers: Lines = field(default_factory=dict)
    older_threads: Mapping[str, tuple[tuple[tuple[str, str], ...], ...]] = field(
        default_factory=dict
    )
    ambient: Mapping[str, tuple[tuple[Step, ...], ...]] = field(default_factory=dict)
    team: TeamScript | None = None

    @property
    def staff(self) -> dict[str, Person]:
        """The engineer and the teammates by key."""
        return {p.key: p for p in (self.me, *self.teammates)}


def seconds(duration: str) -> int:
    """Parse a story duration like "1h15m", "2m30s" or "40s" into seconds."""
    try:
        return parse_duration(duration, units="hms")
    except ValueError:
        raise ValueError(
            f"bad duration {duration!r}: write it like '40s', '7m' or '1h15m'"
        ) from None


_CLOSING = ("thank", "thx", "cheers", "will wait", "go ahead", "спасибо", "🙏", "👍")


def sounds_closing(text: str) -> bool:
    """True when a customer's line ends the exchange (a thank-you, "ok, will wait"), not a question.

    Customers who just said thanks neither ask "anyone there?" nor answer the reply to it.
    """
    lowered = text.lower().strip()
    return not lowered.endswith("?") and any(token in lowered for token in _CLOSING)


# --- reading the TOML ---------------------------------------------------------------------------


@cache
def default_script() -> Script:
    """The built-in script (demo_script.toml next to this module), read once."""
    return load_script(SCRIPT_PATH)


def load_script(path: Path) -> Script:
    """Read and check a demo script; ScriptError names the file, line and fix of a mistake."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(f"{path}:1: cannot read the demo script ({exc})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        problem = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        line = found.group(1) if found else "1"
        raise ScriptError(f"{path}:{line}: not valid TOML ({problem}); fix that line") from exc
    try:
        script = _script(data)
        validate(script)
    except (ValueError, ValidationError) as exc:
        message = _one_line(exc)
        raise ScriptError(f"{path}:{_line_for(text, message)}: {message}") from exc
    return script


def _one_line(exc: Exception) -> str:
    """A pydantic or ValueError problem as one line."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where}: {first['msg']}"
    return str(exc)


def _line_for(text: str, message: str) -> int:
    """The line of the scenario a message names (`scenario 'acme' …`), else 1."""
    found = re.match(r"scenario '([^']+)'", message)
    if found:
        pattern = re.compile(rf"""^\s*key\s*=\s*["']{re.escape(found.group(1))}["']""")
        for number, line in enumerate(text.splitlines(), start=1):
            if pattern.match(line):
                return number
    return 1


_ADAPTERS: dict[object, TypeAdapter[Any]] = {}


def _adapter(kind: Any) -> TypeAdapter[Any]:
    """One validator per type for the whole script (building one is most of reading a step)."""
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(kind)
    return adapter


def _people(table: Any, where: str) -> dict[str, Person]:
    """A `[staff]` or `[customers]` table: key → Person."""
    if not isinstance(table, dict):
        raise ValueError(f"[{where}] must be a table of people")
    adapter = _adapter(Person)
    return {key: adapter.validate_python({"key": key, **value}) for key, value in table.items()}


def _step(raw: Any, where: str) -> Step:
    """One live step: exactly one of say, edit, delete, react names its kind."""
    kinds = [kind for kind in _STEP_KINDS if isinstance(raw, dict) and kind in raw]
    if len(kinds) != 1:
        raise ValueError(f"{where}: a step starts with one of say, edit, delete or react")
    cls, field_name = _STEP_KINDS[kinds[0]]
    values = dict(raw)
    values[field_name] = values.pop(kinds[0])
    return _adapter(cls).validate_python(values)


def _scenario(raw: dict[str, Any], customers: dict[str, Person]) -> Scenario:
    """One `[[scenario]]` table."""
    name = f"scenario {raw.get('key')!r}"
    values = dict(raw)
    people = []
    for key in values.pop("customers", []):
        if key not in customers:
            raise ValueError(f"{name}: customer {key!r} is not in [customers]; add it there")
        people.append(customers[key])
    past = _adapter(tuple[Past, ...]).validate_python(values.pop("past", ()))
    live = tuple(_step(s, f"{name} live[{i}]") for i, s in enumerate(values.pop("live", ())))
    if values.get("patience") == "never":
        values["patience"] = None
    allowed = {f.name for f in dataclasses.fields(Scenario)}
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise ValueError(f"{name}: unknown field {unknown[0]!r}; allowed: {', '.join(allowed)}")
    return Scenario(**values, customers=tuple(people), past=past, live=live)


def _script(data: dict[str, Any]) -> Script:
    """The Script of a parsed TOML document."""
    staff = _people(data.get("staff"), "staff")
    if "me" not in staff:
        raise ValueError("[staff] needs `me`, the engineer")
    customers = _people(data.get("customers", {}), "customers")
    lines = _adapter(dict[str, tuple[str, ...]])
    threads = {
        lang: tuple(tuple((line["who"], line["text"]) for line in t["lines"]) for t in entries)
        for lang, entries in data.get("older_threads", {}).items()
    }
    ambient = {
        lang: tuple(
            tuple(_step(s, f"ambient.{lang}[{n}][{i}]") for i, s in enumerate(conv["steps"]))
            for n, conv in enumerate(entries)
        )
        for lang, entries in data.get("ambient", {}).items()
    }
    return Script(
        me=staff["me"],
        teammates=tuple(p for key, p in staff.items() if key != "me"),
        scenarios=tuple(_scenario(raw, customers) for raw in data.get("scenario", [])),
        nudges=lines.validate_python(data.get("nudges", {})),
        replies=lines.validate_python(data.get("replies", {})),
        pickups=lines.validate_python(data.get("pickups", {})),
        resolutions=lines.validate_python(data.get("resolutions", {})),
        closers=lines.validate_python(data.get("closers", {})),
        older_threads=threads,
        ambient=ambient,
        team=_adapter(TeamScript | None).validate_python(data.get("team")),
    )


# --- checking -----------------------------------------------------------------------------------


def _story_seconds(where: str, duration: str) -> int:
    """`seconds(duration)`, a mistake prefixed with where it is."""
    try:
        return seconds(duration)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _check_step(
    where: str, step: Step, speakers: set[str], mates: set[str], tags: set[str]
) -> None:
    """Raise ValueError when a live step names an unknown speaker or tag, or a bad duration."""
    _story_seconds(where, step.wait)
    if isinstance(step, Say):
        if step.who not in speakers | mates:
            raise ValueError(
                f"{where}: unknown speaker {step.who!r}; use a customer key or a teammate"
            )
        if step.unless_answered and step.who not in mates:
            raise ValueError(f"{where}: unless_answered is only for teammates, not {step.who!r}")
        if step.quote is not None and step.quote not in tags:
            raise ValueError(f"{where}: quote {step.quote!r} names no earlier tag")
        if not step.text and step.media is None:
            raise ValueError(f"{where}: a message needs text or media")
        if step.tag is not None:
            tags.add(step.tag)
        return
    if step.tag not in tags:
        raise ValueError(f"{where}: tag {step.tag!r} names no earlier message")
    if isinstance(step, React) and step.who not in speakers | mates:
        raise ValueError(f"{where}: unknown speaker {step.who!r}")


def _check_scenario(scenario: Scenario, script: Script) -> None:
    """Raise ValueError naming the scenario and step of the first mistake in it."""
    name = f"scenario {scenario.key!r}"
    if not scenario.customers:
        raise ValueError(f"{name}: needs at least one customer")
    if scenario.kind == "private" and scenario.chat_id != scenario.customers[0].id:
        raise ValueError(f"{name}: a private chat's id must be its customer's id")
    if scenario.kind != "private" and scenario.chat_id >= 0:
        raise ValueError(f"{name}: group ids are negative (marked -100… for supergroups)")
    for duration in (scenario.patience, scenario.appears):
        if duration is not None:
            _story_seconds(name, duration)
    customers = {p.key for p in scenario.customers}
    mates = set() if scenario.kind == "private" else {p.key for p in script.teammates}
    tags: set[str] = set()
    last = None
    for i, line in enumerate(scenario.past):
        where = f"{name} past[{i}]"
        age = _story_seconds(where, line.ago)
        if last is not None and age > last:
            raise ValueError(f"{where}: backlog lines must run from oldest to newest")
        last = age
        if line.who not in customers | mates | {script.me.key}:
            raise ValueError(f"{where}: unknown speaker {line.who!r}")
        if line.quote is not None and line.quote not in tags:
            raise ValueError(f"{where}: quote {line.quote!r} names no earlier tag")
        if line.tag is not None:
            tags.add(line.tag)
    for i, step in enumerate(scenario.live):
        _check_step(f"{name} live[{i}]", step, customers, mates, tags)


def _check_team(team: TeamScript, script: Script, chats: set[int]) -> None:
    """Check the team room: its own chat id, teammates who exist, chats of the script."""
    if team.chat_id in chats or team.chat_id >= 0:
        raise ValueError(f"[team] chat_id {team.chat_id} must be a new group id (negative)")
    keys = {scenario.key for scenario in script.scenarios}
    mates = {p.key for p in script.teammates}
    for i, step in enumerate(team.steps):
        where = f"[team] steps[{i}]"
        _story_seconds(where, step.wait)
        if step.who not in mates:
            raise ValueError(f"{where}: who = {step.who!r} is not a teammate in [staff]")
        if step.do not in TEAM_ACTIONS:
            raise ValueError(f"{where}: do = {step.do!r}; one of {', '.join(TEAM_ACTIONS)}")
        if step.chat not in keys:
            raise ValueError(f"{where}: chat = {step.chat!r} is not a scenario key")
        if step.do == "handoff" and step.to not in {*mates, "me"}:
            raise ValueError(f'{where}: a handoff needs to = a teammate or "me"')


def validate(script: Script) -> None:
    """Check a script; raise ValueError naming the scenario and step of the first mistake."""
    seen_chats: set[int] = set()
    for scenario in script.scenarios:
        if scenario.chat_id in seen_chats:
            raise ValueError(f"scenario {scenario.key!r}: chat id {scenario.chat_id} is used twice")
        seen_chats.add(scenario.chat_id)
        _check_scenario(scenario, script)
    if script.team is not None:
        _check_team(script.team, script, seen_chats)
    langs = {scenario.lang for scenario in script.scenarios}
    for table in ("nudges", "replies", "pickups", "resolutions", "closers", "older_threads"):
        missing = sorted(lang for lang in langs if not getattr(script, table).get(lang))
        if missing:
            raise ValueError(f"[{table}] has no lines for {missing[0]!r}; add {missing[0]} = […]")
    for lang, conversations in script.ambient.items():
        for n, conversation in enumerate(conversations):
            tags: set[str] = set()
            for i, step in enumerate(conversation):
                _check_step(f"ambient.{lang}[{n}][{i}]", step, {CUSTOMER}, {MATE}, tags)
