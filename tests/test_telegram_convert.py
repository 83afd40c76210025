"""Conversion of Telethon's TL objects to the desk's models (core/sources/telegram/convert.py)."""

from __future__ import annotations

import pytest
from telethon.tl import types
from tgtriage.core.desk.models import Media
from tgtriage.core.sources.telegram import convert as conv
from tgtriage.core.sources.telegram.send import sent_message

from tests.fake_tl import T0, channel, document, group, photo, user, when

ME = user(1000, "Erin", "Engineer", username="erin", is_self=True)
ALICE = user(501, "Alice", "Customer", username="alice")
ACME = channel(77, "Acme · Support", username="acme_support")
FORUM = channel(88, "Globex Help", forum=True)
BASIC = group(42, "Initech Support")
ENTITIES = conv.entity_map([ME, ALICE], [ACME, FORUM, BASIC])


def msg(peer: object, **fields: object) -> types.Message:
    """A TL message with defaults."""
    fields.setdefault("id", 10)
    fields.setdefault("date", when(T0))
    fields.setdefault("message", "hello")
    return types.Message(peer_id=peer, **fields)


def test_users_and_names() -> None:
    alice = conv.convert_user(ALICE)
    assert (alice.id, alice.first_name, alice.last_name, alice.username, alice.bot) == (
        501,
        "Alice",
        "Customer",
        "alice",
        False,
    )
    assert alice.name == "Alice Customer"
    assert conv.convert_user(user(9, username="nobody")).name == "@nobody"
    deleted = conv.convert_user(types.User(id=5, deleted=True))
    assert deleted.name == "Deleted Account"
    assert conv.convert_user(user(6, "Bot", bot=True)).bot


def test_chats_get_marked_ids_and_kinds() -> None:
    assert conv.convert_chat(ALICE).model_dump(exclude={"folder_ids", "topics"}) == {
        "id": 501,
        "title": "Alice Customer",
        "kind": "private",
        "username": "alice",
    }
    assert (conv.convert_chat(BASIC).id, conv.convert_chat(BASIC).kind) == (-42, "group")
    assert (conv.convert_chat(ACME).id, conv.convert_chat(ACME).kind) == (
        -1000000000077,
        "supergroup",
    )
    assert conv.convert_chat(ACME).username == "acme_support"
    assert conv.convert_chat(FORUM).kind == "forum"
    assert conv.convert_chat(channel(99, "News", megagroup=False)).kind == "channel"
    assert conv.convert_chat(ME).title == "Saved Messages"
    assert conv.convert_chat(types.ChatForbidden(id=3, title="Gone")).id == -3


def test_usable_chats() -> None:
    assert conv.is_usable(ACME) and conv.is_usable(BASIC) and conv.is_usable(ALICE)
    assert not conv.is_usable(channel(5, "Left", left=True))
    assert not conv.is_usable(group(6, "Upgraded", migrated_to=types.InputChannel(1, 2)))
    assert not conv.is_usable(types.ChannelForbidden(id=7, access_hash=1, title="Kicked"))


def test_group_message_fields() -> None:
    m = msg(
        types.PeerChannel(77),
        from_id=types.PeerUser(501),
        message="my invoice is wrong",
        edit_date=when(T0 + 60),
        reply_to=types.MessageReplyHeader(reply_to_msg_id=7),
    )
    out = conv.convert_message(m, ENTITIES, self_id=1000)
    assert out.model_dump() == {
        "chat_id": -1000000000077,
        "id": 10,
        "date": T0,
        "sender_id": 501,
        "sender_name": "Alice Customer",
        "text": "my invoice is wrong",
        "out": False,
        "reply_to": 7,
        "edit_date": T0 + 60,
        "media": None,
        "service": False,
        "topic_id": None,
    }
    assert conv.sender_user(m, ENTITIES) == conv.convert_user(ALICE)


def test_private_chat_senders_without_from_id() -> None:
    incoming = conv.convert_message(msg(types.PeerUser(501)), ENTITIES, self_id=1000)
    assert (incoming.chat_id, incoming.sender_id, incoming.out) == (501, 501, False)
    outgoing = conv.convert_message(msg(types.PeerUser(501), out=True), ENTITIES, self_id=1000)
    assert (outgoing.sender_id, outgoing.out, outgoing.sender_name) == (1000, True, "Erin Engineer")


def test_outgoing_from_teammate_and_anonymous_admin() -> None:
    mine = conv.convert_message(
        msg(types.PeerChat(42), out=True, from_id=types.PeerUser(1000)), ENTITIES
    )
    assert (mine.chat_id, mine.out, mine.sender_id) == (-42, True, 1000)
    anon = conv.convert_message(msg(types.PeerChannel(77), from_id=types.PeerChannel(77)), ENTITIES)
    assert (anon.sender_id, anon.sender_name) == (-1000000000077, "Acme · Support")
    post = conv.convert_message(msg(types.PeerChannel(99), post=True), {})
    assert post.sender_id == -1000000000099


def test_cross_chat_replies_and_story_replies_are_not_local_replies() -> None:
    other = types.MessageReplyHeader(reply_to_msg_id=3, reply_to_peer_id=types.PeerChannel(5))
    assert conv.convert_message(msg(types.PeerChannel(77), reply_to=other), {}).reply_to is None
    story = types.MessageReplyStoryHeader(peer=types.PeerUser(5), story_id=1)
    assert conv.convert_message(msg(types.PeerChannel(77), reply_to=story), {}).reply_to is None


@pytest.mark.parametrize(
    ("header", "reply", "topic"),
    [
        (None, None, 1),
        (types.MessageReplyHeader(forum_topic=True, reply_to_msg_id=200), None, 200),
        (
            types.MessageReplyHeader(forum_topic=True, reply_to_msg_id=205, reply_to_top_id=200),
            205,
            200,
        ),
        (types.MessageReplyHeader(reply_to_msg_id=3), 3, 1),
    ],
)
def test_forum_topics(header: object, reply: int | None, topic: int) -> None:
    m = conv.convert_message(msg(types.PeerChannel(88), reply_to=header), {}, forum=True)
    assert (m.reply_to, m.topic_id) == (reply, topic)


def test_non_forum_messages_have_no_topic() -> None:
    assert conv.convert_message(msg(types.PeerChannel(77)), {}).topic_id is None


def test_photo_uses_the_largest_size() -> None:
    assert conv.convert_media(photo(1_234_567)) == Media(
        kind="photo", size=1_234_567, mime="image/jpeg"
    )
    assert conv.convert_media(types.MessageMediaPhoto(photo=None)) == Media(
        kind="photo", mime="image/jpeg"
    )


@pytest.mark.parametrize(
    ("attributes", "extra", "expected"),
    [
        ([types.DocumentAttributeFilename("invoice.pdf")], {}, ("document", "invoice.pdf")),
        ([types.DocumentAttributeAudio(duration=3, voice=True)], {}, ("voice", None)),
        (
            [types.DocumentAttributeAudio(duration=3, title="Song", performer="Band")],
            {},
            ("audio", "Band – Song"),
        ),
        (
            [
                types.DocumentAttributeVideo(duration=1, w=1, h=1),
                types.DocumentAttributeFilename("clip.mp4"),
            ],
            {},
            ("video", "clip.mp4"),
        ),
        (
            [types.DocumentAttributeVideo(duration=1, w=1, h=1, round_message=True)],
            {},
            ("video_note", None),
        ),
        (
            [types.DocumentAttributeSticker(alt="😀", stickerset=types.InputStickerSetEmpty())],
            {},
            ("sticker", "😀"),
        ),
        (
            [types.DocumentAttributeAnimated(), types.DocumentAttributeVideo(duration=1, w=1, h=1)],
            {},
            ("gif", None),
        ),
        ([], {"voice": True}, ("voice", None)),
    ],
)
def test_documents(
    attributes: list[object], extra: dict[str, object], expected: tuple[str, str | None]
) -> None:
    media = conv.convert_media(document(attributes, size=2048, mime="application/pdf", **extra))
    assert media is not None
    assert (media.kind, media.name) == expected
    assert (media.size, media.mime) == (2048, "application/pdf")


def test_other_media_and_link_previews() -> None:
    assert conv.convert_media(types.MessageMediaWebPage(webpage=types.WebPageEmpty(id=1))) is None
    assert conv.convert_media(None) is None
    contact = types.MessageMediaContact(
        phone_number="", first_name="Bo", last_name="B", vcard="", user_id=0
    )
    assert conv.convert_media(contact) == Media(kind="contact", name="Bo B")
    assert conv.convert_media(types.MessageMediaGeo(geo=types.GeoPointEmpty())) == Media(
        kind="location"
    )
    poll = types.MessageMediaPoll(
        poll=types.Poll(id=1, question=types.TextWithEntities("Works?", []), answers=[], hash=0),
        results=types.PollResults(),
    )
    assert conv.convert_media(poll) == Media(kind="poll", name="Works?")
    assert conv.convert_media(types.MessageMediaDice(value=3, emoticon="🎲")) == Media(
        kind="dice", name="🎲"
    )


def test_media_message_keeps_caption() -> None:
    m = conv.convert_message(
        msg(types.PeerUser(501), message="see screenshot", media=photo(2000)), {}
    )
    assert m.text == "see screenshot" and m.media == Media(
        kind="photo", size=2000, mime="image/jpeg"
    )


@pytest.mark.parametrize(
    ("action", "text"),
    [
        (
            types.MessageActionChatEditTitle(title="Acme · Support"),
            "changed the title to «Acme · Support»",
        ),
        (types.MessageActionChatAddUser(users=[501]), "added Alice Customer"),
        (types.MessageActionChatAddUser(users=[1000]), "joined the group"),
        (types.MessageActionChatDeleteUser(user_id=1000), "left the group"),
        (types.MessageActionChatDeleteUser(user_id=501), "removed Alice Customer"),
        (types.MessageActionPinMessage(), "pinned a message"),
        (types.MessageActionChatJoinedByLink(inviter_id=1), "joined the group via an invite link"),
        (
            types.MessageActionTopicCreate(title="Billing", icon_color=0),
            "created the topic «Billing»",
        ),
        (types.MessageActionCustomAction(message="did a thing"), "did a thing"),
        (types.MessageActionScreenshotTaken(), "took a screenshot"),
    ],
)
def test_service_messages(action: object, text: str) -> None:
    m = types.MessageService(
        id=5, peer_id=types.PeerChat(42), date=when(T0), action=action, from_id=types.PeerUser(1000)
    )
    out = conv.convert_message(m, ENTITIES)
    assert out.service and out.text == text and out.media is None
    assert (out.chat_id, out.sender_id, out.sender_name) == (-42, 1000, "Erin Engineer")


def test_topic_creation_is_its_own_topic() -> None:
    m = types.MessageService(
        id=300,
        peer_id=types.PeerChannel(88),
        date=when(T0),
        action=types.MessageActionTopicCreate("Billing", 0),
    )
    assert conv.convert_message(m, {}, forum=True).topic_id == 300


def test_unknown_service_actions_read_as_words() -> None:
    assert conv.action_text(types.MessageActionBotAllowed(), {}) == "bot allowed"


def test_short_updates_become_messages() -> None:
    short = types.UpdateShortMessage(
        id=9, user_id=501, message="hi", pts=1, pts_count=1, date=when(T0)
    )
    m = conv.convert_message(conv.short_to_message(short, 1000), ENTITIES, self_id=1000)
    assert (m.chat_id, m.id, m.sender_id, m.text, m.out) == (501, 9, 501, "hi", False)
    mine = types.UpdateShortMessage(
        id=10, user_id=501, message="yo", pts=1, pts_count=1, date=when(T0), out=True
    )
    m = conv.convert_message(conv.short_to_message(mine, 1000), ENTITIES, self_id=1000)
    assert (m.chat_id, m.sender_id, m.out) == (501, 1000, True)
    chat = types.UpdateShortChatMessage(
        id=11,
        from_id=501,
        chat_id=42,
        message="hey",
        pts=1,
        pts_count=1,
        date=when(T0),
        reply_to=types.MessageReplyHeader(reply_to_msg_id=4),
    )
    m = conv.convert_message(conv.short_to_message(chat, 1000), ENTITIES, self_id=1000)
    assert (m.chat_id, m.sender_id, m.sender_name, m.reply_to) == (-42, 501, "Alice Customer", 4)


def test_folders_and_reactions() -> None:
    f = types.DialogFilter(
        id=3,
        title=types.TextWithEntities("Customers", []),
        pinned_peers=[types.InputPeerChat(42)],
        include_peers=[types.InputPeerChannel(77, 1)],
        exclude_peers=[types.InputPeerUser(501, 1)],
        groups=True,
    )
    folder = conv.convert_folder(f)
    assert folder is not None
    assert (folder.title, folder.include, folder.exclude, folder.groups) == (
        "Customers",
        frozenset({-42, -1000000000077}),
        frozenset({501}),
        True,
    )
    assert conv.convert_folder(types.DialogFilterDefault()) is None
    assert conv.reaction_emoji(types.ReactionEmoji("👍")) == "👍"
    assert conv.reaction_emoji(types.ReactionCustomEmoji(document_id=1)) is None


def test_candidate_reads_dialog_facts() -> None:
    dialog = types.Dialog(
        peer=types.PeerUser(501),
        top_message=1,
        read_inbox_max_id=0,
        read_outbox_max_id=0,
        unread_count=2,
        unread_mentions_count=0,
        unread_reactions_count=0,
        unread_poll_votes_count=0,
        notify_settings=types.PeerNotifySettings(mute_until=when(T0 + 100)),
        folder_id=1,
    )
    c = conv.candidate(user(501, "A", contact=True), dialog, now=T0)
    assert (c.contact, c.muted, c.unread, c.archived) == (True, True, True, True)
    assert not conv.candidate(user(501, "A"), dialog, now=T0 + 200).muted


def test_sent_message_from_short_and_full_results() -> None:
    short = types.UpdateShortSentMessage(id=55, pts=1, pts_count=1, date=when(T0 + 5), out=True)
    m = sent_message(
        short,
        9,
        chat_id=501,
        text="hi",
        me_id=1000,
        me_name="Erin",
        reply_to=3,
        topic_id=None,
        forum=False,
    )
    assert m is not None
    assert (m.chat_id, m.id, m.date, m.out, m.sender_id, m.text, m.reply_to) == (
        501,
        55,
        T0 + 5,
        True,
        1000,
        "hi",
        3,
    )
    new = types.Message(
        id=70,
        peer_id=types.PeerChannel(88),
        date=when(T0),
        message="ok",
        out=True,
        from_id=types.PeerUser(1000),
        reply_to=types.MessageReplyHeader(forum_topic=True, reply_to_msg_id=65, reply_to_top_id=60),
    )
    full = types.Updates(
        updates=[
            types.UpdateMessageID(id=70, random_id=9),
            types.UpdateNewChannelMessage(new, 1, 1),
        ],
        users=[ME],
        chats=[FORUM],
        date=when(T0),
        seq=0,
    )
    m = sent_message(
        full,
        9,
        chat_id=-1000000000088,
        text="ok",
        me_id=1000,
        me_name="Erin",
        reply_to=65,
        topic_id=60,
        forum=True,
    )
    assert m is not None
    assert (m.id, m.topic_id, m.reply_to, m.sender_name) == (70, 60, 65, "Erin Engineer")
    assert (
        sent_message(
            full,
            8,
            chat_id=-1000000000088,
            text="ok",
            me_id=1000,
            me_name="E",
            reply_to=None,
            topic_id=None,
            forum=True,
        )
        is None
    )
