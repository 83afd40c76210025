"""Which chats the Telegram source follows: the dialog list, folders, topics, joins and leaves.

The dialog list is paged once at start-up (a FloodWait shows as a `FloodWait` event, is waited
out and the *same* page is asked again); the support chats are chosen by
core/rules/chat_filter.py. Afterwards single chats come and go as updates say (a message from
an unknown chat, a rename, a leave, a folder change). Telegram's service account (777000) is
never chosen unless the config includes it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from telethon import utils
from telethon.tl import functions, types

from ...desk.events import ChatRemoved, ChatUpdated, ReadUpTo, SyncProgress
from ...desk.models import Chat
from ...rules import chat_filter
from ...rules.chat_filter import Candidate
from ...team.room import is_room
from . import convert as conv
from .state import SourceState, guarded

log = logging.getLogger(__name__)

DIALOG_PAGE = 100

PageHandler = Callable[[list[int], Mapping[int, Any], Mapping[int, Any]], None]
"""Called with a page's new support chats, its top messages by chat and its entities."""


def input_peer(entity: Any) -> Any:
    """The InputPeer of a User/Chat/Channel."""
    return utils.get_input_peer(entity, allow_self=True)


def with_topics(chat: Chat, previous: Chat | None) -> Chat:
    """`chat`, keeping the topic names already known for it."""
    if previous is None or chat.topics or not previous.topics:
        return chat
    return chat.model_copy(update={"topics": previous.topics})


class ChatDirectory:
    """The support chats: chosen from the dialog list, kept current from updates."""

    def __init__(self, state: SourceState, backfill: Callable[[int], Awaitable[None]]) -> None:
        """`backfill(chat_id)` loads the history of a chat that became a support chat."""
        self.state = state
        self._backfill = backfill

    # ------------------------------------------------------------------ the dialog list

    async def load_folders(self) -> None:
        """Read the account's Telegram folders (none when they cannot be read)."""
        try:
            result = await self.state.call(functions.messages.GetDialogFiltersRequest(), "folders")
        except Exception as exc:
            log.warning("could not read Telegram folders: %s", type(exc).__name__)
            self.state.folders = []
            return
        filters = getattr(result, "filters", result) or []
        self.state.folders = [f for f in map(conv.convert_folder, filters) if f is not None]

    async def load_dialogs(self, on_page: PageHandler | None = None) -> None:
        """Page through every dialog (resuming at the same offset after a FloodWait).

        Each page's support chats are chosen at once, shown (`ChatUpdated`) and handed to
        `on_page` with their top messages, so their history can load while paging goes on.
        """
        state = self.state
        if state.config.chats.folder:
            await self.load_folders()
        request = functions.messages.GetDialogsRequest(
            offset_date=None,
            offset_id=0,
            offset_peer=types.InputPeerEmpty(),
            limit=DIALOG_PAGE,
            hash=0,
            exclude_pinned=False,
            folder_id=None,
        )
        now = state.now()
        seen: set[int] = set()
        announced: dict[int, Chat] = {}
        page = 0
        while True:
            page += 1
            result = await state.call(request, f"chat list page {page}")
            entities = conv.entity_map(result.users, result.chats)
            state.known.update(entities)
            messages = {(getattr(m.peer_id, "channel_id", None), m.id): m for m in result.messages}
            fresh = 0
            last_entity: Any = None
            last_message: Any = None
            tops: dict[int, Any] = {}
            for dialog in result.dialogs:
                if not isinstance(dialog, types.Dialog):
                    continue
                chat_id = conv.marked_id(dialog.peer)
                entity = entities.get(chat_id)
                message = messages.get(
                    (getattr(dialog.peer, "channel_id", None), dialog.top_message)
                )
                if chat_id in seen or entity is None:
                    continue
                seen.add(chat_id)
                fresh += 1
                state.dialogs[chat_id] = dialog
                state.candidates[chat_id] = conv.candidate(entity, dialog, now=now)
                state.order[chat_id] = conv.unix(getattr(message, "date", None)) or 0
                with contextlib.suppress(Exception):
                    state.peers[chat_id] = input_peer(entity)
                last_entity = entity
                tops[chat_id] = message
                if message is not None:
                    last_message = message
            announced.update(self._choose_page(tops, entities, on_page))
            total = getattr(result, "count", None) or len(seen)
            state.emit(SyncProgress("chats", len(seen), max(total, len(seen))))
            if (
                not fresh
                or len(result.dialogs) < request.limit
                or not isinstance(result, types.messages.DialogsSlice)
            ):
                break
            request.exclude_pinned = True
            request.offset_id = last_message.id if last_message is not None else 0
            request.offset_date = last_message.date if last_message is not None else None
            request.offset_peer = input_peer(last_entity)
        self.reselect_all()
        await self.load_topics()
        for chat_id, shown in announced.items():  # forum topics, the final choice
            if state.selected.get(chat_id, shown) != shown:
                state.emit(ChatUpdated(state.selected[chat_id]))
        for chat_id in state.selected:
            dialog = state.dialogs.get(chat_id)
            if dialog is not None:
                state.emit(ReadUpTo(chat_id, dialog.read_inbox_max_id, outbox=False))
                state.emit(ReadUpTo(chat_id, dialog.read_outbox_max_id, outbox=True))
        state.dialogs_complete = (
            chat_filter.missing_folder_message(state.config.chats, state.folders) is None
        )
        state.dialogs_ready.set()
        log.info("chat list: %d dialogs, %d support chats", len(seen), len(state.selected))

    def _choose_page(
        self, page: dict[int, Any], entities: Mapping[int, Any], on_page: PageHandler | None
    ) -> dict[int, Chat]:
        """Choose and show one page's support chats (the team room waits for the whole list);
        returns them as shown."""
        state = self.state
        room = state.config.team.room
        chosen = [
            chat
            for chat in self._chosen(state.candidates[c] for c in page)
            if chat.id not in state.selected and not is_room(chat, room)
        ]
        for chat in chosen:
            state.selected[chat.id] = chat
            state.emit(ChatUpdated(chat))
        if on_page is not None and chosen:
            on_page([chat.id for chat in chosen], page, entities)
        return {chat.id: chat for chat in chosen}

    def _chosen(self, candidates: Iterable[Candidate]) -> list[Chat]:
        """The support chats among `candidates` by the config's rules (never 777000 unasked),
        and the team room (`[team] room`), which the desk folds apart (core/desk/team.py)."""
        wanted = [c for c in candidates if self.state.is_wanted(c.chat.id)]
        chosen = chat_filter.select_chats(wanted, self.state.config.chats, self.state.folders)
        room = self.state.config.team.room
        rooms = [c.chat for c in wanted if is_room(c.chat, room)]
        return [*chosen, *(r for r in rooms if r.id not in {c.id for c in chosen})]

    def reselect_all(self) -> None:
        """Apply the selection rules to every known dialog (most recent activity first)."""
        state = self.state
        ordered = sorted(
            state.candidates.values(), key=lambda c: state.order.get(c.chat.id, 0), reverse=True
        )
        previous = state.selected
        state.selected = {
            chat.id: with_topics(chat, previous.get(chat.id)) for chat in self._chosen(ordered)
        }
        warning = chat_filter.missing_folder_message(state.config.chats, state.folders)
        if warning and warning not in state.warnings:
            state.warnings.append(warning)
            log.warning("%s", warning)

    async def load_topics(self, chat_ids: Iterable[int] | None = None) -> None:
        """Read the topic names of forum chats (one request per forum)."""
        state = self.state
        for chat_id in list(chat_ids if chat_ids is not None else state.selected):
            chat = state.selected.get(chat_id)
            if chat is None or chat.kind != "forum":
                continue
            request = functions.messages.GetForumTopicsRequest(
                peer=await state.peer(chat_id),
                offset_date=None,
                offset_id=0,
                offset_topic=0,
                limit=100,
            )
            try:
                result = await state.call(request, f"topics of {chat.title}")
            except Exception as exc:
                log.warning("could not read the topics of chat %d: %s", chat_id, type(exc).__name__)
                continue
            titles = dict(conv.topic_titles(result.topics))
            titles.setdefault(conv.GENERAL_TOPIC, "General")
            state.selected[chat_id] = chat.model_copy(
                update={"topics": tuple(sorted(titles.items()))}
            )

    # ------------------------------------------------------------------ chats joining, leaving, renamed

    async def _fetch_entity(self, chat_id: int) -> Any:
        """A chat's entity from Telegram (raises when it cannot be had)."""
        raw_id, kind = utils.resolve_id(chat_id)
        return await guarded(self.state.client.get_entity(kind(raw_id)))

    async def adopt(self, chat_id: int, entities: dict[int, Any]) -> None:
        """A chat not in the dialog list (just joined, or a new private chat): consider it."""
        state = self.state
        entity = entities.get(chat_id) or state.known.get(chat_id)
        if entity is None:
            try:
                entity = await self._fetch_entity(chat_id)
            except Exception as exc:
                log.info("a message from an unknown chat could not be resolved: %s", exc)
                return
        state.known[chat_id] = entity
        state.candidates[chat_id] = conv.candidate(entity, None, now=state.now())
        if not getattr(entity, "min", False):
            with contextlib.suppress(Exception):
                state.peers[chat_id] = input_peer(entity)
        await self.reselect(chat_id, backfill=False)

    async def on_chat_changed(self, chat_id: int, entities: dict[int, Any]) -> None:
        """A chat's details changed, or we joined/left it (UpdateChannel / UpdateChat)."""
        state = self.state
        entity = entities.get(chat_id)
        if entity is None:
            try:
                entity = await self._fetch_entity(chat_id)
            except Exception as exc:
                log.info("changed chat %d could not be fetched: %s", chat_id, type(exc).__name__)
                if chat_id in state.selected and state.dialogs_ready.is_set():
                    self.drop(chat_id)
                return
        state.known[chat_id] = entity
        if not conv.is_usable(entity):
            self.drop(chat_id)
            return
        dialog = state.dialogs.get(chat_id)
        state.candidates[chat_id] = conv.candidate(entity, dialog, now=state.now())
        if not getattr(entity, "min", False):
            with contextlib.suppress(Exception):
                state.peers[chat_id] = input_peer(entity)
        await self.reselect(chat_id)

    async def rename(self, chat_id: int, title: str) -> None:
        """A chat's title changed (a service message said so)."""
        candidate = self.state.candidates.get(chat_id)
        if candidate is None:
            return
        chat = candidate.chat.model_copy(update={"title": title})
        self.state.candidates[chat_id] = replace(candidate, chat=chat)
        await self.reselect(chat_id)

    async def reselect(self, chat_id: int, *, backfill: bool = True) -> None:
        """Re-apply the selection rules to one chat and tell the desk what changed."""
        state = self.state
        candidate = state.candidates.get(chat_id)
        if candidate is None:
            return
        rules = state.config.chats
        folder = chat_filter.find_folder(state.folders, rules.folder) if rules.folder else None
        wanted = state.is_wanted(chat_id) and (
            chat_filter.is_support_chat(candidate, rules, folder)
            or is_room(candidate.chat, state.config.team.room)
        )
        was = state.selected.get(chat_id)
        if not wanted:
            if was is not None:
                self.drop(chat_id, forget_candidate=False)
            return
        chosen = self._chosen([candidate])
        chat = with_topics(chosen[0] if chosen else candidate.chat, was)
        state.selected[chat_id] = chat
        state.order.setdefault(chat_id, state.now())
        if chat != was:
            state.emit(ChatUpdated(chat))
        if was is None:
            if chat.kind == "forum":
                await self.load_topics([chat_id])
                if state.selected[chat_id] != chat:
                    state.emit(ChatUpdated(state.selected[chat_id]))
            if backfill and state.dialogs_ready.is_set():
                state.spawn(self._backfill(chat_id), "backfill")

    async def folders_changed(self) -> None:
        """Re-read the folders and re-apply the rules to every chat."""
        await self.load_folders()
        state = self.state
        before = dict(state.selected)
        self.reselect_all()
        for chat_id in before.keys() - state.selected.keys():
            state.emit(ChatRemoved(chat_id))
        for chat_id, chat in state.selected.items():
            if before.get(chat_id) != chat:
                state.emit(ChatUpdated(chat))
                if chat_id not in before:
                    state.spawn(self._backfill(chat_id), "backfill")

    def drop(self, chat_id: int, *, forget_candidate: bool = True) -> None:
        """We left (or lost) a chat: stop following it and tell the desk."""
        state = self.state
        if forget_candidate:
            state.candidates.pop(chat_id, None)
            state.peers.pop(chat_id, None)
        state.seen.pop(chat_id, None)
        if state.selected.pop(chat_id, None) is not None:
            state.emit(ChatRemoved(chat_id))

    def note_topic(self, chat_id: int, msg: Any) -> None:
        """Keep forum topic names current from topic create/edit service messages."""
        state = self.state
        chat = state.selected.get(chat_id)
        title = getattr(msg.action, "title", None)
        if chat is None or not title:
            return
        topic_id = msg.id
        if not hasattr(msg.action, "icon_color"):  # an edit: the topic is the one it is posted in
            topic_id = conv.reply_and_topic(msg.reply_to, forum=True)[1] or msg.id
        topics = dict(chat.topics)
        topics[topic_id] = str(title)
        updated = chat.model_copy(update={"topics": tuple(sorted(topics.items()))})
        state.selected[chat_id] = updated
        state.emit(ChatUpdated(updated))
