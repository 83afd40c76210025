"""Mark unread (issue 16): Alt+Shift+U marks a chat unread as a to-do — ◉ in its row, its own
view, kept in the store, sent to Telegram (MarkDialogUnreadRequest) — and a mark set on the
phone shows here; opening the chat clears the mark, here and in Telegram."""

from __future__ import annotations

from pathlib import Path

from telethon import errors, utils
from telethon.tl import types
from tgtriage.core.rules.views import View, ViewKind

from tests.desk_harness import make_desk, row_text, run_desk, screen_text, settle
from tests.telegram_world import ACME_ID, FORUM_ID, INITECH_ID, world
from tests.test_telegram_desk import (
    TmpPaths,
    _utc,
    notified,
    open_chat,
    paths,
    telegram_desk,
    until,
)

__all__ = ["_utc", "paths"]  # the Telegram desk's fixtures: data in tmp, times in UTC


async def test_alt_shift_u_marks_the_chat_unread_in_its_own_view_and_opening_clears_it(
    tmp_path: Path,
) -> None:
    desk = make_desk(tmp_path)
    async with run_desk(desk) as pilot:
        app, inbox = desk.app, desk.inbox
        await pilot.press("ctrl+n")
        await settle(pilot)
        marked = inbox.open_chat_id
        assert marked is not None and "◉" not in row_text(app, marked)
        await pilot.press("alt+shift+u")
        await settle(pilot)
        assert "◉" in row_text(app, marked), "the row shows the mark"
        await inbox.flushed()
        assert (await inbox.store.load_triage())[marked].unread_mark, "kept across restarts"
        assert inbox.order(view=View(ViewKind.UNREAD)) == [marked], "its own view"
        await pilot.press("alt+v")
        await settle(pilot)
        assert "Marked unread (1)" in screen_text(app), "offered with its count"
        await pilot.press("escape")
        await pilot.press("ctrl+n")  # on to the next waiting chat: the mark stays
        await settle(pilot)
        assert inbox.open_chat_id != marked and "◉" in row_text(app, marked)
        await app.open_chat(marked)
        await settle(pilot)
        assert "◉" not in row_text(app, marked), "opening the chat read it"
        assert not inbox.triage[marked].unread_mark
        await pilot.press("alt+shift+u", "alt+shift+u")  # marked, and read again
        await settle(pilot)
        assert not inbox.triage[marked].unread_mark


async def test_the_mark_goes_to_telegram_and_comes_from_the_phone(
    paths: TmpPaths, tmp_path: Path
) -> None:
    fake = world()
    fake.dialog_meta[FORUM_ID]["unread_mark"] = True  # marked on the phone before the desk started
    async with telegram_desk(fake, paths, tmp_path) as (pilot, app, _source):
        await until(pilot, lambda: "◉" in row_text(app, FORUM_ID), "the phone's mark at start")
        await open_chat(pilot, app, ACME_ID)
        await pilot.press("alt+shift+u")
        await until(pilot, lambda: fake.requests_named("MarkDialogUnreadRequest"), "the request")
        (request,) = fake.requests_named("MarkDialogUnreadRequest")
        assert request.unread is True
        assert utils.get_peer_id(request.peer.peer) == ACME_ID
        assert "◉" in row_text(app, ACME_ID)

        update = types.UpdateDialogUnreadMark(
            peer=types.DialogPeer(types.PeerChat(42)), unread=True
        )
        await fake.deliver(update)
        await until(pilot, lambda: "◉" in row_text(app, INITECH_ID), "the phone's mark, live")

        await open_chat(pilot, app, INITECH_ID)
        await until(pilot, lambda: len(fake.requests_named("MarkDialogUnreadRequest")) == 2, "read")
        assert fake.requests_named("MarkDialogUnreadRequest")[-1].unread is False
        assert "◉" not in row_text(app, INITECH_ID)

        fake.fail_next("MarkDialogUnreadRequest", errors.PeerIdInvalidError(request=None))
        await open_chat(pilot, app, ACME_ID)  # clears Acme's mark: Telegram refuses it
        await until(pilot, lambda: notified(app, "Marked here only"), "the failure shown")
        assert not app.inbox.triage[ACME_ID].unread_mark
