"""Copy text to the desktop's clipboard with wl-copy (Wayland) or xclip / xsel (X11).

The desk also copies through the terminal (OSC 52, tui/desk_messages.py), which works over SSH
but not in every terminal; where a display exists, this puts the text on the clipboard the
desktop's own programs paste from as well.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

COPY_SECONDS = 3.0  # how long a copy tool may take to read the text before it is given up

# Per session kind, the tools that copy stdin to the clipboard, in the order they are tried.
WAYLAND_TOOLS: tuple[tuple[str, ...], ...] = (("wl-copy",),)
X11_TOOLS: tuple[tuple[str, ...], ...] = (
    ("xclip", "-selection", "clipboard"),
    ("xsel", "--clipboard", "--input"),
)


def copy_command(
    env: Mapping[str, str], which: Callable[[str], str | None] = shutil.which
) -> list[str] | None:
    """The command that copies stdin to this session's clipboard, or None (no display, no tool).

    WAYLAND_DISPLAY picks wl-copy, DISPLAY xclip then xsel; on a Wayland session with XWayland
    (both set) an X11 tool is the fallback when wl-copy is missing.
    """
    tools: list[tuple[str, ...]] = []
    if env.get("WAYLAND_DISPLAY"):
        tools.extend(WAYLAND_TOOLS)
    if env.get("DISPLAY"):
        tools.extend(X11_TOOLS)
    for name, *args in tools:
        path = which(name)
        if path is not None:
            return [path, *args]
    return None


def copy_to_desktop(
    text: str, env: Mapping[str, str], which: Callable[[str], str | None] = shutil.which
) -> str | None:
    """Put `text` on the desktop's clipboard; the tool's name, or None when none could.

    It blocks until the tool has read the text (the tools then keep serving the clipboard
    in the background), so the desk calls it off its event loop.
    """
    command = copy_command(env, which)
    if command is None:
        return None
    try:
        subprocess.run(
            command,
            input=text.encode(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=COPY_SECONDS,
            check=True,
            env=dict(env),
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("could not copy with %s: %s", command[0], exc)
        return None
    return command[0].rsplit("/", 1)[-1]
