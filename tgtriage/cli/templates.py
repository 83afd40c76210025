"""`tgtriage templates init|check|list`: set up, validate and show the canned-reply library."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..core.system.config import ConfigError, load_config
from ..core.system.paths import Paths, ensure_private_dir
from ..core.templates import (
    Library,
    library_sources,
    load_library,
    starter_dir,
    template_files,
)


def _parser() -> argparse.ArgumentParser:
    """The argument parser of the templates command."""
    parser = argparse.ArgumentParser(
        prog="tgtriage templates", description="Manage the canned-reply templates."
    )
    sub = parser.add_subparsers(dest="action", required=True, metavar="{init,check,list}")
    init = sub.add_parser("init", help="copy the starter templates into the config dir")
    init.add_argument(
        "--dir", type=Path, default=None, help="copy into this folder instead of <config>/templates"
    )
    check = sub.add_parser("check", help="validate template files; exit 2 on any error")
    check.add_argument(
        "paths", nargs="*", type=Path, help="files or folders (default: the library)"
    )
    show = sub.add_parser("list", help="show the templates as a table")
    show.add_argument("paths", nargs="*", type=Path, help="files or folders (default: the library)")
    return parser


def _default_sources(out: TextIO) -> list[Path] | None:
    """The library's sources from the config, or None after printing a config error."""
    paths = Paths.default()
    try:
        config = load_config(paths.config_file)
    except ConfigError as exc:
        print(f"error: {exc}", file=out)
        return None
    return library_sources(config, paths)


def _starter_note(sources: Sequence[Path]) -> str:
    """A hint when the built-in starter set stands in for the engineer's own folder."""
    if sources and sources[0] == starter_dir():
        return " (the built-in starter set; `tgtriage templates init` copies it for editing)"
    return ""


def _init(target: Path | None, out: TextIO) -> int:
    """Copy each starter file into the templates folder unless a file of that name exists."""
    folder = target if target is not None else Paths.default().templates_dir
    try:
        ensure_private_dir(folder)
    except OSError as exc:
        print(
            f"error: {folder}: cannot create the folder ({exc.strerror}); check permissions",
            file=out,
        )
        return 2
    starters, _ = template_files([starter_dir()])
    wrote = 0
    for source in starters:
        dest = folder / source.name
        if dest.exists():
            print(f"kept  {dest} (already exists, not overwritten)", file=out)
            continue
        try:
            shutil.copyfile(source, dest)
        except OSError as exc:
            print(f"error: {dest}: cannot write ({exc.strerror}); check permissions", file=out)
            return 2
        count = len(load_library([dest]).templates)
        print(f"wrote {dest} ({count} templates)", file=out)
        wrote += 1
    if wrote:
        print("Edit them to taste, then run `tgtriage templates check`.", file=out)
    return 0


def _summary(library: Library) -> str:
    """'12 templates, 0 errors' with correct plurals."""
    count, errors = len(library.templates), len(library.errors)
    return (
        f"{count} template{'' if count == 1 else 's'}, {errors} error{'' if errors == 1 else 's'}"
    )


def _check(paths: list[Path], out: TextIO) -> int:
    """Validate the given files/folders (or the library); print errors and a summary."""
    sources = paths or _default_sources(out)
    if sources is None:
        return 2
    library = load_library(sources)
    for line in library.errors:
        print(line, file=out)
    note = _starter_note(sources) if not paths else ""
    print(f"{_summary(library)}{note}", file=out)
    return 2 if library.errors else 0


def _list(paths: list[Path], out: TextIO) -> int:
    """Show key, lang, category and title of every template as a table."""
    sources = paths or _default_sources(out)
    if sources is None:
        return 2
    library = load_library(sources)
    table = Table(title=None, show_edge=False, pad_edge=False)
    for column in ("key", "lang", "category", "title"):
        table.add_column(column, overflow="fold")
    ordered = sorted(library.templates, key=lambda t: (t.lang or "", t.category, t.key))
    for template in ordered:
        table.add_row(
            Text(template.key),
            Text(template.lang or "-"),
            Text(template.category),
            Text(template.title),
        )
    console = Console(file=out, highlight=False, soft_wrap=False)
    console.print(table)
    note = _starter_note(sources) if not paths else ""
    console.print(Text(f"{_summary(library)}{note}"))
    if library.errors:
        console.print(Text("run `tgtriage templates check` to see the errors"))
    return 0


def run_templates(argv: list[str], out: TextIO | None = None) -> int:
    """Run `tgtriage templates ARGS`: 0 when fine, 2 on errors (bad files, bad config, bad usage)."""
    stream = out if out is not None else sys.stdout
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help (0) and on bad usage (2)
        return exc.code if isinstance(exc.code, int) else 2
    if args.action == "init":
        return _init(args.dir, stream)
    if args.action == "check":
        return _check(list(args.paths), stream)
    return _list(list(args.paths), stream)
