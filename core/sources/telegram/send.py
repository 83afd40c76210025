"""Sending rules for Telegram as pure functions: splitting, per-part random ids, error messages.

Telethon is imported only inside `send_error` and `sent_message`, which the source calls after
it has loaded Telethon anyway.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

from ...desk.models import Message
from ..base import SendError

MAX_MESSAGE = 4096
"""Telegram's limit for one text message, in UTF-16 code units."""

_SEPARATORS = ("\n\n", "\n", " ")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: most emoji count two)."""
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """The largest character count whose UTF-16 length is at most `limit`."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _safe_hard_cut(text: str, cut: int) -> int:
    """Move a hard cut left so that it does not separate combining marks or joiners."""
    while cut > 1 and (
        unicodedata.combining(text[cut])
        or text[cut] in "\u200d\ufe0e\ufe0f"
        or text[cut - 1] == "\u200d"
        or 0x1F3FB <= ord(text[cut]) <= 0x1F3FF
    ):
        cut -= 1
    return cut


def split_text(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """Split a reply into parts Telegram accepts, at paragraph, then line, then word breaks.

    A break is used only when it keeps the part at least half full; otherwise the part is cut
    hard at the limit (never inside a combining sequence). Parts are stripped at the break;
    whitespace-only text gives no parts.
    """
    if limit < 2:
        raise ValueError("limit must be at least 2")
    parts: list[str] = []
    rest = text.strip()
    while utf16_len(rest) > limit:
        room = _fit(rest, limit)
        cut, skip = -1, 0
        for separator in _SEPARATORS:
            at = rest.rfind(separator, 0, room)
            if at >= room // 2:
                cut, skip = at, len(separator)
                break
        if cut < 0:
            cut, skip = _safe_hard_cut(rest, room), 0
        head = rest[:cut].rstrip()
        rest = rest[cut + skip :].lstrip("\n") if skip else rest[cut:]
        if head:
            parts.append(head)
    if rest.strip():
        parts.append(rest)
    return parts


def part_random_id(first: int, index: int) -> int:
    """The random_id of part `index` of a reply whose first part uses `first`.

    Part 0 uses `first` itself; part i > 0 uses the first 8 bytes (signed, big-endian) of
    SHA-256(first as 8 signed big-endian bytes ‖ i as 4 big-endian bytes), never 0. So a retry
    of a split reply sends every part with the same id as before and Telegram dedupes each.
    """
    if index == 0:
        return first
    seed = first.to_bytes(8, "big", signed=True) + index.to_bytes(4, "big")
    value = int.from_bytes(hashlib.sha256(seed).digest()[:8], "big", signed=True)
    return value or 1


def send_error(exc: BaseException) -> SendError:
    """A clear SendError for anything a send (or reaction) raised."""
    from telethon import errors

    if isinstance(exc, errors.SlowModeWaitError):
        return SendError(
            f"Slow mode is on in this chat: wait {exc.seconds} s before sending again",
            retry_after=exc.seconds,
        )
    if isinstance(exc, errors.FloodWaitError | errors.FloodPremiumWaitError):
        return SendError(
            f"Telegram asks to wait {exc.seconds} s before sending (flood limit)",
            retry_after=exc.seconds,
        )
    permanent = {
        errors.ChatWriteForbiddenError: "You cannot write in this chat (no permission to send messages)",
        errors.UserBannedInChannelError: "Telegram restricts your account from sending to groups (ask @SpamBot)",
        errors.ChatAdminRequiredError: "Only admins can send messages here",
        errors.ChatRestrictedError: "This chat is restricted; you cannot send messages in it",
        errors.ChatSendPlainForbiddenError: "Text messages are not allowed in this chat",
        errors.ChannelPrivateError: "You are no longer a member of this chat",
        errors.UserIsBlockedError: "This user has blocked you",
        errors.InputUserDeactivatedError: "This account has been deleted",
        errors.PeerIdInvalidError: "Telegram does not know this chat any more",
        errors.MessageTooLongError: "The message is too long for Telegram",
        errors.MsgIdInvalidError: "The message you reply to no longer exists; send without the reply",
        errors.ReactionInvalidError: "This reaction is not allowed in this chat",
        errors.MessageNotModifiedError: "Not saved: the text is the same as before",
        errors.MessageEditTimeExpiredError: "Telegram no longer lets you edit this message (too old)",
        errors.MessageAuthorRequiredError: "Only the author can change this message",
        errors.MessageDeleteForbiddenError: "Telegram does not let you delete this message for everyone",
        errors.MessageIdInvalidError: "This message no longer exists in Telegram",
    }
    for kind, message in permanent.items():
        if isinstance(exc, kind):
            return SendError(message, permanent=True)
    if isinstance(exc, errors.RPCError):
        name = exc.message or type(exc).__name__
        if name.startswith("TOPIC_CLOSED"):
            return SendError("This forum topic is closed", permanent=True)
        if name.startswith("TOPIC_DELETED") or name.startswith("TOPIC_ID_INVALID"):
            return SendError("This forum topic no longer exists", permanent=True)
        if isinstance(exc, errors.ServerError | errors.TimedOutError) or (exc.code or 0) >= 500:
            return SendError(f"Telegram had an internal problem ({name}); retry", permanent=False)
        return SendError(
            f"Telegram refused the message ({name})",
            permanent=(exc.code or 0) in (400, 403, 406),
        )
    from .client import is_network_error

    if is_network_error(exc):
        return SendError("No connection to Telegram; the reply is kept and can be retried")
    return SendError(f"Sending failed ({type(exc).__name__}); retry")


def sent_message(
    result: Any,
    random_id: int,
    *,
    chat_id: int,
    text: str,
    me_id: int,
    me_name: str,
    reply_to: int | None,
    topic_id: int | None,
    forum: bool,
) -> Message | None:
    """The Message Telegram created for a SendMessageRequest, from the request's result.

    Private chats and basic groups answer with a short `UpdateShortSentMessage` (id and date
    only); supergroups with `Updates` holding `UpdateMessageID(random_id → id)` and the new
    message itself. None when the result says nothing about this random_id.
    """
    from telethon.tl import types

    from . import convert as conv

    if isinstance(result, types.UpdateShortSentMessage):
        return Message(
            chat_id=chat_id,
            id=result.id,
            date=conv.unix(result.date) or 0,
            sender_id=me_id,
            sender_name=me_name,
            text=text,
            out=True,
            reply_to=reply_to,
            media=conv.convert_media(result.media),
            topic_id=topic_id,
        )
    updates = getattr(result, "updates", None)
    if updates is None and isinstance(result, types.UpdateShort):
        updates = [result.update]
    if not updates:
        return None
    new_id = next(
        (
            u.id
            for u in updates
            if isinstance(u, types.UpdateMessageID) and u.random_id == random_id
        ),
        None,
    )
    if new_id is None:
        return None
    entities = conv.entity_map(getattr(result, "users", ()), getattr(result, "chats", ()))
    for update in updates:
        if isinstance(update, types.UpdateNewMessage | types.UpdateNewChannelMessage):
            msg = update.message
            if msg.id == new_id and conv.marked_id(msg.peer_id) == chat_id:
                return conv.convert_message(msg, entities, self_id=me_id, forum=forum)
    return Message(
        chat_id=chat_id,
        id=new_id,
        date=conv.unix(getattr(result, "date", None)) or 0,
        sender_id=me_id,
        sender_name=me_name,
        text=text,
        out=True,
        reply_to=reply_to,
        topic_id=topic_id,
    )
