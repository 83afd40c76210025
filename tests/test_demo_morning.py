"""The demo's live morning: customers nudge, teammates type, answer, pick up and react, and
the story goes on after the script."""

from __future__ import annotations

from tgtriage.core.desk.events import (
    ChatUpdated,
    MessageEdited,
    MessagesDeleted,
    NewMessage,
    ReactionChanged,
    ReadUpTo,
    Typing,
)
from tgtriage.core.desk.models import Message
from tgtriage.core.sources import demo_script

from tests.demo_harness import (
    ACME,
    INITECH,
    ME,
    NUDGES,
    PRIYA,
    SCRIPT,
    STAFF,
    START,
    TOM,
    messages_of,
    run_for,
    started,
    until,
    waiting_since,
)

# ----------------------------------------------------------------- customers


async def test_customers_left_in_silence_ask_whether_anyone_is_there() -> None:
    source, fake = await started()
    events = await run_for(source, fake, 1200)
    last_activity: dict[int, tuple[float, Message | None]] = {}
    nudges = 0
    for t, event in events:
        if isinstance(event, MessageEdited):
            last_activity[event.message.chat_id] = (t, last_activity[event.message.chat_id][1])
        elif isinstance(event, NewMessage):
            msg = event.message
            if msg.text in NUDGES and msg.chat_id in last_activity:
                nudges += 1
                quiet_since, previous = last_activity[msg.chat_id]
                assert previous is not None and previous.sender_id not in STAFF
                assert not demo_script.sounds_closing(previous.text), "nobody nudges after 'thanks'"
                assert 25 <= t - quiet_since <= 40, f"nudge after {t - quiet_since}s of silence"
            last_activity[msg.chat_id] = (t, msg)
    assert nudges >= 5
    initech = messages_of(events, INITECH)
    texts = [m.text for _, m in initech]
    assert texts[:3] == [
        "we can't log into the panel since this morning",
        "the 2FA code never arrives by SMS",
        "account is ops@initech.example",
    ]
    assert texts[3] in NUDGES and texts.count(texts[3]) == 1, "one nudge per wait"


async def test_russian_speaking_customers_nudge_in_russian() -> None:
    source, fake = await started()
    events = await run_for(source, fake, 600)
    russian = [e.message.text for _, e in events if isinstance(e, NewMessage)]
    assert set(SCRIPT.nudges["ru"]) & set(russian)


async def test_speed_compresses_the_story() -> None:
    source, fake = await started(speed=10.0)
    initech = messages_of(await run_for(source, fake, 120), INITECH)
    (t_account, _), (t_nudge, nudge) = initech[2], initech[3]
    assert nudge.text in NUDGES
    assert 2.5 <= t_nudge - t_account <= 4.0
    assert t_account < 4.0


async def test_customer_reads_and_answers_the_engineers_reply() -> None:
    source, fake = await started()
    fake.deadline = START + 600
    stream = source.events()
    await until(stream, NewMessage, lambda e: e.message.text.startswith("account is"))
    sent = await source.send(
        INITECH, "Hi Peter, SMS delivery is delayed; use an authenticator app", None, 5
    )
    rest = [e async for e in stream]
    reads = [e for e in rest if isinstance(e, ReadUpTo) and e.chat_id == INITECH]
    assert reads and reads[0].max_id == sent.id and reads[0].outbox
    answers = [
        e.message for e in rest if isinstance(e, NewMessage) and e.message.chat_id == INITECH
    ]
    assert answers[0].text.startswith("ok, switching to an authenticator app")
    assert (
        answers[0].sender_id
        == next(p for s in SCRIPT.scenarios for p in s.customers if p.key == "peter").id
    )


async def test_live_edit_delete_reaction_and_media() -> None:
    source, fake = await started()
    events = [e for _, e in await run_for(source, fake, 600)]
    edits = [e.message for e in events if isinstance(e, MessageEdited)]
    assert edits and edits[0].edit_date and "(running)" in edits[0].text
    assert (await source.history(edits[0].chat_id, edits[0].id + 1, 1)) == [edits[0]]
    deleted = [e for e in events if isinstance(e, MessagesDeleted)]
    assert deleted and deleted[0].chat_id is not None
    remaining = {m.id for m in await source.history(deleted[0].chat_id, None, 1000)}
    assert not set(deleted[0].ids) & remaining
    assert any(isinstance(e, ReactionChanged) and e.user_id in (PRIYA, TOM) for e in events)
    assert any(
        isinstance(e, NewMessage) and e.message.media and e.message.media.kind == "document"
        for e in events
    )


async def test_a_new_customer_group_appears_during_the_morning() -> None:
    source, fake = await started()
    initial = {c.id for c in await source.dialogs()}
    events = [e for _, e in await run_for(source, fake, 600)]
    appeared = [e.chat for e in events if isinstance(e, ChatUpdated)]
    assert appeared and appeared[0].id not in initial
    assert appeared[0].id in {c.id for c in await source.dialogs()}
    first_msg = next(
        e for e in events if isinstance(e, NewMessage) and e.message.chat_id == appeared[0].id
    )
    assert events.index(first_msg) > events.index(ChatUpdated(appeared[0]))


async def test_the_desk_stays_alive_after_the_scripted_morning() -> None:
    source, fake = await started()
    events = await run_for(source, fake, 2 * 3600)
    late = [e for t, e in events if t > 3600 and isinstance(e, NewMessage)]
    assert late


# ----------------------------------------------------------------- teammates


async def test_teammates_are_staff_and_their_answers_come_from_their_own_accounts() -> None:
    source, fake = await started()
    assert source.staff_ids() == frozenset({PRIYA, TOM})
    events = await run_for(source, fake, 600)
    mates = [
        e.message
        for _, e in events
        if isinstance(e, NewMessage) and e.message.sender_id in (PRIYA, TOM)
    ]
    assert mates and all(not m.out for m in mates)
    assert {m.sender_name for m in mates} == {"Priya Shah", "Tom Becker"}


async def test_teammate_types_before_answering_a_waiting_chat() -> None:
    source, fake = await started()
    events = await run_for(source, fake, 600)
    seen = 0
    for i, (t, event) in enumerate(events):
        if (
            isinstance(event, NewMessage)
            and event.message.sender_id in (PRIYA, TOM)
            and event.message.chat_id != source.team_room  # team events, not answers
        ):
            msg = event.message
            typing = [
                (tt, e)
                for tt, e in events[:i]
                if isinstance(e, Typing) and e.chat_id == msg.chat_id and e.user_id == msg.sender_id
            ]
            assert typing and 2 <= t - typing[-1][0] <= 8 and typing[-1][1].until >= START + t
            previous = (await source.history(msg.chat_id, msg.id, 1))[-1]
            # a teammate answers a chat that waits, or reports back after "I'm on it"
            assert previous.sender_id not in STAFF or previous.sender_id == msg.sender_id
            seen += 1
    assert seen >= 3


async def test_teammate_stands_back_when_the_engineer_answered_first() -> None:
    source, fake = await started()
    fake.deadline = START + 900
    stream = source.events()
    await until(stream, NewMessage, lambda e: e.message.chat_id == ACME)  # "we rolled back…"
    sent = await source.send(ACME, "Hi Dana, checking the load balancer now", None, random_id=1)
    rest = [(fake.now - START, e) async for e in stream]
    acme = [m for _, m in messages_of(rest, ACME)]
    assert not any("sorry for the wait" in m.text for m in acme)
    assert acme[0].text == "yes, shop.acme.example behind your load balancer"
    assert acme[0].id > sent.id


async def test_teammates_pick_up_group_chats_left_waiting_but_never_private_ones() -> None:
    source, fake = await started()
    events = await run_for(source, fake, 2 * 3600)
    private = {c.id for c in await source.dialogs() if c.kind == "private"}
    mates = [
        e.message
        for _, e in events
        if isinstance(e, NewMessage) and e.message.sender_id in (PRIYA, TOM)
    ]
    assert not [m for m in mates if m.chat_id in private]
    pickups = {
        line.format(name=person.first_name)
        for scenario in SCRIPT.scenarios
        for person in scenario.customers
        for line in SCRIPT.pickups[person.lang]
    }
    picked = [m for m in mates if m.text in pickups]
    assert picked
    for pickup in picked:
        history = await source.history(pickup.chat_id, pickup.id, 1000)
        since = waiting_since(history)
        assert since is not None and pickup.date - since >= 600, "only chats waiting 10 min+"
        later = await source.history(pickup.chat_id, None, 1000)
        after = [m for m in later if m.id > pickup.id and m.sender_id in STAFF]
        assert after, "the teammate (or the engineer) follows up after 'I'm on it'"


async def test_teammates_acknowledge_a_customers_thanks_with_a_reaction() -> None:
    """Team signals: a "thanks" left unanswered in a group is sometimes answered by a 👍 only,
    on that very message and only while nobody wrote in the chat since."""
    source, fake = await started(seed=11)
    events = [e for _, e in await run_for(source, fake, 3 * 3600)]
    private = {c.id for c in await source.dialogs() if c.kind == "private"}
    reactions = [e for e in events if isinstance(e, ReactionChanged) and e.user_id != ME]
    by_id = {
        (e.message.chat_id, e.message.id): (i, e.message)
        for i, e in enumerate(events)
        if isinstance(e, NewMessage)
    }
    live = [r for r in reactions if (r.chat_id, r.message_id) in by_id]
    assert len(live) >= 3, "teammates react to thanks that arrive during the morning"
    for reaction in reactions:
        assert reaction.user_id in (PRIYA, TOM) and reaction.emoji == "👍"
        assert reaction.chat_id not in private
        index, message = by_id.get((reaction.chat_id, reaction.message_id), (-1, None))
        if message is None:
            continue  # a backlog message (the scripted Stark reaction)
        assert message.sender_id not in STAFF and demo_script.sounds_closing(message.text)
        later = [
            e
            for e in events[index + 1 : events.index(reaction)]
            if isinstance(e, NewMessage) and e.message.chat_id == reaction.chat_id
        ]
        assert later == [], "nobody wrote in between"


async def test_after_the_script_customers_now_and_then_fix_a_typo_or_take_a_message_back() -> None:
    source, fake = await started()
    events = await run_for(source, fake, 3 * 3600)
    customers = {p.id for s in SCRIPT.scenarios for p in s.customers}
    said: dict[tuple[int, int], Message] = {}
    edits: list[tuple[Message, Message]] = []
    taken_back: list[Message] = []
    for _, event in events:
        if isinstance(event, NewMessage):
            said[(event.message.chat_id, event.message.id)] = event.message
        elif isinstance(event, MessageEdited):
            new = event.message
            edits.append((said[(new.chat_id, new.id)], new))
        elif isinstance(event, MessagesDeleted) and event.chat_id is not None:
            taken_back.extend(said[(event.chat_id, msg_id)] for msg_id in event.ids)
    scripted = {"cron is active (running) but the jobs don't fire"}
    unscripted_edits = [(old, new) for old, new in edits if new.text not in scripted]
    assert len(unscripted_edits) >= 2, "more than once in a morning"
    for old, new in unscripted_edits:
        assert old.sender_id in customers and new.sender_id == old.sender_id, "their own"
        assert new.edit_date and new.text != old.text
    unscripted_deletes = [m for m in taken_back if "nmb_live" not in m.text]
    assert len(unscripted_deletes) >= 2
    assert all(m.sender_id in customers for m in unscripted_deletes), "their own"
    for message in unscripted_deletes:
        history = await source.history(message.chat_id, None, 1000)
        assert message.id not in {m.id for m in history}, "gone from the chat's history too"
