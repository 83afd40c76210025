"""Cold start to the first interactive paint, in a process of its own (DESIGN §8: ≤ 0.8 s median).

`tgtriage` has no flag that opens the desk on an existing store without a network source, so
this script does exactly what `tgtriage.cli` does for the desk — the same imports (it imports
`tgtriage.cli` and `tgtriage.cli.telegram` itself), config and keymap loading (from the config
snapshot once one is kept), logging set-up, `Store.open`, an `Inbox`
filled by `load_cached()`, `DeskApp` — with a `CacheSource` in place of the network source. It
runs the app for real (`run_async`, Textual's Linux driver on the terminal it is given, which
`bench/run.py` makes a 120×35 pty), and at the first frame painted after the cache has loaded
(the chat list is filled: `DeskApp.ready`) it writes, as JSON to `--out`:
the CLOCK_MONOTONIC time of that frame (the parent subtracts the time it called exec), whether
Telethon is in `sys.modules`, and the process's peak RSS. Then it quits.

    python -m bench.cold_start --store DATA/demo.sqlite3 --out result.json
"""

from __future__ import annotations

import time

STARTED = time.monotonic()
MARKS: dict[str, float] = {}
RSS: dict[str, float] = {}


def _mark(name: str) -> None:
    """Note when a step finished and the resident memory at that moment (MB)."""
    MARKS[name] = time.monotonic()
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    RSS[name] = int(line.split()[1]) / 1024
    except OSError:
        pass


import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from bench.rss import peak_rss_mb  # noqa: E402
from tgtriage import cli  # noqa: E402  (what `python -m tgtriage` runs first)


def _record(out: Path, app: Any, first_any: float | None) -> None:
    """Write what the parent needs to know about the first interactive frame."""
    now = time.monotonic()
    out.write_text(
        json.dumps(
            {
                "first_interactive_paint": now,
                "first_paint": first_any,
                "script_started": STARTED,
                "imports_done": IMPORTS_DONE,
                "marks": MARKS,
                "rss_marks": RSS,
                "telethon_loaded": any(
                    m == "telethon" or m.startswith("telethon.") for m in sys.modules
                ),
                "rss_mb": peak_rss_mb(),
                "cpu_s": time.process_time(),
                "chats": len(app.inbox.chats),
                "modules": len(sys.modules),
            }
        ),
        encoding="utf-8",
    )


async def _desk(
    store_path: Path, out: Path, config: Any, keymap: dict[str, str], headless: bool
) -> int:
    """`tgtriage.cli._desk` with the cache as the source and a stopwatch on the first frame."""
    _mark("desk_called")
    Inbox, Store, _, DeskApp = cli.desk_modules()  # as cli._desk imports them
    from bench.cache_source import CacheSource
    from tgtriage.cli import telegram  # noqa: F401  (`tgtriage` imports it: login screen, source)

    _mark("desk_imports")

    class FirstPaint(DeskApp):  # type: ignore[misc, valid-type]
        """DeskApp that reports its first interactive frame and quits."""

        first_any: float | None = None
        done = False

        def _display(self, screen: Any, renderable: Any) -> None:
            """Paint, and at the first frame after the cache loaded: record it and quit."""
            super()._display(screen, renderable)
            if renderable is None or self._batch_count or self.done:
                return
            if self.first_any is None:
                self.first_any = time.monotonic()
            if self.ready:
                self.done = True
                _record(out, self, self.first_any)
                self.exit()

    store = await Store.open(store_path)
    source = await CacheSource.from_store(store)
    _mark("store_open")

    async def factory() -> Inbox:
        """The Inbox filled from the cache, as `tgtriage.cli` builds it."""
        _mark("factory_called")
        inbox = Inbox(store, source, config)
        await inbox.load_cached()
        _mark("cache_loaded")
        return inbox

    app = FirstPaint(factory, source_label="cache", keymap=keymap)
    try:
        if headless:
            async with app.run_test(size=(120, 35)) as pilot:
                while not app.done:
                    await pilot.pause(0.005)
        else:
            await app.run_async()
    finally:
        await store.close()
    return 0


def main() -> int:
    """Open the desk on `--store`, report the first interactive frame, exit."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--headless", action="store_true", help="run_test instead of a terminal")
    args = parser.parse_args()
    _mark("main")
    cli.pause_for_startup()  # as cli.main does for the desk
    paths = cli.Paths.default()
    config = cli._load_config(None, paths)
    keymap = cli._keymap(config, paths.config_file)
    cli._setup_logging(paths)
    _mark("config_loaded")
    return asyncio.run(_desk(args.store, args.out, config, keymap, args.headless))


IMPORTS_DONE = time.monotonic()

if __name__ == "__main__":
    raise SystemExit(main())
