"""A canned reply and the grammar of its body: `{{ … }}` placeholders parsed into nodes.

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
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

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

FIELD_MARKER = re.compile(r"‹(\w+)›")
"""An input field's marker in rendered text: `‹name›`."""

_TERM_CHARS = re.compile(r"[\w.]+")


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
    for match in FIELD_MARKER.finditer(body):
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
