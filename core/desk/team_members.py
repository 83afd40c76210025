"""Who is in the team room: the members Telegram lists (cached in the store, so a start knows
them before the network answers) and whoever writes there. All of them count as staff
(core/desk/staff.py), so a teammate who never posted in the room still answers customers as staff.
"""

from __future__ import annotations

from collections.abc import Iterable

from .models import User

CACHE_KEY = "team_members"


class RoomMembers:
    """The team room's members: listed by the source, and seen writing in the room."""

    def __init__(self) -> None:
        """Nobody known yet."""
        self.listed: frozenset[int] = frozenset()
        self.posters: set[int] = set()
        self.names: dict[int, str] = {}
        self.listed_at: int | None = None  # when the source last listed them (desk clock)

    @property
    def ids(self) -> frozenset[int]:
        """Every member: listed, or seen writing in the room."""
        return self.listed | self.posters

    def spoke(self, sender: int, name: str) -> bool:
        """`sender` wrote in the room; True when they were not a member before."""
        if name:
            self.names[sender] = name
        if sender in self.posters:
            return False
        new = sender not in self.listed
        self.posters.add(sender)
        return new

    def listed_as(self, users: Iterable[User], now: int) -> bool:
        """The source's member list; True when the set of members changed."""
        before = self.ids
        users = list(users)
        for user in users:
            if user.name.strip():
                self.names.setdefault(user.id, user.name)
        self.listed = frozenset(user.id for user in users)
        self.listed_at = now
        return self.ids != before

    def load(self, cached: str | None) -> bool:
        """The member list an earlier run stored (`cached()`); True when it added anyone."""
        ids = {
            int(part) for part in (cached or "").split(",") if part.strip().lstrip("-").isdigit()
        }
        before = self.ids
        self.listed = frozenset(ids)
        return self.ids != before

    def cached(self) -> str:
        """The listed members as the store keeps them."""
        return ",".join(str(i) for i in sorted(self.listed))
