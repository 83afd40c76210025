"""The raw requests the simulated Telegram serves (a mixin of tests/sim_telegram.py's SimTelegram).

Each answers from the ground truth the sim holds, with real `telethon.tl` objects, and with
Telegram's limits (at most 100 peers or ids per request).
"""

from __future__ import annotations

from typing import Any

from telethon import errors, utils
from telethon.tl import types

from tests.fake_tl import peer_of, when

CHANNEL_FLOOR = -1_000_000_000_000


class SimServing:
    """GetState, GetPeerDialogs, GetMessages (both kinds), GetHistory and SendMessage."""

    # provided by SimTelegram / FakeClient
    history: dict[int, list[Any]]
    entities: dict[int, Any]
    dialog_meta: dict[int, dict[str, Any]]
    channel_pts: dict[int, int]
    account_pts: int
    random_ids: dict[tuple[int, int], int]
    posted_replies: list[str]
    me: Any

    # methods (now, post, _sync_meta, _participants) come from SimTelegram and FakeClient

    def _named(self, messages: list[Any], *chat_ids: int) -> tuple[list[Any], list[Any]]:
        """The users and chats an answer carries: the ones its messages (and `chat_ids`) name,
        as Telegram sends them, not every entity the account knows."""
        ids = set(chat_ids)
        for msg in messages:
            for peer in (getattr(msg, "peer_id", None), getattr(msg, "from_id", None)):
                if peer is not None:
                    ids.add(utils.get_peer_id(peer))
        named = [self.entities[i] for i in ids if i in self.entities]
        return (
            [e for e in named if isinstance(e, types.User)],
            [e for e in named if not isinstance(e, types.User)],
        )

    def _serve_GetStateRequest(self, request: Any) -> Any:
        return types.updates.State(
            pts=self.account_pts, qts=0, date=when(self.now()), seq=0, unread_count=0
        )

    def _serve_GetPeerDialogsRequest(self, request: Any) -> Any:
        if len(request.peers) > 100:
            raise errors.LimitInvalidError(request=request)
        dialogs, messages = [], []
        for dialog_peer in request.peers:
            chat_id = utils.get_peer_id(dialog_peer.peer)
            history = self.history.get(chat_id) or []
            top = max(history, key=lambda m: m.id) if history else None
            self._sync_meta(chat_id)
            meta = self.dialog_meta[chat_id]
            dialogs.append(
                types.Dialog(
                    peer=peer_of(self.entities[chat_id]),
                    top_message=top.id if top else 0,
                    read_inbox_max_id=meta["read_inbox_max_id"],
                    read_outbox_max_id=meta["read_outbox_max_id"],
                    unread_count=meta["unread_count"],
                    unread_mentions_count=0,
                    unread_reactions_count=0,
                    unread_poll_votes_count=0,
                    notify_settings=types.PeerNotifySettings(),
                    pts=meta.get("pts"),
                    unread_mark=bool(meta.get("unread_mark", False)),
                )
            )
            if top is not None:
                messages.append(top)
        peers = [utils.get_peer_id(p.peer) for p in request.peers]
        users, chats = self._named(messages, *peers)
        return types.messages.PeerDialogs(
            dialogs=dialogs,
            messages=messages,
            chats=chats,
            users=users,
            state=self._serve_GetStateRequest(None),
        )

    def _lookup(self, chat_ids: list[int], ids: list[int]) -> list[Any]:
        """Messages by id from these chats; deleted or unknown ids are MessageEmpty."""
        found: dict[int, Any] = {}
        for chat_id in chat_ids:
            for msg in self.history.get(chat_id, []):
                found[msg.id] = msg
        # Telethon patches MessageEmpty into its custom Message, which wants a peer_id argument
        return [found.get(i) or types.MessageEmpty(id=i, peer_id=None) for i in ids]

    def _serve_GetMessagesRequest(self, request: Any) -> Any:
        if len(request.id) > 100:
            raise errors.LimitInvalidError(request=request)
        ids = [i.id for i in request.id]
        if hasattr(request, "channel"):
            chat_id = utils.get_peer_id(request.channel)
            found = self._lookup([chat_id], ids)
            users, chats = self._named(found, chat_id)
            return types.messages.ChannelMessages(
                pts=self.channel_pts.get(chat_id, 1),
                count=len(ids),
                messages=found,
                topics=[],
                chats=chats,
                users=users,
            )
        # ids of private chats and basic groups are account-wide
        private = [c for c in self.history if c > CHANNEL_FLOOR]
        found = self._lookup(private, ids)
        users, chats = self._named(found)
        return types.messages.Messages(messages=found, topics=[], chats=chats, users=users)

    def _serve_GetHistoryRequest(self, request: Any) -> Any:
        result = super()._serve_GetHistoryRequest(request)  # type: ignore[misc]
        chat_id = utils.get_peer_id(request.peer)
        result.users, result.chats = self._named(result.messages, chat_id)
        if isinstance(result, types.messages.ChannelMessages):
            result.pts = self.channel_pts.get(chat_id, 1)
        return result

    def _serve_SendMessageRequest(self, request: Any) -> Any:
        chat_id = utils.get_peer_id(request.peer)
        key = (chat_id, request.random_id)
        if key in self.random_ids:
            raise errors.RandomIdDuplicateError(request=request)
        msg = self.post(chat_id, request.message, out=True, push=False)
        self.random_ids[key] = msg.id
        self.posted_replies.append(request.message)
        pts = self.channel_pts.get(chat_id, self.account_pts)
        if chat_id > CHANNEL_FLOOR:
            return types.UpdateShortSentMessage(
                id=msg.id, pts=pts, pts_count=1, date=msg.date, out=True
            )
        return types.Updates(
            updates=[
                types.UpdateMessageID(id=msg.id, random_id=request.random_id),
                types.UpdateNewChannelMessage(message=msg, pts=pts, pts_count=1),
            ],
            users=[self.me],
            chats=[self.entities[chat_id]],
            date=msg.date,
            seq=0,
        )
