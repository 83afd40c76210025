"""One desk per profile: an advisory `flock` on `<data dir>/<profile>.lock` held for the process's life.

The lock file holds the PID of the desk that holds it, so a second desk can name the first.
The kernel drops the lock when the holder exits, however it exits (even SIGKILL), so a stale
file never blocks the next start.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .paths import open_private_fd


class ProfileBusyError(Exception):
    """Another process holds the profile's lock; the message is one line naming its PID."""

    def __init__(self, path: Path, profile: str, pid: int | None) -> None:
        """Name the profile, the holder's PID (when it wrote one) and the lock file."""
        holder = f"PID {pid}" if pid is not None else "another process"
        super().__init__(
            f"another tgtriage desk ({holder}) is already running on the {profile} profile; "
            f"quit it first (lock: {path})"
        )
        self.pid = pid


class ProfileLock:
    """The held lock of one profile; `release()` it, or let the process's exit drop it."""

    def __init__(self, path: Path, fd: int) -> None:
        """Wrap a locked descriptor; use `ProfileLock.acquire` instead of calling this."""
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, path: Path, profile: str) -> ProfileLock:
        """Take the lock at `path` without waiting, or raise ProfileBusyError naming the holder."""
        fd = open_private_fd(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            raise ProfileBusyError(path, profile, pid) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return cls(path, fd)

    def release(self) -> None:
        """Drop the lock (idempotent); the file stays for the next desk."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _read_pid(fd: int) -> int | None:
    """The PID written in a lock file, or None when it is empty or unreadable."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
