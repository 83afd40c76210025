"""First paint of `tgtriage demo` and of a bare Textual app, each a whole process of its own.

`bench/run.py` runs both in the same 120×35 pty as bench/cold_start.py, one after the other,
so the demo is compared with the floor any Textual app pays on this machine in the same run:

    python -m bench.first_paint --bare --out result.json   # an App painting one Label
    python -m bench.first_paint --demo --out result.json   # `tgtriage demo --fresh`

The demo runs the real command (`tgtriage.cli.main(["demo", "--fresh"])`, a fresh demo store
as a new user has) with one change: its DeskApp notes the first frame painted with a waiting
chat's timer in the chat list (a chat the Inbox counts as waiting, its row drawn), writes the
CLOCK_MONOTONIC time of that frame to `--out` and quits. The bare app notes its first frame.
"""

from __future__ import annotations

import time

STARTED = time.monotonic()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402


def _record(out: Path, **extra: Any) -> None:
    """Write the frame's time, the start time and the process's CPU and modules to `out`."""
    from bench.rss import peak_rss_mb

    out.write_text(
        json.dumps(
            {
                "first_interactive_paint": time.monotonic(),
                "script_started": STARTED,
                "cpu_s": time.process_time(),
                "rss_mb": peak_rss_mb(),
                "modules": len(sys.modules),
                **extra,
            }
        ),
        encoding="utf-8",
    )


def bare(out: Path) -> int:
    """A Textual app that paints one label, records its first frame and quits."""
    from textual.app import App, ComposeResult
    from textual.widgets import Label

    class OneLabel(App[None]):
        """The floor: Textual's start-up and one painted label."""

        done = False

        def compose(self) -> ComposeResult:
            """One label."""
            yield Label("tgtriage")

        def _display(self, screen: Any, renderable: Any) -> None:
            """Paint, and at the first frame: record it and quit."""
            super()._display(screen, renderable)
            if renderable is None or self._batch_count or self.done:
                return
            self.done = True
            _record(out)
            self.exit()

    OneLabel().run()
    return 0


def demo(out: Path) -> int:
    """`tgtriage demo --fresh` until the first frame that shows a waiting chat's timer."""
    from tgtriage import cli

    desk_modules = cli.desk_modules

    def measured_modules() -> tuple[Any, Any, Any, Any]:
        """The desk's modules with a DeskApp that reports its first frame with timers."""
        Inbox, Store, StoreError, DeskApp = desk_modules()

        class TimersPainted(DeskApp):  # type: ignore[misc, valid-type]
            """DeskApp that reports the first frame showing a waiting chat, and quits."""

            done = False

            def _display(self, screen: Any, renderable: Any) -> None:
                """Paint, and at the first frame with a waiting chat's row: record it and quit."""
                super()._display(screen, renderable)
                if renderable is None or self._batch_count or self.done or not self.ready:
                    return
                waiting = sum(self.inbox.level_counts())
                if not waiting or not self.shows_waiting_row():
                    return
                self.done = True
                _record(
                    out,
                    waiting=waiting,
                    telethon_loaded=any(m.split(".")[0] == "telethon" for m in sys.modules),
                )
                self.exit()

            def shows_waiting_row(self) -> bool:
                """Whether the chat list has drawn a waiting chat's row (with its timer)."""
                from tgtriage.tui.chat_list import ChatList

                chat_list = self.query_one(ChatList)
                top = int(chat_list.scroll_y)
                shown = chat_list.chat_ids[top : top + chat_list.size.height]
                states = self.inbox.triage
                return any(
                    c in states and states[c].waiting_since is not None for c in shown
                ) and bool(chat_list.rows_rendered)

        return Inbox, Store, StoreError, TimersPainted

    cli.desk_modules = measured_modules
    return cli.main(["demo", "--fresh"])


def main() -> int:
    """Run the bare app or the demo and record its first paint."""
    parser = argparse.ArgumentParser(description=__doc__)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--bare", action="store_true")
    which.add_argument("--demo", action="store_true")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    return bare(args.out) if args.bare else demo(args.out)


if __name__ == "__main__":
    raise SystemExit(main())
