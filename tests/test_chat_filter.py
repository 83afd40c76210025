"""Which chats are support chats: the config's selection rules (core/rules/chat_filter.py)."""

from __future__ import annotations

from tgtriage.core.desk.models import Chat
from tgtriage.core.rules.chat_filter import (
    Candidate,
    Folder,
    in_folder,
    missing_folder_message,
    parse_reference,
    select_chats,
)
from tgtriage.core.system.config import Chats


def cand(chat_id: int, title: str, kind: str = "supergroup", **facts: object) -> Candidate:
    """A dialog candidate."""
    username = facts.pop("username", None)
    return Candidate(chat=Chat(id=chat_id, title=title, kind=kind, username=username), **facts)  # type: ignore[arg-type]


ACME = cand(-1001, "Acme · Support", username="acme_support")
GLOBEX = cand(-1002, "Globex Support")
TEAM = cand(-1003, "Team chat")
NEWS = cand(-1004, "Product news", "channel")
ALICE = cand(501, "Alice Customer", "private")
BOTFATHER = cand(502, "BotFather", "private", bot=True)
ME = cand(1000, "Saved Messages", "private", is_self=True)
OLD = cand(-5, "Old group", "group", usable=False)
ALL = [ACME, GLOBEX, TEAM, NEWS, ALICE, BOTFATHER, ME, OLD]


def ids(chats: list[Chat]) -> list[int]:
    """The ids of selected chats."""
    return [c.id for c in chats]


def test_without_rules_every_group_and_private_chat_is_support_but_not_channels_bots_or_self() -> (
    None
):
    assert ids(select_chats(ALL, Chats())) == [-1001, -1002, -1003, 501]


def test_title_patterns_are_shell_style_and_ignore_case() -> None:
    rules = Chats(title_patterns=["* support"], private_chats=False)
    assert ids(select_chats(ALL, rules)) == [-1001, -1002]


def test_private_chats_off_drops_them_and_on_keeps_them_besides_patterns() -> None:
    assert 501 not in ids(
        select_chats(ALL, Chats(title_patterns=["*Support"], private_chats=False))
    )
    assert 501 in ids(select_chats(ALL, Chats(title_patterns=["*Support"], private_chats=True)))


def test_exclude_wins_over_patterns_and_include_by_id_and_username() -> None:
    rules = Chats(title_patterns=["*Support"], exclude=["@Acme_Support"], include=[-1003, -1004])
    assert ids(select_chats(ALL, rules)) == [-1002, -1003, -1004, 501]
    rules = Chats(exclude=[-1002, "501"], include=["@acme_support"])
    assert ids(select_chats(ALL, rules)) == [-1001, -1003]


def test_exclude_beats_include() -> None:
    rules = Chats(include=[-1001], exclude=[-1001])
    assert -1001 not in ids(select_chats(ALL, rules))


def test_folder_by_name_selects_its_chats_and_marks_folder_ids() -> None:
    folders = [
        Folder(id=7, title="Customers", include=frozenset({-1003})),
        Folder(id=8, title="Work", groups=True),
    ]
    chosen = select_chats(ALL, Chats(folder="customers", private_chats=False), folders)
    assert ids(chosen) == [-1003]
    assert chosen[0].folder_ids == (7, 8)


def test_patterns_or_folder() -> None:
    folders = [Folder(id=7, title="Customers", include=frozenset({-1003}))]
    rules = Chats(title_patterns=["Acme*"], folder="Customers", private_chats=False)
    assert ids(select_chats(ALL, rules, folders)) == [-1001, -1003]


def test_unknown_folder_selects_nothing_by_folder_and_says_so() -> None:
    folders = [Folder(id=7, title="Customers")]
    rules = Chats(folder="Clients", private_chats=False)
    assert select_chats(ALL, rules, folders) == []
    message = missing_folder_message(rules, folders)
    assert message is not None and "'Clients'" in message and "'Customers'" in message
    assert missing_folder_message(Chats(folder="customers"), folders) is None


def test_folder_membership_follows_telegram_rules() -> None:
    contacts = Folder(id=1, title="c", contacts=True, exclude_muted=True, exclude=frozenset({601}))
    assert in_folder(cand(600, "Bob", "private", contact=True), contacts)
    assert not in_folder(cand(600, "Bob", "private", contact=True, muted=True), contacts)
    assert not in_folder(cand(601, "Eve", "private", contact=True), contacts)
    assert not in_folder(cand(602, "Stranger", "private"), contacts)
    unread_groups = Folder(id=2, title="g", groups=True, exclude_read=True, exclude_archived=True)
    assert in_folder(cand(-9, "G", unread=True), unread_groups)
    assert not in_folder(cand(-9, "G"), unread_groups)
    assert not in_folder(cand(-9, "G", unread=True, archived=True), unread_groups)
    assert in_folder(
        cand(-9, "G", archived=True),
        Folder(id=3, title="x", include=frozenset({-9}), exclude_archived=True),
    )
    assert in_folder(cand(700, "Bot", "private", bot=True), Folder(id=4, title="b", bots=True))
    assert in_folder(NEWS, Folder(id=5, title="n", broadcasts=True))


def test_references_parse_ids_and_usernames() -> None:
    assert parse_reference(-1001234).chat_id == -1001234
    assert parse_reference("-100123").chat_id == -100123
    assert parse_reference("@Acme").username == "acme"
    assert parse_reference("acme").username == "acme"


def test_order_is_kept() -> None:
    assert ids(select_chats([TEAM, ACME], Chats())) == [-1003, -1001]
