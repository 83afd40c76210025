"""One registry of the desk's actions → default keys → bindings, palette commands and help."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from textual.binding import Binding

from ..core.system.keys import key_problems
from .key_action import Action
from .key_action import display_keys as display_keys  # the footer and help use them as keymap's
from .key_action import key_label as key_label
from .message_keys import MESSAGE_ACTIONS

# Alt+1 … Alt+0. A terminal sends ESC+digit, which tui/textual_compat/ reads as these keys
# (Textual alone reads it as the characters ¡ ™ £ ¢ ∞ § ¶ • ª º, which must stay typeable text).
ALT_DIGIT_KEYS: dict[int, str] = {slot: f"alt+{slot % 10}" for slot in range(1, 11)}


def _slot_actions() -> list[Action]:
    """Alt+1 … Alt+0: open working-set slot 1 … 10."""
    return [
        Action(
            id=f"slot_{slot % 10}",
            keys=keys,
            action=f"open_slot({slot})",
            description=f"Open working-set slot {slot}",
            group="Working set",
            key_display=f"Alt+{slot % 10}",
        )
        for slot, keys in ALT_DIGIT_KEYS.items()
    ]


ACTIONS: tuple[Action, ...] = (
    Action(
        "next_waiting",
        "ctrl+n",
        "next_waiting",
        "Next waiting chat in triage order after the open one",
        "Navigate",
        show=True,
        key_display="^N",
    ),
    Action(
        "next_chat",
        "alt+down",
        "next_chat",
        "Next chat in list order",
        "Navigate",
        key_display="Alt+↓",
    ),
    Action(
        "prev_chat",
        "alt+up",
        "prev_chat",
        "Previous chat in list order",
        "Navigate",
        key_display="Alt+↑",
    ),
    Action(
        "switcher",
        "ctrl+k",
        "switcher",
        "Find a chat by name (fuzzy)",
        "Navigate",
        show=True,
        key_display="^K",
    ),
    Action(
        "search",
        "ctrl+f",
        "search",
        'Search every message (from: in: before: after: "phrase")',
        "Navigate",
        key_display="^F",
    ),
    Action(
        "search_slash",
        "slash",
        "search",
        "Search every message (outside the composer)",
        "Navigate",
        priority=False,
        key_display="/",
    ),
    Action(
        "customer_history",
        "alt+u",
        "customer_history",
        "Customer history: everything they wrote, in every chat",
        "Chat",
        key_display="Alt+U",
    ),
    Action(
        "back",
        "escape",
        "back_to_list",
        "Back to the chat list",
        "Navigate",
        priority=False,
        key_display="Esc",
    ),
    Action(
        "message_mode",
        "ctrl+up",
        "message_mode",
        "Message mode: a cursor on the conversation's messages (also ↑ on an empty composer)",
        "Chat",
        key_display="^↑",
    ),
    Action(
        "focus_composer",
        "ctrl+r",
        "focus_composer",
        "Reply: focus the composer",
        "Navigate",
        key_display="^R",
    ),
    *_slot_actions(),
    Action(
        "pin_slot",
        "alt+w",
        "pin_slot",
        "Pin the open chat to a slot you choose",
        "Working set",
        key_display="Alt+W",
    ),
    Action(
        "unpin",
        "ctrl+w",
        "unpin",
        "Take the open chat out of the working set",
        "Working set",
        key_display="^W",
    ),
    Action(
        "send_next",
        "ctrl+s",
        "send_next",
        "Send, then open the next waiting chat",
        "Reply",
        show=True,
        key_display="^S",
    ),
    Action(
        "clear_composer",
        "ctrl+u",
        "clear_composer",
        "Clear the composer at once (Ctrl+Z brings the text back)",
        "Reply",
        key_display="^U",
    ),
    Action(
        "templates",
        "ctrl+t",
        "templates",
        "Insert a canned reply (browse with preview)",
        "Reply",
        show=True,
        key_display="^T",
    ),
    Action(
        "reload_templates",
        "alt+t",
        "reload_templates",
        "Reload the template files",
        "Reply",
        key_display="Alt+T",
    ),
    Action(
        "undo_send",
        "alt+z",
        "undo_send",
        "Undo send: the reply still waiting to leave goes back to the composer",
        "Reply",
        key_display="Alt+Z",
    ),
    Action(
        "retry",
        "alt+r",
        "retry",
        "Retry the failed reply in this chat",
        "Reply",
        key_display="Alt+R",
    ),
    Action(
        "discard",
        "alt+x",
        "discard",
        "Discard the failed reply (text back to composer)",
        "Reply",
        key_display="Alt+X",
    ),
    Action(
        "claim",
        "alt+a",
        "claim",
        "Take the chat for you in the team room (✋)",
        "Triage",
        key_display="Alt+A",
    ),
    Action(
        "hand_off",
        "alt+shift+a",
        "hand_off",
        "Hand the chat to a teammate (the composer's text goes along as a note)",
        "Triage",
        key_display="Alt+Shift+A",
    ),
    Action(
        "handled",
        "alt+h",
        "handled",
        "Mark handled: no reply needed",
        "Triage",
        show=True,
        key_display="Alt+H",
    ),
    Action(
        "postpone",
        "alt+p",
        "postpone",
        "Postpone the chat (15 min, 1 h, tomorrow, custom)",
        "Triage",
        show=True,
        key_display="Alt+P",
    ),
    Action(
        "close_chat",
        "alt+c",
        "close_chat",
        "Close the chat until the customer writes again",
        "Triage",
        key_display="Alt+C",
    ),
    Action(
        "reopen",
        "alt+o",
        "reopen",
        "Reopen a postponed, closed or in-development chat",
        "Triage",
        key_display="Alt+O",
    ),
    Action(
        "mark_unread",
        "alt+shift+u",
        "mark_unread",
        "Mark the chat unread ◉ (a to-do; opening it clears it) — again: read",
        "Triage",
        key_display="Alt+Shift+U",
    ),
    Action(
        "download_media",
        "alt+m",
        "download_media",
        "Media: download a photo or file of this chat (and open it)",
        "Chat",
        key_display="Alt+M",
    ),
    Action(
        "in_development",
        "alt+d",
        "in_development",
        "In development: ticket and due date (reminds you then)",
        "Triage",
        key_display="Alt+D",
    ),
    Action(
        "open_ticket",
        "alt+j",
        "open_ticket",
        "Open the chat's ticket (or show its URL over SSH)",
        "Triage",
        key_display="Alt+J",
    ),
    Action(
        "tags",
        "alt+g",
        "tags",
        "Tag the chat (completed from the tags in use)",
        "Triage",
        key_display="Alt+G",
    ),
    Action(
        "targets",
        "alt+l",
        "targets",
        "Response targets of this chat (VIP 2/5/15 min…)",
        "Triage",
        key_display="Alt+L",
    ),
    Action(
        "note_mode",
        "alt+n",
        "note_mode",
        "Note mode: an internal note, never sent",
        "Reply",
        key_display="Alt+N",
    ),
    Action(
        "delete_note",
        "alt+shift+n",
        "delete_note",
        "Delete one of this chat's notes",
        "Reply",
        key_display="Alt+Shift+N",
    ),
    Action(
        "next_view",
        "f3",
        "next_view",
        "Next view: All, Waiting, Working set, … by tag",
        "Views",
        key_display="F3",
    ),
    Action(
        "prev_view",
        "shift+f3,alt+shift+v",
        "prev_view",
        "Previous view of the list",
        "Views",
        # xterm and tmux send Shift+F3 as ESC [1;2R, which Textual reads as a cursor report.
        key_display="Alt+Shift+V / Shift+F3",
    ),
    Action(
        "choose_view",
        "alt+v",
        "choose_view",
        "Choose a view of the list, with counts",
        "Views",
        key_display="Alt+V",
    ),
    Action("help", "f1", "help", "Keys and what they do", "Desk", show=True, key_display="F1"),
    Action(
        "stats",
        "f4",
        "stats",
        "Reply-time stats: today, 7 days, 30 days",
        "Desk",
        key_display="F4",
    ),
    Action("quit", "ctrl+q", "quit", "Quit tgtriage", "Desk", key_display="^Q"),
)

# The login screen's own keys (Enter submits the field). Not desk bindings: the login screen
# binds them itself, but they share the registry so [keys] can remap them too.
LOGIN_ACTIONS: tuple[Action, ...] = (
    Action(
        "login_qr",
        "f2",
        "toggle_qr",
        "QR code / phone number",
        "Login",
        show=True,
        priority=False,
        key_display="F2",
    ),
    Action(
        "login_resend",
        "f3",
        "resend",
        "Send the code again",
        "Login",
        show=True,
        priority=False,
        key_display="F3",
    ),
    Action(
        "login_retry",
        "f5",
        "retry",
        "Try again",
        "Login",
        show=True,
        priority=False,
        key_display="F5",
    ),
    Action(
        "login_back",
        "escape",
        "back",
        "Back",
        "Login",
        show=True,
        priority=False,
        key_display="Esc",
    ),
)

# The desk's actions by name (without parameters), and those that act whatever is open.
DESK_ACTION_NAMES: frozenset[str] = frozenset(
    {a.action.split("(")[0] for a in ACTIONS} | {"command_palette"}
)
ALWAYS_ACTIVE: frozenset[str] = frozenset({"quit"})


def acts_over(action: str, overlay: frozenset[str] | None) -> bool:
    """Whether a desk key acts while an overlay (dialog, switcher, palette, popup) is open.

    `overlay` holds the desk actions the open overlay takes as its own (None: nothing is
    open). Everything else waits: the key goes to the overlay, which ignores what it does not
    know, so nothing changes behind it.
    """
    if overlay is None or action not in DESK_ACTION_NAMES or action in ALWAYS_ACTIVE:
        return True
    return action in overlay


SHORT_LABELS: dict[str, str] = {
    "next_waiting": "Next waiting",
    "switcher": "Find chat",
    "send_next": "Send+next",
    "handled": "Handled",
    "postpone": "Postpone",
    "help": "Help",
    "templates": "Templates",
    # Message mode's, shown first in the footer while it is on (tui/footer.py).
    "msg_reply": "Reply",
    "msg_copy": "Copy",
    "msg_edit": "Edit",
    "msg_delete": "Delete",
    "msg_react": "React",
    "msg_open": "Open",
    "msg_leave": "Back",
}

# The footer's labels when the full ones do not fit the terminal's width (80 columns and less).
NARROW_LABELS: dict[str, str] = {"next_waiting": "Next", "switcher": "Find"}

COMPOSER_KEYS: tuple[tuple[str, str], ...] = (
    ("Enter", "Send the reply (in note mode: save the note, nothing is sent)"),
    ("Ctrl+J", "New line in the reply"),
    ("/word", "Template popup: ↑ ↓ choose, Tab inserts (Enter too after ↑ ↓ or for a whole key)"),
    ("Tab / Shift+Tab", "Next / previous ‹field› of an inserted template, filled ones too"),
    ("Ctrl+P", "Command palette: every action by name"),
    ("? (outside the composer)", "This help"),
    ("↑ ↓ Enter (in the list)", "Move and open a chat"),
    ("PgUp / PgDn", "Scroll the conversation, also from the composer (older ones load at the top)"),
)


def bindings(actions: Iterable[Action] = ACTIONS) -> list[Binding]:
    """Textual bindings for the registry, each with its id so `set_keymap` can remap it."""
    return [
        Binding(
            a.keys,
            a.action,
            SHORT_LABELS.get(a.id, a.description),
            show=a.show,
            priority=a.priority,
            id=a.id,
            key_display=a.key_display,
        )
        for a in actions
    ]


def action_groups() -> list[dict[str, str]]:
    """Each set of keys as id → default keys: the desk's, the login screen's, message mode's."""
    return [
        {a.id: a.keys for a in ACTIONS},
        {a.id: a.keys for a in LOGIN_ACTIONS},
        {a.id: a.keys for a in MESSAGE_ACTIONS},
    ]


def keymap_from_config(keys: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """Validate the config's `[keys]` table into a Textual keymap (rules: core/system/keys.py)."""
    problems = key_problems(keys, action_groups())
    rejected = {problem.action for problem in problems}
    keymap = {binding_id: value for binding_id, value in keys.items() if binding_id not in rejected}
    return keymap, [f"keys.{problem.action}: {problem.message}" for problem in problems]
