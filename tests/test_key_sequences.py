"""Random key sequences at the desk (palette, switcher, dialogs, popup, Ctrl+Z, Alt keys): the
desk never crashes, and letters typed into the composer land in the chat they were typed in."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.command import CommandPalette

from tests.desk_harness import composer, make_desk, run_desk, settle, type_text

KEYS = [
    "ctrl+p",
    "ctrl+k",
    "ctrl+n",
    "ctrl+z",
    "escape",
    "enter",
    "tab",
    "down",
    "alt+g",
    "alt+p",
    "alt+n",
    "alt+1",
    "alt+2",
    "slash",
    "d",
    "e",
    "£",
]
LETTERS = {"d": "d", "e": "e", "£": "£"}


async def play(keys: list[str]) -> None:
    """Press `keys` one by one; after each letter, check where it went."""
    with tempfile.TemporaryDirectory() as folder:
        desk = make_desk(Path(folder))
        async with run_desk(desk) as pilot:
            app, inbox = desk.app, desk.inbox
            await pilot.press("ctrl+n")
            for key in keys:
                typing_into = (
                    inbox.open_chat_id
                    if len(app.screen_stack) == 1 and app.focused is composer(app)
                    else None
                )
                before = composer(app).text
                if key in LETTERS:  # as a terminal types it (Pilot's press drops a "£")
                    await type_text(pilot, LETTERS[key])
                else:
                    await pilot.press(key)
                    await settle(pilot, rounds=1)
                assert app.is_running and app.return_code is None
                palettes = [s for s in app.screen_stack if isinstance(s, CommandPalette)]
                assert len(palettes) <= 1
                if key in LETTERS and typing_into is not None and not composer(app).note_mode:
                    assert inbox.open_chat_id == typing_into, f"{key!r} switched chats"
                    assert LETTERS[key] in composer(app).text or len(composer(app).text) > len(
                        before
                    ), f"{key!r} was not typed into the composer"


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(st.lists(st.sampled_from(KEYS), min_size=5, max_size=18))
def test_random_key_sequences_never_crash_and_letters_stay_in_their_chat(keys: list[str]) -> None:
    asyncio.run(play(keys))
