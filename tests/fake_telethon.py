"""A fake Telethon client: a tiny in-memory Telegram that speaks Telethon's own TL objects.

Requests go through `__call__` like the real client's and return real `telethon.tl.types`
objects (Dialogs/DialogsSlice, Messages/ChannelMessages, UpdateShortSentMessage, Updates…);
failures are Telethon's real error classes. Tests script failures with `fail_next` and push
live updates with `deliver`. The parts: TL object builders (tests/fake_tl.py), connection and
update loop (tests/fake_connection.py), raw request handlers (tests/fake_requests.py), login
(tests/fake_login.py); a real TelegramClient on a scripted network is tests/scripted_server.py.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telethon import utils
from telethon.tl import types

from tests.fake_connection import FakeConnection
from tests.fake_login import FakeLogin, FakeQR
from tests.fake_requests import FakeRequests
from tests.fake_tl import (
    T0,
    channel,
    document,
    flood,
    folder,
    forum_topic,
    group,
    message_update,
    peer_of,
    photo,
    user,
    when,
)
from tests.scripted_server import ScriptedServer, scripted_telethon


@dataclass
class Failure:
    """Raise `error` for the next call named `name` (that matches `when`)."""

    name: str
    error: BaseException
    when: Callable[[Any], bool] = lambda _request: True
    after: bool = False
    """For SendMessageRequest: store the message first, then fail (a lost answer)."""


class FakeClient(FakeConnection, FakeRequests, FakeLogin):
    """An in-memory Telegram behind the methods and raw requests the desk uses."""

    def __init__(self, me: types.User | None = None, *, session_file: Path | None = None) -> None:
        """A world with one account (`me`), no chats yet."""
        self.me = me or user(1000, "Erin", "Engineer", username="erin", is_self=True)
        self.session_file = session_file
        self.authorized = True
        self.connected = False
        self.connect_failures = 0
        self.connects = 0
        self.catch_ups = 0
        self.catch_up_on_connect = True
        self.connect_hangs = 0
        self.update_loops = 0
        self.max_update_loops = 0
        self.difference_runs = 0
        self.differences_running = 0
        self.max_differences_running = 0
        self.hangs: list[str] = []
        self.black_hole = False
        """A half-open connection: nothing is answered and nothing says so, until disconnect()."""
        self._loops: list[asyncio.Task[None]] = []
        self._in_flight: list[asyncio.Future[Any]] = []
        self.handlers: list[Callable[[Any], Any]] = []
        self.entities: dict[int, Any] = {utils.get_peer_id(self.me): self.me}
        self.history: dict[int, list[Any]] = {}
        self.archive: dict[int, list[Any]] = {}
        """Messages only Telegram's search finds (older than any history page the desk asks)."""
        self.dialog_meta: dict[int, dict[str, Any]] = {}
        self.folders: list[Any] = []
        self.topics: dict[int, list[types.ForumTopic]] = {}
        self.requests: list[Any] = []
        self.snapshots: list[tuple[str, dict[str, Any]]] = []
        self.calls: list[tuple[str, Any]] = []
        self.failures: list[Failure] = []
        self.random_ids: dict[tuple[int, int], int] = {}
        self.read_acks: list[tuple[Any, int | None]] = []
        self.missed: list[Any] = []
        self.downloads: list[str] = []
        self.pinned: set[int] = set()
        self._next_id = itertools.count(1)
        self._channel_ids: dict[int, itertools.count[int]] = {}
        self._pts = itertools.count(1)
        self._disconnected: asyncio.Future[None] | None = None
        # login
        self.code = "24680"
        self.password: str | None = None
        self.password_hint = "the usual"
        self.qr = FakeQR(self)

    # ------------------------------------------------------------------ world building

    def add_chat(self, entity: Any, **dialog: Any) -> int:
        """Put a chat in the dialog list; returns its marked id."""
        chat_id = utils.get_peer_id(entity)
        self.entities[chat_id] = entity
        self.history.setdefault(chat_id, [])
        self.dialog_meta[chat_id] = dialog
        return chat_id

    def add_user(self, entity: types.User) -> None:
        """Make a user known (a sender, a teammate) without a dialog."""
        self.entities[entity.id] = entity

    def new_id(self, chat_id: int) -> int:
        """The next message id in a chat (per channel, account-wide otherwise)."""
        if chat_id < -1_000_000_000_000:
            # like Telegram: above every id the channel has, also ones a test set by hand
            top = max((m.id for m in self.history.get(chat_id, ())), default=0)
            counter = self._channel_ids.setdefault(chat_id, itertools.count(1))
            return max(next(counter), top + 1)
        return next(self._next_id)

    def message(
        self,
        chat_id: int,
        text: str = "",
        *,
        sender: Any = None,
        out: bool = False,
        date: int | None = None,
        reply_to: int | None = None,
        topic: int | None = None,
        media: Any = None,
        msg_id: int | None = None,
        store: bool = True,
    ) -> types.Message:
        """A message in a chat (stored in its history unless store=False)."""
        chat = self.entities[chat_id]
        msg_id = msg_id or self.new_id(chat_id)
        if out:
            from_id: Any = types.PeerUser(self.me.id) if not isinstance(chat, types.User) else None
        elif sender is not None:
            from_id = peer_of(sender) if not isinstance(chat, types.User) else None
        else:
            from_id = None
        header = None
        if topic is not None and reply_to is not None:
            header = types.MessageReplyHeader(
                forum_topic=True, reply_to_msg_id=reply_to, reply_to_top_id=topic
            )
        elif topic is not None:
            header = types.MessageReplyHeader(forum_topic=True, reply_to_msg_id=topic)
        elif reply_to is not None:
            header = types.MessageReplyHeader(reply_to_msg_id=reply_to)
        msg = types.Message(
            id=msg_id,
            peer_id=peer_of(chat),
            date=when(date if date is not None else T0 + msg_id),
            message=text,
            out=out,
            from_id=from_id,
            reply_to=header,
            media=media,
        )
        if store:
            self.history[chat_id].append(msg)
        return msg

    def service(
        self,
        chat_id: int,
        action: Any,
        *,
        sender: Any = None,
        msg_id: int | None = None,
        date: int | None = None,
    ) -> types.MessageService:
        """A service message in a chat (stored)."""
        chat = self.entities[chat_id]
        msg_id = msg_id or self.new_id(chat_id)
        msg = types.MessageService(
            id=msg_id,
            peer_id=peer_of(chat),
            date=when(date if date is not None else T0 + msg_id),
            action=action,
            from_id=peer_of(sender) if sender is not None else None,
        )
        self.history[chat_id].append(msg)
        return msg

    def new_message_update(self, msg: Any) -> Any:
        """The update Telegram pushes for a new message."""
        return message_update(msg, next(self._pts))

    def fail_next(
        self,
        name: str,
        error: BaseException,
        when: Callable[[Any], bool] = lambda _r: True,
        *,
        after: bool = False,
    ) -> None:
        """Script a failure for the next matching request/method `name`."""
        self.failures.append(Failure(name, error, when, after))

    def _maybe_fail(self, name: str, request: Any = None, *, after: bool = False) -> None:
        """Raise the first scripted failure matching this call."""
        for failure in self.failures:
            if failure.name == name and failure.after == after and failure.when(request):
                self.failures.remove(failure)
                raise failure.error

    # ------------------------------------------------------------------ high-level methods

    async def get_entity(self, entity: Any) -> Any:
        """Resolve a username or a peer."""
        self.check_connected()
        self.calls.append(("get_entity", entity))
        self._maybe_fail("get_entity", entity)
        if isinstance(entity, str):
            name = entity.lstrip("@").lower()
            for candidate in self.entities.values():
                if (getattr(candidate, "username", None) or "").lower() == name:
                    return candidate
            raise ValueError(f'No user has "{name}" as username')
        found = self.entities.get(utils.get_peer_id(entity))
        if found is None:
            raise ValueError("Could not find the input entity")
        return found

    async def get_input_entity(self, peer: Any) -> Any:
        """An InputPeer from the known entities."""
        return utils.get_input_peer(await self.get_entity(peer))

    async def get_messages(
        self, entity: Any, *args: Any, ids: int | None = None, **kwargs: Any
    ) -> Any:
        """One message by id (the only form the desk uses)."""
        self.check_connected()
        chat_id = utils.get_peer_id(entity)
        for msg in self.history.get(chat_id, []):
            if msg.id == ids:
                return msg
        return None

    async def send_read_acknowledge(
        self, entity: Any, message: Any = None, *, max_id: int | None = None
    ) -> bool:
        """Record a read acknowledgement."""
        self.check_connected()
        self.read_acks.append((entity, max_id))
        return True

    async def download_media(self, message: Any, file: Any = None) -> str:
        """Write fake file contents to `file`."""
        self.check_connected()
        Path(file).write_bytes(b"fake media bytes")
        self.downloads.append(str(file))
        return str(file)


# The builders and the scripted server are re-exported so `from tests.fake_telethon import user`
# (written before the split, e.g. on other branches) keeps working.
__all__ = [
    "T0",
    "Failure",
    "FakeClient",
    "FakeQR",
    "ScriptedServer",
    "channel",
    "document",
    "flood",
    "folder",
    "forum_topic",
    "group",
    "peer_of",
    "photo",
    "scripted_telethon",
    "user",
    "when",
]
