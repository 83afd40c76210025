"""The ChatSource protocol: the one seam between the desk and the outside world."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..desk.events import Event
from ..desk.models import Chat, Message, User
from ..rules.search_query import SourceFound, SourcePage


class SendError(Exception):
    """A send failed; `retry_after` is set when waiting that many seconds may help."""

    def __init__(self, message: str, retry_after: int | None = None, permanent: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class SourceTraits:
    """How a source behaves, so the Inbox need not guess."""

    events_before_start: bool = False
    """Its events are followed from the first moment (connecting, login, paging the chat list
    show while `start()` runs); message events for chats not listed yet are held."""
    backfills_itself: bool = False
    """It pushes each chat's recent history as events; the Inbox does not ask `history()`."""


class Dialogs(list[Chat]):
    """The chats a source lists, and whether the list is the whole truth."""

    def __init__(self, chats: Iterable[Chat] = (), complete: bool = False) -> None:
        """`complete`: cached chats missing from the list are gone (left, or deselected)."""
        super().__init__(chats)
        self.complete = complete


@runtime_checkable
class ChatSource(Protocol):
    """Where chats come from and where replies go: telegram, demo or replay."""

    name: str
    traits: SourceTraits

    async def start(self) -> User:
        """Connect (or load) and return the engineer's own account."""
        ...

    async def stop(self) -> None:
        """Disconnect and release resources; the event stream ends."""
        ...

    async def dialogs(self) -> Dialogs:
        """All support chats the source can see right now."""
        ...

    async def history(self, chat_id: int, before: int | None, limit: int) -> list[Message]:
        """Up to `limit` messages older than id `before` (newest first if None), oldest first."""
        ...

    async def send(self, chat_id: int, text: str, reply_to: int | None, random_id: int) -> Message:
        """Send a reply; the same `random_id` on a retry must never post twice."""
        ...

    async def mark_read(self, chat_id: int, upto: int) -> None:
        """Mark the chat read up to message id `upto`."""
        ...

    async def react(self, chat_id: int, message_id: int, emoji: str) -> None:
        """Put an emoji reaction on a message."""
        ...

    def staff_ids(self) -> frozenset[int]:
        """Teammates the source itself knows to be staff (besides the config's list)."""
        ...

    def events(self) -> AsyncIterator[Event]:
        """The live event stream; it ends when the source stops."""
        ...


@runtime_checkable
class MediaDownloader(Protocol):
    """A source that can fetch a message's photo or file."""

    async def download_media(self, chat_id: int, message_id: int, dest_dir: Path) -> Path:
        """Download the message's media into `dest_dir`; return the file."""
        ...


@runtime_checkable
class MarksUnread(Protocol):
    """A source that keeps a chat's "marked unread" flag (Telegram's dialog unread mark)."""

    async def mark_unread(self, chat_id: int, unread: bool) -> None:
        """Set or clear the chat's unread mark at the source."""


@runtime_checkable
class EditsMessages(Protocol):
    """A source that can edit one of our own messages (the team room's presence line, and
    message mode's edit: tui/desk_messages.py); failures raise SendError with a clear line."""

    async def edit(self, chat_id: int, message_id: int, text: str) -> Message:
        """Replace the text of our message `message_id`; return it as edited."""
        ...


@runtime_checkable
class ListsMembers(Protocol):
    """A source that can list a group's members (the team room's, who all count as staff)."""

    async def members(self, chat_id: int) -> list[User]:
        """The human members of group `chat_id` (raises on network errors and refusals)."""
        ...


@runtime_checkable
class SearchesMessages(Protocol):
    """A source that searches its server for messages the store may not hold (Telegram's
    second search tier: core/sources/telegram/search.py)."""

    async def search_messages(
        self,
        text: str,
        chat_id: int | None,
        limit: int,
        after: int | None,
        before: int | None,
        sender_id: int | None = None,
        page: SourcePage | None = None,
    ) -> SourceFound:
        """Messages holding `text`, newest first, in chat `chat_id` (by `sender_id` when given)
        or across chats (None), dated within `after`..`before` when set, from `page` on; and
        where the next page starts. Raises on network errors and flood waits."""
        ...


@runtime_checkable
class DeletesMessages(Protocol):
    """A source that can delete our own messages for everyone where Telegram allows it."""

    async def delete(self, chat_id: int, message_ids: list[int]) -> None:
        """Delete `message_ids` of chat `chat_id` for everyone (raises SendError if refused)."""
        ...


@runtime_checkable
class ReportsWarnings(Protocol):
    """A source that found problems worth telling the engineer (a folder not found, …)."""

    warnings: list[str]


@runtime_checkable
class SourceClock(Protocol):
    """A source that runs on its own time declares it with `clock`: a replay plays its export on
    the export's clock, so the desk's "now" (waits, levels, alerts, business hours, the status
    line) must be that clock, not the wall clock (the Inbox's `story_clock`)."""

    clock: Callable[[], float]
