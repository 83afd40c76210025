"""Messages, folds and chat summaries shared by the hand-made triage rule tests."""

from __future__ import annotations

from collections.abc import Sequence

from tgtriage.core.desk.models import ChatTriage, Media, Message, Status
from tgtriage.core.rules import triage
from tgtriage.core.rules.triage import StaffRule

CHAT = -1001
ME = 1
MATE = 2  # a teammate from config
BOT = 3  # an ignored bot
ALICE = 100  # customers
BOB = 101
RULE = StaffRule(me_id=ME, staff_ids=frozenset({MATE}), ignore_ids=frozenset({BOT}))
LEVELS = (300, 900, 3600)
T0 = 1_700_000_000


def msg(
    id: int,
    sender: int | None,
    at: int,
    text: str = "hi",
    *,
    out: bool = False,
    service: bool = False,
    chat_id: int = CHAT,
    media: Media | None = None,
) -> Message:
    """A message at T0 + `at` seconds."""
    return Message(
        chat_id=chat_id,
        id=id,
        date=T0 + at,
        sender_id=sender,
        text=text,
        out=out or sender == ME,
        service=service,
        media=media,
    )


def fold(messages: Sequence[Message], state: ChatTriage | None = None) -> ChatTriage:
    """Apply messages one by one, as the Inbox does when they arrive."""
    state = state or ChatTriage(chat_id=CHAT)
    for message in messages:
        state = triage.apply_message(state, message, RULE.role(message))
    return state


def waiting(
    chat_id: int,
    since: int,
    *,
    activity: int | None = None,
    status: Status = Status.OPEN,
    until: int | None = None,
    override: tuple[int, int, int] | None = None,
) -> ChatTriage:
    """A summary of a chat whose customer waits since `since`."""
    return ChatTriage(
        chat_id=chat_id,
        last_msg_id=10,
        last_activity=activity if activity is not None else since,
        waiting_since=since,
        waiting_msg_id=10,
        status=status,
        postponed_until=until,
        levels_override=override,
    )


def quiet(
    chat_id: int, activity: int, *, status: Status = Status.OPEN, until: int | None = None
) -> ChatTriage:
    """A summary of a chat nobody waits in."""
    return ChatTriage(
        chat_id=chat_id,
        last_msg_id=10,
        last_activity=activity,
        status=status,
        postponed_until=until,
    )
