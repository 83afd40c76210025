"""Keys that move between chats: next waiting, list order, slots, the switcher and views."""

from __future__ import annotations

from functools import lru_cache, partial

from ..core.rules import views
from ..core.rules.sanitize import clean_line
from ..core.rules.triage import format_bounded_wait
from .chat_list import ChatList
from .composer import Composer
from .conversation import Conversation
from .desk_base import DeskBase
from .keymap import MESSAGE_ACTIONS
from .screens import HelpScreen
from .switcher import Switcher


class DeskNavigation(DeskBase):
    """Keys that move between chats: next waiting, list order, slots, the switcher and views."""

    async def action_next_waiting(self) -> None:
        """Open the next waiting chat in triage order (a skipped one comes round after the rest)."""
        chat_id = self.inbox.walk_next()
        if chat_id is None:
            self.notify("Nobody is waiting for a reply.", timeout=3)
            return
        await self.open_chat(chat_id)

    async def action_next_chat(self) -> None:
        """Next chat in list order."""
        await self.open_chat(self.inbox.neighbour(self._current(), 1), reveal=True, join=False)

    async def action_prev_chat(self) -> None:
        """Previous chat in list order."""
        await self.open_chat(self.inbox.neighbour(self._current(), -1), reveal=True, join=False)

    async def action_open_slot(self, slot: int) -> None:
        """Open working-set slot 1..10."""
        chat_id = self.inbox.slots.get(slot)
        if chat_id is None:
            self.notify(f"Slot {slot % 10} is empty — open a chat to fill it.", timeout=3)
            return
        await self.open_chat(chat_id)

    def action_pin_slot(self) -> None:
        """Ask for a slot and pin the open chat there."""
        chat_id = self.inbox.open_chat_id
        if chat_id is None:
            self.notify("Open a chat first.", timeout=3)
            return
        choices = []
        for slot in range(1, 11):
            holder = self.inbox.slots.get(slot)
            title = self.inbox.chats[holder].title if holder in self.inbox.chats else "empty"
            choices.append((str(slot), f"{slot % 10}  {clean_line(title, 60)}"))
        self.choose("Pin to slot (press its digit)", choices, partial(self._pinned, chat_id))

    async def _pinned(self, chat_id: int, value: str | None) -> None:
        if value and value.isdigit():
            await self.inbox.pin(chat_id, int(value))

    async def action_unpin(self) -> None:
        """Take the open chat out of the working set."""
        chat_id = self.inbox.open_chat_id
        if chat_id is None:
            return
        slot = await self.inbox.unpin(chat_id)
        if slot is not None:
            self.notify(f"Removed from slot {slot % 10}.", timeout=2)

    async def action_switcher(self) -> None:
        """Fuzzy chat switcher (one dialog, kept and shown again: see tui/switcher.py)."""
        inbox = self.inbox
        titles = inbox.chats
        order = inbox.order(view=views.ALL)
        switcher = self.query_one(Switcher)
        if not switcher.lists(order, inbox.tracked_chats.version):
            chats = [(chat_id, _switcher_title(titles[chat_id].title), "") for chat_id in order]
            switcher.keep(chats, order, inbox.tracked_chats.version)
        switcher.ask(self._switched, self._waited)

    def _waited(self, chat_id: int) -> str:
        """The switcher's note on a chat: how long its customer has waited."""
        wait = self.inbox.wait(chat_id)
        if wait is None:
            return ""
        return f"waiting {format_bounded_wait(wait, self.inbox.wait_bounded(chat_id))}"

    async def _switched(self, chat_id: int | None) -> None:
        if chat_id:
            await self.open_chat(chat_id)

    def action_back_to_list(self) -> None:
        """Back to the list (keeps the chat open on the right); from a composer replying to a
        message, Esc first cancels that reply."""
        if isinstance(self.focused, Composer) and self.cancel_reply():
            return
        self.query_one(ChatList).focus()

    def action_focus_composer(self) -> None:
        """Focus the composer of the open chat."""
        if self.inbox.open_chat_id is not None:
            self.query_one(Composer).focus()

    async def action_send_next(self) -> None:
        """Send the reply, then jump to the next waiting chat (in note mode: save the note)."""
        if self.query_one(Composer).note_mode:
            await self._save_note(self.query_one(Composer).text)
            return
        if await self._send(self.query_one(Composer).text):
            next_id = self.inbox.walk_next()
            if next_id is not None:
                await self.open_chat(next_id)
            else:
                self.notify("Sent. Nobody else is waiting.", timeout=3)

    def _show_view(self, view: views.View) -> None:
        """Switch the list to `view`, cursor on its first chat."""
        self.inbox.set_view(view)
        chat_list = self.query_one(ChatList)
        chat_list.set_order(self.inbox.order())
        chat_list.action_cursor_to(0)
        chat_list.update_rows(None)
        self._refresh_panels()

    def action_next_view(self) -> None:
        """Cycle to the next view of the list."""
        inbox = self.inbox
        self._show_view(views.step(inbox.view, inbox.all_tags(), 1, inbox.any_marked_unread()))

    def action_prev_view(self) -> None:
        """Cycle to the previous view of the list."""
        inbox = self.inbox
        self._show_view(views.step(inbox.view, inbox.all_tags(), -1, inbox.any_marked_unread()))

    def action_choose_view(self) -> None:
        """Pick a view from the list of views with their counts."""
        counts = self.inbox.view_counts()
        choices = []
        for n, (view, count) in enumerate(counts.items(), start=1):
            key = f"{n % 10}" if n <= 10 else " "
            current = "  ◂" if view == self.inbox.view else ""
            label = f"{key}  {clean_line(view.label, 40)} ({count}){current}"
            choices.append((f"{view.kind.value}:{view.tag or ''}", label))
        self.choose("Show which chats?", choices, self._view_chosen)

    def _view_chosen(self, value: str | None) -> None:
        if not value:
            return
        kind, _, tag = value.partition(":")
        self._show_view(views.View(views.ViewKind(kind), tag or None))

    def action_help(self) -> None:
        """Show every key (message mode's first while it is on)."""
        in_message_mode = self.query_one(Conversation).selected_id is not None
        first = MESSAGE_ACTIONS[0].group if in_message_mode else None
        self.push_screen(HelpScreen(self.user_keymap, first_group=first))

    def action_stats(self) -> None:
        """Open the reply-time stats of the live store (computed afresh each time), or close them."""
        from ..core.reports.stats import inbox_stats
        from .stats import StatsScreen

        if isinstance(self.screen, StatsScreen):
            self.pop_screen()
            return
        self.push_screen(StatsScreen(partial(inbox_stats, self.inbox)))


@lru_cache(maxsize=1 << 16)
def _switcher_title(title: str) -> str:
    """A chat title made safe for the switcher, kept (every chat's, per Ctrl+K).

    Room for many more titles than a desk has chats: Ctrl+K asks for all of them in the
    same order each time, and a least-recently-used cache one title too small for that
    forgets each title just before it is asked for again.
    """
    return clean_line(title, 80)
