"""Canned replies: load a TOML template library, render placeholders, match `/word` triggers.

File format (any number of `*.toml` files per folder, subfolders included, hidden ones skipped)::

    [[template]]
    key = "greet"                 # the trigger word: /greet
    title = "Greeting"
    category = "Opening"
    lang = "en"                   # optional: "en", "ru", … (two or three letters)
    body = \"\"\"
    Hi {{ customer.first_name || 'there' }}! How can I help?
    \"\"\"

Placeholders are `{{ EXPR }}` where EXPR is one or more terms joined by `||`; the first term
that is not empty wins. A term is a variable (see VARIABLES), quoted text ('…' or "…", e.g. the
fallback in `{{ customer.first_name || 'there' }}`, or `{{ '{{' }}` for literal braces), or
`input.NAME`, a field the engineer fills in after insertion (a tab stop).

Rendering rules (see `render`):
- An input field renders as its name between single guillemets, `‹order_id›`; `Rendered.fields`
  gives each one's offsets, and `unfilled_fields` finds the markers that are still in the text.
- Values come from untrusted Telegram data, so they are reduced to one clean line, and `‹ ›` in
  them become `< >` so that a customer's name can never look like an unfilled field.
- A placeholder that renders empty takes its surrounding space with it: followed by punctuation
  or the end of a line, the spaces before it and one comma before those go ("Hello, {{ x }}!" →
  "Hello!"); followed by a space, the spaces after it go ("Dear {{ x }} team" → "Dear team").
- `now.date` is YYYY-MM-DD and `now.time` HH:MM, in the context's time zone.

A template with any error is left out and reported as one line `path:line: problem; fix`; the
rest of the library still loads. Keys are unique per language: the same key may exist once per
`lang` (the popup puts the chat's language first).
"""

from __future__ import annotations

import difflib
import heapq
import math
import re
import time
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..rules.sanitize import clean_line

if TYPE_CHECKING:
    from ..desk.models import Chat, ChatTriage, Message, User
    from ..system.config import Config
    from ..system.paths import Paths

VARIABLES: dict[str, str] = {
    "customer.first_name": "the customer's first name",
    "customer.name": "the customer's full name",
    "customer.username": "the customer's @username, without the @",
    "agent.first_name": "your first name (config agent_name, else Telegram)",
    "agent.name": "your full name (config agent_name, else Telegram)",
    "chat.title": "the chat's title",
    "chat.ticket": "the chat's ticket reference, e.g. JIRA-123",
    "now.date": "today's date, YYYY-MM-DD",
    "now.time": "the time now, HH:MM",
}
"""Every variable a template may use (besides `input.NAME` fields), with what it holds."""

FIELD_OPEN = "‹"
FIELD_CLOSE = "›"
FIELDS = ("key", "title", "category", "lang", "body")
REQUIRED = ("key", "title", "category", "body")

_KEY = re.compile(r"^[^\W\d_][\w-]*$")
_LANG = re.compile(r"^[a-z]{2,3}$")
_MARKER = re.compile(r"‹(\w+)›")
_TERM_CHARS = re.compile(r"[\w.]+")
_PUNCT = set(",.!?;:)]}…»\"'")
_TRIGGER_STOP = set("/\\.:@~")


# ---------------------------------------------------------------- parsed bodies


@dataclass(frozen=True, slots=True)
class Var:
    """A context variable such as `customer.first_name`."""

    name: str


@dataclass(frozen=True, slots=True)
class Quoted:
    """Literal text inside a placeholder, usually a fallback: `'there'`."""

    text: str


@dataclass(frozen=True, slots=True)
class Input:
    """An `input.NAME` field the engineer fills in after insertion."""

    name: str


Term = Var | Quoted | Input


@dataclass(frozen=True, slots=True)
class Placeholder:
    """One `{{ … }}`: terms tried in order, the first non-empty one wins."""

    terms: tuple[Term, ...]


Node = str | Placeholder


@dataclass(frozen=True, slots=True)
class BodyError:
    """A problem in a template body at character `offset`, with the fix in `message`."""

    offset: int
    message: str


def parse_body(body: str) -> tuple[tuple[Node, ...], list[BodyError]]:
    """Split a body into literal text and placeholders; collect every syntax/variable error."""
    nodes: list[Node] = []
    errors: list[BodyError] = []
    pos = 0
    while True:
        start = body.find("{{", pos)
        if start < 0:
            break
        if start > pos:
            nodes.append(body[pos:start])
        end, node, error = _parse_placeholder(body, start)
        if error is not None:
            errors.append(error)
        elif node is not None:
            nodes.append(node)
        pos = end
    if pos < len(body):
        nodes.append(body[pos:])
    for match in _MARKER.finditer(body):
        errors.append(
            BodyError(
                match.start(),
                f"'{match.group(0)}' looks like an unfilled field marker; "
                f"write {{{{ input.{match.group(1)} }}}} instead",
            )
        )
    errors.sort(key=lambda e: e.offset)
    return tuple(nodes), errors


def _skip_space(body: str, pos: int) -> int:
    """The first position at or after `pos` that is not a space or tab (placeholders are one line)."""
    while pos < len(body) and body[pos] in " \t":
        pos += 1
    return pos


def _resume(body: str, start: int) -> int:
    """Where parsing continues after a broken placeholder: past its `}}`, or the end."""
    close = body.find("}}", start + 2)
    return len(body) if close < 0 else close + 2


def _parse_placeholder(body: str, start: int) -> tuple[int, Placeholder | None, BodyError | None]:
    """Parse the placeholder opening at `start`: (position after it, node, error)."""
    terms: list[Term] = []
    pos = start + 2
    while True:
        pos = _skip_space(body, pos)
        if pos >= len(body) or body[pos] == "\n":
            return pos, None, BodyError(start, "unclosed '{{'; close the placeholder with '}}'")
        char = body[pos]
        if body.startswith("}}", pos):
            what = "a value after '||'" if terms else "a variable"
            return (
                pos + 2,
                None,
                BodyError(
                    start, f"empty placeholder, expected {what}; e.g. {{{{ customer.first_name }}}}"
                ),
            )
        if char in "'\"":
            close = body.find(char, pos + 1)
            newline = body.find("\n", pos + 1)
            if close < 0 or (0 <= newline < close):
                return (
                    _resume(body, start),
                    None,
                    BodyError(
                        start, f"unterminated text {body[pos : pos + 12]!r}…; close it with {char}"
                    ),
                )
            terms.append(Quoted(body[pos + 1 : close]))
            pos = close + 1
        else:
            match = _TERM_CHARS.match(body, pos)
            if match is None:
                if body.startswith("{{", pos):
                    return (
                        pos,
                        None,
                        BodyError(start, "unclosed '{{'; close the placeholder with '}}'"),
                    )
                return (
                    _resume(body, start),
                    None,
                    BodyError(
                        start,
                        f"unexpected {char!r} in placeholder; write a variable, 'text' or "
                        "a fallback like {{ customer.first_name || 'there' }}",
                    ),
                )
            term, error = _term(match.group(0), start)
            if error is not None:
                return _resume(body, start), None, error
            assert term is not None
            terms.append(term)
            pos = match.end()
        pos = _skip_space(body, pos)
        if body.startswith("||", pos):
            pos += 2
            continue
        if body.startswith("}}", pos):
            break
        if pos >= len(body) or body[pos] == "\n" or body.startswith("{{", pos):
            return pos, None, BodyError(start, "unclosed '{{'; close the placeholder with '}}'")
        return (
            _resume(body, start),
            None,
            BodyError(
                start,
                f"unexpected {body[pos]!r} in placeholder; separate a fallback with '||', "
                "e.g. {{ customer.first_name || 'there' }}",
            ),
        )
    for index, term in enumerate(terms[:-1]):
        if isinstance(term, Quoted | Input):
            shown = f"input.{term.name}" if isinstance(term, Input) else repr(term.text)
            if isinstance(term, Input) or term.text:
                return (
                    pos + 2,
                    None,
                    BodyError(
                        start,
                        f"{shown} is never empty, so what follows it is never used; "
                        f"remove the {len(terms) - index - 1} term(s) after it",
                    ),
                )
    return pos + 2, Placeholder(tuple(terms)), None


def _term(word: str, start: int) -> tuple[Term | None, BodyError | None]:
    """A variable or input term from a dotted word, or the error explaining what is wrong."""
    if word.startswith("input."):
        name = word[len("input.") :]
        if name.isidentifier():
            return Input(name), None
        return None, BodyError(
            start, f"bad field name {word!r}; use letters, digits and _, e.g. input.order_id"
        )
    if word == "input":
        return None, BodyError(start, "input needs a field name; write e.g. input.order_id")
    if word in VARIABLES:
        return Var(word), None
    close = difflib.get_close_matches(word, [*VARIABLES, "input.NAME"], n=1, cutoff=0.6)
    hint = (
        f"did you mean {close[0]}?" if close else f"use one of {', '.join(VARIABLES)}, input.NAME"
    )
    return None, BodyError(start, f"unknown variable {word!r}; {hint}")


# ---------------------------------------------------------------- templates and the library


@dataclass(frozen=True, slots=True)
class Template:
    """One canned reply, parsed and ready to render."""

    key: str
    title: str
    category: str
    body: str
    lang: str | None = None
    source: Path | None = None
    line: int = 0
    nodes: tuple[Node, ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def build(
        cls,
        key: str,
        body: str,
        *,
        title: str = "",
        category: str = "General",
        lang: str | None = None,
    ) -> Template:
        """A template from code (tests, demo); raises ValueError naming the first body error."""
        nodes, errors = parse_body(body)
        if errors:
            raise ValueError(errors[0].message)
        return cls(key, title or key, category, body, lang, None, 0, nodes)

    @property
    def where(self) -> str:
        """`path:line` of the template's key, for messages."""
        return f"{self.source}:{self.line}" if self.source else f"<{self.key}>"

    @property
    def field_names(self) -> list[str]:
        """Names of the input fields in body order (repeats kept)."""
        return [
            term.name
            for node in self.nodes
            if isinstance(node, Placeholder)
            for term in node.terms
            if isinstance(term, Input)
        ]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The template files of some sources with their (mtime_ns, size), to notice changes."""

    sources: tuple[Path, ...]
    files: tuple[tuple[str, int, int], ...]


@dataclass(frozen=True, slots=True)
class _Entry:
    """Pre-folded search text of one template, so matching does no per-keystroke prep."""

    template: Template
    key: str
    title: str
    title_words: str
    body_words: str
    letters: frozenset[str]


class Library:
    """A loaded set of templates plus one error line per problem found while loading."""

    def __init__(
        self,
        templates: Sequence[Template],
        errors: Sequence[str] = (),
        snapshot: Snapshot | None = None,
    ) -> None:
        """Hold `templates` (already validated) and the `errors` met while loading them."""
        self.templates: list[Template] = list(templates)
        self.errors: list[str] = list(errors)
        self.snapshot = snapshot or Snapshot((), ())
        self._entries = [_entry(t) for t in self.templates]

    def __len__(self) -> int:
        """Number of templates."""
        return len(self.templates)

    def get(self, key: str, lang: str | None = None) -> Template | None:
        """The template with `key`, preferring `lang`, then no lang, then any."""
        folded = key.casefold()
        found = [t for t in self.templates if t.key.casefold() == folded]
        for want in (lang, None):
            for template in found:
                if template.lang == want:
                    return template
        return found[0] if found else None

    def categories(self) -> list[str]:
        """Category names in the order they first appear."""
        return list(dict.fromkeys(t.category for t in self.templates))

    def by_category(self) -> dict[str, list[Template]]:
        """Templates grouped by category, in library order."""
        groups: dict[str, list[Template]] = {}
        for template in self.templates:
            groups.setdefault(template.category, []).append(template)
        return groups

    def changed(self) -> bool:
        """Whether its files changed (edited, added, removed) since it was loaded."""
        return changed_since(self.snapshot)


def _words(text: str) -> str:
    """Folded words of `text` as ' w1 w2 …' so `' ' + q in s` finds word prefixes fast."""
    return " " + " ".join(dict.fromkeys(re.findall(r"\w+", text.casefold())))


def _entry(template: Template) -> _Entry:
    """The search entry of one template."""
    return _Entry(
        template=template,
        key=template.key.casefold(),
        title=template.title.casefold(),
        title_words=_words(template.title),
        body_words=_words(template.body),
        letters=frozenset(template.key.casefold() + template.title.casefold()),
    )


def starter_dir() -> Path:
    """The folder of the built-in starter templates shipped with the package."""
    return Path(__file__).parent / "starter_templates"


def library_sources(config: Config, paths: Paths) -> list[Path]:
    """Where the desk loads templates from: the config dir's templates/ plus config paths.

    Relative config paths are taken from the config dir. Until the engineer has a templates/
    folder (`tgtriage templates init` creates it) the built-in starter set stands in for it,
    so a new user sees useful templates at once.
    """
    default = paths.templates_dir
    extra = [
        p if p.is_absolute() else paths.config_dir / p
        for p in (raw.expanduser() for raw in config.templates.paths)
    ]
    first = default if default.exists() else starter_dir()
    return [first, *(p for p in extra if p != first)]


def template_files(sources: Iterable[Path]) -> tuple[list[Path], list[str]]:
    """The `*.toml` files of `sources` (folders searched recursively, hidden parts skipped)."""
    files: list[Path] = []
    errors: list[str] = []
    for source in sources:
        if source.is_file():
            files.append(source)
        elif source.is_dir():
            found = sorted(
                p
                for p in source.rglob("*.toml")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(source).parts)
            )
            files.extend(found)
        else:
            errors.append(
                f"{source}:0: template folder not found; create it or remove it from "
                "templates.paths in config.toml"
            )
    return list(dict.fromkeys(files)), errors


def snapshot(sources: Iterable[Path]) -> Snapshot:
    """The current (mtime, size) of every template file in `sources`."""
    sources = tuple(sources)
    files, _ = template_files(sources)
    stamps: list[tuple[str, int, int]] = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        stamps.append((str(path), stat.st_mtime_ns, stat.st_size))
    return Snapshot(sources, tuple(stamps))


def changed_since(snap: Snapshot) -> bool:
    """Whether any template file of the snapshot's sources was edited, added or removed."""
    return snapshot(snap.sources).files != snap.files


def load_library(sources: Iterable[Path]) -> Library:
    """Load every template file under `sources`; errors become lines, good templates load."""
    sources = tuple(sources)
    snap = snapshot(sources)
    files, errors = template_files(sources)
    templates: list[Template] = []
    seen: dict[tuple[str, str | None], Template] = {}
    for path in files:
        loaded, file_errors = load_file(path)
        errors.extend(file_errors)
        for template in loaded:
            ident = (template.key.casefold(), template.lang)
            first = seen.get(ident)
            if first is not None:
                lang = f" (lang {template.lang})" if template.lang else ""
                errors.append(
                    f"{template.where}: duplicate key {template.key!r}{lang}, already defined at "
                    f"{first.where}; rename one of them"
                )
                continue
            seen[ident] = template
            templates.append(template)
    return Library(templates, errors, snap)


def load_file(path: Path) -> tuple[list[Template], list[str]]:
    """The valid templates of one TOML file and one error line per problem in it."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return [], [f"{path}:1: not UTF-8 text; save the file as UTF-8"]
    except OSError as exc:
        return [], [f"{path}:1: cannot read the file ({exc.strerror}); check its permissions"]
    return parse_file(text, path)


def parse_file(text: str, path: Path) -> tuple[list[Template], list[str]]:
    """The valid templates in TOML `text` (from `path`) and one error line per problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column \d+\)", message)
        line = int(found.group(1)) if found else 1
        problem = re.sub(r"\s*\(at line \d+, column \d+\)", "", message) or "syntax error"
        return [], [f"{path}:{line}: not valid TOML ({problem}); fix the syntax on that line"]
    errors: list[str] = []
    tables = _scan_tables(text)
    for name in data:
        if name != "template":
            hint = "did you mean [[template]]?" if "templ" in name.lower() else "remove it"
            errors.append(f"{path}:{_top_line(text, name)}: unknown table or key {name!r}; {hint}")
    raw = data.get("template", [])
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        errors.append(f"{path}:1: 'template' must be [[template]] tables; see README 'Templates'")
        return [], errors
    if not raw and not errors:
        errors.append(f"{path}:1: no [[template]] tables; start each template with [[template]]")
    templates: list[Template] = []
    for index, item in enumerate(raw):
        lines = tables[index] if index < len(tables) else _TableLines(1, {}, 1)
        template, problems = _template(item, path, lines)
        errors.extend(problems)
        if template is not None:
            templates.append(template)
    return templates, errors


@dataclass(slots=True)
class _TableLines:
    """Line numbers inside one `[[template]]` table: its header, its keys, its body's text."""

    header: int
    keys: dict[str, int]
    body_text: int


def _scan_tables(text: str) -> list[_TableLines]:
    """Locate each `[[template]]` table's lines (skipping multi-line string contents)."""
    tables: list[_TableLines] = []
    current: _TableLines | None = None
    open_delim: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if open_delim is not None:
            if open_delim in line:
                open_delim = None
            continue
        stripped = line.strip()
        if stripped.startswith("[["):
            name = stripped[2 : stripped.find("]]")].strip() if "]]" in stripped else ""
            current = _TableLines(number, {}, number) if name == "template" else None
            if current is not None:
                tables.append(current)
            continue
        if stripped.startswith("["):
            current = None
            continue
        found = re.match(r"""\s*["']?([\w-]+)["']?\s*=\s*(.*)$""", line)
        if found is None:
            continue
        key, rest = found.group(1), found.group(2)
        if current is not None:
            current.keys.setdefault(key, number)
        for delim in ('"""', "'''"):
            if rest.startswith(delim):
                after = rest[3:]
                if delim not in after:
                    open_delim = delim
                    if current is not None and key == "body":
                        current.body_text = number + 1 if not after.strip() else number
                elif current is not None and key == "body":
                    current.body_text = number
                break
        else:
            if current is not None and key == "body":
                current.body_text = number
    return tables


def _top_line(text: str, name: str) -> int:
    """Line of a top-level table or key called `name` (1 if not found)."""
    pattern = re.compile(
        rf"""^\s*(\[+\s*{re.escape(name)}\s*\]+|["']?{re.escape(name)}["']?\s*=)"""
    )
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return 1


def _template(
    item: Mapping[str, Any], path: Path, lines: _TableLines
) -> tuple[Template | None, list[str]]:
    """Validate one `[[template]]` table into a Template, or explain each problem."""
    errors: list[str] = []
    key_value = item.get("key")
    label = (
        f"template {key_value!r}" if isinstance(key_value, str) and key_value else "this template"
    )

    def at(name: str) -> str:
        return f"{path}:{lines.keys.get(name, lines.header)}"

    for name in item:
        if name not in FIELDS:
            close = difflib.get_close_matches(name, FIELDS, n=1)
            hint = f"did you mean {close[0]}?" if close else f"allowed: {', '.join(FIELDS)}"
            errors.append(f"{at(name)}: unknown field {name!r} in {label}; {hint}")
    for name in REQUIRED:
        value = item.get(name)
        if value is None:
            example = '"""\nHello!\n"""' if name == "body" else '"…"'
            errors.append(f"{at(name)}: {label} has no {name}; add {name} = {example}")
        elif not isinstance(value, str) or not value.strip():
            errors.append(f"{at(name)}: {name} of {label} must be non-empty text in quotes")
    key = item.get("key")
    if isinstance(key, str) and key.strip() and not _KEY.match(key):
        suggestion = re.sub(r"[^\w-]+", "-", key.strip().lstrip("/")).strip("-_").lower() or "greet"
        errors.append(
            f"{at('key')}: key {key!r} must be one word starting with a letter "
            f"(letters, digits, - or _); e.g. key = {suggestion!r}"
        )
    lang = item.get("lang")
    if lang is not None and (not isinstance(lang, str) or not _LANG.match(lang.lower())):
        errors.append(f'{at("lang")}: lang of {label} must be a language code like "en" or "ru"')
    body = item.get("body")
    nodes: tuple[Node, ...] = ()
    if isinstance(body, str) and body.strip():
        body = body.rstrip()
        nodes, body_errors = parse_body(body)
        for error in body_errors:
            line = lines.body_text + body.count("\n", 0, error.offset)
            errors.append(f"{path}:{line}: {error.message}")
    if errors:
        return None, errors
    assert isinstance(key, str) and isinstance(body, str)
    return (
        Template(
            key=key.strip(),
            title=clean_line(str(item["title"])),
            category=clean_line(str(item["category"])),
            body=body,
            lang=lang.lower() if isinstance(lang, str) else None,
            source=path,
            line=lines.keys.get("key", lines.header),
            nodes=nodes,
        ),
        [],
    )


class LibraryWatcher:
    """Keeps a library current: `poll()` once a second reloads it when its files change."""

    def __init__(self, sources: Iterable[Path]) -> None:
        """Load the library from `sources` now."""
        self.sources = tuple(sources)
        self.library = load_library(self.sources)

    def poll(self) -> Library | None:
        """The reloaded library if any file changed since the last load, else None."""
        if not self.library.changed():
            return None
        return self.reload()

    def reload(self) -> Library:
        """Load the library again unconditionally (the reload key)."""
        self.library = load_library(self.sources)
        return self.library


# ---------------------------------------------------------------- rendering


@dataclass(frozen=True, slots=True)
class Field:
    """An input field's marker `‹name›` at [start, end) in a text."""

    name: str
    start: int
    end: int

    def shifted(self, by: int) -> Field:
        """The same field `by` characters further on."""
        return Field(self.name, self.start + by, self.end + by)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered template: the text to insert and its input fields (tab stops) in order."""

    text: str
    fields: list[Field]

    @property
    def cursor(self) -> int:
        """Where the cursor goes after insertion: the first field's start, else the end."""
        return self.fields[0].start if self.fields else len(self.text)


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What placeholders are filled from, built from core models.

    `customer` is the customer whose message waits (else the last one who wrote; see
    `customer_id_for`), `agent` the logged-in account, `agent_name` the config override
    (Config.agent_name), `ticket` the chat's ticket reference, `now` Unix seconds, and `tz` the
    time zone for now.date/now.time (None: the machine's local zone).
    """

    customer: User | None = None
    agent: User | None = None
    agent_name: str | None = None
    chat: Chat | None = None
    ticket: str | None = None
    now: int = 0
    tz: tzinfo | None = None

    def value(self, name: str) -> str:
        """The clean one-line text of variable `name` ("" when unknown)."""
        return _safe(self._raw(name))

    def values(self) -> dict[str, str]:
        """Every variable's value, e.g. for a preview legend."""
        return {name: self.value(name) for name in VARIABLES}

    def _raw(self, name: str) -> str:
        """The value of `name` before cleaning."""
        customer, agent, chat = self.customer, self.agent, self.chat
        if name == "customer.first_name":
            return customer.first_name if customer else ""
        if name == "customer.name":
            return f"{customer.first_name} {customer.last_name}" if customer else ""
        if name == "customer.username":
            return (customer.username or "") if customer else ""
        if name in ("agent.first_name", "agent.name"):
            if self.agent_name and self.agent_name.strip():
                full = self.agent_name.strip()
                return full.split()[0] if name == "agent.first_name" else full
            if agent is None:
                return ""
            if name == "agent.first_name":
                return agent.first_name
            return f"{agent.first_name} {agent.last_name}"
        if name == "chat.title":
            return chat.title if chat else ""
        if name == "chat.ticket":
            return self.ticket or ""
        if name in ("now.date", "now.time"):
            moment = datetime.fromtimestamp(self.now, tz=self.tz or UTC)
            if self.tz is None:
                moment = moment.astimezone()
            return moment.strftime("%Y-%m-%d" if name == "now.date" else "%H:%M")
        return ""


def _safe(value: str) -> str:
    """Untrusted text as one clean line that cannot pose as a field marker."""
    return clean_line(value).replace(FIELD_OPEN, "<").replace(FIELD_CLOSE, ">")


def customer_id_for(triage: ChatTriage | None, messages: Iterable[Message] = ()) -> int | None:
    """The customer a reply goes to: the sender of the waiting message, else the last who wrote."""
    if triage is None:
        return None
    if triage.waiting_msg_id is not None:
        for message in messages:
            if message.id == triage.waiting_msg_id and message.sender_id is not None:
                return message.sender_id
    return triage.last_customer_id


def render(template: Template, ctx: RenderContext) -> Rendered:
    """Fill a template's placeholders from `ctx`; input fields become `‹name›` tab stops."""
    pieces: list[tuple[str, str | None]] = []  # (text, field name or None); "" = empty value
    for node in template.nodes:
        if isinstance(node, str):
            pieces.append((node, None))
            continue
        text, name = "", None
        for term in node.terms:
            if isinstance(term, Input):
                text, name = f"{FIELD_OPEN}{term.name}{FIELD_CLOSE}", term.name
            elif isinstance(term, Quoted):
                text = term.text
            else:
                text = ctx.value(term.name)
            if text:
                break
        pieces.append((text, name))
    return _assemble(pieces)


def _assemble(pieces: Sequence[tuple[str, str | None]]) -> Rendered:
    """Join rendered pieces, trimming the space around empty values; record field offsets."""
    out = ""
    fields: list[Field] = []
    skip_space = False
    for index, (text, name) in enumerate(pieces):
        if not text:
            following = next((t[0] for t, _ in pieces[index + 1 :] if t), "")
            if following == "" or following == "\n" or following in _PUNCT:
                trimmed = out.rstrip(" \t")
                if trimmed.endswith(",") and trimmed[:-1].rstrip(" \t")[-1:] not in ("", "\n"):
                    trimmed = trimmed[:-1]
                out = trimmed
            elif following in " \t" and (out == "" or out[-1] in " \t\n"):
                skip_space = True
            continue
        if skip_space:
            text = text.lstrip(" \t")
            skip_space = not text
            if not text:
                continue
        if name is not None:
            fields.append(Field(name, len(out), len(out) + len(text)))
        out += text
    return Rendered(out, fields)


def insert_rendered(text: str, start: int, end: int, rendered: Rendered) -> Rendered:
    """`text` with [start, end) (e.g. the typed `/word`) replaced by `rendered`, fields shifted."""
    new_text = text[:start] + rendered.text + text[end:]
    return Rendered(new_text, [f.shifted(start) for f in rendered.fields])


def unfilled_fields(text: str) -> list[Field]:
    """The `‹name›` field markers still in the composer text, in order."""
    return [Field(m.group(1), m.start(), m.end()) for m in _MARKER.finditer(text)]


def next_field(text: str, cursor: int) -> Field | None:
    """The field Tab goes to: the first starting at or after `cursor`, wrapping to the first."""
    fields = unfilled_fields(text)
    for item in fields:
        if item.start >= cursor:
            return item
    return fields[0] if fields else None


def previous_field(text: str, cursor: int) -> Field | None:
    """The field Shift+Tab goes to: the last ending at or before `cursor`, wrapping to the last."""
    fields = unfilled_fields(text)
    for item in reversed(fields):
        if item.end <= cursor:
            return item
    return fields[-1] if fields else None


def unfilled_message(text: str) -> str | None:
    """Why sending must wait ("fill ‹order_id› first (Tab jumps to it)"), or None if ready."""
    names = list(dict.fromkeys(f"{FIELD_OPEN}{f.name}{FIELD_CLOSE}" for f in unfilled_fields(text)))
    if not names:
        return None
    if len(names) == 1:
        return f"fill {names[0]} first (Tab jumps to it)"
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return f"fill {shown} first (Tab jumps between them)"


# ---------------------------------------------------------------- matching


_LAYOUT = dict(
    zip(
        "йцукенгшщзхъфывапролджэячсмитьбюё",
        "qwertyuiop[]asdfghjkl;'zxcvbnm,.`",
        strict=True,
    )
)


def _swap_layout(query: str) -> str | None:
    """A query typed with the Russian keyboard layout by mistake, as QWERTY ("пкуу" → "gree")."""
    if not any(char in _LAYOUT for char in query):
        return None
    swapped = "".join(_LAYOUT.get(char, char) for char in query)
    return swapped if swapped != query else None


def _span(text: str, query: str) -> int | None:
    """Length of the stretch of `text` holding `query`'s letters in order (leftmost), or None."""
    first = pos = text.find(query[0])
    if pos < 0:
        return None
    for char in query[1:]:
        pos = text.find(char, pos + 1)
        if pos < 0:
            return None
    return pos - first + 1


def _tier(entry: _Entry, query: str, letters: frozenset[str]) -> tuple[int, float] | None:
    """How well `entry` matches: (tier, closeness) with tier 0 best, or None for no match.

    0: key starts with the query; 1: key contains it or a title word starts with it;
    2: the query's letters appear in order in the key or title; 3: a body word starts with it.
    """
    key = entry.key
    if key.startswith(query):
        return 0, 1.0 if key == query else len(query) / len(key)
    if query in key or (" " + query) in entry.title_words:
        return 1, 0.0
    if letters <= entry.letters:
        spans = [s for s in (_span(key, query), _span(entry.title, query)) if s is not None]
        if spans:
            return 2, len(query) / min(spans)
    if (" " + query) in entry.body_words:
        return 3, 0.0
    return None


def usage_score(count: int, last_used: int, now: int) -> float:
    """Frecency: uses weighted by how recent the last one was (today 1.0 … older 0.2)."""
    if count <= 0:
        return 0.0
    age = max(0, now - last_used)
    weight = 1.0 if age < 86_400 else 0.7 if age < 7 * 86_400 else 0.4 if age < 30 * 86_400 else 0.2
    return math.log1p(count) * weight


def match(
    library: Library,
    query: str,
    usage: Mapping[str, tuple[int, int]],
    lang: str | None,
    limit: int = 20,
    now: int | None = None,
) -> list[Template]:
    """Templates for a `/query`, best first.

    Order: match tier (key prefix, then key substring/title word, then letters in order in key
    or title, then a body word), then the chat's language (`lang`; templates without a lang
    count as any language), then usage (`usage[key] = (count, last_used_unix)`, frecency), then
    closeness, then key. An empty query lists everything. A query typed in the Russian layout by
    mistake also matches its QWERTY twin.
    """
    folded = query.casefold().strip()
    moment = int(time.time()) if now is None else now
    queries = [(q, frozenset(q)) for q in (folded, _swap_layout(folded)) if q]
    ranked: list[tuple[int, int, float, float, str, str, Template]] = []
    for entry in library._entries:
        template = entry.template
        if queries:
            best: tuple[int, float] | None = None
            for q, letters in queries:
                found = _tier(entry, q, letters)
                if found is not None and (
                    best is None or (found[0], -found[1]) < (best[0], -best[1])
                ):
                    best = found
            if best is None:
                continue
            tier, closeness = best
        else:
            tier, closeness = 0, 0.0
        lang_rank = 0 if lang is None or template.lang in (None, lang) else 1
        count, last = usage.get(template.key, (0, 0))
        ranked.append(
            (
                tier,
                lang_rank,
                -usage_score(count, last, moment),
                -closeness,
                entry.key,
                template.lang or "",
                template,
            )
        )
    best_rows = heapq.nsmallest(max(0, limit), ranked, key=lambda row: row[:6])
    return [row[6] for row in best_rows]


# ---------------------------------------------------------------- language and triggers


_URL = re.compile(r"\S+://\S+|www\.\S+|\S+@\S+")


def detect_lang(texts: Iterable[str]) -> str | None:
    """ "ru" if most recent customer messages are mostly Cyrillic, "en" if Latin, else None.

    Each message votes by its own letters (URLs and e-mail addresses ignored), so one pasted
    English error log does not outvote a Russian conversation; a tie or no letters is None.
    """
    votes = {"ru": 0, "en": 0}
    for text in texts:
        cyrillic = latin = 0
        for char in _URL.sub(" ", text):
            if not char.isalpha():
                continue
            if "\u0400" <= char <= "\u04ff":
                cyrillic += 1
            elif char.isascii() or "\u00c0" <= char <= "\u024f":
                latin += 1
        if cyrillic + latin < 2:
            continue
        if cyrillic > latin:
            votes["ru"] += 1
        elif latin > cyrillic:
            votes["en"] += 1
    if votes["ru"] == votes["en"]:
        return None
    return "ru" if votes["ru"] > votes["en"] else "en"


def _word_char(char: str) -> bool:
    """A character that may follow `/` in a trigger: letters, digits, _ and -."""
    return char.isalnum() or char in "_-"


def trigger_at(text: str, cursor: int) -> tuple[int, str] | None:
    """The `/word` the cursor sits right after, as (offset of the `/`, the word), else None.

    Triggers: `/` at the start of the text or after whitespace, then letters (digits, - and _
    after the first), with the cursor at the end of that word; a bare `/` gives "" (list all).
    Never: a `/` after any other character (`a/b`, `http://x/y`, `~/x`, `(/x`), a word that
    continues after the cursor (`/gre|et`, `/usr|/bin`), or a word starting with a digit.
    `/usr` at the start of a word is ambiguous, so it does trigger: the UI opens the popup only
    when a template matches, the next `/` (as in `/usr/`) ends the trigger, and Esc closes the
    popup leaving the text as typed — so paths and URLs stay typeable.
    """
    if not 0 <= cursor <= len(text):
        return None
    start = cursor
    while start > 0 and _word_char(text[start - 1]):
        start -= 1
    slash = start - 1
    if slash < 0 or text[slash] != "/":
        return None
    if slash > 0 and not text[slash - 1].isspace():
        return None
    if cursor < len(text) and (_word_char(text[cursor]) or text[cursor] in _TRIGGER_STOP):
        return None
    word = text[start:cursor]
    if word and not word[0].isalpha():
        return None
    if len(word) > 40:
        return None
    return slash, word
