"""Where tgtriage keeps its files (platformdirs), created private: folders 0700, files 0600."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_config_path, user_data_path, user_downloads_path

APP = "tgtriage"


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
    def templates_dir(self) -> Path:
        """The default templates folder."""
        return self.config_dir / "templates"

    def database(self, profile: str = "telegram") -> Path:
        """The SQLite store of one profile (telegram, demo, replay)."""
        return self.data_dir / f"{profile}.sqlite3"

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


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and parents) if needed and make it 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def make_private_file(path: Path) -> Path:
    """Create `path` if missing (in a private folder) and make it 0600."""
    ensure_private_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    return path
