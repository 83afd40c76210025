"""core/rules/desk_choices.py: what the desk's keys decide (Enter in the popup, tickets, targets)."""

from __future__ import annotations

import pytest
from tgtriage.core.rules.desk_choices import (
    chosen_targets,
    enter_takes_template,
    ticket_choices,
    typed_value,
)
from tgtriage.core.rules.targets import VIP


def test_enter_takes_a_template_only_for_its_own_key_or_after_moving() -> None:
    keys = ["details", "greet", "greet-issue"]
    assert not enter_takes_template("start", keys, moved=False)
    assert not enter_takes_template("gre", keys, moved=False)
    assert enter_takes_template("details", keys, moved=False)
    assert enter_takes_template("Greet", keys, moved=False)
    assert enter_takes_template("gre", keys, moved=True)


def test_ticket_choices_put_the_chats_own_ticket_first_once() -> None:
    assert ticket_choices("JIRA-1", ["JIRA-2", "JIRA-1", "JIRA-3"]) == [
        "JIRA-1",
        "JIRA-2",
        "JIRA-3",
    ]
    assert ticket_choices(None, ["#4", "#4", "#5"]) == ["#4", "#5"]
    assert ticket_choices("", []) == []


def test_chosen_targets_read_the_choice_or_the_typed_value() -> None:
    assert chosen_targets("default") is None
    assert chosen_targets("vip") == VIP
    assert chosen_targets("=2/5/15") == (120, 300, 900)
    with pytest.raises(ValueError):
        chosen_targets("=soon")
    assert typed_value("=45m") == "45m" and typed_value("fri") == "fri"
