"""The newest messages of the chats in use, kept in memory so a key paints a chat without the store.

They are kept as the store's rows (a third of a Message's room: 1,000 chats of 50 messages are
about 20 MB) and turned into Messages only when a chat is shown. At most `MAX_CHATS` chats keep
a window: past that, the one used longest ago is dropped (and read again when it is shown), so
a desk of 10,000 chats holds no more than one of 1,000. Windows read ahead at start-up, most
wanted first, are dropped in the reverse order: the working set read first is kept longest.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterable

from ..storage.rows import MessageRow, message_from_row, message_params
from .models import Message

WINDOW = 50  # messages kept per chat: what a freshly opened conversation shows
MAX_CHATS = 1_000  # chats whose windows are kept at once (the least recently used go first)
_ID = 1  # a row's message id column


class MessageWindows:
    """Per chat, its newest `size` messages, oldest first, once they have been read; at most
    `chats` windows, the least recently filled or shown dropped first."""

    def __init__(self, size: int = WINDOW, chats: int = MAX_CHATS) -> None:
        """No chat's window is known yet."""
        self.size = size
        self.chats = chats
        self._windows: OrderedDict[int, list[MessageRow]] = OrderedDict()  # least recent first
        self._whole: set[int] = set()  # chats whose window holds every stored message
        self._unstored: dict[int, dict[int, Message]] = {}  # shown, store write still queued

    def unstored(self, messages: Iterable[Message]) -> None:
        """These messages are shown before the store has them (a read must not lose them)."""
        for message in messages:
            self._unstored.setdefault(message.chat_id, {})[message.id] = message

    def with_unstored(self, chat_id: int, messages: list[Message]) -> list[Message]:
        """`messages` (read from the store, in id order) with the chat's messages shown but
        not written yet, in id order: what the store will hold once its queue is written."""
        unstored = self._unstored.get(chat_id)
        if not unstored:
            return messages
        merged = {m.id: m for m in messages} | unstored
        return [merged[i] for i in sorted(merged)]

    def stored(self, messages: Iterable[Message]) -> None:
        """These messages' store write was made (or dropped): reads see what the store holds."""
        for message in messages:
            held = self._unstored.get(message.chat_id)
            if held is not None:
                held.pop(message.id, None)
                if not held:
                    del self._unstored[message.chat_id]

    def fill(self, chat_id: int, newest: list[MessageRow], *, ahead: bool = False) -> None:
        """Set a chat's window from the store's newest rows (oldest first, up to `size`), with
        the messages shown but not written yet (`unstored`) that the read could not see; read
        `ahead` of being shown, it goes before the others in the line to be dropped."""
        self._windows.pop(chat_id, None)
        self._windows[chat_id] = list(newest[-self.size :])
        if ahead:
            self._windows.move_to_end(chat_id, last=False)
        unstored = self._unstored.get(chat_id)
        if unstored:
            self.add(unstored.values())
        if len(newest) < self.size:
            self._whole.add(chat_id)
        else:
            self._whole.discard(chat_id)
        while len(self._windows) > self.chats:
            self.forget(next(iter(self._windows)))

    def kept(self) -> int:
        """How many chats have a window in memory."""
        return len(self._windows)

    def known(self, chat_id: int) -> bool:
        """Whether the chat's window has been read."""
        return chat_id in self._windows

    def recent(self, chat_id: int, limit: int) -> list[Message]:
        """Up to `limit` of the chat's newest messages, oldest first (empty when unknown)."""
        window = self._windows.get(chat_id)
        if window is None:
            return []
        self._windows.move_to_end(chat_id)  # shown: the most recently used
        return [message_from_row(row) for row in window[-limit:]] if limit > 0 else []

    def has_older(self, chat_id: int, shown: int) -> bool:
        """Whether the store may hold messages older than the newest `shown` ones."""
        return shown < len(self._windows.get(chat_id, ())) or chat_id not in self._whole

    def add(self, messages: Iterable[Message]) -> None:
        """Put new messages into the windows they belong to (known windows only)."""
        for message in messages:
            window = self._windows.get(message.chat_id)
            if window is None:
                continue
            if not window or window[-1][_ID] < message.id:  # the usual case: the newest
                window.append(message_params(message))
            else:
                index = bisect_left(window, message.id, key=lambda row: row[_ID])
                if index < len(window) and window[index][_ID] == message.id:
                    continue
                window.insert(index, message_params(message))
            if len(window) > self.size:
                del window[0]
                self._whole.discard(message.chat_id)

    def edit(self, messages: Iterable[Message]) -> None:
        """Replace edited messages where a window holds them."""
        for message in messages:
            window = self._windows.get(message.chat_id, [])
            index = bisect_left(window, message.id, key=lambda row: row[_ID])
            if index < len(window) and window[index][_ID] == message.id:
                window[index] = message_params(message)

    def delete(self, chat_id: int, ids: set[int]) -> None:
        """Drop deleted messages (what is left is still the chat's newest, only fewer)."""
        window = self._windows.get(chat_id)
        if window is not None:
            window[:] = [row for row in window if row[_ID] not in ids]

    def forget(self, chat_id: int) -> None:
        """Drop a chat's window (it is read again when needed)."""
        self._windows.pop(chat_id, None)
        self._whole.discard(chat_id)

    def missing(self, chat_ids: Iterable[int]) -> list[int]:
        """Those of `chat_ids` whose window is not known."""
        return [c for c in chat_ids if c not in self._windows]

    def find(self, chat_id: int, message_id: int) -> Message | None:
        """A message of the chat's window, or None."""
        window = self._windows.get(chat_id, [])
        index = bisect_left(window, message_id, key=lambda row: row[_ID])
        if index < len(window) and window[index][_ID] == message_id:
            return message_from_row(window[index])
        return None
