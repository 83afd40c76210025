"""The desk's key-press measurements: switcher, slots, next waiting, dialogs and the template popup."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from textual.errors import NoWidget
from textual.pilot import Pilot
from textual.widgets import OptionList
from tgtriage.tui.composer import Composer
from tgtriage.tui.keymap import ALT_DIGIT_KEYS
from tgtriage.tui.template_views import TemplatePopup

from bench.desk_timing import KeySample, first_frame, press_open, press_typed, settle
from bench.measured import MeasuredDesk


async def bench_slots(
    app: MeasuredDesk, pilot: Pilot[Any], presses: int, rng: random.Random
) -> list[KeySample]:
    """Alt+1 … Alt+0, round and round."""
    slots = dict(app.inbox.slots)
    await app.open_chat(slots[max(slots)])
    await settle(pilot, rng)
    samples = []
    order = sorted(slots)
    for i in range(presses):
        slot = order[i % len(order)]
        key = ALT_DIGIT_KEYS[slot].split(",")[0]
        samples.append(await press_open(app, pilot, (key,), slots[slot], rng))
    return samples


async def bench_next_waiting(
    app: MeasuredDesk, pilot: Pilot[Any], presses: int, rng: random.Random
) -> list[KeySample]:
    """Ctrl+N, then (untimed) mark the chat handled — the engineer's loop through the queue."""
    samples = []
    for _ in range(presses):
        inbox = app.inbox
        target, _ = inbox.walk()  # where Ctrl+N goes (core/rules/walk.py)
        if target is None:
            break
        samples.append(await press_open(app, pilot, ("ctrl+n",), target, rng))
        await inbox.mark_handled(target)
        await settle(pilot, rng)
    return samples


def _switcher_ids(app: MeasuredDesk) -> tuple[str, ...]:
    """The first few chat ids the switcher lists (or () when it is not drawn)."""
    if "switcher-box" not in _boxes_shown(app):
        return ()
    options = app.screen.query_one("#switcher-list", OptionList)
    return tuple(
        str(options.get_option_at_index(i).id) for i in range(min(3, options.option_count))
    )


async def bench_switch(
    app: MeasuredDesk, pilot: Pilot[Any], presses: int, rng: random.Random
) -> tuple[list[KeySample], list[float], list[float], list[float]]:
    """Ctrl+K, type part of a title, Enter: time Enter → conversation, plus the other two keys
    (and the CPU seconds of Ctrl+K → switcher painted)."""
    enters: list[KeySample] = []
    opens: list[float] = []
    opens_cpu: list[float] = []
    typing: list[float] = []
    chats = list(app.inbox.chats.values())
    app.probe = lambda: _switcher_ids(app)
    try:
        while len(enters) < presses:
            chat = rng.choice(chats)
            if chat.id == app.inbox.open_chat_id:
                continue
            # Ctrl+K → the switcher is painted with its list.
            mark = len(app.paints)
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            await pilot.press("ctrl+k")
            first = await first_frame(app, mark, lambda p: bool(p.probe))
            opens.append(first.at - t0)
            opens_cpu.append(first.cpu - cpu0)
            await settle(pilot, rng)
            # Type the chat's number (e.g. "417"), a key at a time: keystroke → filtered list painted.
            for char in chat.title.split(" ")[1] if " " in chat.title else chat.title[:4]:
                if not char.isalnum():
                    continue
                took = await press_typed(app, pilot, char, app.probe)
                if took is not None:
                    typing.append(took)
                await asyncio.sleep(rng.uniform(0, 1 / 60))
            ids = _switcher_ids(app)
            target = int(ids[0]) if ids else None
            if target is None or target == app.inbox.open_chat_id:
                await pilot.press("escape")
                await settle(pilot, rng)
                continue
            enters.append(await press_open(app, pilot, ("enter",), target, rng))
    finally:
        app.probe = None
    return enters, opens, typing, opens_cpu


DIALOGS = ("alt+p", "alt+g")  # postpone, tags
BOXES = ("switcher-box", "choice-box", "tag-box", "dev-box", "ticket-box")


def _boxes_shown(app: MeasuredDesk) -> tuple[str, ...]:
    """The ids of the dialog boxes the last layout of the top screen placed: a pushed dialog
    screen's box, or a dialog drawn over the desk (tui/dialogs.py)."""
    screen = app.screen
    shown = []
    for box in screen.query(", ".join(f"#{name}" for name in BOXES)):
        try:
            screen.find_widget(box)
        except NoWidget:
            continue  # hidden: not in the frame's layout
        shown.append(str(box.id))
    return tuple(shown)


async def bench_dialogs(
    app: MeasuredDesk, pilot: Pilot[Any], presses: int, rng: random.Random
) -> dict[str, list[float]]:
    """Alt+P (postpone) and Alt+G (tags) → the dialog painted; Esc → the desk painted again
    without it. Wall-clock seconds per key, and the process's CPU seconds under `cpu:KEY`."""
    samples: dict[str, list[float]] = {}
    app.probe = lambda: _boxes_shown(app)
    try:
        for press in range(presses):
            key = DIALOGS[press % len(DIALOGS)]
            for pressed, opens in ((key, True), ("escape", False)):
                mark = len(app.paints)
                cpu0 = time.process_time()
                t0 = time.perf_counter()
                await pilot.press(pressed)
                frame = await first_frame(app, mark, lambda p, opens=opens: bool(p.probe) == opens)
                samples.setdefault(pressed, []).append(frame.at - t0)
                samples.setdefault(f"cpu:{pressed}", []).append(frame.cpu - cpu0)
                await settle(pilot, rng)
    finally:
        app.probe = None
    return samples


def _popup_probe(app: MeasuredDesk) -> tuple[str, ...]:
    """The keys the template popup lists (first three), or () when it is hidden."""
    popup = app.query_one(TemplatePopup)
    if not popup.display:
        return ()
    return tuple(t.key for t in popup.templates[:3])


async def bench_popup(
    app: MeasuredDesk, pilot: Pilot[Any], words: list[str], rng: random.Random
) -> list[float]:
    """Type `/word` in the composer a key at a time: keystroke → popup painted with its matches."""
    samples: list[float] = []
    composer = app.query_one(Composer)
    app.probe = lambda: _popup_probe(app)
    try:
        for word in words:
            composer.focus()
            composer.load("")
            await settle(pilot, rng)
            for char in "/" + word:
                took = await press_typed(app, pilot, char, app.probe)
                if took is None:
                    break  # nothing matches any more: the popup closed
                samples.append(took)
                await asyncio.sleep(rng.uniform(0, 1 / 60))
            await pilot.press("escape")
        composer.load("")
        await settle(pilot, rng)
    finally:
        app.probe = None
    return samples
