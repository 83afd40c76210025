"""Canned-reply templates: loading and validation, rendering, fields, matching, triggers, CLI."""

from __future__ import annotations

import io
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tgtriage.core.desk.models import Chat, ChatTriage, Message, User
from tgtriage.core.system.config import Config, Templates
from tgtriage.core.system.paths import Paths
from tgtriage.core.templates import (
    VARIABLES,
    Library,
    LibraryWatcher,
    RenderContext,
    Template,
    changed_since,
    customer_id_for,
    detect_lang,
    insert_rendered,
    library_sources,
    load_library,
    match,
    next_field,
    parse_body,
    previous_field,
    render,
    snapshot,
    starter_dir,
    trigger_at,
    unfilled_fields,
    unfilled_message,
)

from tgtriage.cli.templates import run_templates

NOW = 1_700_000_000  # 2023-11-14 22:13:20 UTC
ANNA = User(id=7, first_name="Anna", last_name="Smirnova", username="anna_s")
MAX = User(id=1, first_name="Max", last_name="Petrov", username="max")
CHAT = Chat(id=-1001, title="Acme · Support")
FULL = RenderContext(
    customer=ANNA, agent=MAX, chat=CHAT, ticket="JIRA-123", now=NOW, tz=ZoneInfo("UTC")
)
EMPTY = RenderContext(now=NOW, tz=ZoneInfo("UTC"))


def text_of(body: str, ctx: RenderContext = FULL) -> str:
    """Render a one-off body."""
    return render(Template.build("t", body), ctx).text


def write(folder: Path, name: str, content: str) -> Path:
    """Write a template file and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(content, encoding="utf-8")
    return path


def table(key: str, body: str = "Hello", lang: str | None = None) -> str:
    """One [[template]] table as TOML text."""
    lang_line = f'lang = "{lang}"\n' if lang else ""
    return (
        f'[[template]]\nkey = "{key}"\ntitle = "{key} title"\ncategory = "General"\n'
        f'{lang_line}body = """\n{body}\n"""\n\n'
    )


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


# ---------------------------------------------------------------- loading and validation


def test_duplicate_key_across_files_names_both_places(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", table("greet") + table("close"))
    write(tmp_path, "b.toml", "# team extras\n" + table("greet") + table("bye"))
    library = load_library([tmp_path])
    assert [t.key for t in library.templates] == ["greet", "close", "bye"]
    (error,) = library.errors
    assert error.startswith(f"{tmp_path / 'b.toml'}:3: duplicate key 'greet'")
    assert f"{tmp_path / 'a.toml'}:2" in error
    assert "rename one of them" in error


def test_same_key_in_two_languages_is_not_a_duplicate(tmp_path: Path) -> None:
    write(tmp_path, "t.toml", table("greet", lang="en") + table("greet", lang="ru"))
    library = load_library([tmp_path])
    assert library.errors == []
    assert library.get("greet", "ru") is not None and library.get("greet", "ru").lang == "ru"  # type: ignore[union-attr]


def test_unknown_variable_names_file_line_and_fix(tmp_path: Path) -> None:
    body = "Hello!\nYour name: {{ customer.firstname }}"
    path = write(tmp_path, "t.toml", table("ok") + table("bad", body))
    library = load_library([tmp_path])
    assert [t.key for t in library.templates] == ["ok"]
    (error,) = library.errors
    # table("ok") is 7 lines + a blank; the bad body text starts on line 14, the variable on 15
    assert error == (
        f"{path}:15: unknown variable 'customer.firstname'; did you mean customer.first_name?"
    )


def test_unclosed_placeholder_is_reported_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "t.toml", table("bad", "Hi {{ customer.first_name\nbye") + table("ok"))
    library = load_library([tmp_path])
    assert [t.key for t in library.templates] == ["ok"]
    assert library.errors == [f"{path}:6: unclosed '{{{{'; close the placeholder with '}}}}'"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("{{ }}", "empty placeholder"),
        ("{{ customer.first_name | 'x' }}", "unexpected '|'"),
        ("{{ customer.first_name || }}", "expected a value after '||'"),
        ("{{ customer.first_name || 'x }}", "unterminated text"),
        ("{{ input }}", "input needs a field name"),
        ("{{ input.order-id }}", "unexpected '-'"),
        ("{{ input.x || 'y' }}", "never empty"),
        ("Fill ‹this›", "looks like an unfilled field marker"),
        ("{{ a }} and {{ b", "unknown variable 'a'"),
    ],
)
def test_bad_placeholder_syntax_is_an_error(body: str, problem: str) -> None:
    _, errors = parse_body(body)
    assert errors and problem in errors[0].message


def test_bad_toml_reports_the_line_and_other_files_still_load(tmp_path: Path) -> None:
    path = write(tmp_path, "a.toml", '[[template]]\nkey = "x"\ntitle = oops\n')
    write(tmp_path, "b.toml", table("fine"))
    library = load_library([tmp_path])
    assert [t.key for t in library.templates] == ["fine"]
    (error,) = library.errors
    assert error.startswith(f"{path}:3: not valid TOML")
    assert error.endswith("fix the syntax on that line")


def test_missing_fields_and_bad_key_are_reported_per_template(tmp_path: Path) -> None:
    text = (
        '[[template]]\nkey = "nobody"\ntitle = "T"\ncategory = "C"\n\n'
        '[[template]]\nkey = "Two words"\ntitle = "T"\ncategory = "C"\nbody = "x"\ntitel = "x"\n\n'
        + table("good")
    )
    path = write(tmp_path, "t.toml", text)
    library = load_library([tmp_path])
    assert [t.key for t in library.templates] == ["good"]
    assert library.errors == [
        f'{path}:1: template \'nobody\' has no body; add body = """\nHello!\n"""',
        f"{path}:11: unknown field 'titel' in template 'Two words'; did you mean title?",
        f"{path}:7: key 'Two words' must be one word starting with a letter "
        "(letters, digits, - or _); e.g. key = 'two-words'",
    ]


def test_wrong_table_name_is_explained(tmp_path: Path) -> None:
    path = write(tmp_path, "t.toml", table("x").replace("[[template]]", "[[templates]]"))
    assert load_library([tmp_path]).errors == [
        f"{path}:1: unknown table or key 'templates'; did you mean [[template]]?"
    ]


def test_starter_set_loads_clean_and_every_template_renders() -> None:
    library = load_library([starter_dir()])
    assert library.errors == []
    by_lang: dict[str | None, set[str]] = {}
    for template in library.templates:
        by_lang.setdefault(template.lang, set()).add(template.key)
    assert set(by_lang) == {"en", "ru"}
    assert by_lang["en"] == by_lang["ru"]
    assert len(by_lang["en"]) >= 10
    assert {"greet", "unreachable", "ticket", "maintenance", "close"} <= by_lang["en"]
    for template in library.templates:
        for ctx in (FULL, EMPTY):
            rendered = render(template, ctx)
            assert "{{" not in rendered.text and "}}" not in rendered.text
            assert "  " not in rendered.text, template.key
            assert [f.name for f in rendered.fields] == [
                f.name for f in unfilled_fields(rendered.text)
            ]
    greet = library.get("greet", "en")
    assert greet is not None and render(greet, FULL).text.startswith("Hi Anna!")
    assert render(greet, EMPTY).text.startswith("Hi there!")
    maintenance = library.get("maintenance", "en")
    assert maintenance is not None and {"date", "time"} <= set(maintenance.field_names)


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


# ---------------------------------------------------------------- reload


def bump(path: Path) -> None:
    """Move a file's mtime forward so a change is visible whatever the clock resolution."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


def test_watcher_reloads_only_when_files_change(tmp_path: Path) -> None:
    path = write(tmp_path, "a.toml", table("greet"))
    watcher = LibraryWatcher([tmp_path])
    assert watcher.poll() is None
    path.write_text(table("greet") + table("close"), encoding="utf-8")
    bump(path)
    reloaded = watcher.poll()
    assert reloaded is not None and [t.key for t in reloaded.templates] == ["greet", "close"]
    assert watcher.poll() is None
    write(tmp_path, "b.toml", table("bye"))
    assert watcher.poll() is not None
    (tmp_path / "b.toml").unlink()
    assert [t.key for t in watcher.poll().templates] == ["greet", "close"]  # type: ignore[union-attr]


def test_changed_since_snapshot(tmp_path: Path) -> None:
    path = write(tmp_path, "a.toml", table("greet"))
    snap = snapshot([tmp_path])
    assert not changed_since(snap)
    bump(path)
    assert changed_since(snap)


def test_sources_fall_back_to_the_starter_set(data_dirs: tuple[Path, Path], tmp_path: Path) -> None:
    paths = Paths.default()
    config = Config(templates=Templates(paths=[Path("team"), tmp_path / "abs"]))
    sources = library_sources(config, paths)
    assert sources == [starter_dir(), paths.config_dir / "team", tmp_path / "abs"]
    paths.templates_dir.mkdir(parents=True)
    assert library_sources(config, paths)[0] == paths.templates_dir
    missing = load_library(library_sources(config, paths)).errors
    assert missing[0] == (
        f"{paths.config_dir / 'team'}:0: template folder not found; "
        "create it or remove it from templates.paths in config.toml"
    )


# ---------------------------------------------------------------- the CLI


def run(*argv: str) -> tuple[int, str]:
    """Run `tgtriage templates ARGV`, returning the exit code and output."""
    out = io.StringIO()
    code = run_templates(list(argv), out)
    return code, out.getvalue()


def test_init_copies_the_starters_and_never_overwrites(data_dirs: tuple[Path, Path]) -> None:
    config_dir, _ = data_dirs
    folder = config_dir / "templates"
    code, output = run("init")
    assert code == 0
    assert f"wrote {folder / 'en.toml'} (13 templates)" in output
    assert (folder / "ru.toml").read_text(encoding="utf-8") == (
        starter_dir() / "ru.toml"
    ).read_text(encoding="utf-8")
    (folder / "en.toml").write_text(table("mine"), encoding="utf-8")
    code, output = run("init")
    assert code == 0
    assert f"kept  {folder / 'en.toml'} (already exists, not overwritten)" in output
    assert "mine" in (folder / "en.toml").read_text(encoding="utf-8")


def test_check_is_clean_on_the_starters_and_fails_on_errors(
    data_dirs: tuple[Path, Path], tmp_path: Path
) -> None:
    code, output = run("check")
    assert code == 0
    assert output.startswith("26 templates, 0 errors (the built-in starter set")
    bad = write(tmp_path / "bad", "t.toml", table("x", "{{ customer.nam }}") + table("y"))
    code, output = run("check", str(bad.parent))
    assert code == 2
    assert output.splitlines() == [
        f"{bad}:6: unknown variable 'customer.nam'; did you mean customer.name?",
        "1 template, 1 error",
    ]


def test_check_reports_a_bad_config(data_dirs: tuple[Path, Path]) -> None:
    config_dir, _ = data_dirs
    config_dir.mkdir(parents=True)
    (config_dir / "config.toml").write_text("nonsense = 1\n", encoding="utf-8")
    code, output = run("check")
    assert code == 2
    assert output.startswith("error: ") and "nonsense" in output


def test_list_shows_key_lang_category_title(data_dirs: tuple[Path, Path]) -> None:
    code, output = run("list")
    assert code == 0
    assert "Server unreachable: checklist" in output
    assert "Сервер недоступен: чек-лист" in output
    header = output.splitlines()[0].split()
    assert header == ["key", "┃", "lang", "┃", "category", "┃", "title"]


def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_templates(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


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
