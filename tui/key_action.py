"""One entry of the key registry: an action, its default keys and its help line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Action:
    """One thing the engineer can do, with its default keys and where it is documented."""

    id: str
    keys: str
    action: str
    description: str
    group: str
    show: bool = False
    priority: bool = True
    key_display: str | None = None
