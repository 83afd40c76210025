"""O in message mode (issue 16): the selected message's photo or file is downloaded and opened
through the download path (core/desk/downloads.py), a ticket it mentions opens in the browser
(core/system/open_url.py), and with both (or several tickets) the desk asks which."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from tgtriage.core.desk import events as ev
from tgtriage.core.desk.models import Media, Message, User
from tgtriage.core.rules import message_cursor as mc
from tgtriage.core.system.config import Config, Tickets
from tgtriage.core.system.open_url import UrlOpener
from tgtriage.tui.conversation import Conversation
from tgtriage.tui.dialogs import ChoiceDialog

from tests.desk_harness import make_desk, run_desk, settle, wait_for
from tests.fake_tl import photo
from tests.telegram_world import ACME_ID, ALICE, world
from tests.test_telegram_desk import (
    TmpPaths,
    notified,
    open_chat,
    telegram_desk,
    until,
    write_fake_opener,
)
from tests.test_telegram_desk import paths as paths
from tests.test_workflow_keys import say

JIRA = "https://jira.example.com/browse/{ticket}"


def test_openable_lists_the_file_first_then_the_tickets_in_the_order_written() -> None:
    tickets = Tickets(url=JIRA)
    plain = Message(chat_id=1, id=1, date=0, text="thanks, all good")
    assert mc.openable(plain, tickets) == []
    mentions = plain.model_copy(update={"text": "see OPS-12 and #4821, not CVE-2024-1234"})
    assert mc.openable(mentions, tickets) == ["OPS-12", "#4821"]
    shot = mentions.model_copy(update={"media": Media(kind="photo")})
    assert mc.openable(shot, tickets) == [mc.FILE, "OPS-12", "#4821"]
    poll = plain.model_copy(update={"media": Media(kind="poll")})
    assert mc.openable(poll, tickets) == [], "a poll is no file"


async def test_o_opens_the_ticket_the_selected_message_mentions(tmp_path: Path) -> None:
    opened: list[list[str]] = []
    desk = make_desk(tmp_path, config=Config(undo_send_seconds=0, tickets={"url": JIRA}))
    desk.app.url_opener = UrlOpener({"DISPLAY": ":0"}, "/usr/bin/xdg-open", opened.append)
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        await settle(pilot)
        chat_id = inbox.open_chat_id
        assert chat_id is not None
        await say(desk, chat_id, "it broke again, see JIRA-7 and also OPS-9", ago=0)
        conversation = app.query_one(Conversation)
        await wait_for(pilot, lambda: "JIRA-7" in conversation.messages[-1].text, "the mention")
        await pilot.press("up", "up")  # an older message: no file, no ticket
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert opened == []
        assert any("Nothing to open" in n.message for n in app._notifications)
        await pilot.press("down", "o")
        await settle(pilot)
        assert isinstance(app.dialog, ChoiceDialog), "two tickets: choose"
        await pilot.press("2")
        await settle(pilot)
        assert opened == [["/usr/bin/xdg-open", "https://jira.example.com/browse/OPS-9"]]


async def test_o_on_a_demo_file_says_files_come_from_telegram_only(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        await settle(pilot)
        conversation = app.query_one(Conversation)
        chat_id = desk.inbox.open_chat_id
        assert chat_id is not None
        shot = Message(
            chat_id=chat_id,
            id=conversation.messages[-1].id + 1,
            date=int(desk.clock.now),
            sender_id=880_001,
            sender_name="Casey",
            media=Media(kind="photo"),
        )
        desk.inbox.submit(ev.NewMessage(shot, User(id=880_001, first_name="Casey")))
        await wait_for(pilot, lambda: conversation.messages[-1].id == shot.id, "the photo")
        await pilot.press("up", "o")
        await settle(pilot)
        assert any("only be downloaded from Telegram" in n.message for n in app._notifications)


async def test_o_downloads_the_selected_photo_and_opens_it_with_a_display(
    paths: TmpPaths,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = tmp_path / "opened.txt"
    write_fake_opener(tmp_path / "bin", log)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DISPLAY", ":0")
    fake = world()
    fake.message(ACME_ID, "screenshot of the error", sender=ALICE, media=photo())
    fake.message(ACME_ID, "any idea?", sender=ALICE)
    async with telegram_desk(fake, paths, tmp_path) as (pilot, app, _source):
        await until(pilot, lambda: app.inbox.triage[ACME_ID].last_msg_id == 4, "the messages")
        await open_chat(pilot, app, ACME_ID)
        await app.run_action("message_mode")
        await pilot.press("up")  # from "any idea?" to the screenshot
        await pilot.pause()
        await pilot.press("o")
        await until(pilot, lambda: log.exists(), "xdg-open to run")
        assert log.read_text().strip().endswith("photo-1000000000077-3.jpg")
        assert (paths.downloads / "photo-1000000000077-3.jpg").read_bytes() == b"fake media bytes"
        assert not notified(app, "Nothing to open")
