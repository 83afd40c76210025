"""Templates reload while the desk runs: new files, the reload key, broken files named by line."""

from __future__ import annotations

import shutil
from pathlib import Path

from tgtriage.core.templates import starter_dir

from tests.desk_harness import (
    composer,
    make_desk,
    type_text,
    wait_for,
)
from tests.template_desk import (
    drawn_toasts,
    open_longest_waiting,
    press,
    running,
    selected_text,
    shown,
    templates_dir,
    toasts,
    write_templates,
)

# ----------------------------------------------------------------- reload and bad files

NEW_TEMPLATE = """
[[template]]
key = "refund"
title = "Refund policy"
category = "Billing"
lang = "en"
body = "Hi {{ customer.first_name }}, refunds go back to the card within {{ input.days }} days."
"""

BROKEN = """[[template]]
key = "oops"
title = "Broken
category = "x"
body = "never loads"
"""


async def test_new_template_file_appears_without_losing_the_text(tmp_path: Path) -> None:
    folder = templates_dir(tmp_path)
    shutil.copytree(starter_dir(), folder)  # as `tgtriage templates init` would
    desk = make_desk(tmp_path)
    desk.app.tick_seconds = 0.05
    async with running(desk, notifications=True) as pilot:
        app = desk.app
        await open_longest_waiting(pilot)
        await type_text(pilot, "Thanks! /refu")
        assert ("refund", "en") not in shown(app)
        write_templates(folder, "billing.toml", NEW_TEMPLATE)
        await wait_for(pilot, lambda: app.replies.library.get("refund") is not None, "reload")
        assert any("Templates reloaded" in t for t in toasts(app))
        assert composer(app).text == "Thanks! /refu"
        await type_text(pilot, "nd")  # the whole key: Enter takes the template
        assert shown(app)[0] == ("refund", "en")
        await press(pilot, "enter")
        assert composer(app).text == (
            "Thanks! Hi Lena, refunds go back to the card within ‹days› days."
        )
        assert selected_text(app) == "‹days›"


async def test_reload_key_picks_up_a_templates_folder_made_while_running(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)  # its tick is an hour: only the key can reload
    async with running(desk, notifications=True) as pilot:
        app = desk.app
        await open_longest_waiting(pilot)
        await type_text(pilot, "draft ")
        assert app.replies.library.get("greet") is not None, "no folder yet: the starter set"
        write_templates(templates_dir(tmp_path), "billing.toml", NEW_TEMPLATE)
        await press(pilot, "alt+t")
        assert app.replies.library.get("refund") is not None
        assert app.replies.library.get("greet") is None, "the folder replaces the starter set"
        assert any("Templates reloaded" in t for t in toasts(app))
        assert composer(app).text == "draft "
        assert app.focused is composer(app)


async def test_broken_file_warns_with_file_and_line_and_the_rest_load(tmp_path: Path) -> None:
    folder = templates_dir(tmp_path)
    write_templates(folder, "billing.toml", NEW_TEMPLATE)
    write_templates(folder, "broken[v2].toml", BROKEN)
    desk = make_desk(tmp_path)
    async with running(desk, notifications=True) as pilot:
        app = desk.app
        where = f"{folder / 'broken[v2].toml'}:3: not valid TOML"
        await wait_for(pilot, lambda: any(where in t for t in drawn_toasts(app)), "the warning")
        warning = next(n for n in app._notifications if where in str(n.message))
        assert warning.severity == "warning"
        await open_longest_waiting(pilot)
        await type_text(pilot, "/ref")
        assert shown(app) == [("refund", "en")], "the good file still loads"
        await type_text(pilot, " /oop")
        assert ("oops", None) not in shown(app)


async def test_file_broken_while_running_warns_and_keeps_the_rest(tmp_path: Path) -> None:
    folder = templates_dir(tmp_path)
    write_templates(folder, "billing.toml", NEW_TEMPLATE)
    desk = make_desk(tmp_path)
    desk.app.tick_seconds = 0.05
    async with running(desk, notifications=True) as pilot:
        app = desk.app
        await open_longest_waiting(pilot)
        bad = NEW_TEMPLATE.replace("refund", "refund2").replace(
            "{{ customer.first_name }}", "{{ customer.nickname }}"
        )
        write_templates(folder, "more.toml", bad)
        await wait_for(pilot, lambda: any("more.toml:" in t for t in toasts(app)), "a warning")
        message = next(t for t in toasts(app) if "more.toml:" in t)
        assert message.startswith(f"{folder / 'more.toml'}:7: unknown variable 'customer.nickname'")
        assert app.replies.library.get("refund") is not None
        await type_text(pilot, "/refu")
        assert shown(app) == [("refund", "en")]
