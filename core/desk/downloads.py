"""What happens to a downloaded media file: opened with xdg-open where that is safe, else shown.

Files come from customers, so only kinds a viewer shows (pictures, video, audio, PDF, plain
text) are handed to `xdg-open`, and only where there is a display to show them on; anything
else (an archive, a script, a `.desktop` file that could run a program) is left where it was
saved and the desk shows its path.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .models import Message

VIEWABLE = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".png",
        ".gif",
        ".webp",
        ".bmp",
        ".heic",
        ".mp4",
        ".webm",
        ".mov",
        ".mkv",
        ".mp3",
        ".ogg",
        ".oga",
        ".opus",
        ".m4a",
        ".wav",
        ".flac",
        ".pdf",
        ".txt",
        ".log",
        ".csv",
    }
)
"""File types handed to the desktop's viewer."""

DOWNLOADABLE = frozenset(
    {"photo", "document", "video", "video_note", "voice", "audio", "gif", "sticker"}
)
"""Media kinds that are files (contacts, polls, locations and the like are not)."""


@dataclass(frozen=True, slots=True)
class Opening:
    """How to show a saved file: the command to run (None: just say where it is) and why."""

    command: list[str] | None
    reason: str = ""


def has_display(env: Mapping[str, str]) -> bool:
    """Whether a graphical session is reachable (X11 or Wayland, also over `ssh -X`)."""
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def opening(
    path: Path, env: Mapping[str, str], which: Callable[[str], str | None] = shutil.which
) -> Opening:
    """Open `path` with xdg-open when there is a display, the opener exists and the type is safe."""
    if not has_display(env):
        return Opening(None, "no display here")
    if path.suffix.lower() not in VIEWABLE:
        return Opening(None, f"{path.suffix or 'this'} files are not opened automatically")
    opener = which("xdg-open")
    if opener is None:
        return Opening(None, "xdg-open is not installed")
    return Opening([opener, str(path)])


def media_messages(messages: list[Message], limit: int = 9) -> list[Message]:
    """The chat's messages that carry a downloadable file, newest first."""
    found = [m for m in messages if m.media is not None and m.media.kind in DOWNLOADABLE]
    return list(reversed(found))[:limit]
