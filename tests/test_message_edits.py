"""Message mode's edit and delete (issue 16 item 3): E loads our message into the composer and
Enter saves it through Telegram's EditMessageRequest, `(edited)` shown; D deletes it for everyone
(DeleteMessagesRequest with revoke, channels.DeleteMessagesRequest in a supergroup) after one
key; Telegram's refusals come back as one clear line, and a customer's message is never ours."""

from __future__ import annotations

from pathlib import Path

import pytest
from telethon import errors
from tgtriage.core.sources.base import SendError
from tgtriage.core.system.config import Config
from tgtriage.core.system.paths import Paths
from tgtriage.tui.composer import Composer
from tgtriage.tui.conversation import Conversation

from tests.desk_harness import make_desk, run_desk, screen_text, settle, type_text, wait_for
from tests.telegram_world import ACME_ID, INITECH_ID, started, world
from tests.test_telegram_desk import TmpPaths, _utc, notified, open_chat, telegram_desk, until

__all__ = ["_utc"]  # message times in UTC for the Telegram desk


async def settle_tg(pilot: object) -> None:
    """Let the Telegram desk draw what the last key did."""
    for _ in range(3):
        await pilot.pause()  # type: ignore[attr-defined]


def _notified(app: object, words: str) -> bool:
    return any(words in n.message for n in app._notifications)  # type: ignore[attr-defined]


async def _reply_and_select_it(pilot: object, app: object, text: str) -> int:
    """Send `text` in the open chat and put message mode's cursor on it; its id."""
    await type_text(pilot, text)  # type: ignore[arg-type]
    await pilot.press("enter")  # type: ignore[attr-defined]
    conversation = app.query_one(Conversation)  # type: ignore[attr-defined]
    await wait_for(
        pilot,  # type: ignore[arg-type]
        lambda: any(m.text == text and m.out for m in conversation.messages),
        "the reply delivered",
    )
    await pilot.press("up")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    selected = conversation.selected_id
    assert selected is not None
    assert next(m for m in conversation.messages if m.id == selected).text == text
    return int(selected)


async def test_e_edits_our_message_and_it_shows_edited(tmp_path: Path) -> None:
    desk = make_desk(tmp_path, config=Config(undo_send_seconds=0))
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        await settle(pilot)
        chat_id = inbox.open_chat_id
        mine = await _reply_and_select_it(pilot, app, "Restart the sevrer please")
        await pilot.press("e")
        await settle(pilot)
        composer = app.query_one(Composer)
        assert composer.has_focus and composer.text == "Restart the sevrer please"
        assert "✎ Editing your message" in screen_text(app)
        await pilot.press("ctrl+u")  # typed over, as an engineer fixes a typo
        await type_text(pilot, "Restart the server please")
        await settle(pilot)
        assert inbox.drafts.get(chat_id, "") == "", "the edit's text is no draft"
        await pilot.press("enter")
        await settle(pilot)
        conversation = app.query_one(Conversation)
        edited = next(m for m in conversation.messages if m.id == mine)
        assert edited.text == "Restart the server please" and edited.edit_date
        shown = screen_text(app)
        assert "Restart the server please" in shown and "(edited)" in shown
        assert "sevrer" not in shown and "✎ Editing" not in shown
        assert composer.text == "", "the composer is back to the (empty) draft"
        assert inbox.drafts.get(chat_id, "") == "", "the edit's text never became the draft"
        assert len([m for m in conversation.messages if m.out and "server" in m.text]) == 1


async def test_esc_cancels_an_edit_and_the_draft_comes_back(tmp_path: Path) -> None:
    desk = make_desk(tmp_path, config=Config(undo_send_seconds=0))
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        await settle(pilot)
        await _reply_and_select_it(pilot, app, "First answer")
        await pilot.press("escape")
        await type_text(pilot, "half a draft")
        await pilot.press("ctrl+up", "e")
        await settle(pilot)
        composer = app.query_one(Composer)
        assert composer.text == "First answer"
        await pilot.press("escape")
        await settle(pilot)
        assert composer.text == "half a draft" and "✎ Editing" not in screen_text(app)
        chat_id = desk.inbox.open_chat_id
        await pilot.press("ctrl+up", "e")  # editing again, then off to another chat
        await settle(pilot)
        assert composer.text == "First answer" and app.editing is not None
        await pilot.press("alt+down")
        await settle(pilot)
        assert desk.inbox.open_chat_id != chat_id and app.editing is None
        assert desk.inbox.drafts.get(chat_id) == "half a draft", "the draft, not the edit"
        assert "✎ Editing" not in screen_text(app)


async def test_a_customers_message_cannot_be_edited_or_deleted(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        await settle(pilot)
        conversation = app.query_one(Conversation)
        await pilot.press("up")
        await settle(pilot)
        selected = next(m for m in conversation.messages if m.id == conversation.selected_id)
        assert not selected.out
        await pilot.press("e", "d")
        await settle(pilot)
        assert _notified(app, "Only your own messages can be edited.")
        assert _notified(app, "Only your own messages can be deleted.")
        assert app.dialog is None and app.editing is None


async def test_d_then_one_key_deletes_our_message_for_everyone(tmp_path: Path) -> None:
    desk = make_desk(tmp_path, config=Config(undo_send_seconds=0))
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        await settle(pilot)
        mine = await _reply_and_select_it(pilot, app, "Wrong chat, sorry")
        await pilot.press("d")
        await settle(pilot)
        assert "for everyone?" in screen_text(app)
        await pilot.press("2")  # keep it
        await settle(pilot)
        conversation = app.query_one(Conversation)
        assert any(m.id == mine for m in conversation.messages)
        await pilot.press("up", "d", "1")
        await settle(pilot)
        assert not any(m.id == mine for m in conversation.messages)
        assert "Wrong chat, sorry" not in screen_text(app)
        assert _notified(app, "Deleted for everyone.")
        assert app.query_one(Composer).has_focus


# ------------------------------------------------------------------ the Telegram requests


async def test_edit_sends_edit_message_request_and_refusals_are_clear(paths: Paths) -> None:
    fake = world()
    source = await started(fake, paths)
    sent = await source.send(INITECH_ID, "Try turning it of", reply_to=None, random_id=5)
    edited = await source.edit(INITECH_ID, sent.id, "Try turning it off")
    request = fake.requests_named("EditMessageRequest")[-1]
    assert (request.id, request.message) == (sent.id, "Try turning it off")
    assert edited.text == "Try turning it off" and edited.edit_date
    with pytest.raises(SendError, match="the same as before"):
        await source.edit(INITECH_ID, sent.id, "Try turning it off")
    fake.fail_next("EditMessageRequest", errors.MessageEditTimeExpiredError(request=None))
    with pytest.raises(SendError, match="no longer lets you edit"):
        await source.edit(INITECH_ID, sent.id, "Try again")
    await source.stop()


async def test_delete_revokes_in_a_group_and_uses_the_channel_request_in_a_supergroup(
    paths: Paths,
) -> None:
    fake = world()
    source = await started(fake, paths)
    in_group = await source.send(INITECH_ID, "oops", reply_to=None, random_id=6)
    await source.delete(INITECH_ID, [in_group.id])
    plain = [r for r in fake.requests_named("DeleteMessagesRequest") if hasattr(r, "revoke")]
    assert [(r.id, r.revoke) for r in plain] == [([in_group.id], True)]
    assert not any(m.id == in_group.id for m in fake.history[INITECH_ID])
    in_channel = await source.send(ACME_ID, "oops", reply_to=None, random_id=7)
    await source.delete(ACME_ID, [in_channel.id])
    channel = [r for r in fake.requests_named("DeleteMessagesRequest") if hasattr(r, "channel")]
    assert [r.id for r in channel] == [[in_channel.id]]
    assert not any(m.id == in_channel.id for m in fake.history[ACME_ID])
    fake.fail_next("DeleteMessagesRequest", errors.MessageDeleteForbiddenError(request=None))
    with pytest.raises(SendError, match="does not let you delete"):
        await source.delete(ACME_ID, [1])
    customer = fake.history[ACME_ID][0]
    with pytest.raises(SendError, match="Only the author"):
        await source.delete(ACME_ID, [customer.id])
    await source.stop()


async def test_on_telegram_the_keys_send_reply_to_edit_and_delete_requests_once(
    paths: TmpPaths, tmp_path: Path
) -> None:
    fake = world()
    async with telegram_desk(fake, paths, tmp_path) as (pilot, app, _source):
        await open_chat(pilot, app, ACME_ID)
        conversation = app.query_one(Conversation)
        await pilot.press("up")  # the cursor on Alice's newest message
        await settle_tg(pilot)
        alice = conversation.selected_id
        await pilot.press("r")
        await type_text(pilot, "Looking at it now")  # type: ignore[arg-type]
        await pilot.press("enter")
        await until(pilot, lambda: fake.requests_named("SendMessageRequest"), "sent")
        (sent,) = fake.requests_named("SendMessageRequest")
        assert sent.reply_to.reply_to_msg_id == alice, "a reply to the selected message"
        await until(pilot, lambda: conversation.messages[-1].out, "the reply shown")
        mine = conversation.messages[-1].id
        fake.hangs.append("EditMessageRequest")  # the first save never gets an answer
        await pilot.press("up", "e", "ctrl+u")
        await type_text(pilot, "Looking at it right now")  # type: ignore[arg-type]
        await pilot.press("enter")
        await until(pilot, lambda: fake.requests_named("EditMessageRequest"), "edit sent")
        await pilot.press("enter")  # impatient: the same edit again
        await until(pilot, lambda: notified(app, "already being changed"), "refused")
        (edit,) = fake.requests_named("EditMessageRequest")
        assert (edit.id, edit.message) == (mine, "Looking at it right now"), "never twice"
        await app.inbox.stop()


async def test_on_telegram_refusals_of_an_edit_or_delete_are_one_clear_line(
    paths: TmpPaths, tmp_path: Path
) -> None:
    fake = world()
    async with telegram_desk(fake, paths, tmp_path) as (pilot, app, _source):
        await open_chat(pilot, app, ACME_ID)
        await type_text(pilot, "Hello Alice")  # type: ignore[arg-type]
        await pilot.press("enter")
        conversation = app.query_one(Conversation)
        await until(pilot, lambda: conversation.messages[-1].out, "the reply shown")
        fake.fail_next("EditMessageRequest", errors.MessageEditTimeExpiredError(request=None))
        await pilot.press("up", "e", "ctrl+u")
        await type_text(pilot, "Hello, Alice")  # type: ignore[arg-type]
        await pilot.press("enter")
        await until(pilot, lambda: notified(app, "Not edited: Telegram no longer lets"), "said")
        assert app.query_one(Composer).text == "Hello, Alice", "kept for another try"
        await pilot.press("escape", "ctrl+up")
        fake.fail_next("DeleteMessagesRequest", errors.MessageDeleteForbiddenError(request=None))
        await pilot.press("d", "1")
        await until(pilot, lambda: notified(app, "Not deleted: Telegram does not let"), "said")
        assert conversation.messages[-1].text == "Hello Alice", "still there"
        await pilot.press("ctrl+up", "d", "enter")
        await until(pilot, lambda: not conversation.messages[-1].out, "deleted")
        requests = fake.requests_named("DeleteMessagesRequest")
        assert len(requests) == 2 and all(hasattr(r, "channel") for r in requests), "a supergroup"
        assert not any(m.message == "Hello Alice" for m in fake.history[ACME_ID])


async def test_plus_reacts_to_the_selected_message_with_the_chosen_emoji(
    paths: TmpPaths, tmp_path: Path
) -> None:
    fake = world()
    async with telegram_desk(fake, paths, tmp_path) as (pilot, app, _source):
        await open_chat(pilot, app, ACME_ID)
        conversation = app.query_one(Conversation)
        await pilot.press("up", "up")
        await settle_tg(pilot)
        older = conversation.selected_id
        await pilot.press("plus")
        await settle_tg(pilot)
        assert "React with" in screen_text(app) and "🔥" in screen_text(app)
        await pilot.press("3")
        await until(pilot, lambda: notified(app, "Reacted 🔥"), "reacted")
        (request,) = fake.requests_named("SendReactionRequest")
        assert request.msg_id == older and [r.emoticon for r in request.reaction] == ["🔥"]
        fake.fail_next("SendReactionRequest", errors.ReactionInvalidError(request=None))
        await pilot.press("ctrl+up", "plus", "1")
        await until(pilot, lambda: notified(app, "No reaction: This reaction is not"), "said")
