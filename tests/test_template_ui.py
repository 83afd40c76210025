"""Templates in the desk under Pilot: /word popup, fields, refusal, picker, ranking, reload."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, OptionList, Static
from tgtriage.core.desk.events import NewMessage
from tgtriage.core.desk.models import Message, User
from tgtriage.core.templates import Template, starter_dir
from tgtriage.tui.template_views import TemplatePicker

from tests.desk_harness import (
    composer,
    make_desk,
    type_text,
    wait_for,
)
from tests.template_desk import (
    GREET_ISSUE_EN,
    RAJ_ID,
    open_longest_waiting,
    open_titled,
    popup,
    press,
    running,
    selected_text,
    sent_texts,
    shown,
    toasts,
    wait_sent,
)

# ----------------------------------------------------------------- the popup


async def test_slash_and_letters_open_popup_with_starter_templates(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with running(desk) as pilot:
        app = desk.app
        await open_longest_waiting(pilot)
        assert shown(app) == []
        await type_text(pilot, "/g")
        keys = [key for key, _ in shown(app)]
        assert "greet" in keys and "greet-issue" in keys
        starter = starter_dir()
        assert all(
            t.source is not None and t.source.parent == starter for t in popup(app).templates
        )
        await type_text(pilot, "reet-")
        assert shown(app) and {key for key, _ in shown(app)} == {"greet-issue"}
        assert len(shown(app)) < len(keys)
        assert composer(app).text == "/greet-"


async def test_escape_closes_popup_keeps_text_and_it_stays_closed(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with running(desk) as pilot:
        app = desk.app
        chat_id = await open_longest_waiting(pilot)
        await type_text(pilot, "/gre")
        assert shown(app)
        await press(pilot, "escape")
        assert shown(app) == []
        assert composer(app).text == "/gre"
        assert app.focused is composer(app), "Esc closed the popup, not the composer"
        await type_text(pilot, "e")
        assert shown(app) == [], "reopened for the word it was dismissed on"
        assert composer(app).text == "/gree"
        await press(pilot, "enter")
        await wait_sent(pilot, chat_id, "/gree")
        await type_text(pilot, "ok /gre")
        assert shown(app), "a new /word opens the popup again"
        await press(pilot, "escape")
        await type_text(pilot, " /th")
        assert [key for key, _ in shown(app)][:1] == ["thanks"], "the next word opens it again"


async def test_down_and_enter_insert_the_highlighted_template(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with running(desk) as pilot:
        app = desk.app
        await open_longest_waiting(pilot)
        await type_text(pilot, "/gre")
        assert shown(app)[:2] == [("greet", "en"), ("greet-issue", "en")]
        await press(pilot, "down")
        chosen = popup(app).chosen
        assert chosen is not None and (chosen.key, chosen.lang) == ("greet-issue", "en")
        await press(pilot, "down", "up")
        await press(pilot, "enter")
        assert shown(app) == []
        assert composer(app).text == GREET_ISSUE_EN.format(name="Lena")
        assert "/gre" not in composer(app).text


async def test_ctrl_z_after_a_multi_line_template_gives_back_the_typed_word(
    tmp_path: Path,
) -> None:
    """Issue 14/15: undoing a multi-line template crashed the desk (a line index out of bounds)."""
    desk = make_desk(tmp_path)
    async with running(desk) as pilot:
        app = desk.app
        chat_id = await open_longest_waiting(pilot)
        await type_text(pilot, "/details")
        await press(pilot, "tab")
        assert composer(app).text.count("\n") > 3
        await press(pilot, "ctrl+z")
        assert composer(app).text == "/details"
        assert app.inbox.drafts.get(chat_id) == "/details"
        assert app.return_code is None and app.inbox.open_chat_id == chat_id


async def test_tab_inserts_replacing_the_slash_word_mid_text(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with running(desk) as pilot:
        app = desk.app
        await open_longest_waiting(pilot)
        await type_text(pilot, "Sure. /gre")
        await press(pilot, "tab")
        assert composer(app).text == "Sure. Hi Lena! This is Alex. How can I help you today?"
        assert app.focused is composer(app), "Tab inserted; it did not move the focus"
        assert composer(app).cursor_index == len(composer(app).text)


async def test_greeting_names_the_customer_whose_message_waits(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with running(desk) as pilot:
        app = desk.app
        chat_id = await open_titled(pilot, "Acme")
        state = app.inbox.triage[chat_id]
        waiting = await app.inbox.store.message(chat_id, state.waiting_msg_id or 0)
        assert waiting is not None and waiting.sender_id is not None
        dana = app.inbox.users[waiting.sender_id]
        assert dana.first_name == "Dana"
        # Her colleague Raj adds a line: Dana's question still waits, Raj wrote last.
        raj = app.inbox.users.get(RAJ_ID) or User(id=RAJ_ID, first_name="Raj", last_name="M")
        note = Message(
            chat_id=chat_id,
            id=state.last_msg_id + 1,
            date=int(desk.clock.now),
            sender_id=raj.id,
            sender_name=raj.name,
            text="same problem here",
        )
        app.inbox.submit(NewMessage(note, raj))
        await wait_for(
            pilot, lambda: app.inbox.triage[chat_id].last_customer_id == raj.id, "Raj's line"
        )
        assert app.inbox.triage[chat_id].waiting_msg_id == waiting.id
        await type_text(pilot, "/greet")
        await press(pilot, "enter")
        assert composer(app).text.startswith("Hi Dana! This is Alex.")


async def test_first_field_is_selected_typing_replaces_it_tab_moves_on(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with running(desk) as pilot:
        app = desk.app
        await open_longest_waiting(pilot)
        await type_text(pilot, "/maint")
        await press(pilot, "tab")
        assert composer(app).text.startswith(
            "Heads-up: we have planned maintenance on ‹date›, ‹time›."
        )
        assert selected_text(app) == "‹date›"
        await press(pilot, "tab")
        assert selected_text(app) == "‹time›"
        await press(pilot, "shift+tab")
        assert selected_text(app) == "‹date›", "Shift+Tab goes back to the previous field"
        await type_text(pilot, "March 9")
        assert composer(app).text.startswith("Heads-up: we have planned maintenance on March 9, ")
        await press(pilot, "tab")
        assert selected_text(app) == "‹time›"
        await type_text(pilot, "02:00-03:00 UTC")
        await press(pilot, "tab")
        assert selected_text(app) == "‹impact›"
        await type_text(pilot, "the panel is read-only")
        assert "‹" not in composer(app).text
        assert "During this window, the panel is read-only." in composer(app).text
        await press(pilot, "tab")
        assert app.focused is composer(app), "Tab with no fields left stays in the composer"


async def test_sending_with_an_unfilled_field_is_refused_naming_it(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with running(desk) as pilot:
        app = desk.app
        chat_id = await open_longest_waiting(pilot)
        before = await sent_texts(app, chat_id)
        await type_text(pilot, "/greet-")
        await press(pilot, "tab")
        text = composer(app).text
        assert "‹issue›" in text
        await press(pilot, "enter")
        assert any("Not sent" in t and "fill ‹issue›" in t for t in toasts(app)), toasts(app)
        assert composer(app).text == text, "the text stays for the engineer to finish"
        assert await sent_texts(app, chat_id) == before
        await press(pilot, "tab")
        assert selected_text(app) == "‹issue›"
        await type_text(pilot, "the backup")
        await press(pilot, "enter")
        await wait_sent(
            pilot, chat_id, GREET_ISSUE_EN.format(name="Lena").replace("‹issue›", "the backup")
        )
        assert composer(app).text == ""


async def test_paths_and_urls_are_typeable_and_send_as_typed(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with running(desk) as pilot:
        app = desk.app
        chat_id = await open_longest_waiting(pilot)
        opened: list[str] = []
        box = popup(app)
        show = box.show_templates

        def spy(templates: list[Template]) -> None:
            if templates:
                opened.append(composer(app).text)
            show(templates)

        box.show_templates = spy  # type: ignore[method-assign]
        url = "docs at https://example.com/help/backup and www.example.com/greet"
        await type_text(pilot, url)
        assert opened == [], "the popup opened inside a URL"
        await press(pilot, "enter")
        await wait_sent(pilot, chat_id, url)

        # A path: the popup may offer templates for `/usr`; the next `/` closes it.
        await type_text(pilot, "see /usr/bin/env")
        assert shown(app) == []
        await press(pilot, "enter")
        await wait_sent(pilot, chat_id, "see /usr/bin/env")

        # A literal `/word` at the end: Esc when the popup appears, then Enter sends it as is.
        await type_text(pilot, "run /details")
        assert shown(app), "a template matches /details"
        await press(pilot, "escape")
        await press(pilot, "enter")
        await wait_sent(pilot, chat_id, "run /details")


# ----------------------------------------------------------------- the picker


async def test_picker_filters_previews_for_the_chat_and_inserts_at_cursor(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with running(desk) as pilot:
        app = desk.app
        await open_longest_waiting(pilot)
        await type_text(pilot, "AB")
        await press(pilot, "left")
        await press(pilot, "ctrl+t")
        picker = app.screen
        assert isinstance(picker, TemplatePicker)
        options = picker.query_one("#picker-list", OptionList)
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert "Opening" in labels and "Troubleshooting" in labels, "grouped by category"
        assert picker.query_one("#picker-input", Input).has_focus
        await type_text(pilot, "greet")
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert labels and all("/greet" in label for label in labels)
        preview = str(picker.query_one("#picker-preview", Static).content)
        assert "Hi Lena! This is Alex. How can I help you today?" in preview
        await press(pilot, "down")
        preview = str(picker.query_one("#picker-preview", Static).content)
        assert "Thanks for writing in about ‹issue›" in preview
        await press(pilot, "enter")
        assert not isinstance(app.screen, TemplatePicker)
        assert composer(app).text == "A" + GREET_ISSUE_EN.format(name="Lena") + "B"
        assert selected_text(app) == "‹issue›"


async def test_picker_escape_inserts_nothing(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with running(desk) as pilot:
        app = desk.app
        await open_longest_waiting(pilot)
        await type_text(pilot, "draft")
        await press(pilot, "ctrl+t")
        await type_text(pilot, "unreach")
        await press(pilot, "escape")
        assert not isinstance(app.screen, TemplatePicker)
        assert composer(app).text == "draft"


# ----------------------------------------------------------------- ranking


async def test_russian_speaking_customer_gets_ru_templates_first(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with running(desk) as pilot:
        app = desk.app
        await open_titled(pilot, "Vostok")
        await type_text(pilot, "/gre")
        assert shown(app)[:2] == [("greet", "ru"), ("greet-issue", "ru")]
        await press(pilot, "tab")
        assert composer(app).text.startswith("Здравствуйте, Игорь! На связи Alex.")
        # The same word in an English-speaking chat offers the English ones first.
        await open_titled(pilot, "Globex")
        await type_text(pilot, "/gre")
        assert shown(app)[:2] == [("greet", "en"), ("greet-issue", "en")]
        # The picker ranks the same way for a Russian-speaking private chat.
        await open_titled(pilot, "Ольга")
        await press(pilot, "ctrl+t")
        await type_text(pilot, "thanks")
        picker = app.screen
        assert isinstance(picker, TemplatePicker)
        preview = str(picker.query_one("#picker-preview", Static).content)
        assert "ru.toml" in preview and "Всегда рады помочь, Ольга!" in preview, preview


async def test_usage_is_stored_and_a_used_template_ranks_first_next_time(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with running(desk) as pilot:
        app = desk.app
        await open_longest_waiting(pilot)
        await type_text(pilot, "/gre")
        assert shown(app)[0] == ("greet", "en")
        await press(pilot, "down", "enter")
        assert (await app.inbox.store.template_usage())["greet-issue"][0] == 1
        await open_titled(pilot, "Stark")
        await type_text(pilot, "/gre")
        assert shown(app)[0] == ("greet-issue", "en"), "used once, now first"

    # A fresh desk over the same store remembers it.
    again = make_desk(tmp_path)
    async with running(again) as pilot:
        app = again.app
        await open_titled(pilot, "Northwind")
        await type_text(pilot, "/gre")
        assert shown(app)[0] == ("greet-issue", "en")


async def test_enter_sends_a_typed_command_that_is_no_template_key(tmp_path: Path) -> None:
    """Issue 15 item 6: `/start` + Enter sends `/start`, even with templates listed for it."""
    desk = make_desk(tmp_path)
    async with running(desk) as pilot:
        app = desk.app
        chat_id = await open_longest_waiting(pilot)
        await type_text(pilot, "/start")
        assert shown(app), "a template is suggested for /start (else this tests nothing)"
        assert all(key != "start" for key, _ in shown(app))
        await press(pilot, "enter")
        await wait_sent(pilot, chat_id, "/start")
        assert composer(app).text == ""


async def test_enter_takes_the_template_after_moving_in_the_popup(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    async with running(desk) as pilot:
        app = desk.app
        await open_longest_waiting(pilot)
        await type_text(pilot, "/start")
        assert shown(app)
        await press(pilot, "down")  # moved (round to the same one when only one is listed)
        await press(pilot, "enter")
        assert "/start" not in composer(app).text and composer(app).text
