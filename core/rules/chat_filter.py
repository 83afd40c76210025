"""Which chats are support chats: the config's selection rules as pure functions.

Rules, in order (the first that decides wins):

1. `exclude` (a marked id, or an @username) — never a support chat.
2. `include` — always a support chat, whatever else says.
3. Chats the desk cannot use are out: Saved Messages (yourself), private chats with bots,
   broadcast channels (customers cannot write there) and deactivated/upgraded basic groups.
4. Private chats: in when `private_chats` is on (the default), out when it is off.
5. Groups, supergroups and forums: with neither `title_patterns` nor `folder` configured, every
   group is a support chat; otherwise a group is one when its title matches a pattern
   (shell-style, case-insensitive, e.g. ``"* Support"``) **or** it is in the configured
   Telegram folder.

Folder membership follows Telegram's own rules for a dialog filter: the folder's explicit and
pinned chats are in, its excluded chats are out, and the category flags (contacts, non-contacts,
groups, channels, bots) bring in whole kinds of chats unless muted/read/archived ones are
excluded.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..desk.models import Chat
from ..system.config import Chats


@dataclass(frozen=True, slots=True)
class Candidate:
    """A dialog as the selection rules see it: the chat plus the facts folders look at."""

    chat: Chat
    contact: bool = False
    bot: bool = False
    is_self: bool = False
    muted: bool = False
    unread: bool = False
    archived: bool = False
    usable: bool = True


@dataclass(frozen=True, slots=True)
class Folder:
    """A Telegram folder (dialog filter), reduced to what membership needs."""

    id: int
    title: str
    include: frozenset[int] = frozenset()
    exclude: frozenset[int] = frozenset()
    contacts: bool = False
    non_contacts: bool = False
    groups: bool = False
    broadcasts: bool = False
    bots: bool = False
    exclude_muted: bool = False
    exclude_read: bool = False
    exclude_archived: bool = False


@dataclass(frozen=True, slots=True)
class Reference:
    """One entry of an include/exclude list: a marked chat id or a username (no @)."""

    chat_id: int | None = None
    username: str | None = None

    def matches(self, chat: Chat) -> bool:
        """Whether this entry names `chat`."""
        if self.chat_id is not None:
            return chat.id == self.chat_id
        return bool(chat.username) and (chat.username or "").lower() == self.username


def parse_reference(value: int | str) -> Reference:
    """Read a config entry: an int or digit string is a marked id, anything else a username."""
    if isinstance(value, int):
        return Reference(chat_id=value)
    text = value.strip()
    if text.lstrip("-").isdigit():
        return Reference(chat_id=int(text))
    return Reference(username=text.removeprefix("@").lower())


def parse_references(values: Iterable[int | str]) -> tuple[Reference, ...]:
    """Read a whole include/exclude list."""
    return tuple(parse_reference(v) for v in values if str(v).strip())


def in_folder(candidate: Candidate, folder: Folder) -> bool:
    """Whether a dialog belongs to a Telegram folder by that folder's own rules."""
    chat = candidate.chat
    if chat.id in folder.exclude:
        return False
    if chat.id in folder.include:
        return True
    if folder.exclude_muted and candidate.muted:
        return False
    if folder.exclude_read and not candidate.unread:
        return False
    if folder.exclude_archived and candidate.archived:
        return False
    if chat.kind == "private":
        if candidate.bot:
            return folder.bots
        return folder.contacts if candidate.contact else folder.non_contacts
    if chat.kind == "channel":
        return folder.broadcasts
    return folder.groups


def find_folder(folders: Sequence[Folder], name: str) -> Folder | None:
    """The folder called `name` (case-insensitive, surrounding spaces ignored), if any."""
    wanted = name.strip().casefold()
    for folder in folders:
        if folder.title.strip().casefold() == wanted:
            return folder
    return None


def title_matches(title: str, patterns: Iterable[str]) -> bool:
    """Whether `title` matches any shell-style pattern, ignoring case."""
    folded = title.casefold()
    return any(fnmatch.fnmatchcase(folded, pattern.casefold()) for pattern in patterns)


def is_support_chat(candidate: Candidate, rules: Chats, folder: Folder | None = None) -> bool:
    """Apply the selection rules (see the module docstring) to one dialog."""
    chat = candidate.chat
    if any(ref.matches(chat) for ref in parse_references(rules.exclude)):
        return False
    if any(ref.matches(chat) for ref in parse_references(rules.include)):
        return True
    if not candidate.usable or candidate.is_self or chat.kind == "channel":
        return False
    if chat.kind == "private":
        return rules.private_chats and not candidate.bot
    wants_folder = rules.folder is not None
    if not rules.title_patterns and not wants_folder:
        return True
    if title_matches(chat.title, rules.title_patterns):
        return True
    return folder is not None and in_folder(candidate, folder)


def select_chats(
    candidates: Iterable[Candidate], rules: Chats, folders: Sequence[Folder] = ()
) -> list[Chat]:
    """The support chats among `candidates`, in the order given.

    `folders` are the account's Telegram folders; the one named by `rules.folder` is used.
    A configured folder name that does not exist selects nothing by folder (see
    `missing_folder_message`). Every chat gets the ids of the folders it belongs to.
    """
    folder = find_folder(folders, rules.folder) if rules.folder else None
    selected: list[Chat] = []
    for candidate in candidates:
        if not is_support_chat(candidate, rules, folder):
            continue
        ids = tuple(f.id for f in folders if in_folder(candidate, f))
        chat = candidate.chat
        selected.append(
            chat if chat.folder_ids == ids else chat.model_copy(update={"folder_ids": ids})
        )
    return selected


def missing_folder_message(rules: Chats, folders: Sequence[Folder]) -> str | None:
    """A one-line warning when the configured folder does not exist, else None."""
    if not rules.folder or find_folder(folders, rules.folder) is not None:
        return None
    names = ", ".join(repr(f.title) for f in folders) or "none"
    return (
        f"chats.folder: no Telegram folder is called {rules.folder!r} (folders: {names}); "
        "fix the name in config.toml"
    )
