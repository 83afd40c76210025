"""The Telegram source's live updates: messages, edits, deletions, reads, typing, reactions and chat-list changes."""

from __future__ import annotations

from telethon.tl import types
from tgtriage.core.desk import events as ev
from tgtriage.core.system.paths import Paths

from tests.fake_tl import channel, when
from tests.telegram_world import (
    ACME_ID,
    ALICE,
    BOB,
    CATS_ID,
    FORUM_ID,
    INITECH_ID,
    NOW,
    TESS,
    config,
    make,
    of,
    pending,
    queued,
    started,
    until,
    world,
)

# --------------------------------------------------------------------------- live updates


async def test_live_messages_incoming_outgoing_teammate_and_other_chats(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    queued(source)
    await fake.deliver(fake.new_message_update(fake.message(ACME_ID, "still broken", sender=ALICE)))
    await fake.deliver(
        fake.new_message_update(fake.message(ACME_ID, "on it (from phone)", out=True))
    )
    await fake.deliver(fake.new_message_update(fake.message(INITECH_ID, "fixed it", sender=TESS)))
    await fake.deliver(fake.new_message_update(fake.message(CATS_ID, "meow", sender=BOB)))
    news = of(queued(source), ev.NewMessage)
    assert [
        (n.message.chat_id, n.message.text, n.message.out, n.message.sender_id) for n in news
    ] == [
        (ACME_ID, "still broken", False, 501),
        (ACME_ID, "on it (from phone)", True, 1000),
        (INITECH_ID, "fixed it", False, 600),
    ]
    assert news[2].sender is not None and news[2].sender.name == "Tess Teammate"
    assert {1000, 600} <= source.staff_ids()
    await source.stop()


async def test_short_updates_are_handled(paths: Paths) -> None:
    fake = world()
    fake.add_chat(ALICE)
    source = await started(fake, paths, config(private_chats=True))
    queued(source)
    await fake.deliver(
        types.UpdateShortMessage(
            id=900, user_id=501, message="psst", pts=1, pts_count=1, date=when(NOW)
        )
    )
    await fake.deliver(
        types.UpdateShortChatMessage(
            id=901, from_id=502, chat_id=42, message="me too", pts=2, pts_count=1, date=when(NOW)
        )
    )
    news = of(queued(source), ev.NewMessage)
    assert [
        (n.message.chat_id, n.message.id, n.message.sender_id, n.message.text) for n in news
    ] == [
        (501, 900, 501, "psst"),
        (-42, 901, 502, "me too"),
    ]
    assert news[1].message.sender_name == "Bob Buyer"
    await source.stop()


async def test_updates_before_the_chat_list_are_held_then_applied(paths: Paths) -> None:
    fake = world()
    source = make(fake, paths)
    await source.start()
    early = fake.message(ACME_ID, "early bird", sender=ALICE, store=False)
    await fake.deliver(fake.new_message_update(early))
    assert not source._state.dialogs_ready.is_set()
    await source.wait_synced()
    events = queued(source)
    texts = [e.message.text for e in of(events, ev.NewMessage)]
    assert texts.count("early bird") == 1
    first_read = next(i for i, e in enumerate(events) if isinstance(e, ev.ReadUpTo))
    held = next(
        i
        for i, e in enumerate(events)
        if isinstance(e, ev.NewMessage) and e.message.text == "early bird"
    )
    assert first_read < held, "held updates are applied once the chat list is known"
    await source.stop()


async def test_edits_deletions_and_reads(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    queued(source)
    edited = fake.history[ACME_ID][0]
    edited.message = "Hello (edited)"
    edited.edit_date = when(NOW)
    await fake.deliver(types.UpdateEditChannelMessage(message=edited, pts=9, pts_count=1))
    await fake.deliver(types.UpdateDeleteMessages(messages=[5, 6], pts=10, pts_count=2))
    await fake.deliver(
        types.UpdateDeleteChannelMessages(channel_id=77, messages=[2], pts=11, pts_count=1)
    )
    await fake.deliver(
        types.UpdateDeleteChannelMessages(channel_id=99, messages=[1], pts=12, pts_count=1)
    )
    await fake.deliver(
        types.UpdateReadHistoryInbox(
            peer=types.PeerChat(42), max_id=3, still_unread_count=0, pts=1, pts_count=1
        )
    )
    await fake.deliver(
        types.UpdateReadHistoryOutbox(peer=types.PeerChat(42), max_id=4, pts=1, pts_count=1)
    )
    await fake.deliver(
        types.UpdateReadChannelInbox(channel_id=77, max_id=2, still_unread_count=0, pts=1)
    )
    await fake.deliver(types.UpdateReadChannelOutbox(channel_id=77, max_id=2))
    events = queued(source)
    assert of(events, ev.MessageEdited)[0].message.model_dump(
        include={"chat_id", "id", "text", "edit_date"}
    ) == {"chat_id": ACME_ID, "id": 1, "text": "Hello (edited)", "edit_date": NOW}
    assert of(events, ev.MessagesDeleted) == [
        ev.MessagesDeleted(None, (5, 6)),
        ev.MessagesDeleted(ACME_ID, (2,)),
    ]
    assert of(events, ev.ReadUpTo) == [
        ev.ReadUpTo(INITECH_ID, 3, outbox=False),
        ev.ReadUpTo(INITECH_ID, 4, outbox=True),
        ev.ReadUpTo(ACME_ID, 2, outbox=False),
        ev.ReadUpTo(ACME_ID, 2, outbox=True),
    ]
    await source.stop()


async def test_typing_and_reactions(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    queued(source)
    typing = types.SendMessageTypingAction()
    await fake.deliver(
        types.UpdateChannelUserTyping(channel_id=77, from_id=types.PeerUser(600), action=typing)
    )
    await fake.deliver(
        types.UpdateChatUserTyping(
            chat_id=42, from_id=types.PeerUser(502), action=types.SendMessageCancelAction()
        )
    )
    await fake.deliver(types.UpdateUserTyping(user_id=501, action=typing))  # private chats are off
    reactions = types.MessageReactions(
        results=[types.ReactionCount(reaction=types.ReactionEmoji("👍"), count=1)],
        recent_reactions=[
            types.MessagePeerReaction(
                peer_id=types.PeerUser(600), date=when(NOW), reaction=types.ReactionEmoji("👍")
            )
        ],
    )
    await fake.deliver(
        types.UpdateMessageReactions(peer=types.PeerChannel(77), msg_id=2, reactions=reactions)
    )
    mine = types.MessageReactions(
        results=[types.ReactionCount(reaction=types.ReactionEmoji("✅"), count=1, chosen_order=0)]
    )
    await fake.deliver(
        types.UpdateMessageReactions(peer=types.PeerChat(42), msg_id=3, reactions=mine)
    )
    events = queued(source)
    assert of(events, ev.Typing) == [
        ev.Typing(ACME_ID, 600, NOW + 6),
        ev.Typing(INITECH_ID, 502, NOW),
    ]
    assert of(events, ev.ReactionChanged) == [
        ev.ReactionChanged(ACME_ID, 2, 600, "👍"),
        ev.ReactionChanged(INITECH_ID, 3, 1000, "✅"),
    ]
    await source.stop()


async def test_renames_joins_and_leaves_update_the_chat_list(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    queued(source)
    # a supergroup renamed out of the patterns, then back in
    renamed = channel(77, "Acme (archived)")
    await fake.deliver(types.UpdateChannel(channel_id=77), [renamed])
    back = channel(77, "Acme Corp Support")
    await fake.deliver(types.UpdateChannel(channel_id=77), [back])
    # a basic group renamed by a service message
    await fake.deliver(
        fake.new_message_update(
            fake.service(
                INITECH_ID, types.MessageActionChatEditTitle("Initech Ltd Support"), sender=BOB
            )
        )
    )
    # the cat group is renamed into a support chat
    await fake.deliver(types.UpdateChannel(channel_id=99), [channel(99, "Cats Support")])
    await until(
        lambda: any(
            isinstance(e, ev.NewMessage) and e.message.chat_id == CATS_ID for e in pending(source)
        )
    )
    events = queued(source)
    assert [type(e).__name__ for e in events if isinstance(e, ev.ChatUpdated | ev.ChatRemoved)] == [
        "ChatRemoved",
        "ChatUpdated",
        "ChatUpdated",
        "ChatUpdated",
    ]
    updated = of(events, ev.ChatUpdated)
    assert [c.chat.title for c in updated] == [
        "Acme Corp Support",
        "Initech Ltd Support",
        "Cats Support",
    ]
    assert of(events, ev.ChatRemoved) == [ev.ChatRemoved(ACME_ID)]
    service = [e.message for e in of(events, ev.NewMessage) if e.message.service]
    assert service[0].text == "changed the title to «Initech Ltd Support»"
    assert [e.message.text for e in of(events, ev.NewMessage) if e.message.chat_id == CATS_ID] == [
        "meow"
    ]
    assert {c.id for c in await source.dialogs()} == {ACME_ID, INITECH_ID, FORUM_ID, CATS_ID}

    # leaving: a basic group by service message, a supergroup by UpdateChannel(left)
    await fake.deliver(
        fake.new_message_update(
            fake.service(INITECH_ID, types.MessageActionChatDeleteUser(1000), sender=fake.me)
        )
    )
    await fake.deliver(
        types.UpdateChannel(channel_id=77), [channel(77, "Acme Corp Support", left=True)]
    )
    events = queued(source)
    assert of(events, ev.ChatRemoved) == [ev.ChatRemoved(INITECH_ID), ev.ChatRemoved(ACME_ID)]
    assert not of(events, ev.NewMessage)
    assert {c.id for c in await source.dialogs()} == {FORUM_ID, CATS_ID}
    await source.stop()


async def test_a_message_in_a_newly_joined_chat_announces_the_chat_first(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    queued(source)
    hooli = channel(123, "Hooli Support")
    fake.entities[-1000000000123] = hooli
    fake.history[-1000000000123] = []
    msg = fake.message(-1000000000123, "we just added you", sender=BOB)
    await fake.deliver(fake.new_message_update(msg), [hooli, BOB])
    events = queued(source)
    kinds = [type(e).__name__ for e in events if not isinstance(e, ev.SyncProgress)]
    assert kinds[:2] == ["ChatUpdated", "NewMessage"]
    assert events[0].chat.title == "Hooli Support"  # type: ignore[union-attr]
    await source.stop()
