"""Driving the desk under Pilot for the template tests: keys, the popup, sent replies, files."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets._toast import Toast
from tgtriage.tui.app import DeskApp
from tgtriage.tui.template_views import TemplatePopup

from tests.desk_harness import (
    Desk,
    chat_id_by_title,
    composer,
    run_desk,
    settle,
)

SIZE = (120, 35)
GREET_ISSUE_EN = (
    "Hi {name}! This is Alex. Thanks for writing in about ‹issue›; I'm looking into it now "
    "and will get back to you shortly."
)
RAJ_ID = 6100000002  # Dana's colleague in the Acme chat of the demo


def running(desk: Desk, *, notifications: bool = False) -> AbstractAsyncContextManager[Pilot[int]]:
    """Run the desk at 120×35 until the demo's chats are on screen; close its store after."""
    return run_desk(desk, SIZE, notifications=notifications)


async def press(pilot: Pilot[int], *keys: str) -> None:
    """Press keys and let the app react."""
    await pilot.press(*keys)
    await settle(pilot, rounds=2)


async def open_longest_waiting(pilot: Pilot[int]) -> int:
    """Ctrl+N: open the chat that has waited longest (the demo's Globex, Lena waiting)."""
    await press(pilot, "ctrl+n")
    app = pilot.app
    assert isinstance(app, DeskApp)
    chat_id = app.inbox.open_chat_id
    assert chat_id is not None
    return chat_id


async def open_titled(pilot: Pilot[int], part: str) -> int:
    """Open the chat whose title contains `part`, with the composer focused."""
    app = pilot.app
    assert isinstance(app, DeskApp)
    chat_id = chat_id_by_title(app, part)
    await app.open_chat(chat_id)
    await settle(pilot, rounds=2)
    return chat_id


def popup(app: DeskApp) -> TemplatePopup:
    """The `/word` popup above the composer."""
    return app.query_one(TemplatePopup)


def shown(app: DeskApp) -> list[tuple[str, str | None]]:
    """(key, lang) of the templates the popup shows; empty when it is hidden."""
    box = popup(app)
    if not box.display:
        return []
    return [(t.key, t.lang) for t in box.templates]


def selected_text(app: DeskApp) -> str:
    """The composer's selected text (a template field after insertion or Tab)."""
    return composer(app).selected_text


def toasts(app: DeskApp) -> list[str]:
    """The messages of the notifications currently shown."""
    return [str(n.message) for n in app._notifications]


def drawn_toasts(app: DeskApp) -> list[str]:
    """What the toasts on screen draw (title and message, as the terminal would show them)."""
    return [toast.render().plain for toast in app.screen.query(Toast)]


async def sent_texts(app: DeskApp, chat_id: int) -> list[str]:
    """Texts of our replies in the chat: confirmed ones and those still in the outbox."""
    messages = await app.inbox.store.messages(chat_id, limit=50)
    return [m.text for m in messages if m.out] + [
        item.text for item in app.inbox.outbox.get(chat_id, [])
    ]


async def wait_sent(pilot: Pilot[int], chat_id: int, text: str) -> None:
    """Wait until `text` was sent to the chat (it left the composer and reached the store)."""
    app = pilot.app
    assert isinstance(app, DeskApp)
    for _ in range(200):
        if text in await sent_texts(app, chat_id):
            return
        await settle(pilot, rounds=1)
    raise AssertionError(f"{text!r} was never sent; sent: {await sent_texts(app, chat_id)}")


def write_templates(folder: Path, name: str, content: str) -> Path:
    """Write one template file into a templates folder."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    part = path.with_suffix(".part")  # not *.toml: a watcher never sees half a file
    part.write_text(content, encoding="utf-8")
    part.replace(path)
    return path


def templates_dir(tmp_path: Path) -> Path:
    """The templates folder of the desk's config dir (as make_desk lays it out)."""
    return tmp_path / "config" / "templates"
