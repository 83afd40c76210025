"""Open a URL in the desktop's browser (xdg-open) where a display exists; else say it cannot."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..rules.alerts import desktop_session

log = logging.getLogger(__name__)

Spawn = Callable[[Sequence[str]], Any]


def _detached(args: Sequence[str]) -> subprocess.Popen[bytes]:
    """Start a process that outlives nothing of ours and writes nothing on the desk's terminal."""
    return subprocess.Popen(
        list(args),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


class UrlOpener:
    """Hands URLs to xdg-open when there is a desktop session to show them in."""

    def __init__(
        self, env: Mapping[str, str], command: str | None = None, spawn: Spawn | None = None
    ) -> None:
        """`command` defaults to xdg-open on PATH; `spawn` to a detached subprocess."""
        self.env = env
        self.command = command if command is not None else shutil.which("xdg-open")
        self._spawn: Spawn = spawn or _detached

    @property
    def can_open(self) -> bool:
        """A display and an opener exist (not so over plain SSH)."""
        return bool(self.command) and desktop_session(self.env)

    def open(self, url: str) -> bool:
        """Open `url` (http/https only); False when it cannot be opened here."""
        if not self.can_open or not url.startswith(("https://", "http://")):
            return False
        try:
            self._spawn([str(self.command), url])
        except OSError as exc:
            log.warning("could not run %s: %s", self.command, exc)
            return False
        return True
