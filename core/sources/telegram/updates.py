"""Live updates for the Telegram source: raw Telethon updates in, desk events out.

Only support chats produce message events. Updates that arrive before the chat list is known
are held and applied right after it (`release_backlog`). Every update received tells the
connection watchdog that the connection is alive (core/sources/telegram/connection.py).
"""

from __future__ import annotations

import logging
from collections import ChainMap
from typing import Any

from telethon.tl import types

from ...desk.events import (
    MessageEdited,
    MessagesDeleted,
    NewMessage,
    ReactionChanged,
    ReadUpTo,
    Typing,
    UnreadMarked,
)
from . import convert as conv
from .chats import ChatDirectory
from .state import SourceState

log = logging.getLogger(__name__)

_NEW = types.UpdateNewMessage | types.UpdateNewChannelMessage
_SHORT = types.UpdateShortMessage | types.UpdateShortChatMessage
_EDIT = types.UpdateEditMessage | types.UpdateEditChannelMessage
_READ = types.UpdateReadHistoryInbox | types.UpdateReadHistoryOutbox
_READ_CHANNEL = types.UpdateReadChannelInbox | types.UpdateReadChannelOutbox
_TYPING = types.UpdateUserTyping | types.UpdateChatUserTyping | types.UpdateChannelUserTyping
_FOLDERS = types.UpdateDialogFilter | types.UpdateDialogFilters


class UpdateRouter:
    """Turns raw updates into events (the handler registered on the Telethon client)."""

    def __init__(self, state: SourceState, chats: ChatDirectory) -> None:
        """Route updates for the source's shared state; chat changes go to `chats`."""
        self.state = state
        self.chats = chats
        self._backlog: list[Any] | None = []

    async def on_update(self, update: Any) -> None:
        """Telethon's raw update handler: hold updates until the chat list is known."""
        self.state.touch()
        if self._backlog is not None:
            self._backlog.append(update)
            return
        await self.handle_safely(update)

    async def release_backlog(self) -> None:
        """Apply the updates held while the chat list was loading; stop holding."""
        backlog, self._backlog = self._backlog or [], None
        for update in backlog:
            await self.handle_safely(update)

    async def handle_safely(self, update: Any) -> None:
        """Handle one update, logging (never raising) a failure."""
        try:
            await self.handle(update)
        except Exception:
            log.exception("could not handle a %s update", type(update).__name__)

    async def handle(self, update: Any) -> None:
        """Turn one raw Telethon update into desk events."""
        state = self.state
        entities: dict[int, Any] = getattr(update, "_entities", None) or {}
        if isinstance(update, _NEW):
            await self._on_message(update.message, entities)
        elif isinstance(update, _SHORT):
            await self._on_message(conv.short_to_message(update, state.self_id), entities)
        elif isinstance(update, _EDIT):
            self._on_edit(update.message, entities)
        elif isinstance(update, types.UpdateDeleteMessages):
            if update.messages:
                ids = tuple(update.messages)
                state.forget(None, ids)
                state.emit(MessagesDeleted(None, ids))
        elif isinstance(update, types.UpdateDeleteChannelMessages):
            chat_id = conv.marked_id(types.PeerChannel(update.channel_id))
            if chat_id in state.selected and update.messages:
                state.forget(chat_id, update.messages)
                state.emit(MessagesDeleted(chat_id, tuple(update.messages)))
        elif isinstance(update, _READ):
            self._on_read(conv.marked_id(update.peer), update)
        elif isinstance(update, _READ_CHANNEL):
            self._on_read(conv.marked_id(types.PeerChannel(update.channel_id)), update)
        elif isinstance(update, types.UpdateDialogUnreadMark):
            self._on_unread_mark(update)
        elif isinstance(update, _TYPING):
            self._on_typing(update)
        elif isinstance(update, types.UpdateMessageReactions):
            self._on_reactions(update)
        elif isinstance(update, types.UpdateChannel):
            chat_id = conv.marked_id(types.PeerChannel(update.channel_id))
            await self.chats.on_chat_changed(chat_id, entities)
        elif isinstance(update, types.UpdateChat):
            chat_id = conv.marked_id(types.PeerChat(update.chat_id))
            await self.chats.on_chat_changed(chat_id, entities)
        elif isinstance(update, _FOLDERS) and state.config.chats.folder:
            await self.chats.folders_changed()

    def _on_read(self, chat_id: int, update: Any) -> None:
        """A read mark moved in a support chat (ours: inbox; the customer's: outbox)."""
        if chat_id in self.state.selected:
            outbox = isinstance(
                update, types.UpdateReadHistoryOutbox | types.UpdateReadChannelOutbox
            )
            self.state.emit(ReadUpTo(chat_id, update.max_id, outbox=outbox))

    def _on_unread_mark(self, update: Any) -> None:
        """A support chat was marked unread, or its mark cleared (on any device)."""
        if isinstance(update.peer, types.DialogPeer) and update.saved_peer_id is None:
            chat_id = conv.marked_id(update.peer.peer)
            if chat_id in self.state.selected:
                self.state.emit(UnreadMarked(chat_id, bool(update.unread)))

    async def _on_message(self, msg: Any, entities: dict[int, Any]) -> None:
        """A new message (incoming, ours from any device, or a teammate's)."""
        if not hasattr(msg, "peer_id"):
            return  # MessageEmpty
        state = self.state
        state.known.update(entities)
        chat_id = conv.marked_id(msg.peer_id)
        if chat_id not in state.candidates:
            await self.chats.adopt(chat_id, entities)
        if isinstance(msg, types.MessageService) and await self._on_service(msg, chat_id):
            return
        chat = state.selected.get(chat_id)
        if chat is None:
            return
        lookup = ChainMap(entities, state.known)
        message = conv.convert_message(
            msg, lookup, self_id=state.self_id, forum=chat.kind == "forum"
        )
        state.order[chat_id] = max(state.order.get(chat_id, 0), message.date)
        state.remember(chat_id, [message])
        state.emit(NewMessage(message, conv.sender_user(msg, lookup, state.self_id)))

    def _on_edit(self, msg: Any, entities: dict[int, Any]) -> None:
        """An edited message in a support chat."""
        if not hasattr(msg, "peer_id"):
            return
        state = self.state
        state.known.update(entities)
        chat_id = conv.marked_id(msg.peer_id)
        chat = state.selected.get(chat_id)
        if chat is None:
            return
        message = conv.convert_message(
            msg, ChainMap(entities, state.known), self_id=state.self_id, forum=chat.kind == "forum"
        )
        state.remember(chat_id, [message])
        state.emit(MessageEdited(message))

    async def _on_service(self, msg: Any, chat_id: int) -> bool:
        """Act on chat-changing service messages; True when the message itself must be dropped."""
        action = msg.action
        if isinstance(action, types.MessageActionChatDeleteUser) and (
            action.user_id == self.state.self_id
        ):
            self.chats.drop(chat_id)
            return True
        if isinstance(action, types.MessageActionChatMigrateTo):
            self.chats.drop(chat_id)
            return True
        if isinstance(action, types.MessageActionChatEditTitle):
            await self.chats.rename(chat_id, action.title)
        elif isinstance(action, types.MessageActionTopicCreate | types.MessageActionTopicEdit):
            self.chats.note_topic(chat_id, msg)
        return False

    def _on_typing(self, update: Any) -> None:
        """Someone is typing in a support chat (cancelled when the action says so)."""
        if isinstance(update, types.UpdateUserTyping):
            chat_id, user_id = update.user_id, update.user_id
        elif isinstance(update, types.UpdateChatUserTyping):
            chat_id = conv.marked_id(types.PeerChat(update.chat_id))
            user_id = conv.marked_id(update.from_id)
        else:
            chat_id = conv.marked_id(types.PeerChannel(update.channel_id))
            user_id = conv.marked_id(update.from_id)
        if chat_id not in self.state.selected:
            return
        cancelled = isinstance(update.action, types.SendMessageCancelAction)
        until = self.state.now() + (0 if cancelled else conv.TYPING_SECONDS)
        self.state.emit(Typing(chat_id, user_id, until))

    def _on_reactions(self, update: Any) -> None:
        """Reactions on a message in a support chat (who reacted, where Telegram says)."""
        state = self.state
        chat_id = conv.marked_id(update.peer)
        if chat_id not in state.selected:
            return
        reactions = update.reactions
        recent = getattr(reactions, "recent_reactions", None) or []
        for item in recent:
            emoji = conv.reaction_emoji(item.reaction)
            if emoji:
                reactor = conv.marked_id(item.peer_id)
                state.emit(ReactionChanged(chat_id, update.msg_id, reactor, emoji))
        if recent or state.me is None:
            return
        for count in getattr(reactions, "results", None) or []:
            emoji = conv.reaction_emoji(count.reaction)
            if emoji and count.chosen_order is not None:
                state.emit(ReactionChanged(chat_id, update.msg_id, state.me.id, emoji))
