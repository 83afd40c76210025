"""Canned-reply templates: rendering, fields to fill, matching, triggers and language."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tgtriage.core.desk.models import ChatTriage, Message, User
from tgtriage.core.templates import (
    VARIABLES,
    Library,
    RenderContext,
    Template,
    customer_id_for,
    detect_lang,
    insert_rendered,
    load_library,
    match,
    next_field,
    parse_body,
    previous_field,
    render,
    starter_dir,
    trigger_at,
    unfilled_fields,
    unfilled_message,
)

from tests.template_harness import EMPTY, FULL, MAX, NOW, text_of

# ---------------------------------------------------------------- rendering


def test_every_variable_renders_from_the_context() -> None:
    body = " | ".join(f"{{{{ {name} }}}}" for name in VARIABLES)
    assert text_of(body) == (
        "Anna | Anna Smirnova | anna_s | Max | Max Petrov | Acme · Support | JIRA-123 | "
        "2023-11-14 | 22:13"
    )


def test_now_uses_the_context_time_zone() -> None:
    moscow = RenderContext(now=NOW, tz=ZoneInfo("Europe/Moscow"))
    assert text_of("{{ now.date }} {{ now.time }}", moscow) == "2023-11-15 01:13"


def test_agent_name_from_config_overrides_telegram() -> None:
    ctx = RenderContext(agent=MAX, agent_name="Maria Ivanova", now=NOW)
    assert text_of("{{ agent.first_name }} / {{ agent.name }}", ctx) == "Maria / Maria Ivanova"


@pytest.mark.parametrize(
    "body",
    ["Hi {{ customer.first_name || 'there' }}!", 'Hi {{ customer.first_name || "there" }}!'],
)
def test_fallback_in_either_quote_style(body: str) -> None:
    assert text_of(body) == "Hi Anna!"
    assert text_of(body, EMPTY) == "Hi there!"


def test_fallback_chain_takes_the_first_non_empty_value() -> None:
    body = "Hi {{ customer.first_name || customer.username || 'there' }}!"
    nameless = RenderContext(customer=User(id=3, username="zed"), now=NOW)
    assert text_of(body, nameless) == "Hi zed!"
    assert text_of(body, EMPTY) == "Hi there!"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Hello, {{ customer.first_name }}!", "Hello!"),
        ("Hi {{ customer.first_name }}, how are you?", "Hi, how are you?"),
        ("Thanks, {{ customer.first_name }}.\nBye", "Thanks.\nBye"),
        ("Dear {{ customer.first_name }} team", "Dear team"),
        ("{{ customer.first_name }} hello", "hello"),
        ("Hi {{ customer.first_name }} {{ customer.name }}!", "Hi!"),
        ("x{{ customer.first_name }}y", "xy"),
    ],
)
def test_missing_customer_name_takes_its_spacing_along(body: str, expected: str) -> None:
    assert text_of(body, EMPTY) == expected


def test_customer_values_are_cleaned_and_cannot_fake_a_field() -> None:
    sneaky = User(id=9, first_name="Ev\x1b[31mil ‹order_id›\nx")
    rendered = render(
        Template.build("t", "Hi {{ customer.first_name }}"), RenderContext(customer=sneaky)
    )
    assert rendered.text == "Hi Evil <order_id> x"
    assert unfilled_fields(rendered.text) == []


def test_input_fields_are_visible_tab_stops_with_offsets() -> None:
    template = Template.build("t", "Order {{ input.order_id }} ships {{ input.date }}.")
    rendered = render(template, FULL)
    assert rendered.text == "Order ‹order_id› ships ‹date›."
    assert [f.name for f in rendered.fields] == ["order_id", "date"]
    assert [rendered.text[f.start : f.end] for f in rendered.fields] == ["‹order_id›", "‹date›"]
    assert rendered.cursor == rendered.fields[0].start


def test_fields_keep_their_offsets_after_an_empty_value_is_trimmed() -> None:
    rendered = render(Template.build("t", "Hi {{ customer.first_name }}, see {{ input.x }}"), EMPTY)
    assert rendered.text == "Hi, see ‹x›"
    assert rendered.text[rendered.fields[0].start : rendered.fields[0].end] == "‹x›"


def test_ticket_falls_back_to_a_field_to_fill() -> None:
    template = Template.build("t", "Ticket: {{ chat.ticket || input.ticket }}.")
    assert render(template, FULL).text == "Ticket: JIRA-123."
    assert render(template, FULL).fields == []
    assert render(template, EMPTY).text == "Ticket: ‹ticket›."


def test_insert_rendered_replaces_the_trigger_and_shifts_fields() -> None:
    rendered = render(Template.build("t", "Ticket {{ input.ticket }}"), FULL)
    text = "ok /tic"
    result = insert_rendered(text, 3, len(text), rendered)
    assert result.text == "ok Ticket ‹ticket›"
    field = result.fields[0]
    assert result.text[field.start : field.end] == "‹ticket›"


# ---------------------------------------------------------------- unfilled fields


def test_unfilled_fields_are_found_until_filled() -> None:
    text = "On ‹date› at ‹time›."
    assert [f.name for f in unfilled_fields(text)] == ["date", "time"]
    assert unfilled_message(text) == "fill ‹date›, ‹time› first (Tab jumps between them)"
    text = text.replace("‹date›", "12 May")
    assert unfilled_message(text) == "fill ‹time› first (Tab jumps to it)"
    assert unfilled_message(text.replace("‹time›", "02:00")) is None


def test_tab_moves_to_the_next_field_and_wraps() -> None:
    text = "a ‹one› b ‹two›"
    first, second = unfilled_fields(text)
    assert next_field(text, 0) == first
    assert next_field(text, first.end) == second
    assert next_field(text, second.end) == first
    assert previous_field(text, second.start) == first
    assert previous_field(text, 0) == second
    assert next_field("no fields", 0) is None


# ---------------------------------------------------------------- matching


def lib(*templates: Template) -> Library:
    """A library from code-built templates."""
    return Library(list(templates))


def keys(found: list[Template]) -> list[str]:
    """Keys with their language, for readable assertions."""
    return [f"{t.key}:{t.lang}" if t.lang else t.key for t in found]


def test_key_prefix_beats_title_which_beats_body() -> None:
    library = lib(
        Template.build("refund", "We sent the money back", title="Refund issued"),
        Template.build("money", "Server is back", title="Payment received"),
        Template.build("srv", "All good", title="Server down"),
        Template.build("server", "The server is fine", title="Status"),
    )
    assert keys(match(library, "serv", {}, None)) == ["server", "srv", "money"]
    assert keys(match(library, "svd", {}, None)) == ["srv"]  # letters in order in the title


def test_recently_and_often_used_come_first() -> None:
    library = lib(
        Template.build("close", "Bye"),
        Template.build("clarify", "?"),
        Template.build("cleanup", "!"),
    )
    usage = {"cleanup": (5, NOW - 60), "clarify": (1, NOW - 3600)}
    assert keys(match(library, "cl", usage, None, now=NOW)) == ["cleanup", "clarify", "close"]
    assert keys(match(library, "", usage, None, now=NOW)) == ["cleanup", "clarify", "close"]


def test_the_chats_language_comes_first() -> None:
    library = lib(
        Template.build("greet", "Hi", lang="en"),
        Template.build("greet", "Привет", lang="ru"),
        Template.build("greetings", "Hey"),
    )
    # templates without a lang suit any chat, so they rank with the chat's language
    assert keys(match(library, "gre", {}, "ru")) == ["greet:ru", "greetings", "greet:en"]
    assert keys(match(library, "gre", {}, "en"))[0] == "greet:en"


def test_query_typed_in_the_russian_layout_still_matches() -> None:
    library = lib(Template.build("greet", "Hi"), Template.build("close", "Bye"))
    assert keys(match(library, "пкуу", {}, None)) == ["greet"]


def test_cyrillic_query_matches_russian_titles() -> None:
    library = load_library([starter_dir()])
    found = match(library, "прив", {}, "ru")
    assert found[0].key == "greet" and found[0].lang == "ru"


def test_empty_query_lists_everything_up_to_the_limit() -> None:
    library = load_library([starter_dir()])
    assert len(match(library, "", {}, None, limit=5)) == 5
    assert len(match(library, "", {}, None, limit=100)) == len(library)
    assert match(library, "qqqqzzz", {}, None) == []


# ---------------------------------------------------------------- triggers and language


@pytest.mark.parametrize(
    ("text", "cursor", "expected"),
    [
        ("/gre", 4, (0, "gre")),
        ("/", 1, (0, "")),
        ("thanks /gre", 11, (7, "gre")),
        ("line one\n/tick", 14, (9, "tick")),
        ("/прив", 5, (0, "прив")),
        ("/greet-issue", 12, (0, "greet-issue")),
        ("/gre and more", 4, (0, "gre")),
        ("a/b", 3, None),
        ("see http://x/y", 14, None),
        ("see http://x/", 13, None),
        ("~/bin", 5, None),
        ("(/gre", 5, None),
        ("/gre", 2, None),  # the word continues after the cursor
        ("/usr/bin", 4, None),
        ("/usr/", 5, None),
        ("/24", 3, None),
        ("/gre ", 5, None),
        ("no slash", 8, None),
        ("/gre", 9, None),
        ("/gre", -1, None),
    ],
)
def test_trigger_at(text: str, cursor: int, expected: tuple[int, str] | None) -> None:
    assert trigger_at(text, cursor) == expected


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["Здравствуйте", "сервер не отвечает"], "ru"),
        (["Hello", "my server is down"], "en"),
        (["Привет", "вот лог:", "Error: connection refused by host"], "ru"),
        (["сайт https://example.com/path/to/page не открывается"], "ru"),
        (["ok", "хорошо"], None),
        (["👍", "123", ""], None),
        ([], None),
    ],
)
def test_detect_lang(texts: list[str], expected: str | None) -> None:
    assert detect_lang(texts) == expected


def test_customer_is_the_sender_of_the_waiting_message() -> None:
    messages = [
        Message(chat_id=-1, id=10, date=NOW, sender_id=5, text="Hi"),
        Message(chat_id=-1, id=11, date=NOW, sender_id=6, text="me too"),
    ]
    waiting = ChatTriage(chat_id=-1, waiting_msg_id=10, last_customer_id=6)
    assert customer_id_for(waiting, messages) == 5
    assert customer_id_for(ChatTriage(chat_id=-1, last_customer_id=6), messages) == 6
    assert customer_id_for(None) is None


# ---------------------------------------------------------------- properties


TOKENS = ["{{", "}}", " ", "||", "'", '"', "\n", ",", "!", "a", "x y", "‹", "›", "."]
TOKENS += [*VARIABLES, "input.x", "input.order_id", "'there'", '"you"', "''"]
body_text = st.lists(st.sampled_from(TOKENS), max_size=30).map("".join)


@given(body=st.one_of(st.text(max_size=80), body_text))
def test_render_never_raises_on_a_body_that_parsed(body: str) -> None:
    nodes, errors = parse_body(body)
    if errors:
        return
    template = Template("t", "t", "c", body, None, None, 0, nodes)
    for ctx in (FULL, EMPTY):
        rendered = render(template, ctx)
        for field in rendered.fields:
            assert rendered.text[field.start : field.end] == f"‹{field.name}›"


@given(text=st.text(max_size=40), cursor=st.integers(min_value=-2, max_value=45))
def test_trigger_at_never_raises_and_points_at_a_slash(text: str, cursor: int) -> None:
    found = trigger_at(text, cursor)
    if found is not None:
        start, word = found
        assert text[start] == "/"
        assert text[start + 1 : cursor] == word
        assert start == 0 or text[start - 1].isspace()
