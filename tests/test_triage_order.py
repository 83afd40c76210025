"""Hand-made cases pinning the triage levels, the chat order, previews, reminders and targets."""

from __future__ import annotations

import pytest
from tgtriage.core.desk.models import ChatTriage, Media, Status
from tgtriage.core.rules import triage
from tgtriage.core.rules.triage import Level

from tests.triage_harness import ALICE, LEVELS, MATE, ME, RULE, T0, fold, msg, quiet, waiting

# ------------------------------------------------------------------ levels


@pytest.mark.parametrize(
    ("seconds", "level"),
    [
        (0, Level.FRESH),
        (299, Level.FRESH),
        (300, Level.DUE),
        (899, Level.DUE),
        (900, Level.LATE),
        (3599, Level.LATE),
        (3600, Level.BREACHED),
        (10**7, Level.BREACHED),
    ],
)
def test_level_boundaries_5_15_60_minutes(seconds: int, level: Level) -> None:
    assert triage.level_for(seconds, LEVELS) is level
    assert triage.chat_level(waiting(1, T0), T0 + seconds, LEVELS) is level


def test_default_config_thresholds_are_5_15_60_minutes() -> None:
    from tgtriage.core.system.config import Config

    assert Config().levels.seconds() == LEVELS


def test_no_level_when_nobody_waits() -> None:
    assert triage.chat_level(quiet(1, T0), T0 + 10_000, LEVELS) is None
    assert triage.wait_seconds(quiet(1, T0), T0 + 10_000) is None


def test_per_chat_levels_override_wins() -> None:
    vip = waiting(1, T0, override=(60, 120, 180))
    assert triage.chat_level(vip, T0 + 59, LEVELS) is Level.FRESH
    assert triage.chat_level(vip, T0 + 60, LEVELS) is Level.DUE
    assert triage.chat_level(vip, T0 + 180, LEVELS) is Level.BREACHED
    assert triage.chat_level(waiting(2, T0), T0 + 180, LEVELS) is Level.FRESH


def test_business_time_elapsed_function_is_used() -> None:
    def half(start: int, end: int) -> int:
        return (end - start) // 2

    assert triage.wait_seconds(waiting(1, T0), T0 + 600, half) == 300
    assert triage.chat_level(waiting(1, T0), T0 + 600, LEVELS, half) is Level.DUE


def test_wait_never_negative_when_clock_is_behind() -> None:
    assert triage.wait_seconds(waiting(1, T0), T0 - 50) == 0


# ------------------------------------------------------------------ order


def test_order_awaiting_first_by_level_then_longest_wait_then_activity_then_parked() -> None:
    now = T0 + 10_000
    states = [
        quiet(1, now - 5),  # rest, most recent activity
        waiting(2, now - 100),  # fresh, 100 s
        triage.close(quiet(3, now - 1)),  # parked, most recent of all
        waiting(4, now - 1000),  # late
        quiet(5, now - 50),  # rest, older activity
        waiting(6, now - 200),  # fresh, 200 s: waited longer than 2
        waiting(7, now - 4000),  # breached
        waiting(8, now - 60, status=Status.POSTPONED, until=now + 600),  # parked although waiting
        waiting(9, now - 25, override=(5, 10, 20)),  # breached by its own override
        waiting(10, now - 400),  # due
    ]
    order = [s.chat_id for s in triage.ordered(states, now, LEVELS)]
    assert order[:6] == [7, 9, 4, 10, 6, 2]
    assert order[6:8] == [1, 5]
    assert set(order[8:]) == {3, 8}


def test_breached_ties_by_longest_wait() -> None:
    now = T0 + 100_000
    states = [waiting(1, now - 4000), waiting(2, now - 90_000), waiting(3, now - 3600)]
    assert [s.chat_id for s in triage.ordered(states, now, LEVELS)] == [2, 1, 3]


def test_postponement_that_ran_out_comes_back_to_the_top() -> None:
    now = T0 + 10_000
    states = [
        quiet(1, now - 5),
        waiting(2, now - 4000, status=Status.POSTPONED, until=now - 1),
    ]
    assert [s.chat_id for s in triage.ordered(states, now, LEVELS)] == [2, 1]
    # Before it ran out it sat at the bottom.
    assert [s.chat_id for s in triage.ordered(states, now - 100, LEVELS)] == [1, 2]


def test_quiet_postponement_that_ran_out_rejoins_the_rest_by_activity() -> None:
    now = T0 + 10_000
    states = [
        quiet(1, now - 50),
        quiet(2, now - 5, status=Status.POSTPONED, until=now - 1),
        quiet(3, now - 500),
    ]
    assert [s.chat_id for s in triage.ordered(states, now, LEVELS)] == [2, 1, 3]


def test_longest_waiting_skips_the_open_chat_and_parked_chats() -> None:
    now = T0 + 10_000
    states = [
        waiting(1, now - 3000),
        waiting(2, now - 9000),
        waiting(3, now - 9999, status=Status.POSTPONED, until=now + 60),
        quiet(4, now),
    ]
    assert (best := triage.longest_waiting(states, now, LEVELS)) and best.chat_id == 2
    assert (best := triage.longest_waiting(states, now, LEVELS, exclude=2)) and best.chat_id == 1
    assert triage.longest_waiting([states[1], states[3]], now, LEVELS, exclude=2) is None


def test_longest_waiting_prefers_a_higher_level_over_a_longer_wait() -> None:
    now = T0 + 10_000
    states = [waiting(1, now - 1000), waiting(2, now - 200, override=(10, 20, 30))]
    best = triage.longest_waiting(states, now, LEVELS)
    assert best is not None and best.chat_id == 2


def test_level_counts_counts_only_awaiting_chats() -> None:
    now = T0 + 10_000
    states = [
        waiting(1, now - 10),
        waiting(2, now - 299),
        waiting(3, now - 300),
        waiting(4, now - 900),
        waiting(5, now - 3600),
        waiting(6, now - 7200),
        waiting(7, now - 7200, status=Status.CLOSED),
        waiting(8, now - 7200, status=Status.POSTPONED, until=now + 1),
        quiet(9, now),
    ]
    assert triage.level_counts(states, now, LEVELS) == (2, 1, 1, 2)


# ------------------------------------------------------------------ previews and formatting


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (45, "45s"),
        (59, "59s"),
        (60, "1m"),
        (4 * 60 + 59, "4m"),
        (3599, "59m"),
        (3600, "1h"),
        (3600 + 12 * 60, "1h12m"),
        (3600 + 5 * 60, "1h05m"),
        (86_399, "23h59m"),
        (86_400, "1d"),
        (2 * 86_400 + 3 * 3600 + 59, "2d3h"),
    ],
)
def test_format_wait(seconds: int, text: str) -> None:
    assert triage.format_wait(seconds) == text


def test_preview_is_one_safe_line_and_shows_media() -> None:
    state = fold([msg(1, ALICE, 0, "line one\n\x1b[2Jline two " + "x" * 500)])
    assert "\n" not in state.last_preview
    assert "\x1b" not in state.last_preview
    assert state.last_preview.startswith("line one line two")
    assert len(state.last_preview) <= triage.PREVIEW_LIMIT
    photo = Media(kind="photo", size=1_200_000)
    assert fold([msg(1, ALICE, 0, "", media=photo)]).last_preview == "[photo]"
    assert fold([msg(1, ALICE, 0, "look", media=photo)]).last_preview == "[photo] look"


def test_service_message_does_not_replace_the_preview() -> None:
    state = fold([msg(1, ALICE, 0, "help please"), msg(2, ALICE, 5, "joined", service=True)])
    assert state.last_preview == "help please"
    assert state.last_msg_id == 2


# ------------------------------------------------------------------ reminders and targets


def test_a_postponement_that_ran_out_is_a_reminder_until_staff_follows_up() -> None:
    state = triage.postpone(fold([msg(1, ALICE, 0), msg(2, ME, 30)]), T0 + 900)
    assert not triage.reminder_due(state, T0 + 899)
    assert triage.reminder_due(state, T0 + 900)
    assert triage.reminder_at(state) == T0 + 900
    # A teammate answering before it runs out does not use the postponement up …
    early = fold([msg(3, MATE, 600)], state)
    assert early.status is Status.POSTPONED and triage.reminder_due(early, T0 + 900)
    # … one answering after it ran out does.
    late = fold([msg(3, MATE, 1000)], state)
    assert late.status is Status.WAITING_ON_CUSTOMER
    assert late.postponed_until is None and not triage.reminder_due(late, T0 + 1000)


def test_handled_acknowledges_a_reminder_that_came_due() -> None:
    postponed = triage.postpone(fold([msg(1, ALICE, 0), msg(2, ME, 30)]), T0 + 900)
    assert triage.mark_handled(postponed, T0 + 100).status is Status.POSTPONED, "not yet due"
    done = triage.mark_handled(postponed, T0 + 901)
    assert (done.status, done.postponed_until) == (Status.WAITING_ON_CUSTOMER, None)
    dev = triage.set_in_development(fold([msg(1, ALICE, 0)]), "JIRA-7", T0 + 500)
    acknowledged = triage.mark_handled(dev, T0 + 600)
    assert (acknowledged.status, acknowledged.ticket, acknowledged.due) == (
        Status.IN_DEVELOPMENT,
        "JIRA-7",
        None,
    )


def test_in_development_due_date_reminds_until_a_follow_up() -> None:
    state = fold([msg(1, ALICE, 0), msg(2, ME, 60, "Filed JIRA-9, ETA Friday")])
    dev = triage.set_in_development(state, "JIRA-9", T0 + 86_400)
    assert triage.is_set_aside(dev, T0 + 100), "nobody waits: it sits at the bottom"
    assert not triage.is_parked(dev, T0 + 100), "but a new customer message would wait"
    assert triage.reminder_due(dev, T0 + 86_400)
    assert not triage.is_set_aside(dev, T0 + 86_400), "due: it comes back up"
    followed = fold([msg(3, ME, 86_500, "Still on it")], dev)
    assert followed.due is None and followed.status is Status.IN_DEVELOPMENT
    assert triage.is_set_aside(followed, T0 + 86_600)


def test_order_puts_reminders_after_waits_and_set_aside_chats_last() -> None:
    now = T0 + 10_000
    states = [
        quiet(1, now - 5),
        waiting(2, now - 100),
        quiet(3, now - 50, status=Status.POSTPONED, until=now - 10),  # ran out: a reminder
        triage.set_in_development(quiet(4, now - 1), "JIRA-1", None),  # set aside
        triage.set_in_development(quiet(5, now - 2), "JIRA-2", now - 20),  # due: a reminder
    ]
    order = [s.chat_id for s in triage.ordered(states, now, LEVELS)]
    assert order == [2, 5, 3, 1, 4]


def test_handled_through_a_reacted_message_leaves_later_messages_waiting() -> None:
    messages = [msg(1, ALICE, 0, "thanks!"), msg(2, ALICE, 30, "oh, and one more thing")]
    state = fold(messages)
    reacted_first = triage.derive(triage.handled_through(state, 1), messages, RULE)
    assert (reacted_first.waiting_since, reacted_first.waiting_msg_id) == (T0 + 30, 2)
    reacted_last = triage.derive(triage.handled_through(state, 2), messages, RULE)
    assert reacted_last.waiting_since is None
    assert triage.handled_through(reacted_last, 1) is reacted_last, "never moves back"


def test_set_levels_validates_and_a_function_gives_per_chat_targets() -> None:
    vip = triage.set_levels(waiting(1, T0), (120, 300, 900))
    assert triage.chat_level(vip, T0 + 300, LEVELS) is Level.LATE
    assert triage.set_levels(vip, None).levels_override is None
    with pytest.raises(ValueError, match="in order"):
        triage.set_levels(vip, (300, 120, 900))

    def per_chat(chat_id: int) -> tuple[int, int, int]:
        return (60, 120, 180) if chat_id == 2 else LEVELS

    assert triage.chat_level(waiting(2, T0), T0 + 130, per_chat) is Level.LATE
    assert triage.chat_level(waiting(3, T0), T0 + 130, per_chat) is Level.FRESH
    own = triage.set_levels(waiting(2, T0), (600, 1200, 1800))
    assert triage.chat_level(own, T0 + 130, per_chat) is Level.FRESH, "the chat's own wins"


def test_the_next_time_change_is_the_next_level_or_the_reminder() -> None:
    targets = (300, 900, 3600)
    waiting = ChatTriage(chat_id=1, waiting_since=1_000, waiting_msg_id=5)
    assert triage.next_time_change(waiting, 1_100, targets) == 1_300  # becomes due
    assert triage.next_time_change(waiting, 1_300, targets) == 1_900  # then late
    assert triage.next_time_change(waiting, 4_600, targets) is None  # breached: nothing ahead
    vip = waiting.model_copy(update={"levels_override": (60, 120, 180)})
    assert triage.next_time_change(vip, 1_000, targets) == 1_060  # its own targets
    parked = waiting.model_copy(update={"status": Status.POSTPONED, "postponed_until": 1_200})
    assert triage.next_time_change(parked, 1_100, targets) == 1_200  # the postponement ends first
    quiet = ChatTriage(chat_id=2)
    assert triage.next_time_change(quiet, 1_100, targets) is None
