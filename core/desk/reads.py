"""What the desk reads through its one store path, and the source's optional capabilities.

Reads go through the writer (core/desk/writer.py), so they see every write queued before them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ..reports.report import ReportRow, ReportStaff
from ..rules.search_query import (
    Searcher,
    SearchQuery,
    SourceFound,
    SourcePage,
    matches,
    words_of,
)
from ..sources.base import ChatSource, MediaDownloader, ReportsWarnings, SearchesMessages
from ..storage.rows import MessageRow
from ..storage.search import MessageSearch
from ..storage.store import Store
from .changes import Changes
from .models import Message, OutboxItem
from .queries import InboxQueries
from .writer import StoreDamaged, StoreWriter

if TYPE_CHECKING:
    from .applier import EventApplier
    from .outbox import Outbox

log = logging.getLogger(__name__)

_WINDOW_READ = 50  # chats whose windows one store read fills (a few ms of the store's thread)
_REMOTE_LIMIT = 50  # messages one Telegram search asks for (one page)


class InboxReads(InboxQueries):
    """Store reads in order with the queued writes, and what only some sources can do."""

    store: Store
    source: ChatSource
    writer: StoreWriter
    open_chat_id: int | None

    if TYPE_CHECKING:  # provided by the Inbox (core/desk/inbox.py)
        applier: EventApplier
        outgoing: Outbox

        def emit(self, changes: Changes) -> None: ...

    @property
    def outbox(self) -> dict[int, list[OutboxItem]]:
        """Unsent replies by chat."""
        return self.outgoing.items

    def message_search(self) -> Searcher:
        """A read-only search over this desk's store for one screen's lifetime (close it); it
        sees what the writer has made, not writes still queued."""
        return MessageSearch(self.store.path)

    def can_search_source(self) -> bool:
        """Whether the source searches its server too (Telegram's second search tier)."""
        return isinstance(self.source, SearchesMessages)

    async def search_source(
        self, query: SearchQuery, page: SourcePage | None = None
    ) -> SourceFound:
        """Ask the source for messages matching `query` in the support chats the desk follows:
        in the one chat `in:` names (by the one known user `from:` names, as Telegram's
        `from_id`), else across chats; newest first, from `page` on (raises on failures)."""
        source = self.source
        if not isinstance(source, SearchesMessages) or not query.terms:
            return [], None
        text = " ".join(
            " ".join(t.words) if len(t.words) == 1 else f'"{" ".join(t.words)}"'
            for t in query.terms
        )
        followed = set(self.chats)
        for term in query.chats:
            followed = {c for c in followed if matches(term, words_of(self.chats[c].title))}
        if not followed:
            return [], None
        one = next(iter(followed)) if query.chats and len(followed) == 1 else None
        sender = self._one_sender(query) if one is not None else None
        hits, following = await source.search_messages(
            text, one, _REMOTE_LIMIT, query.after, query.before, sender, page
        )
        kept = [
            hit
            for hit in hits
            if hit.message.chat_id in followed
            and all(matches(term, words_of(hit.sender)) for term in query.senders)
        ]
        return kept, following

    def _one_sender(self, query: SearchQuery) -> int | None:
        """The one known user every `from:` of `query` names (None: none, or several)."""
        if not query.senders:
            return None
        named = {
            user_id
            for user_id, user in self.users.items()
            if all(matches(term, words_of(user.name)) for term in query.senders)
        }
        return next(iter(named)) if len(named) == 1 else None

    def report_staff(self) -> ReportStaff:
        """Who counts as staff for reply times, from the desk's staff rule."""
        rule = self._rule
        ids = frozenset({rule.me_id, *rule.staff_ids})
        return ReportStaff(ids=ids, out_is_staff=True, ignore=rule.ignore_ids - ids)

    def read_windows(
        self, chat_ids: list[int], *, first: bool = False, ahead: bool = False
    ) -> None:
        """Read these chats' newest messages (those not read yet) when the store is idle, or
        with `first` ahead of everything queued; `ahead` of being shown (most wanted first:
        see MessageWindows.fill).

        Either order is right: each write updates a known window after it is made, and a
        window read after it sees it in the store.
        """
        store, size = self.store, self.windows.size
        wanted = self.windows.missing(chat_ids)[: self.windows.chats]  # the first, if too many
        for start in range(0, len(wanted), _WINDOW_READ):
            part = wanted[start : start + _WINDOW_READ]

            async def read(part: list[int] = part) -> None:
                missing = self.windows.missing(part)
                if not missing:
                    return
                found: dict[int, list[MessageRow]] = {chat_id: [] for chat_id in missing}
                for row in await store.newest_rows(missing, size):
                    found[row[0]].append(row)
                for chat_id, rows in found.items():  # each later one goes before: dropped sooner
                    self.windows.fill(chat_id, rows, ahead=ahead)
                if self.open_chat_id in missing:
                    open_id = self.open_chat_id
                    self.emit(Changes(messages={open_id: self.windows.recent(open_id, size)}))

            if first:
                self.writer.enqueue(read, first=True)
            else:
                self.writer.enqueue_idle(read)

    async def read_window(self, chat_id: int) -> None:
        """Read the chat's newest messages now unless they are in memory (a chat about to be
        shown: a desk bigger than core/desk/windows.py's cap holds only some chats')."""
        if self.windows.known(chat_id):
            return
        store, size = self.store, self.windows.size
        try:
            rows = await self.writer.call(lambda: store.newest_rows([chat_id], size))
        except StoreDamaged:
            return  # shown from what memory holds
        if not self.windows.known(chat_id):  # a write may have filled it meanwhile
            self.windows.fill(chat_id, rows)

    async def messages(self, chat_id: int, limit: int = 100) -> list[Message]:
        """The chat's newest `limit` stored messages, oldest first (after queued writes); those
        in memory once the store is damaged."""
        store = self.store
        try:
            return await self.writer.call(lambda: store.messages(chat_id, limit=limit))
        except StoreDamaged:
            return self.windows.recent(chat_id, limit)

    async def report_rows(self) -> list[ReportRow]:
        """What reply-time statistics need of every stored message of the known chats."""
        store, chat_ids = self.store, list(self.chats)
        return await self.writer.call(lambda: store.report_rows(chat_ids=chat_ids))

    async def template_usage(self) -> dict[str, tuple[int, int]]:
        """Template key → (times used, last used at); none known once the store is damaged."""
        try:
            return await self.writer.call(self.store.template_usage)
        except StoreDamaged:
            return {}

    def template_used(self, key: str) -> None:
        """Count one use of a template (stored in the background)."""
        store = self.store
        self.writer.enqueue(lambda: store.bump_template(key))

    async def history(
        self, chat_id: int, before_id: int | None = None, limit: int = 100
    ) -> list[Message]:
        """Messages of a chat from the store, older ones fetched from the source when missing.

        Older messages fetched here move the chat's history cut down (to 0 when the chat's
        beginning was reached) and recompute its triage: the wait may have begun earlier.
        Once the store is damaged, only what memory holds is paged (nothing more is fetched).
        """
        store = self.store
        try:
            messages = await self.writer.call(
                lambda: store.messages(chat_id, before_id=before_id, limit=limit)
            )
        except StoreDamaged:
            held = self.windows.recent(chat_id, self.windows.size)
            return [m for m in held if before_id is None or m.id < before_id][-limit:]
        if len(messages) < limit and before_id is not None:
            oldest = messages[0].id if messages else before_id
            wanted = limit - len(messages)
            try:
                older = await self.source.history(chat_id, oldest, wanted)
            except Exception:
                log.warning("history of %s unavailable from the source", chat_id)
                return messages
            if older:
                try:
                    await self.writer.call(lambda: store.add_messages(older))
                except StoreDamaged:
                    return messages
                messages = sorted(
                    {m.id: m for m in [*older, *messages]}.values(), key=lambda m: m.id
                )
            await self.applier.older_history_loaded(chat_id, older, complete=len(older) < wanted)
        return messages

    def can_download(self) -> bool:
        """Whether the source can fetch media."""
        return isinstance(self.source, MediaDownloader)

    async def download_media(self, chat_id: int, message_id: int, dest_dir: Path) -> Path:
        """Fetch a message's media into `dest_dir` (only when `can_download()`)."""
        source = self.source
        if not isinstance(source, MediaDownloader):
            raise RuntimeError(f"the {source.name} source cannot download media")
        return await source.download_media(chat_id, message_id, dest_dir)

    def source_warnings(self) -> list[str]:
        """Problems the source found worth telling the engineer."""
        source = self.source
        return list(source.warnings) if isinstance(source, ReportsWarnings) else []
