"""The team event codec: round trips through real Telethon messages, garbage never raises."""

from __future__ import annotations

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st
from telethon.extensions import html, markdown
from telethon.tl import types
from tgtriage.core.sources.telegram.convert import convert_message
from tgtriage.core.team.codec import (
    MAX_NOTE,
    TAG,
    Kind,
    TeamEvent,
    TeamStatus,
    chat_link,
    decode,
    encode,
    machine_line,
)
from tgtriage.core.team.room import Delivery, delivery, human_line

from tests.fake_telethon import FakeClient, channel, user

ROOM = channel(900, "Support team", megagroup=True)
PRIYA = user(601, "Priya", "Teammate")

ids = st.integers(min_value=-(2**62), max_value=2**62)
words = st.text(max_size=60)
events = st.builds(
    TeamEvent,
    kind=st.sampled_from(Kind),
    chat=ids,
    text=st.text(
        alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), max_size=80
    ),
    status=st.none() | st.sampled_from(TeamStatus),
    until=st.none() | ids,
    ticket=st.none() | st.from_regex(r"[A-Z]{2,5}-[0-9]{1,5}", fullmatch=True),
    due=st.none() | ids,
    tags=st.lists(
        st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True), unique=True, max_size=5
    ).map(tuple),
    to=st.none() | ids,
)


def through_telethon(text: str) -> str:
    """The text as a desk reads it back from a real Telethon Message in the room."""
    client = FakeClient()
    room_id = client.add_chat(ROOM)
    client.add_user(PRIYA)
    msg = client.message(room_id, text, sender=PRIYA)
    link_at = text.find("https://")
    if link_at >= 0:
        msg.entities = [
            types.MessageEntityUrl(offset=link_at, length=len(text[link_at:].split()[0]))
        ]
    return convert_message(msg, client.entities).text


@settings(max_examples=150, deadline=None)
@given(events, words)
def test_an_event_survives_telethon_and_formatting(event: TeamEvent, human: str) -> None:
    """Sent, received, and even re-parsed as Markdown or HTML by a client, the event comes back."""
    text = encode(event, human or "✋ Priya took a chat")
    assert decode(through_telethon(text)) == event
    assert decode(markdown.parse(text)[0]) == event
    machine = text.rsplit("\n", 1)[1]
    assert decode(html.parse(f"<b>{machine}</b>")[0]) == event


def test_the_human_line_is_readable_and_links_the_chat() -> None:
    """A person on a phone reads who did what and can open the customer chat."""
    link = chat_link(-1_000_000_000_777, None, 42)
    text = encode(TeamEvent(Kind.CLAIM, -1_000_000_000_777), f"✋ Priya took Acme {link}")
    assert text.splitlines()[0] == "✋ Priya took Acme https://t.me/c/777/42"
    assert chat_link(5, "acme_support") == "https://t.me/acme_support"
    assert chat_link(5) == ""


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: TAG + b.hex()))
def test_garbage_is_never_an_event_and_never_raises(text: str) -> None:
    """Any text at all decodes to an event or to None, and a plain line to None."""
    result = decode(text)
    assert result is None or isinstance(result, TeamEvent)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(["k", "c", "t", "s", "g", "to", "u"]), inner, max_size=5
            )
        ),
    )
)
def test_wrong_shapes_in_a_well_formed_line_are_ignored(payload: object) -> None:
    """Valid base32 over JSON of the wrong shape (types, kinds, nesting) is not an event."""
    raw = json.dumps(payload).encode()
    line = TAG + base64.b32encode(raw).decode().rstrip("=")
    result = decode(f"someone typed this\n{line}")
    assert result is None or isinstance(result, TeamEvent)


def test_unknown_versions_edits_and_hostile_text_are_ignored() -> None:
    """Another version, a human edit of the machine line, markup and escapes: nothing to fold."""
    event = TeamEvent(Kind.NOTE, -1_000_000_000_777, text="call back at 5")
    line = machine_line(event)
    assert decode(f"hi\n{line.replace('tgt1:', 'tgt2:')}") is None
    assert decode(f"hi\n{line[:-3]}x{line[-2:]}") is None
    assert decode(f"hi\n{line}\nand a human added this") is None
    assert decode("[bold red]✋[/] \x1b]8;;https://evil\x07") is None
    assert decode(TAG + "A" * 10_000) is None
    assert decode(None) is None
    hostile = TeamEvent(Kind.NOTE, 1, text="\x1b[2J[link=x]click[/link]\u202eevil")
    decoded = decode(encode(hostile, "x"))
    assert decoded is not None and "\x1b" not in decoded.text and "\u202e" not in decoded.text
    assert decoded.text == "[link=x]click[/link]evil"  # drawn as plain text, never as markup


def test_a_long_note_is_cut_to_fit_one_message() -> None:
    """A note of any length still makes one message under Telegram's 4,096 characters."""
    text = encode(TeamEvent(Kind.NOTE, 1, text="ж" * 5000), "📝 " + "ж" * 5000)
    assert len(text) <= 4096
    decoded = decode(text)
    assert decoded is not None and len(decoded.text.encode()) <= MAX_NOTE


def test_a_handoff_line_mentions_its_taker_by_utf16_span_and_other_events_go_silently() -> None:
    event = TeamEvent(Kind.HANDOFF, -1001, text="over to you", to=42)
    text = encode(event, human_line(event, "🚀 Rocket Co", "https://t.me/c/1/1", "Zoë 🦄 Kim"))
    how = delivery(text)
    assert how is not None and not how.silent and how.mention is not None
    offset, length, user = how.mention
    units = text.encode("utf-16-le")
    assert units[2 * offset : 2 * (offset + length)].decode("utf-16-le") == "Zoë 🦄 Kim"
    assert user == 42
    (link,) = how.links
    assert units[2 * link[0] : 2 * (link[0] + link[1])].decode("utf-16-le") == "https://t.me/c/1/1"
    claim = TeamEvent(Kind.CLAIM, -1001)
    assert delivery(encode(claim, human_line(claim, "Rocket"))) == Delivery(silent=True)
    assert delivery("hello, no team event here") is None
