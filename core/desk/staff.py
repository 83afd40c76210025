"""Who counts as staff on the desk: the account, configured teammates, the source's own and the
team room's members (core/desk/team.py); a change re-derives every chat's waiting state."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import TYPE_CHECKING

from ..rules import triage
from .changes import Changes
from .queries import InboxQueries

if TYPE_CHECKING:
    from ..sources.base import ChatSource
    from .applier import EventApplier


class InboxStaff(InboxQueries):
    """The staff rule of an Inbox and re-triage when the team room adds members."""

    _retriage_due: bool

    if TYPE_CHECKING:  # provided by the Inbox (core/desk/inbox.py)
        source: ChatSource
        applier: EventApplier

        def emit(self, changes: Changes) -> None: ...

        def spawn(self, coro: Coroutine[object, object, object]) -> None: ...

    def _set_rule(self, me_id: int) -> None:
        """Rebuild the staff rule from the account, the source's teammates and the config."""
        staff = {int(x) for x in self.config.staff.ids if isinstance(x, int) or str(x).isdigit()}
        ignore = {
            int(x) for x in self.config.staff.ignore if isinstance(x, int) or str(x).isdigit()
        }
        with contextlib.suppress(Exception):
            staff |= set(self.source.staff_ids())
        staff |= self.team.members
        self._rule = triage.StaffRule(
            me_id=me_id, staff_ids=frozenset(staff), ignore_ids=frozenset(ignore)
        )

    def team_members_changed(self) -> None:
        """The team room's members changed (listed, or a new one spoke): members are staff, so
        every chat's waiting state is derived again (once for a burst of changes)."""
        self._set_rule(self._rule.me_id)
        if not self._retriage_due:
            self._retriage_due = True
            self.spawn(self._retriage())

    async def _retriage(self) -> None:
        """Derive every chat's summary again under the current staff rule."""
        await asyncio.sleep(0)  # a catch-up's other new members first
        self._retriage_due = False
        for chat_id in list(self.triage):
            await self.applier.recompute(chat_id)
        self.emit(Changes(order=True, chats=set(self.triage)))
