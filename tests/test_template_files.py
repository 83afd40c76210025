"""Template files: loading and validation, reload on change, and the `tgtriage templates` CLI."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from tgtriage.core.system.config import Config, Templates
from tgtriage.core.system.paths import Paths
from tgtriage.core.templates import (
    LibraryWatcher,
    changed_since,
    library_sources,
    load_library,
    parse_body,
    render,
    snapshot,
    starter_dir,
    unfilled_fields,
)

from tests.template_harness import EMPTY, FULL, table, write
from tgtriage.cli.templates import run_templates

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
