"""tgtriage: a terminal triage desk for support engineers who work in Telegram."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """`tgtriage.__version__`, looked up on first use (importlib.metadata costs ~30 ms)."""
    if name != "__version__":
        raise AttributeError(f"module 'tgtriage' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("tgtriage")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0.0.0+source"
    globals()["__version__"] = found
    return found
