"""Forum supergroups: where a reply without an explicit target goes (a pure rule)."""

from __future__ import annotations

from ..desk.models import Chat, ChatTriage


def reply_anchor(chat: Chat, state: ChatTriage | None) -> int | None:
    """The message a reply answers when the engineer did not pick one, or None.

    In a forum every message lives in a topic, and a message sent without a reply header lands
    in General. So a reply there answers the customer's waiting message (else the chat's latest
    message), which puts it in that message's topic. Other chats need no anchor.
    """
    if chat.kind != "forum" or state is None:
        return None
    return state.waiting_msg_id or state.last_msg_id or None
