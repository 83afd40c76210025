"""The Telegram source's actions: sending (split, retried, refused), read marks, reactions and media downloads."""

from __future__ import annotations

from pathlib import Path

import pytest
from telethon import errors
from telethon.tl import types
from tgtriage.core.desk import events as ev
from tgtriage.core.sources.base import SendError
from tgtriage.core.sources.telegram.send import MAX_MESSAGE, part_random_id, split_text, utf16_len
from tgtriage.core.system.paths import Paths

from tests.fake_tl import document, photo
from tests.telegram_world import ACME_ID, ALICE, FORUM_ID, INITECH_ID, of, queued, started, world

# --------------------------------------------------------------------------- sending


async def test_send_to_a_basic_group_with_reply(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    queued(source)
    sent = await source.send(
        INITECH_ID, "Have you tried turning it off and on?", reply_to=4, random_id=111
    )
    assert (sent.chat_id, sent.out, sent.reply_to, sent.sender_id) == (INITECH_ID, True, 4, 1000)
    request = fake.requests_named("SendMessageRequest")[0]
    assert request.random_id == 111
    assert (
        isinstance(request.reply_to, types.InputReplyToMessage)
        and request.reply_to.reply_to_msg_id == 4
    )
    assert request.reply_to.top_msg_id is None
    assert [e.message for e in of(queued(source), ev.NewMessage)] == [sent]
    await source.stop()


async def test_retry_with_the_same_random_id_never_posts_twice(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    fake.fail_next(
        "SendMessageRequest", TimeoutError(), after=True
    )  # Telegram got it, the answer was lost
    with pytest.raises(SendError) as failure:
        await source.send(ACME_ID, "On it!", reply_to=None, random_id=4242)
    assert not failure.value.permanent
    again = await source.send(ACME_ID, "On it!", reply_to=None, random_id=4242)
    posted = [m for m in fake.history[ACME_ID] if m.message == "On it!"]
    assert len(posted) == 1 and again.id == posted[0].id and again.out
    third = await source.send(ACME_ID, "On it!", reply_to=None, random_id=4242)
    assert third.id == again.id
    assert len([m for m in fake.history[ACME_ID] if m.message == "On it!"]) == 1
    await source.stop()


async def test_long_replies_are_split_and_a_retry_resends_no_part_twice(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    text = "\n\n".join(f"Paragraph {n}: " + "word " * 300 for n in range(6))
    parts = split_text(text)
    assert len(parts) == 3
    second_part = lambda r: r.random_id == part_random_id(77, 1)  # noqa: E731
    fake.fail_next("SendMessageRequest", ConnectionError("reset"), second_part)
    with pytest.raises(SendError, match="Part 2 of 3"):
        await source.send(INITECH_ID, text, reply_to=4, random_id=77)
    last = await source.send(INITECH_ID, text, reply_to=4, random_id=77)
    posted = [m for m in fake.history[INITECH_ID] if m.out]
    assert [m.message for m in posted] == parts
    assert last.id == posted[-1].id
    ids = [r.random_id for r in fake.requests_named("SendMessageRequest")]
    assert ids == [77, part_random_id(77, 1), 77, part_random_id(77, 1), part_random_id(77, 2)]
    replies = [r.reply_to for r in fake.requests_named("SendMessageRequest")]
    assert replies[0].reply_to_msg_id == 4 and replies[-1] is None
    await source.stop()


async def test_forum_reply_goes_to_the_topic_it_answers(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    sent = await source.send(FORUM_ID, "Refund issued", reply_to=201, random_id=5)
    request = fake.requests_named("SendMessageRequest")[0]
    assert (request.reply_to.reply_to_msg_id, request.reply_to.top_msg_id) == (201, 200)
    assert (sent.topic_id, sent.reply_to) == (200, 201)
    # a message not seen before is looked up to find its topic
    old = fake.message(FORUM_ID, "old question", sender=ALICE, topic=300, msg_id=301)
    await source.send(FORUM_ID, "answer", reply_to=old.id, random_id=6)
    assert fake.requests_named("SendMessageRequest")[1].reply_to.top_msg_id == 300
    # no reply in a forum: the General topic, no header
    await source.send(FORUM_ID, "hello all", reply_to=None, random_id=7)
    assert fake.requests_named("SendMessageRequest")[2].reply_to is None
    await source.stop()


@pytest.mark.parametrize(
    ("error", "retry_after", "permanent", "words"),
    [
        (errors.ChatWriteForbiddenError(request=None), None, True, "cannot write"),
        (errors.SlowModeWaitError(request=None, capture=30), 30, False, "Slow mode"),
        (errors.FloodWaitError(request=None, capture=120), 120, False, "wait 120 s"),
        (errors.UserBannedInChannelError(request=None), None, True, "restricts your account"),
        (errors.ChatAdminRequiredError(request=None), None, True, "Only admins"),
        (ConnectionError("reset"), None, False, "No connection"),
        (OSError("unreachable"), None, False, "No connection"),
        (
            errors.ServerError(request=None, message="INTERNAL", code=500),
            None,
            False,
            "internal problem",
        ),
    ],
)
async def test_send_errors_are_clear(
    paths: Paths, error: BaseException, retry_after: int | None, permanent: bool, words: str
) -> None:
    fake = world()
    source = await started(fake, paths)
    fake.fail_next("SendMessageRequest", error)
    with pytest.raises(SendError, match=words) as failure:
        await source.send(ACME_ID, "hi", reply_to=None, random_id=1)
    assert (failure.value.retry_after, failure.value.permanent) == (retry_after, permanent)
    assert not [m for m in fake.history[ACME_ID] if m.out]
    await source.stop()


async def test_empty_reply_is_refused(paths: Paths) -> None:
    source = await started(world(), paths)
    with pytest.raises(SendError, match="empty"):
        await source.send(ACME_ID, "  \n ", reply_to=None, random_id=1)
    await source.stop()


def test_split_text_prefers_paragraphs_then_lines_then_words() -> None:
    assert split_text("short") == ["short"]
    assert split_text("   ") == []
    para = "a" * 3000 + "\n\n" + "b" * 3000
    assert split_text(para) == ["a" * 3000, "b" * 3000]
    lines = "a" * 3000 + "\n" + "b" * 3000
    assert split_text(lines) == ["a" * 3000, "b" * 3000]
    words = ("word " * 2000).strip()
    parts = split_text(words)
    assert all(p.startswith("word") and p.endswith("word") for p in parts)
    assert " ".join(parts) == words
    hard = "x" * 9000
    assert [len(p) for p in split_text(hard)] == [4096, 4096, 808]


def test_split_text_counts_utf16_and_keeps_emoji_whole() -> None:
    text = "😀" * 3000
    parts = split_text(text)
    assert all(utf16_len(p) <= MAX_MESSAGE for p in parts)
    assert "".join(parts) == text
    family = "👩\u200d💻" * 2000
    parts = split_text(family)
    assert "".join(parts) == family and all(not p.startswith("\u200d") for p in parts)


def test_part_random_ids_are_deterministic_and_distinct() -> None:
    ids = [part_random_id(-5, i) for i in range(4)]
    assert ids[0] == -5 and len(set(ids)) == 4
    assert ids == [part_random_id(-5, i) for i in range(4)]
    assert all(-(2**63) <= i < 2**63 for i in ids)


# --------------------------------------------------------------------------- read, react, media


async def test_mark_read_and_react(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    await source.mark_read(ACME_ID, 2)
    assert fake.read_acks[0][1] == 2
    assert isinstance(fake.read_acks[0][0], types.InputPeerChannel)
    await source.react(ACME_ID, 2, "👍")
    request = fake.requests_named("SendReactionRequest")[0]
    assert (request.msg_id, request.reaction[0].emoticon) == (2, "👍")
    fake.fail_next("SendReactionRequest", errors.ReactionInvalidError(request=None))
    with pytest.raises(SendError, match="not allowed"):
        await source.react(ACME_ID, 2, "🦄")
    fake.connected = False
    await source.mark_read(ACME_ID, 2)  # offline: logged, not raised
    await source.stop()


async def test_download_media_uses_safe_unique_names(paths: Paths, tmp_path: Path) -> None:
    fake = world()
    evil = document([types.DocumentAttributeFilename("../../.bashrc")], mime="text/plain")
    m1 = fake.message(ACME_ID, "", sender=ALICE, media=evil)
    m2 = fake.message(ACME_ID, "", sender=ALICE, media=evil)
    m3 = fake.message(ACME_ID, "screenshot", sender=ALICE, media=photo())
    source = await started(fake, paths)
    dest = tmp_path / "downloads"
    first = await source.download_media(ACME_ID, m1.id, dest)
    second = await source.download_media(ACME_ID, m2.id, dest)
    shot = await source.download_media(ACME_ID, m3.id, dest)
    assert first == dest / "bashrc" and second == dest / "bashrc (1)"
    assert (
        shot.parent == dest and shot.suffix == ".jpg" and shot.read_bytes() == b"fake media bytes"
    )
    with pytest.raises(FileNotFoundError, match="no media"):
        await source.download_media(ACME_ID, 1, dest)
    await source.stop()
