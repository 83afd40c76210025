"""Template files: parse one TOML file into templates, each problem as `path:line: problem; fix`."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..rules.sanitize import clean_line
from .template import FIELDS, REQUIRED, Node, Template, parse_body

MAX_FILE_BYTES = 1_000_000
"""A template file larger than this is refused (a library of canned replies is kilobytes)."""

_KEY = re.compile(r"^[^\W\d_][\w-]*$")
_LANG = re.compile(r"^[a-z]{2,3}$")


def load_file(path: Path) -> tuple[list[Template], list[str]]:
    """The valid templates of one TOML file and one error line per problem in it."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            return [], [
                f"{path}:1: larger than {MAX_FILE_BYTES // 1_000_000} MB, not read; "
                "split it into several files in the templates folder"
            ]
        text = raw.decode("utf-8")
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
