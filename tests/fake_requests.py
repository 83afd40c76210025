"""The raw requests the fake Telethon client serves through `__call__`, as real TL objects."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from telethon import errors, utils
from telethon.tl import types

from tests.fake_tl import T0, message_update, peer_of, when


class FakeRequests:
    """Dispatch of raw requests to `_serve_<RequestName>` handlers (a FakeClient mixin)."""

    # state set up by FakeClient.__init__
    me: types.User
    black_hole: bool
    hangs: list[str]
    entities: dict[int, Any]
    history: dict[int, list[Any]]
    archive: dict[int, list[Any]]
    dialog_meta: dict[int, dict[str, Any]]
    folders: list[Any]
    topics: dict[int, list[types.ForumTopic]]
    pinned: set[int]
    requests: list[Any]
    snapshots: list[tuple[str, dict[str, Any]]]
    random_ids: dict[tuple[int, int], int]
    password: str | None
    password_hint: str
    _pts: itertools.count[int]

    if TYPE_CHECKING:  # provided by FakeClient and FakeConnection

        def check_connected(self) -> None: ...

        def _maybe_fail(self, name: str, request: Any = None, *, after: bool = False) -> None: ...

        async def _never_answered(self) -> Any: ...

        def new_id(self, chat_id: int) -> int: ...

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

    def _dialogs_of(self, chat_ids: list[int]) -> tuple[list[Any], list[Any]]:
        """The Dialog of each chat and its top message, as Telegram sends them."""
        dialogs, messages = [], []
        for chat_id in chat_ids:
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
        return dialogs, messages

    def _serve_GetPeerDialogsRequest(self, request: Any) -> Any:
        wanted = [utils.get_peer_id(p.peer) for p in request.peers]
        dialogs, messages = self._dialogs_of([c for c in wanted if c in self.dialog_meta])
        users, chats = self._participants()
        state = types.updates.State(pts=1, qts=0, date=when(T0), seq=0, unread_count=0)
        return types.messages.PeerDialogs(
            dialogs=dialogs, messages=messages, chats=chats, users=users, state=state
        )

    def _serve_GetDialogsRequest(self, request: Any) -> Any:
        order = self._dialog_order()
        if request.exclude_pinned:
            order = [c for c in order if c not in self.pinned]
        start = 0
        if not isinstance(request.offset_peer, types.InputPeerEmpty):
            offset_id = utils.get_peer_id(request.offset_peer)
            start = order.index(offset_id) + 1
        page = order[start : start + request.limit]
        dialogs, messages = self._dialogs_of(page)
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

    def _own_message(self, chat_id: int, msg_id: int, request: Any) -> int:
        """The index of our message `msg_id` in the chat's history, as Telegram checks it."""
        for index, msg in enumerate(self.history.get(chat_id, [])):
            if msg.id == msg_id:
                if not msg.out:
                    raise errors.MessageAuthorRequiredError(request=request)
                return index
        raise errors.MessageIdInvalidError(request=request)

    def _serve_EditMessageRequest(self, request: Any) -> Any:
        """An edit of our message: refused when the text is the same, else the edited message."""
        chat_id = utils.get_peer_id(request.peer)
        index = self._own_message(chat_id, request.id, request)
        old = self.history[chat_id][index]
        if old.message == request.message:
            raise errors.MessageNotModifiedError(request=request)
        new = types.Message(
            id=old.id,
            peer_id=old.peer_id,
            date=old.date,
            message=request.message,
            out=True,
            from_id=old.from_id,
            reply_to=old.reply_to,
            edit_date=when(T0 + 20_000),
        )
        self.history[chat_id][index] = new
        update = message_update(new, next(self._pts), edit=True)
        return types.Updates(updates=[update], users=[self.me], chats=[], date=new.edit_date, seq=0)

    def _serve_DeleteMessagesRequest(self, request: Any) -> Any:
        """messages.DeleteMessagesRequest (no peer: ids are the account's) or the channels one."""
        if hasattr(request, "channel"):
            chats = [utils.get_peer_id(types.PeerChannel(request.channel.channel_id))]
        else:
            chats = [chat_id for chat_id in self.history if chat_id > -1_000_000_000_000]
        deleted = 0
        for chat_id in chats:
            for msg_id in request.id:
                if any(m.id == msg_id for m in self.history.get(chat_id, [])):
                    index = self._own_message(chat_id, msg_id, request)
                    del self.history[chat_id][index]
                    deleted += 1
        return types.messages.AffectedMessages(pts=next(self._pts), pts_count=deleted)

    def _found(self, chat_ids: list[int], request: Any) -> Any:
        """Messages of `chat_ids` whose text holds every word of `request.q` (by `from_id`, when
        given), newest first, one page: after `offset_id` (and `offset_peer` across chats), as
        a MessagesSlice with `next_rate` when more follow."""
        words = request.q.lower().replace('"', " ").split()
        sender, peer_id = getattr(request, "from_id", None), utils.get_peer_id
        found = [
            (m, chat_id)
            for chat_id in chat_ids
            for m in [*self.history.get(chat_id, []), *self.archive.get(chat_id, [])]
            if isinstance(m, types.Message)
            and words
            and all(w in (m.message or "").lower() for w in words)
            and (request.min_date is None or m.date >= request.min_date)
            and (request.max_date is None or m.date <= request.max_date)
            and (sender is None or (m.from_id and peer_id(m.from_id) == peer_id(sender)))
        ]
        found.sort(key=lambda pair: (pair[0].date, pair[0].id), reverse=True)
        if request.offset_id:
            peer = getattr(request, "offset_peer", None)
            offset_chat = chat_ids[0] if peer is None else utils.get_peer_id(peer)
            at = [
                i for i, (m, c) in enumerate(found) if (c, m.id) == (offset_chat, request.offset_id)
            ]
            found = found[at[0] + 1 :] if at else []
        page = [m for m, _ in found[: request.limit]]
        users, chats = self._participants()
        if len(found) <= request.limit:
            return types.messages.Messages(messages=page, topics=[], chats=chats, users=users)
        return types.messages.MessagesSlice(
            count=len(found),
            messages=page,
            topics=[],
            chats=chats,
            users=users,
            next_rate=int(page[-1].date.timestamp()),
        )

    def _serve_SearchRequest(self, request: Any) -> Any:
        """messages.search in one chat."""
        return self._found([utils.get_peer_id(request.peer)], request)

    def _serve_SearchGlobalRequest(self, request: Any) -> Any:
        """messages.searchGlobal across every chat of the account."""
        return self._found(list(self.history), request)

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


__all__ = ["FakeRequests"]
