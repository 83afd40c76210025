"""The open SQLite connection the parts of the store share: transactions and small reads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from ..desk.models import Message
from .rows import message_factory


class StoreConnection:
    """One aiosqlite connection with serialised write transactions (see core/storage/store.py)."""

    def __init__(self, path: Path, db: aiosqlite.Connection, clock: Callable[[], float]) -> None:
        """Wrap an open connection; use `Store.open` instead of calling this."""
        self.path = path
        self._db = db
        self._clock = clock
        self._write_lock = asyncio.Lock()

    # lifetime ---------------------------------------------------------------------------

    async def _scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row of a query (None when there is no row)."""
        rows = list(await self._db.execute_fetchall(sql, params))
        return rows[0][0] if rows else None

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction (serialised between coroutines), rolled back on any error."""
        async with self._write_lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                await self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    await self._db.execute("ROLLBACK")
                raise

    async def _messages_query(self, sql: str, params: Sequence[Any]) -> list[Message]:
        """Run a query selecting `MESSAGE_COLS` and convert its rows on the database thread."""
        cursor = await self._db.cursor()
        cursor.row_factory = message_factory  # type: ignore[assignment]
        try:
            await cursor.execute(sql, params)
            return list(await cursor.fetchall())  # type: ignore[arg-type]
        finally:
            await cursor.close()

    def _now(self) -> int:
        """The store's clock as integer Unix seconds."""
        return int(self._clock())
