"""Message mode's keys: bound on the conversation while it holds the message cursor."""

from __future__ import annotations

from .key_action import Action

# Message mode's keys, bound on the conversation while it has the cursor (tui/conversation.py):
# they act on the selected message, through the desk's actions (tui/desk_messages.py).
MESSAGE_ACTIONS: tuple[Action, ...] = (
    Action(
        "msg_up",
        "up,k",
        "cursor('up')",
        "Cursor to the older message",
        "Message mode",
        priority=False,
        key_display="↑",
    ),
    Action(
        "msg_down",
        "down,j",
        "cursor('down')",
        "Cursor to the newer message",
        "Message mode",
        priority=False,
        key_display="↓",
    ),
    Action(
        "msg_page_up",
        "pageup",
        "cursor('pageup')",
        "Cursor a page up",
        "Message mode",
        priority=False,
        key_display="PgUp",
    ),
    Action(
        "msg_page_down",
        "pagedown",
        "cursor('pagedown')",
        "Cursor a page down",
        "Message mode",
        priority=False,
        key_display="PgDn",
    ),
    Action(
        "msg_first",
        "home",
        "cursor('home')",
        "Cursor to the oldest message held",
        "Message mode",
        priority=False,
        key_display="Home",
    ),
    Action(
        "msg_last",
        "end",
        "cursor('end')",
        "Cursor to the newest message",
        "Message mode",
        priority=False,
        key_display="End",
    ),
    Action(
        "msg_reply",
        "r",
        "app.message_reply",
        "Reply to it (quoted above the composer)",
        "Message mode",
        show=True,
        priority=False,
        key_display="R",
    ),
    Action(
        "msg_copy",
        "c",
        "app.message_copy",
        "Copy its text (OSC 52: works over SSH)",
        "Message mode",
        show=True,
        priority=False,
        key_display="C",
    ),
    Action(
        "msg_leave",
        "escape",
        "app.message_leave",
        "Back to the composer",
        "Message mode",
        show=True,
        priority=False,
        key_display="Esc",
    ),
)
