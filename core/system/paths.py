"""Where tgtriage keeps its files (platformdirs), created private: folders 0700, files 0600.

Nothing here follows a symbolic link: folders and files are opened with `O_NOFOLLOW` and their
modes set with `fchmod` on the open descriptor, so a link planted where a private file belongs
is refused (UnsafePathError) instead of redirecting the desk's writes or permission changes.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_config_path, user_data_path, user_downloads_path

APP = "tgtriage"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


class UnsafePathError(OSError):
    """A private file or folder is a symbolic link, a hard link or not the expected kind."""

    def __init__(self, path: Path, what: str) -> None:
        """Keep the path and a one-line message naming it and the fix."""
        super().__init__(
            f"{path}: {what}; tgtriage does not write through it — remove or rename it"
        )
        self.path = path

    def __str__(self) -> str:
        """The one-line message (without OSError's errno decoration)."""
        return str(self.args[0])


@dataclass(frozen=True)
class Paths:
    """The folders and files of one installation."""

    config_dir: Path
    data_dir: Path

    @classmethod
    def default(cls) -> Paths:
        """Paths from TGTRIAGE_CONFIG_DIR / TGTRIAGE_DATA_DIR or the platform's user dirs."""
        config = os.environ.get("TGTRIAGE_CONFIG_DIR")
        data = os.environ.get("TGTRIAGE_DATA_DIR")
        return cls(
            config_dir=Path(config) if config else user_config_path(APP),
            data_dir=Path(data) if data else user_data_path(APP),
        )

    @property
    def config_file(self) -> Path:
        """The TOML config file."""
        return self.config_dir / "config.toml"

    @property
    def config_snapshot(self) -> Path:
        """The last validated config, kept so an unchanged one starts without validating (core/system/config_snapshot.py)."""
        return self.data_dir / "config-snapshot.json"

    @property
    def templates_dir(self) -> Path:
        """The default templates folder."""
        return self.config_dir / "templates"

    def database(self, profile: str = "telegram") -> Path:
        """The SQLite store of one profile (telegram, demo, replay)."""
        return self.data_dir / f"{profile}.sqlite3"

    def lock_file(self, profile: str = "telegram") -> Path:
        """The lock file held by the one desk running on a profile (core/system/lock.py)."""
        return self.data_dir / f"{profile}.lock"

    @property
    def session_file(self) -> Path:
        """Telethon's session file (Telethon appends `.session` to this stem)."""
        return self.data_dir / "telegram"

    @property
    def log_file(self) -> Path:
        """The desk's log file."""
        return self.data_dir / "tgtriage.log"

    @property
    def downloads_dir(self) -> Path:
        """Where downloaded media goes."""
        return user_downloads_path() / APP


def refuse_link(path: Path) -> None:
    """Raise UnsafePathError when `path` exists as a symbolic link."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise UnsafePathError(path, "is a symbolic link")


def _open_no_link(path: Path, flags: int, mode: int = 0o600) -> int:
    """`os.open` that never follows a symbolic link at `path` (refused with UnsafePathError)."""
    try:
        return os.open(path, flags | _NOFOLLOW | _CLOEXEC, mode)
    except OSError as error:
        if os.path.islink(path):
            raise UnsafePathError(path, "is a symbolic link") from error
        raise


def _set_mode(fd: int, mode: int) -> None:
    """Give the open file `mode` unless it has it already (on the descriptor: no link race)."""
    if stat.S_IMODE(os.fstat(fd).st_mode) != mode:
        os.fchmod(fd, mode)


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) if needed and make it 0700, refusing a symbolic link there."""
    refuse_link(path)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = _open_no_link(path, os.O_RDONLY | _DIRECTORY)
    try:
        _set_mode(fd, 0o700)
    finally:
        os.close(fd)
    return path


def open_private_fd(path: Path, flags: int) -> int:
    """Open (creating 0600) the regular file `path` without following links; return the fd.

    The file's mode is set to 0600 on the descriptor. A symbolic link, a file with other hard
    links or anything but a regular file is refused with UnsafePathError.
    """
    ensure_private_dir(path.parent)
    fd = _open_no_link(path, flags | os.O_CREAT | _NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafePathError(path, "is not a regular file")
        if info.st_nlink > 1:
            raise UnsafePathError(path, "has other hard links")
        _set_mode(fd, 0o600)
        if _NONBLOCK:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def make_private_file(path: Path) -> Path:
    """Create `path` if missing (in a private folder) and make it 0600, never through a link."""
    os.close(open_private_fd(path, os.O_WRONLY))
    return path


def tighten_private_file(path: Path) -> None:
    """Make an existing file 0600 without following a link (missing files are skipped)."""
    try:
        fd = _open_no_link(path, os.O_RDONLY | _NONBLOCK)
    except FileNotFoundError:
        return
    try:
        _set_mode(fd, 0o600)
    finally:
        os.close(fd)
