"""`tgtriage demo --fresh`: the desk's first frame already shows the waiting chats and their timers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tgtriage.tui.chat_list import ChatList

from tgtriage import cli

Frame = tuple[int, int, int]
"""What one painted frame showed: chat rows listed, waiting rows on screen, chats counted waiting."""


def recording_desk(frames: list[Frame]) -> Callable[[], tuple[Any, Any, Any, Any]]:
    """cli.desk_modules with a DeskApp that notes every frame it paints once it is ready."""
    desk_modules = cli.desk_modules

    def modules() -> tuple[Any, Any, Any, Any]:
        inbox_cls, store_cls, store_error, desk_app = desk_modules()

        class RecordingDesk(desk_app):  # type: ignore[misc, valid-type]
            """The desk, noting what each of its frames showed."""

            def _display(self, screen: Any, renderable: Any) -> None:
                super()._display(screen, renderable)
                if renderable is None or self._batch_count or not self.ready:
                    return
                chat_list = self.query_one(ChatList)
                top = int(chat_list.scroll_y)
                shown = chat_list.chat_ids[top : top + chat_list.size.height]
                states = self.inbox.triage
                waiting_shown = sum(
                    1 for c in shown if c in states and states[c].waiting_since is not None
                )
                waiting = sum(self.inbox.level_counts())
                frames.append((len(chat_list.chat_ids), waiting_shown, waiting))

        return inbox_cls, store_cls, store_error, RecordingDesk

    return modules


def test_a_fresh_demo_paints_its_waiting_chats_in_its_first_frame(
    data_dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    frames: list[Frame] = []
    monkeypatch.setattr(cli, "desk_modules", recording_desk(frames))
    assert cli.main(["demo", "--fresh", "--seed", "7", "--headless-seconds", "0.3"]) == 0
    assert frames, "the desk painted nothing"
    listed, waiting_shown, waiting = frames[0]
    assert listed >= 5  # the demo's support chats, not an empty list filled in later
    assert waiting >= 3 and waiting_shown >= 3  # their timers on screen from the first frame
    assert listed == frames[-1][0]  # every chat of the demo's start, none arriving later


def test_a_kept_demo_paints_its_cached_chats_first_and_follows_the_source(
    data_dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh: list[Frame] = []
    monkeypatch.setattr(cli, "desk_modules", recording_desk(fresh))
    assert cli.main(["demo", "--fresh", "--seed", "7", "--headless-seconds", "0.3"]) == 0
    kept: list[Frame] = []
    monkeypatch.setattr(cli, "desk_modules", recording_desk(kept))
    assert cli.main(["demo", "--seed", "7", "--headless-seconds", "0.3"]) == 0
    assert kept and kept[0][0] == fresh[-1][0]  # the chats from the store, at once
    assert kept[0][2] >= 3
