"""Builders of the real Telethon TL objects the fake Telegram serves: entities, media, errors."""

from __future__ import annotations

import datetime as dt
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


def message_update(msg: Any, pts: int, *, edit: bool = False) -> Any:
    """The update Telegram pushes for a new (or edited) message: the channel kind in a channel."""
    in_channel = isinstance(msg.peer_id, types.PeerChannel)
    if edit:
        kind = types.UpdateEditChannelMessage if in_channel else types.UpdateEditMessage
    else:
        kind = types.UpdateNewChannelMessage if in_channel else types.UpdateNewMessage
    return kind(message=msg, pts=pts, pts_count=1)


__all__ = [
    "T0",
    "channel",
    "document",
    "flood",
    "folder",
    "forum_topic",
    "group",
    "message_update",
    "peer_of",
    "photo",
    "user",
    "when",
]
