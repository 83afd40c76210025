"""Per-chat response targets: the config's `[targets]` by chat, and typed ones like '2/5/15'."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

from ..desk.models import Chat
from ..system.config import Config
from .triage import Targets

_TYPED = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*[/,\s]\s*(\d+(?:\.\d+)?)\s*[/,\s]\s*(\d+(?:\.\d+)?)\s*$"
)
VIP: Targets = (120, 300, 900)


def seconds_of(minutes: tuple[float, float, float]) -> Targets:
    """Minutes (due, late, breached) as whole seconds."""
    due, late, breached = minutes
    return (int(due * 60), int(late * 60), int(breached * 60))


def config_targets(chat: Chat, config: Config) -> Targets | None:
    """The `[targets]` entry that names this chat (id, @username or title pattern), if any.

    An exact id or @username wins over a title pattern; among patterns the first listed wins.
    """
    entries = config.targets
    for key in (str(chat.id), f"@{chat.username}" if chat.username else None):
        if key is not None and key in entries:
            return seconds_of(entries[key])
    for pattern, minutes in entries.items():
        by_name = not pattern.lstrip("-").isdigit() and not pattern.startswith("@")
        if by_name and fnmatchcase(chat.title, pattern):
            return seconds_of(minutes)
    return None


def parse_targets(text: str) -> Targets:
    """Typed targets in minutes ('2/5/15', '2 5 15') as seconds; ValueError with a hint."""
    match = _TYPED.match(text)
    if match is None:
        raise ValueError(f"can't read {text!r}: type three minutes like 2/5/15 (due/late/breached)")
    minutes = tuple(float(g) for g in match.groups())
    due, late, breached = minutes
    if not 0 < due <= late <= breached:
        raise ValueError(
            "targets must be positive and in order due <= late <= breached, e.g. 2/5/15"
        )
    if breached > 60 * 24 * 30:
        raise ValueError("targets are minutes; 30 days (43200) at most")
    return seconds_of((due, late, breached))


def format_targets(targets: Targets) -> str:
    """'2/5/15 min' for (120, 300, 900)."""

    def minutes(seconds: int) -> str:
        value = seconds / 60
        return f"{value:g}"

    return "/".join(minutes(s) for s in targets) + " min"
