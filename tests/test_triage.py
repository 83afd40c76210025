"""Hand-made cases pinning who is staff, when a customer waits, and the handled and parked statuses."""

from __future__ import annotations

import pytest
from tgtriage.core.desk.models import Status
from tgtriage.core.rules import triage
from tgtriage.core.rules.triage import Role

from tests.triage_harness import ALICE, BOB, BOT, MATE, ME, RULE, T0, fold, msg

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
