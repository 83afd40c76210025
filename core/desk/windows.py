"""The newest messages of every chat, kept in memory so a key paints a chat without the store."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

from .models import Message

WINDOW = 50  # messages kept per chat: what a freshly opened conversation shows


class MessageWindows:
    """Per chat, its newest `size` messages, oldest first, once they have been read."""

    def __init__(self, size: int = WINDOW) -> None:
        """No chat's window is known yet."""
        self.size = size
        self._windows: dict[int, list[Message]] = {}
        self._whole: set[int] = set()  # chats whose window holds every stored message

    def fill(self, chat_id: int, newest: list[Message]) -> None:
        """Set a chat's window from the store's newest messages (oldest first, up to `size`)."""
        self._windows[chat_id] = list(newest[-self.size :])
        if len(newest) < self.size:
            self._whole.add(chat_id)
        else:
            self._whole.discard(chat_id)

    def known(self, chat_id: int) -> bool:
        """Whether the chat's window has been read."""
        return chat_id in self._windows

    def recent(self, chat_id: int, limit: int) -> list[Message]:
        """Up to `limit` of the chat's newest messages, oldest first (empty when unknown)."""
        window = self._windows.get(chat_id, [])
        return window[-limit:] if limit < len(window) else list(window)

    def has_older(self, chat_id: int, shown: int) -> bool:
        """Whether the store may hold messages older than the newest `shown` ones."""
        return shown < len(self._windows.get(chat_id, ())) or chat_id not in self._whole

    def add(self, messages: Iterable[Message]) -> None:
        """Put new messages into the windows they belong to (known windows only)."""
        for message in messages:
            window = self._windows.get(message.chat_id)
            if window is None:
                continue
            ids = [m.id for m in window]
            index = bisect_left(ids, message.id)
            if index < len(window) and window[index].id == message.id:
                continue
            window.insert(index, message)
            if len(window) > self.size:
                del window[0]
                self._whole.discard(message.chat_id)

    def edit(self, messages: Iterable[Message]) -> None:
        """Replace edited messages where a window holds them."""
        for message in messages:
            window = self._windows.get(message.chat_id, [])
            for index, old in enumerate(window):
                if old.id == message.id:
                    window[index] = message
                    break

    def delete(self, chat_id: int, ids: set[int]) -> None:
        """Drop deleted messages (what is left is still the chat's newest, only fewer)."""
        window = self._windows.get(chat_id)
        if window is not None:
            window[:] = [m for m in window if m.id not in ids]

    def forget(self, chat_id: int) -> None:
        """Drop a chat's window (it is read again when needed)."""
        self._windows.pop(chat_id, None)
        self._whole.discard(chat_id)

    def missing(self, chat_ids: Iterable[int]) -> list[int]:
        """Those of `chat_ids` whose window is not known."""
        return [c for c in chat_ids if c not in self._windows]
