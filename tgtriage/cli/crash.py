"""The desk's log file and what an unexpected error shows: a short line on screen, details in the log.

The log is opened without following links (core/system/paths.py). A crash's traceback goes to
the log only, with known secrets replaced; the terminal gets the exception's type and the log's
path, never the values of variables (message text, ids) that a full traceback would show.
"""

from __future__ import annotations

import io
import logging
import os
import sys
from pathlib import Path
from typing import Any

from ..core.system.paths import Paths, ensure_private_dir, open_private_fd

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_SECRET_ENVIRONMENT = ("TGTRIAGE_API_HASH",)
_REDACTED = "[redacted]"
_MIN_SECRET = 6  # shorter values would blank ordinary words


class PrivateLogHandler(logging.FileHandler):
    """A FileHandler appending to a 0600 file that it opens without following links."""

    def _open(self) -> io.TextIOWrapper:
        """Open the log for appending through open_private_fd (O_NOFOLLOW, fchmod 0600)."""
        fd = open_private_fd(Path(self.baseFilename), os.O_WRONLY | os.O_APPEND)
        return io.TextIOWrapper(
            io.FileIO(fd, "a"), encoding="utf-8", errors="backslashreplace", write_through=True
        )


class SecretScrubber(logging.Filter):
    """Replace known secret values in a record's text and traceback before it is written."""

    def __init__(self, secrets: list[str]) -> None:
        """Remember the values to hide (short or empty ones are ignored)."""
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= _MIN_SECRET]

    def scrub(self, text: str) -> str:
        """`text` with every secret value replaced."""
        for secret in self.secrets:
            text = text.replace(secret, _REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Render the record's message and traceback now, scrubbed (the record is then final)."""
        if not self.secrets:
            return True
        record.msg = self.scrub(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = self.scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def setup_logging(paths: Paths, secrets: list[str] | None = None) -> Path:
    """Log to a private file in the data dir (never to the terminal the desk draws on)."""
    ensure_private_dir(paths.data_dir)
    handler = PrivateLogHandler(paths.log_file, mode="a", encoding="utf-8")
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    known = [os.environ.get(name, "") for name in _SECRET_ENVIRONMENT]
    handler.addFilter(SecretScrubber([*known, *(secrets or [])]))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, PrivateLogHandler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return paths.log_file


def current_log_file() -> Path | None:
    """The log file the desk writes to, when logging has been set up."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrivateLogHandler):
            return Path(handler.baseFilename)
    return None


def log_unexpected(error: BaseException, paths: Paths) -> None:
    """Log an error that escaped a command (opening the log first if needed) and say where."""
    log_file = current_log_file()
    if isinstance(error, DeskCrashed):  # already logged by the desk
        print(str(error), file=sys.stderr)
        return
    if log_file is None:
        try:
            log_file = setup_logging(paths)
        except OSError:
            log_file = None
    log_crash(error, log_file)


def crash_line(error: BaseException, log_file: Path | None) -> str:
    """The one line shown for an unexpected error: its type and where the details are."""
    where = f"details are in {log_file}" if log_file is not None else "no log file was open"
    return (
        f"tgtriage: unexpected error ({type(error).__name__}); {where} — "
        "please report it with that file (remove anything private first)"
    )


def log_crash(error: BaseException, log_file: Path | None) -> None:
    """Write `error`'s traceback to the log and the one-line notice to stderr."""
    logging.getLogger("tgtriage.crash").error(
        "unhandled error", exc_info=(type(error), error, error.__traceback__)
    )
    for handler in logging.getLogger().handlers:
        handler.flush()
    print(crash_line(error, log_file), file=sys.stderr)


class DeskCrashed(Exception):
    """An unhandled error inside the desk, shown by Textual as one short line (`__rich__`)."""

    def __init__(self, error: BaseException, log_file: Path | None) -> None:
        """Keep the original error (as the cause) and the log's path."""
        super().__init__(crash_line(error, log_file))
        self.__cause__ = error

    def __rich__(self) -> Any:
        """What Textual prints when the app exits on this error (plain text, no traceback)."""
        from rich.text import Text

        return Text(str(self))


def report_desk_crashes(app: Any, log_file: Path | None) -> None:
    """Make the Textual `app` log an unhandled error and show one line instead of a traceback."""
    original = app._handle_exception

    def handle(error: Exception) -> None:
        """Log the error, then let Textual exit on the short notice."""
        if isinstance(error, DeskCrashed):
            original(error)
            return
        logging.getLogger("tgtriage.crash").error(
            "unhandled error in the desk", exc_info=(type(error), error, error.__traceback__)
        )
        original(DeskCrashed(error, log_file))

    app._handle_exception = handle
