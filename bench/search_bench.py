"""Issue 16's budgets for search over the 200,000-message workload: query p95 ≤ 10 ms, and
keystroke → results painted p95 ≤ 16 ms.

Searches are typed one character at a time — single workload words, two- and three-word
searches, a phrase, `from:`/`in:` filters and words that are in no message — and every
keystroke's query (`MessageSearch.find`, what the search screen runs on its worker) is timed on
its own. Then the real search screen runs headless over the same store and the same keystrokes
are pressed: from the key to the frame in which its results were drawn.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from tgtriage.core.rules.search_query import parse
from tgtriage.core.storage.search import MessageSearch

from bench.workload import _WORDS


def searches(seed: int = 16, count: int = 40) -> list[str]:
    """What an engineer might type: mostly words, some pairs and filters, a few misses."""
    rng = random.Random(seed)
    found: list[str] = []
    for index in range(count):
        kind = index % 8
        if kind in (0, 1, 2):
            found.append(rng.choice(_WORDS))
        elif kind == 3:
            found.append(f"{rng.choice(_WORDS)} {rng.choice(_WORDS)}")
        elif kind == 4:
            found.append(f'"{rng.choice(_WORDS)} {rng.choice(_WORDS)}"')
        elif kind == 5:
            found.append(f"from:mia {rng.choice(_WORDS)}")
        elif kind == 6:
            found.append(f"in:dunder {rng.choice(_WORDS)}")
        else:
            found.append(rng.choice(["refund webhook", "zyxel", "kubernetes cluster"]))
    return found


def keystrokes(typed: list[str]) -> list[str]:
    """The prompt's text after each keystroke of every search."""
    return [text[:n] for text in typed for n in range(1, len(text) + 1)]


def query_samples(store: Path, prompts: list[str], cpu: list[float] | None = None) -> list[float]:
    """Seconds of `find` for each prompt text (wall clock); `cpu` gets each one's CPU seconds
    (this thread's), which other processes on a shared machine do not inflate."""
    search = MessageSearch(store)
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None
    try:
        search.refresh()
        now = int(time.time())
        samples = []
        for prompt in prompts:
            query = parse(prompt, now, zone)
            began, began_cpu = time.perf_counter(), time.thread_time()
            search.find(query)
            samples.append(time.perf_counter() - began)
            if cpu is not None:
                cpu.append(time.thread_time() - began_cpu)
        return samples
    finally:
        search.close()


async def _paint_samples(
    store: Path, typed: list[str], seed: int = 16, cpu: list[float] | None = None
) -> list[float]:
    """Seconds from each keystroke to its results on screen, in the real search screen; `cpu`
    gets the process CPU seconds of each (both threads, from the key to its paint).

    As in bench/desk_bench.py, each key is pressed a random 0–17 ms after the previous one's
    results were painted, so the keys sample every phase of Textual's 60-a-second frame clock
    (pressed right after a frame, every key would wait out the rest of that frame); the paint is
    awaited, not polled, so the measuring loop takes no CPU from the screen.
    """
    from textual.app import App
    from tgtriage.tui.search_screen import SearchScreen

    class Bench(App[None]):
        """Only the search screen, over the workload's store."""

    rng = random.Random(seed)
    app = Bench()
    samples: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        screen = SearchScreen(MessageSearch(store))
        await app.push_screen(screen)
        await pilot.pause()
        painted: asyncio.Future[float] | None = None
        wanted = ""
        log_paint = screen._log_paint

        def logged(text: str) -> None:
            """The screen's paint log, also resolving the awaited paint."""
            log_paint(text)
            if painted is not None and not painted.done() and text == wanted:
                painted.set_result(screen.paint_log[-1][1])

        screen._log_paint = logged  # type: ignore[method-assign]
        for text in typed:
            prompt = ""
            for char in text:
                prompt += char
                await asyncio.sleep(rng.uniform(0, 1 / 60))
                wanted, painted = prompt, asyncio.get_running_loop().create_future()
                began, began_cpu = time.perf_counter(), time.process_time()
                await pilot.press(char if char != " " else "space")
                samples.append(await painted - began)
                if cpu is not None:
                    cpu.append(time.process_time() - began_cpu)
            await pilot.press("ctrl+a", "ctrl+k")  # clear the prompt for the next search
            await pilot.pause(0.05)
    return samples


def run(store: Path) -> dict[str, Any]:
    """Both measurements over the store at `store` (the workload's, schema v4 or later)."""
    typed = searches()
    prompts = keystrokes(typed)
    query_samples(store, prompts[:20])  # warm the page cache, not counted
    query_cpu: list[float] = []
    queries = query_samples(store, prompts, query_cpu)
    paint_cpus: list[float] = []
    paints = asyncio.run(_paint_samples(store, typed, cpu=paint_cpus))
    paint_cpu = sum(paint_cpus) / max(1, len(paint_cpus))
    return {
        "searches": len(typed),
        "query": queries,
        "query_cpu": query_cpu,
        "paint": paints,
        # the process (test driver and query thread included) from each key to its paint;
        # the app's start and the prompt's clearing between searches are not in it
        "paint_cpu_per_key": paint_cpu,
    }


if __name__ == "__main__":
    import sys

    result = run(Path(sys.argv[1]))
    print(f"paint: process CPU per keystroke {result['paint_cpu_per_key'] * 1000:.1f} ms")
    for key in ("query", "query_cpu", "paint"):
        values = sorted(result[key])
        p95 = values[int(0.95 * (len(values) - 1))]
        print(
            f"{key}: n={len(values)} p50={values[len(values) // 2] * 1000:.1f} ms "
            f"p95={p95 * 1000:.1f} ms max={values[-1] * 1000:.1f} ms"
        )
