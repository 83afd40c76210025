"""Hand-made cases pinning each triage rule of DESIGN §3 (staff, waits, levels, statuses, order)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from tgtriage.core.desk.models import ChatTriage, Media, Message, Status
from tgtriage.core.rules import triage
from tgtriage.core.rules.triage import Level, Role, StaffRule

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


# ------------------------------------------------------------------ who is staff


def test_me_outgoing_and_teammates_are_staff() -> None:
    assert RULE.role(msg(1, ME, 0)) is Role.STAFF
    assert RULE.role(msg(2, MATE, 0)) is Role.STAFF
    # An outgoing message is ours even when the source left sender_id out.
    assert RULE.role(msg(3, None, 0, out=True)) is Role.STAFF


def test_everyone_else_is_a_customer() -> None:
    assert RULE.role(msg(1, ALICE, 0)) is Role.CUSTOMER
    assert RULE.role(msg(2, None, 0)) is Role.CUSTOMER  # anonymous group admin, unknown author


def test_ignored_ids_and_service_messages_never_count() -> None:
    assert RULE.role(msg(1, BOT, 0)) is Role.IGNORED
    assert RULE.role(msg(2, ALICE, 0, service=True)) is Role.IGNORED
    assert RULE.role(msg(3, ME, 0, service=True)) is Role.IGNORED


def test_ignored_bot_message_does_not_start_a_wait() -> None:
    state = fold([msg(1, ME, 0), msg(2, BOT, 10, "ticket #4 created")])
    assert state.waiting_since is None
    assert state.last_activity == T0 + 10  # it is still activity in the chat
    assert state.last_preview == "ticket #4 created"


def test_ignored_bot_message_does_not_clear_a_wait() -> None:
    state = fold([msg(1, ALICE, 0), msg(2, BOT, 10)])
    assert state.waiting_since == T0


def test_service_message_neither_starts_nor_clears_a_wait() -> None:
    assert fold([msg(1, ALICE, 0, "Alice joined", service=True)]).waiting_since is None
    state = fold([msg(1, ALICE, 0), msg(2, ME, 5, "pinned a message", service=True)])
    assert state.waiting_since == T0


# ------------------------------------------------------------------ waiting_since


def test_customer_message_starts_the_wait() -> None:
    state = fold([msg(1, ALICE, 0, "Hello")])
    assert state.waiting_since == T0
    assert state.waiting_msg_id == 1
    assert state.last_customer_id == ALICE
    assert state.unread == 1


def test_later_customer_messages_do_not_move_waiting_since() -> None:
    state = fold([msg(1, ALICE, 0, "Hello"), msg(2, ALICE, 30, "anyone there?"), msg(3, BOB, 90)])
    assert state.waiting_since == T0
    assert state.waiting_msg_id == 1
    assert state.unread == 3
    assert state.last_customer_id == BOB


def test_wait_starts_at_first_customer_message_after_last_staff_message() -> None:
    state = fold([msg(1, ALICE, 0), msg(2, ME, 60), msg(3, ALICE, 120), msg(4, ALICE, 180)])
    assert state.waiting_since == T0 + 120
    assert state.waiting_msg_id == 3


@pytest.mark.parametrize("staff", [ME, MATE], ids=["me", "teammate"])
def test_any_staff_message_clears_the_wait(staff: int) -> None:
    state = fold([msg(1, ALICE, 0), msg(2, ALICE, 30), msg(3, staff, 60, "On it")])
    assert state.waiting_since is None
    assert state.waiting_msg_id is None
    assert state.last_staff_msg_id == 3
    assert state.last_staff_at == T0 + 60
    assert state.last_staff_sender == staff
    assert state.status is Status.WAITING_ON_CUSTOMER


def test_my_message_from_another_device_clears_wait_and_unread() -> None:
    state = fold([msg(1, ALICE, 0), msg(2, ALICE, 5), msg(3, None, 60, out=True)])
    assert state.waiting_since is None
    assert state.unread == 0  # answering from Telegram Desktop means we read it


def test_teammate_reply_clears_wait_and_counts_as_unread_like_telegram() -> None:
    state = fold([msg(1, ALICE, 0), msg(2, MATE, 60)])
    assert state.waiting_since is None
    # I have read neither Alice's message nor Tess's answer: Telegram's dialog says 2
    assert state.unread == 2


def test_editing_the_waiting_message_does_not_reset_the_wait() -> None:
    messages = [msg(1, ME, 0), msg(2, ALICE, 60, "hi"), msg(3, ALICE, 70, "more")]
    state = fold(messages)
    edited = messages[1].model_copy(update={"text": "hi, edited", "edit_date": T0 + 500})
    rederived = triage.derive(state, [messages[0], edited, messages[2]], RULE)
    assert rederived.waiting_since == T0 + 60
    assert rederived.waiting_msg_id == 2


def test_deleting_the_waiting_message_moves_the_wait_to_the_next_customer_message() -> None:
    messages = [msg(1, ME, 0), msg(2, ALICE, 60), msg(3, ALICE, 200)]
    state = fold(messages)
    assert state.waiting_since == T0 + 60
    after = triage.derive(state, [messages[0], messages[2]], RULE)
    assert after.waiting_since == T0 + 200
    assert after.waiting_msg_id == 3
    assert after.unread == 1


def test_deleting_the_only_customer_message_ends_the_wait() -> None:
    messages = [msg(1, ME, 0), msg(2, ALICE, 60)]
    after = triage.derive(fold(messages), messages[:1], RULE)
    assert after.waiting_since is None
    assert after.unread == 0
    assert after.status is Status.WAITING_ON_CUSTOMER


def test_deleting_the_staff_reply_makes_the_chat_wait_again() -> None:
    messages = [msg(1, ALICE, 0), msg(2, ME, 60), msg(3, ALICE, 120)]
    state = fold(messages)
    after = triage.derive(state, [messages[0], messages[2]], RULE)
    assert after.waiting_since == T0
    assert after.last_staff_msg_id == 0


def test_derive_keeps_the_engineers_marks() -> None:
    messages = [msg(1, ALICE, 0), msg(2, ALICE, 10)]
    state = triage.postpone(fold(messages), T0 + 9999).model_copy(
        update={"ticket": "JIRA-1", "levels_override": (60, 120, 180)}
    )
    after = triage.derive(state, messages, RULE)
    assert after.status is Status.POSTPONED
    assert after.postponed_until == T0 + 9999
    assert after.ticket == "JIRA-1"
    assert after.levels_override == (60, 120, 180)


def test_derive_respects_handled_upto() -> None:
    messages = [msg(1, ALICE, 0, "thanks!")]
    handled = triage.mark_handled(fold(messages))
    assert triage.derive(handled, messages, RULE).waiting_since is None


# ------------------------------------------------------------------ handled, statuses


def test_handled_chat_stops_waiting_and_waits_again_at_next_customer_message() -> None:
    state = triage.mark_handled(fold([msg(1, ME, 0), msg(2, ALICE, 60, "thanks!")]))
    assert state.waiting_since is None
    assert state.handled_upto == 2
    assert state.unread == 0
    assert not triage.is_awaiting(state, T0 + 10_000)
    again = fold([msg(3, ALICE, 600, "one more thing")], state)
    assert again.waiting_since == T0 + 600
    assert again.waiting_msg_id == 3


@pytest.mark.parametrize("park", ["postpone", "close"])
def test_parked_chat_comes_back_reopened_at_a_customer_message(park: str) -> None:
    state = fold([msg(1, ALICE, 0), msg(2, ME, 60)])
    parked = triage.postpone(state, T0 + 86_400) if park == "postpone" else triage.close(state)
    assert triage.is_parked(parked, T0 + 100)
    back = fold([msg(3, ALICE, 200, "still broken")], parked)
    assert back.status is Status.OPEN
    assert back.reopened
    assert back.postponed_until is None
    assert back.waiting_since == T0 + 200
    assert triage.is_awaiting(back, T0 + 300)


def test_staff_message_does_not_unpark_a_postponed_chat() -> None:
    parked = triage.postpone(fold([msg(1, ALICE, 0)]), T0 + 86_400)
    after = fold([msg(2, MATE, 60)], parked)
    assert after.status is Status.POSTPONED
    assert triage.is_parked(after, T0 + 100)


def test_close_marks_handled_and_parks() -> None:
    closed = triage.close(fold([msg(1, ALICE, 0, "thanks, bye")]))
    assert closed.status is Status.CLOSED
    assert closed.waiting_since is None
    assert closed.handled_upto == 1
    assert triage.is_parked(closed, T0 + 10**9)


def test_postponed_chat_still_waiting_is_hidden_until_it_runs_out() -> None:
    state = triage.postpone(fold([msg(1, ALICE, 0)]), T0 + 900)
    assert not triage.is_awaiting(state, T0 + 899)
    assert not triage.postpone_due(state, T0 + 899)
    assert triage.postpone_due(state, T0 + 900)
    assert triage.is_awaiting(state, T0 + 900)


def test_reopen_clears_the_parking() -> None:
    closed = triage.close(fold([msg(1, ALICE, 0), msg(2, ME, 5)]))
    opened = triage.reopen(closed)
    assert opened.status is Status.WAITING_ON_CUSTOMER  # staff spoke last
    assert opened.postponed_until is None
    waiting_chat = triage.postpone(fold([msg(1, ALICE, 0)]), T0 + 900)
    assert triage.reopen(waiting_chat).status is Status.OPEN


def test_in_development_keeps_ticket_and_due_and_survives_customer_messages() -> None:
    dev = triage.set_in_development(fold([msg(1, ALICE, 0)]), "JIRA-123", T0 + 7 * 86_400)
    assert (dev.status, dev.ticket, dev.due) == (Status.IN_DEVELOPMENT, "JIRA-123", T0 + 604_800)
    later = fold([msg(2, ALICE, 60, "any news?")], dev)
    assert later.status is Status.IN_DEVELOPMENT
    assert later.waiting_since == T0  # the customer waits for an answer nonetheless
    assert triage.is_awaiting(later, T0 + 120)


def test_read_upto_sets_unread_and_never_goes_back() -> None:
    state = fold([msg(1, ALICE, 0), msg(2, ALICE, 1), msg(3, ALICE, 2)])
    read = triage.read_upto(state, 2, unread_after=1)
    assert (read.read_inbox_max, read.unread) == (2, 1)
    assert triage.read_upto(read, 1, unread_after=3) is read
    assert read.waiting_since == T0  # reading is not replying


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
