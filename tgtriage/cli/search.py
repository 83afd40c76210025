"""`tgtriage search QUERY`: the desk's search from the shell, read-only beside a running desk."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from datetime import datetime
from typing import TextIO

from ..core.rules.sanitize import clean_line
from ..core.rules.search_query import parse
from ..core.storage.search import Hit, MessageSearch
from ..core.system.paths import Paths

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The `search` sub-command's grammar."""
    parser = argparse.ArgumentParser(
        prog="tgtriage search",
        description=(
            "Search every stored message (body, sender, chat title), newest first. "
            'Filters: from:name in:chat before:YYYY-MM-DD after:YYYY-MM-DD "a phrase".'
        ),
    )
    parser.add_argument("query", nargs="+", help="what to find")
    parser.add_argument(
        "--profile",
        choices=("telegram", "demo", "replay"),
        default="telegram",
        help="which store to search (default: telegram)",
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--limit", type=int, default=50, help="at most this many results")
    return parser


def _row(hit: Hit) -> dict[str, object]:
    """One result as JSON-ready values."""
    m = hit.message
    return {
        "chat_id": m.chat_id,
        "chat": hit.chat_title,
        "message_id": m.id,
        "date": m.date,
        "sender_id": m.sender_id,
        "sender": hit.sender,
        "text": m.text,
    }


def run_search(argv: list[str], stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the search; 0 with results or none, 2 for a usage problem or no store."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    args = build_parser().parse_args(argv)
    path = Paths.default().database(args.profile)
    if not path.is_file():
        hint = "tgtriage demo" if args.profile == "demo" else "tgtriage"
        print(f"{path}: no store yet; run {hint} first", file=err)
        return EXIT_USAGE
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None
    query = parse(" ".join(args.query), int(time.time()), zone)
    for problem in query.problems:
        print(f"search: {problem}", file=err)
    try:
        search = MessageSearch(path)
        try:
            hits = search.find(query, limit=args.limit)
        finally:
            search.close()
    except sqlite3.Error as exc:
        print(f"{path}: cannot search the store ({exc})", file=err)
        return EXIT_USAGE
    if args.format == "json":
        json.dump([_row(h) for h in hits], out, ensure_ascii=False, indent=1)
        out.write("\n")
        return 0
    for hit in hits:
        when = datetime.fromtimestamp(hit.message.date).astimezone().strftime("%Y-%m-%d %H:%M")
        chat = clean_line(hit.chat_title, 24)
        sender = clean_line(hit.sender, 20)
        print(f"{when}  {chat:<24}  {sender:<20}  {clean_line(hit.message.text, 100)}", file=out)
    if not hits:
        print("no messages match", file=err)
    return 0
