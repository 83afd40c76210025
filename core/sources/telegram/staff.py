"""Teammates for the Telegram source: numeric ids from config, @usernames resolved and cached.

A username is resolved once and kept in a private JSON file in the data folder, so later
starts cost no request (and no FloodWait).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from ...rules import chat_filter
from ...system.paths import open_private_fd
from .state import SourceState, guarded

log = logging.getLogger(__name__)

STAFF_CACHE = "staff_usernames.json"


def cache_path(state: SourceState) -> Path:
    """The JSON file caching resolved teammate usernames."""
    return state.paths.data_dir / STAFF_CACHE


def load_cache(path: Path) -> dict[str, int]:
    """Resolved usernames from earlier runs (empty if missing or unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k).lower(): int(v) for k, v in data.items() if isinstance(v, int)}


def save_cache(path: Path, cache: dict[str, int]) -> None:
    """Write the username cache (0600, atomically)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = open_private_fd(tmp, os.O_WRONLY | os.O_TRUNC)  # 0600, never through a link
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(cache, indent=1, sort_keys=True))
    os.replace(tmp, path)


async def resolve_staff(state: SourceState) -> None:
    """Add the configured teammates to `state.staff` (unresolvable names become warnings)."""
    path = cache_path(state)
    cache = load_cache(path)
    changed = False
    for entry in state.config.staff.ids:
        ref = chat_filter.parse_reference(entry)
        if ref.chat_id is not None:
            state.staff.add(ref.chat_id)
            continue
        name = ref.username or ""
        if name in cache:
            state.staff.add(cache[name])
            continue
        try:
            entity = await guarded(state.client.get_entity(name))
        except Exception as exc:
            message = f"staff.ids: @{name} could not be resolved ({type(exc).__name__}); check the username"
            state.warnings.append(message)
            log.warning("%s", message)
            continue
        cache[name] = int(entity.id)
        state.staff.add(int(entity.id))
        changed = True
    if changed:
        try:
            save_cache(path, cache)
        except OSError as exc:
            log.warning("could not save the teammate cache: %s", exc)
