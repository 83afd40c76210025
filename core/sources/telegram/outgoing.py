"""What the Telegram source sends: replies, read marks, reactions, and media downloads.

A reply goes through the raw SendMessageRequest with the caller's `random_id`, so a retry
never posts twice; a text over Telegram's limit goes as several parts (core/sources/telegram/
send.py). While the connection is down a send fails at once with a network `SendError` (not
permanent): the desk keeps the reply and sends it again later.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import re
from pathlib import Path
from typing import Any

from telethon import errors, utils
from telethon.tl import functions, types

from ...desk.events import NewMessage
from ...desk.models import Message
from ...rules.sanitize import clean_line
from ...team.room import delivery, is_room
from ..base import SendError
from . import convert as conv
from .history import HistorySync
from .send import part_random_id, send_error, sent_message, split_text
from .state import SourceState, guarded

log = logging.getLogger(__name__)

OFFLINE = "No connection to Telegram; the reply is kept and can be retried"


def safe_filename(name: str | None, fallback: str) -> str:
    """A file name from untrusted media metadata: no folders, controls or leading dots."""
    base = clean_line(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[\x00-\x1f<>:\"|?*]", "_", base).strip().lstrip(".").strip()
    return base[:200] or fallback


def unique_path(path: Path) -> Path:
    """`path`, or `name (1).ext`, `name (2).ext`, … if it already exists."""
    if not path.exists():
        return path
    for n in range(1, 10_000):
        candidate = path.with_name(f"{path.stem} ({n}){path.suffix}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(f"{path}: too many files with this name")


def reply_header(reply_to: int | None, topic: int | None) -> Any:
    """InputReplyToMessage for a reply and/or a forum topic (None for a plain message)."""
    in_topic = topic is not None and topic != conv.GENERAL_TOPIC
    if reply_to is None and not in_topic:
        return None
    if reply_to is None:
        return types.InputReplyToMessage(reply_to_msg_id=topic, top_msg_id=topic)
    return types.InputReplyToMessage(
        reply_to_msg_id=reply_to, top_msg_id=topic if in_topic and topic != reply_to else None
    )


class Outgoing:
    """Sends replies and reactions, marks chats read, downloads media."""

    def __init__(self, state: SourceState, history: HistorySync, request_timeout: float) -> None:
        """Send through the shared client; each request is bounded by `request_timeout`."""
        self.state = state
        self.history = history
        self.request_timeout = request_timeout

    async def _invoke(self, request: Any) -> Any:
        """One request, failing fast while offline and bounded in time."""
        if not self.state.online.is_set():
            raise ConnectionError("offline")
        result = await asyncio.wait_for(guarded(self.state.client(request)), self.request_timeout)
        self.state.touch()
        return result

    async def edit(self, chat_id: int, message_id: int, text: str) -> Message:
        """Edit one of our messages (the team room's presence line); edits notify nobody."""
        state = self.state
        me = state.require_me()
        if not state.online.is_set():
            raise SendError(OFFLINE)
        peer = await state.peer(chat_id)
        if peer is None:
            raise SendError("This chat is not known to Telegram any more", permanent=True)
        request = functions.messages.EditMessageRequest(
            peer=peer, id=message_id, message=text, no_webpage=True
        )
        try:
            result = await self._invoke(request)
        except SendError:
            raise
        except Exception as exc:
            raise send_error(exc) from exc
        for update in getattr(result, "updates", None) or []:
            msg = getattr(update, "message", None)
            if isinstance(msg, types.Message) and msg.id == message_id:
                return conv.convert_message(msg, state.known, self_id=me.id)  # Telegram's dates
        now = state.now()
        return Message(
            chat_id=chat_id,
            id=message_id,
            date=now,
            sender_id=me.id,
            sender_name=me.name,
            text=text,
            out=True,
            edit_date=now,
        )

    async def delete(self, chat_id: int, message_ids: list[int]) -> None:
        """Delete our messages for everyone: in a supergroup or channel through
        channels.DeleteMessagesRequest, elsewhere messages.DeleteMessagesRequest with revoke."""
        if not self.state.online.is_set():
            raise SendError(OFFLINE)
        peer = await self.state.peer(chat_id)
        if peer is None:
            raise SendError("This chat is not known to Telegram any more", permanent=True)
        request: Any
        if isinstance(peer, types.InputPeerChannel):
            channel = types.InputChannel(channel_id=peer.channel_id, access_hash=peer.access_hash)
            request = functions.channels.DeleteMessagesRequest(channel=channel, id=message_ids)
        else:
            request = functions.messages.DeleteMessagesRequest(id=message_ids, revoke=True)
        try:
            affected = await self._invoke(request)
        except SendError:
            raise
        except Exception as exc:
            raise send_error(exc) from exc
        if not getattr(affected, "pts_count", 1):
            raise SendError("Telegram deleted nothing: the message is gone already", permanent=True)

    async def send(self, chat_id: int, text: str, reply_to: int | None, random_id: int) -> Message:
        """Send a reply (part i of a long one uses `part_random_id(random_id, i)`); return the last part."""
        state = self.state
        me = state.require_me()
        if not state.online.is_set():
            raise SendError(OFFLINE)
        parts = split_text(text)
        if not parts:
            raise SendError("Nothing to send: the reply is empty", permanent=True)
        peer = await state.peer(chat_id)
        if peer is None:
            raise SendError("This chat is not known to Telegram any more", permanent=True)
        chat = state.selected.get(chat_id)
        forum = chat is not None and chat.kind == "forum"
        topic = await self._topic_of(chat_id, reply_to) if forum else None
        room = chat is not None and is_room(chat, state.config.team.room)
        last: Message | None = None
        for index, part in enumerate(parts):
            rid = part_random_id(random_id, index)
            answer_to = reply_to if index == 0 else None
            request = functions.messages.SendMessageRequest(
                peer=peer,
                message=part,
                random_id=rid,
                reply_to=reply_header(answer_to, topic),
                no_webpage=False,
                **(await self._room_options(part) if room else {}),
            )
            try:
                result = await self._invoke(request)
                message = sent_message(
                    result,
                    rid,
                    chat_id=chat_id,
                    text=part,
                    me_id=me.id,
                    me_name=me.name,
                    reply_to=answer_to,
                    topic_id=topic,
                    forum=forum,
                )
                if message is None:
                    message = await self._find_sent(chat_id, part)
            except errors.RandomIdDuplicateError:
                log.info("send: part %d already delivered earlier (same random_id)", index + 1)
                message = await self._find_sent(chat_id, part)
            except SendError:
                raise
            except Exception as exc:
                error = send_error(exc)
                if len(parts) > 1:
                    error = SendError(
                        f"Part {index + 1} of {len(parts)}: {error}",
                        retry_after=error.retry_after,
                        permanent=error.permanent,
                    )
                raise error from exc
            state.remember(chat_id, [message])
            state.emit(NewMessage(message, me))
            last = message
        assert last is not None
        return last

    async def _room_options(self, text: str) -> dict[str, Any]:
        """A team room message's send options (core/team/room.py `delivery`): silent, or the
        mention of a handoff's taker, so Telegram alerts them; links stay links."""
        how = delivery(text)
        if how is None:
            return {}
        entities: list[Any] = [
            types.MessageEntityUrl(offset=offset, length=length) for offset, length in how.links
        ]
        if how.mention is not None:
            offset, length, user_id = how.mention
            try:
                user = await guarded(self.state.client.get_input_entity(user_id))
                entities.append(
                    types.InputMessageEntityMentionName(
                        offset=offset, length=length, user_id=utils.get_input_user(user)
                    )
                )
            except Exception as exc:  # not resolvable here: the name stays plain text
                log.info("handoff mention left out: %r", exc)
        return {"silent": how.silent, "entities": entities or None}

    async def mark_read(self, chat_id: int, upto: int) -> None:
        """Mark the chat read in Telegram up to message `upto` (failures are only logged)."""
        peer = await self.state.peer(chat_id)
        if peer is None:
            return
        try:
            await guarded(self.state.client.send_read_acknowledge(peer, max_id=upto))
        except Exception as exc:
            log.warning("could not mark chat %d read: %s", chat_id, type(exc).__name__)

    async def mark_unread(self, chat_id: int, unread: bool) -> None:
        """Set or clear the chat's unread mark in Telegram (raises SendError on failure)."""
        peer = await self.state.peer(chat_id)
        if peer is None:
            raise SendError("This chat is not known to Telegram any more", permanent=True)
        request = functions.messages.MarkDialogUnreadRequest(
            peer=types.InputDialogPeer(peer=peer), unread=unread
        )
        try:
            await self._invoke(request)
        except Exception as exc:
            raise send_error(exc) from exc

    async def react(self, chat_id: int, message_id: int, emoji: str) -> None:
        """Put an emoji reaction on a message (raises SendError with a clear message on failure)."""
        peer = await self.state.peer(chat_id)
        if peer is None:
            raise SendError("This chat is not known to Telegram any more", permanent=True)
        request = functions.messages.SendReactionRequest(
            peer=peer, msg_id=message_id, reaction=[types.ReactionEmoji(emoticon=emoji)]
        )
        try:
            await self._invoke(request)
        except Exception as exc:
            raise send_error(exc) from exc

    async def download_media(self, chat_id: int, message_id: int, dest_dir: Path) -> Path:
        """Download a message's media into `dest_dir` under a safe, unique name; return the path."""
        client = self.state.client
        peer = await self.state.peer(chat_id)
        if peer is None:
            raise FileNotFoundError(f"chat {chat_id} is not known to Telegram any more")
        msg = await guarded(client.get_messages(peer, ids=message_id))
        media = conv.convert_media(getattr(msg, "media", None)) if msg is not None else None
        if msg is None or media is None:
            raise FileNotFoundError(
                f"message {message_id} in chat {chat_id} has no media to download"
            )
        extension = mimetypes.guess_extension(media.mime or "") or ""
        if media.kind == "photo":
            extension = ".jpg"
        elif media.kind == "voice" and not extension:
            extension = ".ogg"
        fallback = f"{media.kind.replace(' ', '_')}-{abs(chat_id)}-{message_id}{extension}"
        name = safe_filename(
            media.name if media.kind not in ("sticker", "poll", "contact") else None, fallback
        )
        dest_dir.mkdir(parents=True, exist_ok=True)
        target = unique_path(dest_dir / name)
        saved = await guarded(client.download_media(msg, file=str(target)))
        if not saved:
            raise FileNotFoundError(f"message {message_id}: Telegram returned no file")
        return Path(saved)

    async def _topic_of(self, chat_id: int, message_id: int | None) -> int | None:
        """The forum topic a message is in (General when unknown or not a reply)."""
        if message_id is None:
            return conv.GENERAL_TOPIC
        known = self.state.seen.get(chat_id, {}).get(message_id)
        if known is not None and known[1] is not None:
            return known[1]
        try:
            peer = await self.state.peer(chat_id)
            msg = await guarded(self.state.client.get_messages(peer, ids=message_id))
        except Exception as exc:
            log.warning("could not look up the topic of a message: %s", type(exc).__name__)
            return conv.GENERAL_TOPIC
        if msg is None:
            return conv.GENERAL_TOPIC
        return conv.convert_message(msg, {}, forum=True).topic_id

    async def _find_sent(self, chat_id: int, text: str) -> Message:
        """The message an earlier attempt already posted (Telegram refused a duplicate random_id)."""
        try:
            pairs = await self.history.fetch(chat_id, limit=50, wait_network=False)
        except Exception as exc:
            raise send_error(exc) from exc
        for message, _ in reversed(pairs):
            if message.out and message.text == text:
                return message
        raise SendError(
            "Telegram says this reply was already sent, but it is not among the chat's latest "
            "messages; check the chat before sending it again",
            permanent=True,
        )
