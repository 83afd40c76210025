"""Keys that change a chat's state: handled, postponed, closed, failed replies and files."""

from __future__ import annotations

import os
import subprocess
import time
from functools import partial

from textual import work

from ..core.desk.downloads import Opening, media_messages, opening
from ..core.desk.models import Message, OutboxItem, OutboxState
from ..core.rules.desk_choices import typed_value
from ..core.rules.postpone import choice_labels
from ..core.rules.sanitize import clean_line
from ..core.system.paths import ensure_private_dir
from .composer import Composer
from .conversation import Conversation
from .desk_base import DeskBase
from .message_view import (
    clock,
    media_placeholder,
)


class DeskStatus(DeskBase):
    """Keys that change a chat's state: handled, postponed, closed, failed replies and files."""

    async def action_handled(self) -> None:
        """Mark the open (or highlighted) chat handled: no reply needed."""
        chat_id = self._current()
        if chat_id is not None:
            await self.inbox.mark_handled(chat_id)
            self.notify("Marked handled — it waits again when the customer writes.", timeout=3)

    def action_mark_unread(self) -> None:
        """Mark the open (or highlighted) chat unread by hand, or clear the mark it has."""
        chat_id = self._current()
        if chat_id is None or chat_id not in self.inbox.triage:
            return
        marked = not self.inbox.triage[chat_id].unread_mark
        self.inbox.mark_unread(chat_id, marked)
        if marked:
            self.notify("Marked unread ◉ — opening the chat again clears the mark.", timeout=3)
        else:
            self.notify("Marked read.", timeout=3)

    async def action_claim(self) -> None:
        """Take the open chat in the team room (the row then shows `✋ you`)."""
        chat_id = self._current()
        team = self.inbox.team
        if chat_id is None:
            return
        if not team.active:
            self.notify(team.problem or "No team room: set [team] room in the config.", timeout=4)
            return
        claim = team.held_by_other(chat_id)
        if claim is not None:
            self.notify(f"{team.name(claim.owner)} has this chat already.", timeout=4, markup=False)
            return
        if await team.claim(chat_id) is not None:
            self.notify("Taking it — the team room says so in a moment.", timeout=3)

    def action_hand_off(self) -> None:
        """Choose a teammate from the room's members and hand them the open chat."""
        chat_id = self._current()
        team = self.inbox.team
        if chat_id is None or not team.active:
            self.notify(team.problem or "Open a chat (and set [team] room) first.", timeout=4)
            return
        me = self.inbox.me.id if self.inbox.me else None
        mates = sorted((team.name(m), m) for m in team.members if m != me)
        if not mates:
            self.notify("Nobody else has written in the team room yet.", timeout=4)
            return
        choices = [(str(m), clean_line(name, 40)) for name, m in mates]
        title = f"Hand {clean_line(self.inbox.chats[chat_id].title, 40)} to…"
        self.choose(title, choices, partial(self._handed, chat_id))

    async def _handed(self, chat_id: int, value: str | None) -> None:
        if not value or not value.lstrip("-").isdigit():
            return
        composer = self.query_one(Composer)
        note = "" if composer.note_mode else composer.text.strip()
        if await self.inbox.team.hand_off(chat_id, int(value), note) is not None:
            if note:
                composer.load("")
                self.inbox.set_draft(chat_id, "")
            name = self.inbox.team.name(int(value))
            self.notify(f"Handed to {name}.", timeout=3, markup=False)

    def action_postpone(self) -> None:
        """Choose how long to postpone the chat."""
        chat_id = self._current()
        if chat_id is None:
            return
        config = self.inbox.config
        choices = choice_labels(
            self.inbox.now(),
            config.business_hours.timezone,
            config.postpone.tomorrow_at,
            config.business_hours,
        )
        prompt = "16:30, 45m, 3h, 2d, fri, 2024-03-08 — Enter"
        self.choose("Postpone until…", choices, partial(self._postponed, chat_id), prompt)

    async def _postponed(self, chat_id: int, value: str | None) -> None:
        if not value:
            return
        try:
            until = self._time_from_text(typed_value(value))
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        await self.inbox.postpone(chat_id, until)
        self.notify(
            "Postponed until " + time.strftime("%a %H:%M", time.localtime(until)), timeout=3
        )

    async def action_close_chat(self) -> None:
        """Close the chat until the customer writes again."""
        chat_id = self._current()
        if chat_id is not None:
            await self.inbox.close(chat_id)

    async def action_reopen(self) -> None:
        """Reopen a parked chat."""
        chat_id = self._current()
        if chat_id is not None:
            await self.inbox.reopen(chat_id)

    async def action_retry(self) -> None:
        """Retry the failed reply in the open chat."""
        failed = self._failed_here()
        if failed is None:
            self.notify("No failed reply in this chat.", timeout=2)
            return
        await self.inbox.retry(failed.local_id)

    async def action_discard(self) -> None:
        """Discard the failed reply, putting its text back into the composer."""
        failed = self._failed_here()
        if failed is None:
            return
        text = await self.inbox.discard(failed.local_id)
        if text:
            self.query_one(Composer).load(text)

    async def action_undo_send(self) -> None:
        """Alt+Z: take back the reply sent last while it waits to leave; its text is the draft."""
        self.query_one(Composer).flush_edits()  # what was typed since joins the text taken back
        item = self.inbox.undo_send()
        if item is None:
            self.notify("Nothing to take back: no reply is waiting to leave.", timeout=3)
            return
        target = self.inbox.chosen_reply_target(item)
        if target is not None:  # it answered a message: sent again, it answers it still
            self.reply_targets.setdefault(item.chat_id, target)
        if self.inbox.open_chat_id != item.chat_id:
            await self.open_chat(item.chat_id)
        else:
            self._reload_draft(item.chat_id)
            self._show_reply_quote(item.chat_id)
            self.query_one(Composer).focus()
        self.notify("Not sent — the reply is back in the composer.", timeout=3)

    def _failed_here(self) -> OutboxItem | None:
        """The first failed reply of the open chat."""
        chat_id = self.inbox.open_chat_id
        for item in self.inbox.outbox.get(chat_id or 0, []):
            if item.state is OutboxState.FAILED:
                return item
        return None

    def action_download_media(self) -> None:
        """Download a file of the open chat: the only one shown, or the one chosen by digit."""
        chat_id = self.inbox.open_chat_id
        if chat_id is None:
            self.notify("Open a chat first.", timeout=3)
            return
        if not self._can_download_or_say():
            return
        found = media_messages(self.query_one(Conversation).messages)
        if not found:
            self.notify("No photo or file in the messages shown here.", timeout=3)
            return
        if len(found) == 1:
            self._download(found[0])
            return
        by_id = {str(m.id): m for m in found}
        choices = [
            (
                str(m.id),
                f"{n}  {media_placeholder(m.media)}  "  # type: ignore[arg-type]
                f"{clean_line(self.inbox.sender_name(m), 24)} · {clock(m.date)}",
            )
            for n, m in enumerate(found, start=1)
        ]
        self.choose(
            "Download which file? (newest first, press its digit)",
            choices,
            partial(self._download_chosen, by_id),
        )

    def _can_download_or_say(self) -> bool:
        """Whether the source downloads files; if not, the desk says so."""
        if self.inbox.can_download():
            return True
        self.notify(
            f"Files can only be downloaded from Telegram, not from the {self.source_label}.",
            timeout=4,
        )
        return False

    def _download_or_say(self, message: Message) -> None:
        """Download a message's file and open it (O in message mode), or say why not."""
        if self._can_download_or_say():
            self._download(message)

    def _download_chosen(self, by_id: dict[str, Message], value: str | None) -> None:
        if value in by_id:
            self._download(by_id[value])

    @work(group="download")
    async def _download(self, message: Message) -> None:
        """Save a message's file into the downloads folder, then open it or say where it is."""
        assert message.media is not None
        placeholder = media_placeholder(message.media)
        self.notify(f"Downloading {placeholder}…", timeout=3, markup=False)
        target = ensure_private_dir(self.paths.downloads_dir)
        try:
            path = await self.inbox.download_media(message.chat_id, message.id, target)
        except Exception as exc:
            self.notify(
                f"Could not download {placeholder}: {exc}. Alt+M tries again.",
                severity="error",
                timeout=8,
                markup=False,
            )
            return
        how = opening(path, os.environ)
        if how.command is not None:
            try:
                subprocess.Popen(
                    how.command,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            except OSError as exc:
                how = Opening(None, f"xdg-open failed ({exc})")
        said = "Opened" if how.command is not None else f"Saved ({how.reason})"
        self.notify(f"{said}: {path}", title="Download", timeout=12, markup=False)
