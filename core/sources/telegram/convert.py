"""Pure conversion from Telethon's TL objects to the desk's models (no network, no client).

This module imports Telethon, so only the Telegram source imports it, lazily (the desk's cold
start stays free of Telethon). Text is kept exactly as Telegram sent it; the screen sanitizes
it before drawing (DESIGN §9).

`entities` arguments map marked peer ids (see `telethon.utils.get_peer_id`) to the User, Chat
and Channel objects that came with a response or an update.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from telethon import utils
from telethon.tl import types

from ...desk.models import Chat, ChatKind, Media, Message, User
from ...rules.chat_filter import Candidate, Folder
from ...rules.sanitize import bound_text

Entities = Mapping[int, Any]
TYPING_SECONDS = 6
GENERAL_TOPIC = 1


def unix(value: dt.datetime | int | None) -> int | None:
    """A TL date (aware datetime) as int Unix seconds; None stays None."""
    if value is None:
        return None
    if isinstance(value, int):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return int(value.timestamp())


def marked_id(peer: Any) -> int:
    """The marked id of a Peer, InputPeer, User, Chat or Channel."""
    return int(utils.get_peer_id(peer))


def entity_map(*groups: Iterable[Any]) -> dict[int, Any]:
    """Index users and chats (as found in `.users` / `.chats` of a response) by marked id."""
    found: dict[int, Any] = {}
    for group in groups:
        for entity in group or ():
            if isinstance(entity, types.UserEmpty | types.ChatEmpty):
                continue
            found[marked_id(entity)] = entity
    return found


def user_name(entity: Any) -> str:
    """A display name for a User, Chat or Channel (title for chats)."""
    if isinstance(entity, types.User):
        return convert_user(entity).name
    return str(getattr(entity, "title", "") or "")


def convert_user(user: Any) -> User:
    """A Telethon User as the desk's User."""
    if getattr(user, "deleted", False) and not (user.first_name or user.last_name):
        return User(id=user.id, first_name="Deleted Account", bot=bool(user.bot))
    return User(
        id=user.id,
        first_name=user.first_name or "",
        last_name=user.last_name or "",
        username=_username(user),
        bot=bool(user.bot),
    )


def _username(entity: Any) -> str | None:
    """The entity's public username, including the first active collectible one."""
    name = getattr(entity, "username", None)
    if name:
        return str(name)
    for extra in getattr(entity, "usernames", None) or ():
        if getattr(extra, "active", False) and extra.username:
            return str(extra.username)
    return None


def chat_kind(entity: Any) -> ChatKind:
    """private / group / supergroup / forum / channel for a User, Chat or Channel."""
    if isinstance(entity, types.User):
        return "private"
    if isinstance(entity, types.Chat | types.ChatForbidden | types.ChatEmpty):
        return "group"
    if isinstance(entity, types.ChannelForbidden):
        return "supergroup" if entity.megagroup else "channel"
    if getattr(entity, "broadcast", False):
        return "channel"
    if getattr(entity, "forum", False):
        return "forum"
    return "supergroup"


def convert_chat(
    entity: Any,
    *,
    folder_ids: tuple[int, ...] = (),
    topics: tuple[tuple[int, str], ...] = (),
) -> Chat:
    """A Telethon User/Chat/Channel as the desk's Chat (a private chat is titled by the user)."""
    if isinstance(entity, types.User):
        title = convert_user(entity).name
        if entity.is_self:
            title = "Saved Messages"
    else:
        title = str(getattr(entity, "title", "") or "") or str(marked_id(entity))
    return Chat(
        id=marked_id(entity),
        title=title,
        kind=chat_kind(entity),
        username=_username(entity),
        folder_ids=folder_ids,
        topics=topics,
    )


def is_usable(entity: Any) -> bool:
    """Whether the account can still read and write in this chat (not left, kicked or upgraded)."""
    if isinstance(entity, types.ChatForbidden | types.ChannelForbidden | types.ChatEmpty):
        return False
    if isinstance(entity, types.Chat):
        return not (entity.left or entity.deactivated or entity.migrated_to)
    if isinstance(entity, types.Channel):
        return not entity.left
    return not (isinstance(entity, types.User) and entity.deleted)


def candidate(entity: Any, dialog: Any = None, *, now: int = 0) -> Candidate:
    """A selection Candidate from an entity and (when known) its Dialog."""
    muted = False
    unread = False
    archived = False
    if dialog is not None:
        mute_until = unix(getattr(dialog.notify_settings, "mute_until", None))
        muted = bool(mute_until and mute_until > now)
        unread = bool(dialog.unread_count or dialog.unread_mark)
        archived = dialog.folder_id == 1
    is_user = isinstance(entity, types.User)
    return Candidate(
        chat=convert_chat(entity),
        contact=bool(is_user and entity.contact),
        bot=bool(is_user and entity.bot),
        is_self=bool(is_user and entity.is_self),
        muted=muted,
        unread=unread,
        archived=archived,
        usable=is_usable(entity),
    )


def convert_folder(dialog_filter: Any) -> Folder | None:
    """A Telegram folder (DialogFilter / DialogFilterChatlist); None for the "All chats" entry."""
    if not isinstance(dialog_filter, types.DialogFilter | types.DialogFilterChatlist):
        return None
    title = dialog_filter.title
    text = title.text if isinstance(title, types.TextWithEntities) else str(title or "")
    include = {marked_id(p) for p in [*dialog_filter.pinned_peers, *dialog_filter.include_peers]}
    if isinstance(dialog_filter, types.DialogFilterChatlist):
        return Folder(id=dialog_filter.id, title=text, include=frozenset(include))
    return Folder(
        id=dialog_filter.id,
        title=text,
        include=frozenset(include),
        exclude=frozenset(marked_id(p) for p in dialog_filter.exclude_peers),
        contacts=bool(dialog_filter.contacts),
        non_contacts=bool(dialog_filter.non_contacts),
        groups=bool(dialog_filter.groups),
        broadcasts=bool(dialog_filter.broadcasts),
        bots=bool(dialog_filter.bots),
        exclude_muted=bool(dialog_filter.exclude_muted),
        exclude_read=bool(dialog_filter.exclude_read),
        exclude_archived=bool(dialog_filter.exclude_archived),
    )


# ----------------------------------------------------------------------------- media


def _photo_size(photo: Any) -> int | None:
    """The byte size of a photo's largest stored size."""
    best = 0
    for size in getattr(photo, "sizes", None) or ():
        if isinstance(size, types.PhotoSize):
            best = max(best, size.size)
        elif isinstance(size, types.PhotoSizeProgressive):
            best = max(best, max(size.sizes or [0]))
        elif isinstance(size, types.PhotoCachedSize):
            best = max(best, len(size.bytes))
    return best or None


def _document_media(document: Any, hint: Any = None) -> Media:
    """A Document's kind (voice, audio, video, video_note, sticker, gif, document), name and size."""
    if not isinstance(document, types.Document):
        return Media(kind="document")
    kind = "document"
    name: str | None = None
    for attr in document.attributes:
        if isinstance(attr, types.DocumentAttributeFilename):
            name = attr.file_name
        elif isinstance(attr, types.DocumentAttributeSticker):
            kind = "sticker"
            name = name or (attr.alt or None)
        elif isinstance(attr, types.DocumentAttributeAnimated) and kind != "sticker":
            kind = "gif"
        elif isinstance(attr, types.DocumentAttributeVideo) and kind not in ("sticker", "gif"):
            kind = "video_note" if attr.round_message else "video"
        elif isinstance(attr, types.DocumentAttributeAudio) and kind == "document":
            kind = "voice" if attr.voice else "audio"
            if not attr.voice and not name and (attr.title or attr.performer):
                name = " – ".join(x for x in (attr.performer, attr.title) if x)
    if hint is not None and kind == "document":
        if getattr(hint, "voice", False):
            kind = "voice"
        elif getattr(hint, "round", False):
            kind = "video_note"
    return Media(kind=kind, name=name, size=document.size or None, mime=document.mime_type or None)


def convert_media(media: Any) -> Media | None:
    """A placeholder for a message's media; None for no media and for link previews."""
    if media is None or isinstance(media, types.MessageMediaEmpty | types.MessageMediaWebPage):
        return None
    if isinstance(media, types.MessageMediaPhoto):
        return Media(kind="photo", size=_photo_size(media.photo), mime="image/jpeg")
    if isinstance(media, types.MessageMediaDocument):
        return _document_media(media.document, media)
    if isinstance(media, types.MessageMediaContact):
        name = f"{media.first_name or ''} {media.last_name or ''}".strip()
        return Media(kind="contact", name=name or None)
    if isinstance(media, types.MessageMediaVenue):
        return Media(kind="location", name=media.title or None)
    if isinstance(media, types.MessageMediaGeo | types.MessageMediaGeoLive):
        return Media(kind="location")
    if isinstance(media, types.MessageMediaPoll):
        question = media.poll.question
        text = question.text if isinstance(question, types.TextWithEntities) else str(question)
        return Media(kind="poll", name=text or None)
    if isinstance(media, types.MessageMediaDice):
        return Media(kind="dice", name=media.emoticon or None)
    if isinstance(media, types.MessageMediaGame):
        return Media(kind="game", name=getattr(media.game, "title", None) or None)
    if isinstance(media, types.MessageMediaInvoice):
        return Media(kind="invoice", name=media.title or None)
    if isinstance(media, types.MessageMediaStory):
        return Media(kind="story")
    if isinstance(media, types.MessageMediaPaidMedia):
        return Media(kind="paid media")
    if isinstance(media, types.MessageMediaUnsupported):
        return Media(kind="unsupported")
    kind = type(media).__name__.removeprefix("MessageMedia").lower() or "media"
    return Media(kind=kind)


# ----------------------------------------------------------------------------- service actions


def _names(ids: Iterable[int], entities: Entities) -> str:
    """Comma-separated display names of users by (unmarked = marked for users) id."""
    out = []
    for user_id in ids:
        entity = entities.get(user_id)
        out.append(user_name(entity) if entity is not None else str(user_id))
    return ", ".join(out)


def action_text(action: Any, entities: Entities, actor_id: int | None = None) -> str:
    """A readable sentence for a service message's action (the actor's name is shown apart)."""
    a = types
    if isinstance(action, a.MessageActionChatCreate):
        return f"created the group «{action.title}»"
    if isinstance(action, a.MessageActionChannelCreate):
        return f"created «{action.title}»"
    if isinstance(action, a.MessageActionChatEditTitle):
        return f"changed the title to «{action.title}»"
    if isinstance(action, a.MessageActionChatEditPhoto):
        return "changed the group photo"
    if isinstance(action, a.MessageActionChatDeletePhoto):
        return "removed the group photo"
    if isinstance(action, a.MessageActionChatAddUser):
        if list(action.users) == [actor_id]:
            return "joined the group"
        return f"added {_names(action.users, entities)}"
    if isinstance(action, a.MessageActionChatDeleteUser):
        if action.user_id == actor_id:
            return "left the group"
        return f"removed {_names([action.user_id], entities)}"
    if isinstance(action, a.MessageActionChatJoinedByLink):
        return "joined the group via an invite link"
    if isinstance(action, a.MessageActionChatJoinedByRequest):
        return "was accepted into the group"
    if isinstance(action, a.MessageActionChatMigrateTo | a.MessageActionChannelMigrateFrom):
        return "upgraded the group to a supergroup"
    if isinstance(action, a.MessageActionPinMessage):
        return "pinned a message"
    if isinstance(action, a.MessageActionHistoryClear):
        return "cleared the history"
    if isinstance(action, a.MessageActionPhoneCall):
        seconds = action.duration or 0
        kind = "video call" if action.video else "call"
        return f"{kind} ({seconds // 60}m{seconds % 60:02d}s)" if seconds else f"missed {kind}"
    if isinstance(action, a.MessageActionScreenshotTaken):
        return "took a screenshot"
    if isinstance(action, a.MessageActionSetMessagesTTL):
        return "changed auto-delete timer" if action.period else "turned off auto-delete"
    if isinstance(action, a.MessageActionTopicCreate):
        return f"created the topic «{action.title}»"
    if isinstance(action, a.MessageActionTopicEdit):
        if action.title:
            return f"renamed the topic to «{action.title}»"
        if action.closed is not None:
            return "closed the topic" if action.closed else "reopened the topic"
        return "edited the topic"
    if isinstance(action, a.MessageActionContactSignUp):
        return "joined Telegram"
    if isinstance(action, a.MessageActionCustomAction):
        return str(action.message)
    if isinstance(action, a.MessageActionGroupCall):
        return "ended a voice chat" if action.duration else "started a voice chat"
    name = type(action).__name__.removeprefix("MessageAction")
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()
    return words or "service message"


# ----------------------------------------------------------------------------- messages


def sender_id_of(msg: Any, self_id: int | None = None) -> int | None:
    """Who sent a message, as Telethon decides it (plus: our own private messages are ours)."""
    if msg.from_id is not None:
        return marked_id(msg.from_id)
    if getattr(msg, "post", False):
        return marked_id(msg.peer_id)
    if isinstance(msg.peer_id, types.PeerUser):
        return self_id if msg.out else msg.peer_id.user_id
    return self_id if msg.out else None


def reply_and_topic(reply_to: Any, *, forum: bool = False) -> tuple[int | None, int | None]:
    """(the message id replied to, the forum topic id) from a reply header.

    In a forum, a message posted in a topic without quoting anything carries the topic's root
    id as `reply_to_msg_id` and no `reply_to_top_id`: that is the topic, not a reply. Messages
    of a forum without a header are in the General topic (id 1).
    """
    reply: int | None = None
    topic: int | None = GENERAL_TOPIC if forum else None
    if isinstance(reply_to, types.MessageReplyHeader):
        same_chat = reply_to.reply_to_peer_id is None
        if reply_to.forum_topic:
            if reply_to.reply_to_top_id:
                topic = reply_to.reply_to_top_id
                reply = reply_to.reply_to_msg_id if same_chat else None
            else:
                topic = reply_to.reply_to_msg_id
        elif same_chat:
            reply = reply_to.reply_to_msg_id
    return reply, topic


def convert_message(
    msg: Any,
    entities: Entities | None = None,
    *,
    self_id: int | None = None,
    forum: bool = False,
) -> Message:
    """A Telethon Message or MessageService as the desk's Message."""
    entities = entities or {}
    sender = sender_id_of(msg, self_id)
    sender_entity = entities.get(sender) if sender is not None else None
    reply, topic = reply_and_topic(msg.reply_to, forum=forum)
    service = isinstance(msg, types.MessageService)
    if service:
        actor = sender if sender is not None and sender > 0 else None
        text = action_text(msg.action, entities, actor)
        media = None
        if isinstance(msg.action, types.MessageActionTopicCreate) and forum:
            topic = msg.id
    else:
        text = bound_text(msg.message or "")  # longer only from a hostile or broken peer
        media = convert_media(msg.media)
    return Message(
        chat_id=marked_id(msg.peer_id),
        id=msg.id,
        date=unix(msg.date) or 0,
        sender_id=sender,
        sender_name=user_name(sender_entity) if sender_entity is not None else "",
        text=text,
        out=bool(msg.out),
        reply_to=reply,
        edit_date=None if service else unix(msg.edit_date),
        media=media,
        service=service,
        topic_id=topic,
    )


def sender_user(msg: Any, entities: Entities | None, self_id: int | None = None) -> User | None:
    """The sending User, when the sender is a person whose entity came with the message."""
    sender = sender_id_of(msg, self_id)
    entity = (entities or {}).get(sender) if sender is not None else None
    return convert_user(entity) if isinstance(entity, types.User) else None


def short_to_message(update: Any, self_id: int | None) -> Any:
    """An UpdateShortMessage / UpdateShortChatMessage as the TL Message it stands for.

    Telethon dispatches these short forms to raw handlers unchanged; this mirrors what its own
    `events.NewMessage.build` does with them.
    """
    if isinstance(update, types.UpdateShortMessage):
        peer: Any = types.PeerUser(update.user_id)
        sender = self_id if update.out else update.user_id
    else:
        peer = types.PeerChat(update.chat_id)
        sender = self_id if update.out else update.from_id
    return types.Message(
        id=update.id,
        peer_id=peer,
        date=update.date,
        message=update.message,
        out=update.out,
        mentioned=update.mentioned,
        media_unread=update.media_unread,
        silent=update.silent,
        from_id=types.PeerUser(sender) if sender is not None else None,
        fwd_from=update.fwd_from,
        via_bot_id=update.via_bot_id,
        reply_to=update.reply_to,
        entities=update.entities,
        ttl_period=update.ttl_period,
    )


def reaction_emoji(reaction: Any) -> str | None:
    """The emoji of a Reaction (custom emoji and paid reactions have none we can show)."""
    if isinstance(reaction, types.ReactionEmoji):
        return str(reaction.emoticon)
    return None


def topic_titles(topics: Iterable[Any]) -> tuple[tuple[int, str], ...]:
    """(topic id, title) pairs of a forum's ForumTopic objects."""
    return tuple((t.id, str(t.title)) for t in topics if isinstance(t, types.ForumTopic))


def sent_code_via(sent_code: Any) -> str:
    """Where Telegram sent the login code, in words ("your Telegram app", "SMS", …)."""
    kind = type(getattr(sent_code, "type", None)).__name__
    return {
        "SentCodeTypeApp": "your Telegram app",
        "SentCodeTypeSms": "SMS",
        "SentCodeTypeCall": "a phone call",
        "SentCodeTypeFlashCall": "a flash call",
        "SentCodeTypeMissedCall": "a missed call",
        "SentCodeTypeEmailCode": "e-mail",
        "SentCodeTypeFragmentSms": "Fragment",
        "SentCodeTypeFirebaseSms": "SMS",
        "SentCodeTypeSmsWord": "SMS",
        "SentCodeTypeSmsPhrase": "SMS",
    }.get(kind, "Telegram")
