"""tgtriage: a terminal triage desk for support engineers who work in Telegram."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tgtriage")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
