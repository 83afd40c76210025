"""A store found damaged while the desk runs: the marks saved from memory, the desk kept up.

The writer (core/desk/writer.py) stops at the first CORRUPT/NOTADB error. From then on the
desk's live state is the most complete copy of the engineer's marks, so it is written to
`<store>.marks-<time>.json` (the format of core/storage/recovery.py, marked as saved from
memory) at once, again shortly after each later change, and at stop. The next start rebuilds
the store and reads that file back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..storage.recovery import MARK_COLUMNS, MEMORY, Marks, write_marks
from ..storage.rows import TRIAGE_FIELDS, triage_params
from .changes import Changes

if TYPE_CHECKING:
    from .inbox import Inbox

log = logging.getLogger(__name__)

RESAVE_SECONDS = 1.0  # later changes are gathered this long before the file is written again


def memory_marks(inbox: Inbox) -> Marks:
    """The engineer's marks as the desk holds them now, as rows of the store's mark tables."""
    now = inbox.now()
    triage_columns = MARK_COLUMNS["triage"]
    triage_rows = []
    for state in inbox.triage.values():
        row = dict(zip(TRIAGE_FIELDS, triage_params(state), strict=True))
        triage_rows.append({column: row[column] for column in triage_columns})
    notes = [
        {
            "id": note.id,
            "chat_id": note.chat_id,
            "date": note.date,
            "author": note.author,
            "text": note.text,
            "after_msg_id": note.after_msg_id,
        }
        for chat_notes in inbox.notes.values()
        for note in chat_notes
    ]
    outbox: list[dict[str, Any]] = [
        {
            "local_id": item.local_id,
            "chat_id": item.chat_id,
            "random_id": item.random_id,
            "text": item.text,
            "reply_to": item.reply_to,
            "state": item.state.value,
            "error": item.error,
            "created": item.created,
            "sent_id": item.sent_id,
        }
        for items in inbox.outgoing.items.values()
        for item in items
    ]
    return {
        "triage": triage_rows,
        "notes": notes,
        "chat_tags": [
            {"chat_id": chat_id, "tag": tag}
            for chat_id, tags in inbox.tags.items()
            for tag in sorted(tags)
        ],
        "slots": [{"slot": slot, "chat_id": chat_id} for slot, chat_id in inbox.slots.items()],
        "drafts": [
            {"chat_id": chat_id, "text": text, "updated": now}
            for chat_id, text in inbox.drafts.items()
        ],
        "note_drafts": [
            {"chat_id": chat_id, "text": text, "updated": now}
            for chat_id, text in inbox.note_drafts.items()
        ],
        "outbox": outbox,
    }


class DamagedStore:
    """What the desk does once its store is found damaged: the marks file and the status line."""

    def __init__(self, inbox: Inbox) -> None:
        """Nothing damaged yet for `inbox`'s store."""
        self._inbox = inbox
        self.error: Exception | None = None
        self.marks_file: Path | None = None
        self.save_problem: str | None = None
        self._resave: asyncio.TimerHandle | None = None

    @property
    def status(self) -> str | None:
        """The status line's words once the store is damaged, else None."""
        if self.error is None:
            return None
        if self.marks_file is None:
            return (
                f"store damaged — your marks could NOT be saved ({self.save_problem}); see the log"
            )
        unsent = (
            ", unsent replies in memory only" if any(self._inbox.outgoing.items.values()) else ""
        )
        return f"store damaged — marks saved{unsent}; quit and restart to rebuild"

    def found(self, error: Exception) -> None:
        """The writer found the store damaged: save the marks from memory now and say so."""
        if self.error is not None:
            return
        self.error = error
        self.save()
        log.error(
            "the store %s is damaged (%s); the desk works from memory, marks saved to %s",
            self._inbox.store.path,
            error,
            self.marks_file,
        )
        self._inbox.emit(Changes(status=True))

    def changed(self) -> None:
        """A change the damaged store did not take: save the marks again shortly."""
        if self.error is None or (self._resave is not None and not self._resave.cancelled()):
            return
        loop = asyncio.get_running_loop()
        self._resave = loop.call_later(RESAVE_SECONDS, self._save_later)

    def _save_later(self) -> None:
        """The gathered changes are in memory: write the marks file again."""
        self._resave = None
        self.save()

    def stop(self) -> None:
        """The desk stops: write the marks once more (the last change included)."""
        if self._resave is not None:
            self._resave.cancel()
            self._resave = None
        if self.error is not None:
            self.save()

    def save(self) -> None:
        """Write the desk's marks from memory next to the store (over the earlier copy)."""
        path = self._inbox.store.path
        try:
            self.marks_file = write_marks(
                path,
                memory_marks(self._inbox),
                time.strftime("%Y%m%d-%H%M%S"),
                origin=MEMORY,
                replace=self.marks_file,
            )
        except OSError as error:  # UnsafePathError too: a link planted at the file
            log.exception("could not save the desk's marks next to %s", path)
            self.save_problem = getattr(error, "strerror", None) or str(error)
            if self.marks_file is None:
                return
        else:
            self.save_problem = None
