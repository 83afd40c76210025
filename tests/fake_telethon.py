"""A fake Telethon client: a tiny in-memory Telegram that speaks Telethon's own TL objects.

Requests go through `__call__` like the real client's and return real `telethon.tl.types`
objects (Dialogs/DialogsSlice, Messages/ChannelMessages, UpdateShortSentMessage, Updates…);
failures are Telethon's real error classes. Tests script failures with `fail_next` and push
live updates with `deliver`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telethon import errors, utils
from telethon.tl import types

T0 = 1_700_000_000


def when(ts: int) -> dt.datetime:
    """A TL date from Unix seconds."""
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC)


# --------------------------------------------------------------------------- entity builders


def user(
    user_id: int,
    first: str = "",
    last: str | None = None,
    *,
    username: str | None = None,
    contact: bool = False,
    bot: bool = False,
    is_self: bool = False,
) -> types.User:
    """A full (non-min) User with an access hash."""
    return types.User(
        id=user_id,
        is_self=is_self,
        contact=contact,
        bot=bot,
        access_hash=user_id * 7 + 1,
        first_name=first or None,
        last_name=last,
        username=username,
    )


def group(chat_id: int, title: str, **flags: Any) -> types.Chat:
    """A basic group."""
    return types.Chat(
        id=chat_id,
        title=title,
        photo=types.ChatPhotoEmpty(),
        participants_count=3,
        date=when(T0),
        version=1,
        **flags,
    )


def channel(
    channel_id: int,
    title: str,
    *,
    megagroup: bool = True,
    forum: bool = False,
    username: str | None = None,
    **flags: Any,
) -> types.Channel:
    """A supergroup (default), forum or broadcast channel."""
    return types.Channel(
        id=channel_id,
        title=title,
        photo=types.ChatPhotoEmpty(),
        date=when(T0),
        megagroup=megagroup,
        broadcast=not megagroup,
        forum=forum,
        access_hash=channel_id * 11 + 3,
        username=username,
        **flags,
    )


def peer_of(entity: Any) -> Any:
    """The Peer of an entity."""
    if isinstance(entity, types.User):
        return types.PeerUser(entity.id)
    if isinstance(entity, types.Chat | types.ChatForbidden):
        return types.PeerChat(entity.id)
    return types.PeerChannel(entity.id)


def photo(size: int = 1_234_567) -> types.MessageMediaPhoto:
    """A photo with a thumbnail, a progressive size and a full size of `size` bytes."""
    return types.MessageMediaPhoto(
        photo=types.Photo(
            id=1,
            access_hash=2,
            file_reference=b"ref",
            date=when(T0),
            sizes=[
                types.PhotoStrippedSize(type="i", bytes=b"\x01\x02"),
                types.PhotoSize(type="m", w=320, h=240, size=max(1, size // 20)),
                types.PhotoSizeProgressive(
                    type="y", w=1280, h=960, sizes=[size // 10, size // 2, size]
                ),
            ],
            dc_id=2,
        )
    )


def document(
    attributes: list[Any], *, size: int = 5000, mime: str = "application/octet-stream", **media: Any
) -> types.MessageMediaDocument:
    """A document with the given attributes."""
    return types.MessageMediaDocument(
        document=types.Document(
            id=3,
            access_hash=4,
            file_reference=b"ref",
            date=when(T0),
            mime_type=mime,
            size=size,
            dc_id=2,
            attributes=attributes,
        ),
        **media,
    )


# --------------------------------------------------------------------------- scripted failures


@dataclass
class Failure:
    """Raise `error` for the next call named `name` (that matches `when`)."""

    name: str
    error: BaseException
    when: Callable[[Any], bool] = lambda _request: True
    after: bool = False
    """For SendMessageRequest: store the message first, then fail (a lost answer)."""


@dataclass
class FakeQR:
    """Telethon's QRLogin as the fake serves it: url, expires, recreate(), wait()."""

    client: FakeClient
    generation: int = 0
    outcomes: list[str] = field(default_factory=list)
    gated: bool = False
    """When set, each wait() holds until the test calls `release()` (to look at each code)."""
    _gate: asyncio.Event | None = None
    waits: int = 0

    def release(self) -> None:
        """Let the pending wait() come to its scripted outcome."""
        if self._gate is None:
            self._gate = asyncio.Event()
        self._gate.set()

    @property
    def url(self) -> str:
        """The tg://login URL of the current token."""
        return f"tg://login?token=FAKETOKEN{self.generation}"

    @property
    def expires(self) -> dt.datetime:
        """When the current token expires."""
        return when(T0 + 30 * (self.generation + 1))

    async def recreate(self) -> None:
        """A fresh token."""
        self.client.check_connected()
        self.generation += 1

    async def wait(self, timeout: float | None = None) -> types.User:
        """The scripted outcome: 'timeout', 'password' (2FA), 'network' or 'ok'."""
        self.waits += 1
        if self.gated:
            if self._gate is None:
                self._gate = asyncio.Event()
            await self._gate.wait()
            self._gate.clear()
        outcome = self.outcomes.pop(0) if self.outcomes else "timeout"
        if outcome == "timeout":
            raise TimeoutError
        if outcome == "password":
            raise errors.SessionPasswordNeededError(request=None)
        if outcome == "network":
            raise ConnectionError("connection reset")
        self.client.authorized = True
        return self.client.me


# --------------------------------------------------------------------------- the client


class FakeClient:
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
        if isinstance(msg.peer_id, types.PeerChannel):
            return types.UpdateNewChannelMessage(message=msg, pts=next(self._pts), pts_count=1)
        return types.UpdateNewMessage(message=msg, pts=next(self._pts), pts_count=1)

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

    def check_connected(self) -> None:
        """Requests fail like the real client's when there is no connection."""
        if not self.connected:
            raise ConnectionError("Cannot send requests while disconnected")

    # ------------------------------------------------------------------ connection

    async def connect(self) -> None:
        """Connect like Telethon: a new update loop that first catches up (`catch_up=True`).

        Like the real client, connecting again after a drop without `disconnect()` leaves the
        old update loop running beside the new one (`max_update_loops` shows it).
        """
        self.calls.append(("connect", None))
        self._maybe_fail("connect")
        if self.connect_failures > 0:
            self.connect_failures -= 1
            raise ConnectionError("network is unreachable")
        if self.connect_hangs > 0:
            self.connect_hangs -= 1
            await self._never_answered()
        if self.connected:
            return
        self.connected = True
        self.connects += 1
        self._disconnected = asyncio.get_running_loop().create_future()
        if self.catch_up_on_connect:
            self._loops.append(asyncio.ensure_future(self._update_loop()))

    async def _update_loop(self) -> None:
        """Telethon's update loop: get the difference once, then wait for pushed updates."""
        self.update_loops += 1
        self.max_update_loops = max(self.max_update_loops, self.update_loops)
        try:
            await self._get_difference()
            await asyncio.get_running_loop().create_future()
        finally:
            self.update_loops -= 1

    async def _get_difference(self) -> None:
        """One getDifference run: deliver the updates queued in `missed`."""
        self.difference_runs += 1
        self.differences_running += 1
        self.max_differences_running = max(self.max_differences_running, self.differences_running)
        try:
            for _ in range(3):  # a round trip: lets a concurrent run overlap, as on a real network
                await asyncio.sleep(0)
            missed, self.missed = self.missed, []
            for update in missed:
                await self.deliver(update)
        finally:
            self.differences_running -= 1

    async def _never_answered(self) -> Any:
        """A request the server never answers: it waits until the connection ends."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._in_flight.append(future)
        return await future

    def _end_requests(self) -> None:
        """Telethon cancels the futures of requests in flight when the connection ends."""
        in_flight, self._in_flight = self._in_flight, []
        for future in in_flight:
            future.cancel()

    async def disconnect(self) -> None:
        """Disconnect on purpose: the update loop ends, requests in flight are cancelled."""
        self.calls.append(("disconnect", None))
        self.connected = False
        self.black_hole = False
        loops, self._loops = self._loops, []
        for loop in loops:
            loop.cancel()
        self._end_requests()
        if self._disconnected is not None and not self._disconnected.done():
            self._disconnected.set_result(None)

    def drop(self, error: BaseException | None = None) -> None:
        """The network dies: requests in flight are cancelled, `disconnected` raises `error`.

        The update loop keeps running, as Telethon's does until `disconnect()`.
        """
        self.connected = False
        self._end_requests()
        if self._disconnected is not None and not self._disconnected.done():
            self._disconnected.set_exception(error or ConnectionError("connection reset by peer"))

    def hang_next(self, name: str) -> None:
        """The next request `name` is never answered (until the connection ends)."""
        self.hangs.append(name)

    def is_connected(self) -> bool:
        """Whether connected."""
        return self.connected

    @property
    def disconnected(self) -> asyncio.Future[None]:
        """Resolves when the connection ends (raises the network error on a drop)."""
        if self._disconnected is None:
            self._disconnected = asyncio.get_running_loop().create_future()
            self._disconnected.set_result(None)
        return self._disconnected

    # ------------------------------------------------------------------ updates

    def add_event_handler(self, callback: Callable[[Any], Any], event: Any = None) -> None:
        """Register a raw-update handler."""
        self.handlers.append(callback)

    async def deliver(self, update: Any, entities: list[Any] | None = None) -> None:
        """Push one raw update to the handlers, with its entities like Telethon attaches them."""
        attached = {utils.get_peer_id(e): e for e in entities or []}
        if entities is None and hasattr(update, "message") and hasattr(update.message, "peer_id"):
            msg = update.message
            chat = self.entities.get(utils.get_peer_id(msg.peer_id))
            if chat is not None:
                attached[utils.get_peer_id(chat)] = chat
            if msg.from_id is not None and utils.get_peer_id(msg.from_id) in self.entities:
                attached[utils.get_peer_id(msg.from_id)] = self.entities[
                    utils.get_peer_id(msg.from_id)
                ]
        update._entities = attached
        for handler in list(self.handlers):
            await handler(update)

    async def catch_up(self) -> None:
        """Run getDifference now (Telethon's update loop already does after each connect)."""
        self.check_connected()
        self.catch_ups += 1
        await self._get_difference()

    # ------------------------------------------------------------------ high-level methods

    async def is_user_authorized(self) -> bool:
        """Whether logged in."""
        self.check_connected()
        return self.authorized

    async def get_me(self) -> types.User | None:
        """The account, when logged in."""
        self.check_connected()
        return self.me if self.authorized else None

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

    # ------------------------------------------------------------------ login

    async def send_code_request(self, phone: str) -> types.auth.SentCode:
        """Send a code (or fail as scripted)."""
        self.check_connected()
        self.calls.append(("send_code_request", None))
        self._maybe_fail("send_code_request")
        return types.auth.SentCode(
            type=types.auth.SentCodeTypeApp(length=5), phone_code_hash="hash"
        )

    async def sign_in(
        self, phone: str | None = None, code: str | None = None, *, password: str | None = None
    ) -> types.User:
        """Check the code or password like Telegram does."""
        self.check_connected()
        self.calls.append(("sign_in", "password" if password else "code"))
        self._maybe_fail("sign_in")
        if password is not None:
            if password != self.password:
                raise errors.PasswordHashInvalidError(request=None)
        else:
            if code != self.code:
                raise errors.PhoneCodeInvalidError(request=None)
            if self.password is not None:
                raise errors.SessionPasswordNeededError(request=None)
        self.authorized = True
        return self.me

    async def qr_login(self) -> FakeQR:
        """Start a QR login."""
        self.check_connected()
        self._maybe_fail("qr_login")
        return self.qr

    async def log_out(self) -> bool:
        """Log out and delete the session file like Telethon."""
        self.check_connected()
        self.authorized = False
        self.connected = False
        if self.session_file is not None and self.session_file.exists():
            self.session_file.unlink()
        return True

    # ------------------------------------------------------------------ raw requests

    async def __call__(self, request: Any) -> Any:
        """Serve one raw request."""
        self.check_connected()
        self.requests.append(request)
        self.snapshots.append((type(request).__name__, request.to_dict()))
        name = type(request).__name__
        self._maybe_fail(name, request)
        if self.black_hole or name in self.hangs:
            if name in self.hangs:
                self.hangs.remove(name)
            return await self._never_answered()
        handler = getattr(self, f"_serve_{name}", None)
        if handler is None:
            raise NotImplementedError(name)
        return handler(request)

    def requests_named(self, name: str) -> list[Any]:
        """The raw requests of one kind, in order."""
        return [r for r in self.requests if type(r).__name__ == name]

    def _participants(self) -> tuple[list[Any], list[Any]]:
        """All users and chats as response vectors."""
        users = [e for e in self.entities.values() if isinstance(e, types.User)]
        chats = [e for e in self.entities.values() if not isinstance(e, types.User)]
        return users, chats

    def _dialog_order(self) -> list[int]:
        """Chats newest activity first (pinned first), like Telegram's dialog list."""

        def key(chat_id: int) -> tuple[int, int]:
            msgs = self.history.get(chat_id) or []
            top = max((m.date.timestamp() for m in msgs), default=0)
            return (1 if chat_id in self.pinned else 0, int(top))

        return sorted(self.dialog_meta, key=key, reverse=True)

    def _serve_GetDialogsRequest(self, request: Any) -> Any:
        order = self._dialog_order()
        if request.exclude_pinned:
            order = [c for c in order if c not in self.pinned]
        start = 0
        if not isinstance(request.offset_peer, types.InputPeerEmpty):
            offset_id = utils.get_peer_id(request.offset_peer)
            start = order.index(offset_id) + 1
        page = order[start : start + request.limit]
        dialogs, messages = [], []
        for chat_id in page:
            history = self.history.get(chat_id) or []
            top = max(history, key=lambda m: m.id) if history else None
            meta = dict(self.dialog_meta[chat_id])
            dialogs.append(
                types.Dialog(
                    peer=peer_of(self.entities[chat_id]),
                    top_message=top.id if top else 0,
                    read_inbox_max_id=meta.pop("read_inbox_max_id", 0),
                    read_outbox_max_id=meta.pop("read_outbox_max_id", 0),
                    unread_count=meta.pop("unread_count", 0),
                    unread_mentions_count=0,
                    unread_reactions_count=0,
                    unread_poll_votes_count=0,
                    notify_settings=meta.pop("notify_settings", types.PeerNotifySettings()),
                    pinned=chat_id in self.pinned,
                    **meta,
                )
            )
            if top is not None:
                messages.append(top)
        users, chats = self._participants()
        if start + len(page) < len(order):
            return types.messages.DialogsSlice(
                count=len(order), dialogs=dialogs, messages=messages, chats=chats, users=users
            )
        return types.messages.Dialogs(dialogs=dialogs, messages=messages, chats=chats, users=users)

    def _serve_GetHistoryRequest(self, request: Any) -> Any:
        chat_id = utils.get_peer_id(request.peer)
        msgs = sorted(self.history.get(chat_id, []), key=lambda m: m.id, reverse=True)
        if request.offset_id:
            msgs = [m for m in msgs if m.id < request.offset_id]
        if request.min_id:
            msgs = [m for m in msgs if m.id > request.min_id]
        total = len(msgs)
        msgs = msgs[: request.limit]
        users, chats = self._participants()
        if chat_id < -1_000_000_000_000:
            return types.messages.ChannelMessages(
                pts=1, count=total, messages=msgs, topics=[], chats=chats, users=users
            )
        return types.messages.Messages(messages=msgs, topics=[], chats=chats, users=users)

    def _serve_SendMessageRequest(self, request: Any) -> Any:
        chat_id = utils.get_peer_id(request.peer)
        key = (chat_id, request.random_id)
        if key in self.random_ids:
            raise errors.RandomIdDuplicateError(request=request)
        reply = request.reply_to
        header = None
        if isinstance(reply, types.InputReplyToMessage):
            if reply.top_msg_id:
                header = types.MessageReplyHeader(
                    forum_topic=True,
                    reply_to_msg_id=reply.reply_to_msg_id,
                    reply_to_top_id=reply.top_msg_id,
                )
            else:
                forum = getattr(self.entities[chat_id], "forum", False)
                header = types.MessageReplyHeader(
                    forum_topic=forum or None, reply_to_msg_id=reply.reply_to_msg_id
                )
        msg = types.Message(
            id=self.new_id(chat_id),
            peer_id=peer_of(self.entities[chat_id]),
            date=when(T0 + 10_000 + len(self.random_ids)),
            message=request.message,
            out=True,
            from_id=None if chat_id > 0 else types.PeerUser(self.me.id),
            reply_to=header,
        )
        self.history[chat_id].append(msg)
        self.random_ids[key] = msg.id
        self._maybe_fail("SendMessageRequest", request, after=True)
        if chat_id > -1_000_000_000_000:
            return types.UpdateShortSentMessage(
                id=msg.id, pts=next(self._pts), pts_count=1, date=msg.date, out=True
            )
        return types.Updates(
            updates=[
                types.UpdateMessageID(id=msg.id, random_id=request.random_id),
                types.UpdateNewChannelMessage(message=msg, pts=next(self._pts), pts_count=1),
            ],
            users=[self.me],
            chats=[self.entities[chat_id]],
            date=msg.date,
            seq=0,
        )

    def _serve_GetStateRequest(self, request: Any) -> Any:
        return types.updates.State(pts=1, qts=0, date=when(T0), seq=0, unread_count=0)

    def _serve_MarkDialogUnreadRequest(self, request: Any) -> Any:
        chat_id = utils.get_peer_id(request.peer.peer)
        self.dialog_meta[chat_id]["unread_mark"] = bool(request.unread)
        return True

    def _serve_SendReactionRequest(self, request: Any) -> Any:
        return types.Updates(updates=[], users=[], chats=[], date=when(T0), seq=0)

    def _serve_GetDialogFiltersRequest(self, request: Any) -> Any:
        return types.messages.DialogFilters(filters=[types.DialogFilterDefault(), *self.folders])

    def _serve_GetForumTopicsRequest(self, request: Any) -> Any:
        chat_id = utils.get_peer_id(request.peer)
        topics = self.topics.get(chat_id, [])
        users, chats = self._participants()
        return types.messages.ForumTopics(
            count=len(topics), topics=topics, messages=[], chats=chats, users=users, pts=1
        )

    def _serve_GetPasswordRequest(self, request: Any) -> Any:
        return types.account.Password(
            new_algo=types.PasswordKdfAlgoUnknown(),
            new_secure_algo=types.SecurePasswordKdfAlgoUnknown(),
            secure_random=b"",
            has_password=self.password is not None,
            hint=self.password_hint,
        )


def forum_topic(topic_id: int, title: str, chat: Any) -> types.ForumTopic:
    """A forum topic."""
    return types.ForumTopic(
        id=topic_id,
        date=when(T0),
        peer=peer_of(chat),
        title=title,
        icon_color=0,
        top_message=topic_id,
        read_inbox_max_id=0,
        read_outbox_max_id=0,
        unread_count=0,
        unread_mentions_count=0,
        unread_reactions_count=0,
        unread_poll_votes_count=0,
        from_id=types.PeerUser(1),
        notify_settings=types.PeerNotifySettings(),
    )


def folder(
    folder_id: int, title: str, *, include: list[Any] | None = None, **flags: Any
) -> types.DialogFilter:
    """A Telegram folder (dialog filter) with explicit chats and category flags."""
    return types.DialogFilter(
        id=folder_id,
        title=types.TextWithEntities(text=title, entities=[]),
        pinned_peers=[],
        include_peers=[utils.get_input_peer(e) for e in include or []],
        exclude_peers=[utils.get_input_peer(e) for e in flags.pop("exclude", [])],
        **flags,
    )


def flood(seconds: int) -> errors.FloodWaitError:
    """Telethon's FloodWaitError as the library raises it."""
    return errors.FloodWaitError(request=None, capture=seconds)


__all__ = [
    "T0",
    "FakeClient",
    "channel",
    "document",
    "flood",
    "folder",
    "forum_topic",
    "group",
    "photo",
    "user",
    "when",
]


# --------------------------------------------------------------------------- a real client, scripted


def telegram_prime() -> bytes:
    """Telegram's well-known 2048-bit SRP prime, as Telethon's password module embeds it."""
    import telethon.password

    consts = telethon.password.check_prime_and_good.__code__.co_consts
    return bytes(next(c for c in consts if isinstance(c, tuple) and len(c) == 256))


class ScriptedServer:
    """Answers a real TelegramClient's raw login requests like Telegram (2FA account)."""

    def __init__(self, me: types.User, *, code: str, hint: str, bad_passwords: int = 1) -> None:
        """An account that needs `code`, then a 2FA password (the first `bad_passwords` fail)."""
        import os

        self.me = me
        self.code = code
        self.hint = hint
        self.bad_passwords = bad_passwords
        self.authorized = False
        self.seen: list[str] = []
        self.algo = types.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow(
            salt1=os.urandom(8), salt2=os.urandom(16), g=3, p=telegram_prime()
        )

    def __call__(self, request: Any) -> Any:
        """One request → one TL result (or a real Telethon error)."""
        name = type(request).__name__
        self.seen.append(name)
        if name in ("GetStateRequest", "GetUsersRequest") and not self.authorized:
            raise errors.AuthKeyUnregisteredError(request=request)
        if name == "GetStateRequest":
            return types.updates.State(pts=1, qts=0, date=when(T0), seq=0, unread_count=0)
        if name == "GetUsersRequest":
            return [self.me]
        if name == "GetDifferenceRequest":
            return types.updates.DifferenceEmpty(date=when(T0), seq=0)
        if name == "SendCodeRequest":
            return types.auth.SentCode(
                type=types.auth.SentCodeTypeSms(length=5), phone_code_hash="h4sh"
            )
        if name == "SignInRequest":
            if request.phone_code != self.code:
                raise errors.PhoneCodeInvalidError(request=request)
            raise errors.SessionPasswordNeededError(request=request)
        if name == "GetPasswordRequest":
            p = int.from_bytes(self.algo.p, "big")
            return types.account.Password(
                new_algo=types.PasswordKdfAlgoUnknown(),
                new_secure_algo=types.SecurePasswordKdfAlgoUnknown(),
                secure_random=b"\x00" * 32,
                has_password=True,
                current_algo=self.algo,
                srp_B=(p // 3).to_bytes(256, "big"),
                srp_id=42,
                hint=self.hint,
            )
        if name == "CheckPasswordRequest":
            if self.bad_passwords > 0:
                self.bad_passwords -= 1
                raise errors.PasswordHashInvalidError(request=request)
            self.authorized = True
            return types.auth.Authorization(user=self.me)
        if name == "LogOutRequest":
            self.authorized = False
            return types.auth.LoggedOut()
        raise NotImplementedError(name)


def scripted_telethon(session: str, api_id: int, api_hash: str, server: ScriptedServer) -> Any:
    """A real `telethon.TelegramClient` whose only fake part is the network call.

    Telethon's own login code (send_code_request, sign_in, the SRP password check, _on_login,
    log_out) and its loggers run for real against `server`.
    """
    from telethon import TelegramClient
    from telethon import utils as tl_utils

    class ScriptedTelegramClient(TelegramClient):
        """TelegramClient with the network replaced by `server`."""

        _up = False

        async def connect(self) -> None:
            self._up = True

        def is_connected(self) -> bool:
            return self._up

        async def disconnect(self) -> None:
            self._up = False

        async def _call(
            self,
            sender: Any,
            request: Any,
            ordered: bool = False,
            flood_sleep_threshold: Any = None,
        ) -> Any:
            if not self._up:
                raise ConnectionError("Cannot send requests while disconnected")
            result = server(request)
            await tl_utils.maybe_async(self.session.process_entities(result))
            return result

    return ScriptedTelegramClient(session, api_id, api_hash, flood_sleep_threshold=0)
