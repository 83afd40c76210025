"""Copying to the desktop's clipboard (core/system/clipboard.py): wl-copy on Wayland, xclip or
xsel on X11, nothing without a display — run as real processes (fake tools on PATH that record
what they read) — and C in message mode copies both ways: OSC 52 and the desktop's tool."""

from __future__ import annotations

import os
import shutil
import stat
from functools import partial
from pathlib import Path

import pytest
from tgtriage.core.system.clipboard import copy_command, copy_to_desktop
from tgtriage.tui.conversation import Conversation

from tests.desk_harness import make_desk, run_desk, settle, wait_for

TEXT = "Привет — order #4411\nsecond line"


def fake_tool(folder: Path, name: str, exit_code: int = 0) -> Path:
    """A copy tool that writes its arguments and the text it read to `folder/name.log`."""
    folder.mkdir(exist_ok=True)
    log = folder / f"{name}.log"
    tool = folder / name
    tool.write_text(f'#!/bin/sh\necho "$@" > {log}\ncat >> {log}\nexit {exit_code}\n')
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    return log


def only_in(folder: Path) -> partial[str | None]:
    """`which` that looks in `folder` alone (a real xclip on this machine is not used)."""
    return partial(shutil.which, path=str(folder))


def test_x11_copies_with_xclip_to_the_clipboard_selection(tmp_path: Path) -> None:
    log = fake_tool(tmp_path, "xclip")
    env = {"DISPLAY": ":0", "PATH": os.defpath}
    assert copy_to_desktop(TEXT, env, only_in(tmp_path)) == "xclip"
    args, copied = log.read_text().split("\n", 1)
    assert args == "-selection clipboard"
    assert copied == TEXT


def test_x11_without_xclip_copies_with_xsel(tmp_path: Path) -> None:
    log = fake_tool(tmp_path, "xsel")
    env = {"DISPLAY": ":0", "PATH": os.defpath}
    assert copy_to_desktop(TEXT, env, only_in(tmp_path)) == "xsel"
    assert log.read_text() == f"--clipboard --input\n{TEXT}"


def test_wayland_copies_with_wl_copy_and_falls_back_to_xwaylands_xclip(tmp_path: Path) -> None:
    wl_log = fake_tool(tmp_path, "wl-copy")
    x_log = fake_tool(tmp_path, "xclip")
    env = {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0", "PATH": os.defpath}
    assert copy_to_desktop(TEXT, env, only_in(tmp_path)) == "wl-copy"
    assert wl_log.read_text() == f"\n{TEXT}" and not x_log.exists()
    (tmp_path / "wl-copy").unlink()
    assert copy_to_desktop(TEXT, env, only_in(tmp_path)) == "xclip"
    assert x_log.read_text().endswith(TEXT)
    assert copy_command({"WAYLAND_DISPLAY": "wayland-0"}, only_in(tmp_path)) is None


def test_without_a_display_or_when_the_tool_fails_nothing_is_claimed(tmp_path: Path) -> None:
    log = fake_tool(tmp_path, "xclip")
    assert copy_to_desktop(TEXT, {"SSH_CONNECTION": "1 2 3 4"}, only_in(tmp_path)) is None
    assert not log.exists(), "no display: the tool is not run"
    broken = tmp_path / "broken"
    fake_tool(broken, "xclip", exit_code=1)
    assert copy_to_desktop(TEXT, {"DISPLAY": ":0"}, only_in(broken)) is None


async def test_c_in_message_mode_copies_through_osc_52_and_xclip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tools = tmp_path / "bin"
    log = fake_tool(tools, "xclip")
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    desk = make_desk(tmp_path)
    desk.app.env = {"DISPLAY": ":0", "PATH": os.environ["PATH"]}
    async with run_desk(desk) as pilot:
        app = desk.app
        await pilot.press("ctrl+n")
        await settle(pilot)
        await pilot.press("up", "c")
        await settle(pilot)
        conversation = app.query_one(Conversation)
        selected = next(m for m in conversation.messages if m.id == conversation.selected_id)
        await wait_for(pilot, log.exists, "xclip to run")
        await wait_for(
            pilot,
            lambda: any("terminal and xclip" in n.message for n in app._notifications),
            "the notice",
        )
        assert log.read_text().split("\n", 1)[1] == selected.text
        assert app.clipboard == selected.text, "OSC 52 as well"
