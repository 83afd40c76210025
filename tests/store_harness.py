"""Chat ids, a settable clock, messages and raw SQL access shared by the store tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tgtriage.core.desk.models import Message

GROUP = -1001234567890  # a supergroup ("marked" -100… id)
BASIC = -4567  # a basic group
PRIVATE = 777  # a private chat with user 777
T0 = 1_700_000_000


class FakeClock:
    """A settable clock for the store."""

    def __init__(self, now: int = T0) -> None:
        """Start at `now`."""
        self.now = now

    def __call__(self) -> float:
        """The current fake time."""
        return float(self.now)


def msg(chat_id: int, id: int, text: str = "", date: int | None = None, **kw: object) -> Message:
    """A message with a date derived from its id unless given."""
    when = T0 + id if date is None else date
    return Message.model_validate({"chat_id": chat_id, "id": id, "date": when, "text": text, **kw})


def raw(path: Path, sql: str) -> list[tuple[object, ...]]:
    """Run SQL on the file directly with the standard library (outside the store)."""
    con = sqlite3.connect(path)
    try:
        rows = con.execute(sql).fetchall()
        con.commit()
        return rows
    finally:
        con.close()
