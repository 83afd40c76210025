"""Runs the real `tgtriage` command as its own process over private config and data dirs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cli_env(home: Path) -> dict[str, str]:
    """This process's environment without TGTRIAGE_* settings, config and data under `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TGTRIAGE_")}
    env |= {"TGTRIAGE_CONFIG_DIR": str(home / "config"), "TGTRIAGE_DATA_DIR": str(home / "data")}
    return env


def run_tgtriage(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m tgtriage ARGS` from the project root with `env`, waited for, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "tgtriage", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
