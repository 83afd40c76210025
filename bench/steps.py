"""The benchmark's steps run in processes of their own (cold start in a pty, report, the desk) and the machine they ran on."""

from __future__ import annotations

import asyncio
import fcntl
import io
import json
import os
import platform
import pty
import shutil
import statistics
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Any

from bench.rows import ms

REPO = Path(__file__).resolve().parent.parent


def child_env(work: Path, config: Path) -> dict[str, str]:
    """Environment for child processes: private config/data folders, the repo importable."""
    env = dict(os.environ)
    env["TGTRIAGE_CONFIG_DIR"] = str(config)
    env["TGTRIAGE_DATA_DIR"] = str(work / "data")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    # An installed tgtriage has compiled bytecode (pip compiles on install); this checkout may not,
    # and PYTHONDONTWRITEBYTECODE may be set. Keep the children's bytecode in the work folder.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    env.pop("NO_COLOR", None)
    return env


def cold_start_once(store: Path, env: dict[str, str], headless: bool = False) -> dict[str, Any]:
    """Run bench/cold_start.py once in a 120×35 pty; times are seconds from exec."""
    out = store.parent.parent / "cold.json"
    args = [sys.executable, "-m", "bench.cold_start", "--store", str(store), "--out", str(out)]
    if headless:
        args.append("--headless")
    return pty_run(args, out, env)


def first_paint_once(which: str, work: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run bench/first_paint.py (`which`: "bare" or "demo") once in a 120×35 pty."""
    out = work / f"first-paint-{which}.json"
    args = [sys.executable, "-m", "bench.first_paint", f"--{which}", "--out", str(out)]
    # `tgtriage demo --fresh` starts its profile's store over: never the workload's store.
    data = work / "first-paint-data"
    data.mkdir(exist_ok=True)
    return pty_run(args, out, dict(env, TGTRIAGE_DATA_DIR=str(data)))


def pty_run(args: list[str], out: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run a child that writes its JSON to `out` in a 120×35 pty; its times become seconds from exec."""
    out.unlink(missing_ok=True)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 35, 120, 0, 0))
    pty_env = dict(env, TERM="xterm-256color", COLUMNS="120", LINES="35")
    sink = bytearray()

    def drain() -> None:
        """Read the pty until the child closes it (a full pty would block the child)."""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            sink.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    began = time.monotonic()
    proc = subprocess.Popen(
        args,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=pty_env,
        cwd=REPO,
        start_new_session=True,
    )
    os.close(slave)
    try:
        code = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    ended = time.monotonic()
    reader.join(timeout=2)
    os.close(master)
    if code != 0 or not out.exists():
        tail = sink[-1500:].decode("utf-8", "replace")
        raise RuntimeError(f"cold start run failed (exit {code}): {tail}")
    data = json.loads(out.read_text(encoding="utf-8"))
    marks = {k: v - began for k, v in data.pop("marks", {}).items()}
    for key in ("first_interactive_paint", "first_paint", "script_started", "imports_done"):
        if data.get(key) is not None:
            data[key] -= began
    data["marks"] = marks
    data["process_s"] = ended - began
    return data


# ----------------------------------------------------------------------------- report


def report_child(argv: list[str]) -> None:
    """(In a child process) time `tgtriage report ARGV` via run_report, output to /dev/null."""
    from tgtriage.cli.report import run_report

    with open(os.devnull, "w", encoding="utf-8") as sink:
        err = io.StringIO()
        began = time.perf_counter()
        code = run_report(argv, stdout=sink, stderr=err)
        took = time.perf_counter() - began
    print(json.dumps({"seconds": took, "exit": code, "stderr": err.getvalue()[-300:]}))


def _child_report(env: dict[str, str], argv: list[str]) -> float:
    """Seconds one `run_report(argv)` takes in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--child-report", json.dumps(argv)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["exit"] != 0:
        raise RuntimeError(f"report {argv} failed: {result['stderr']}")
    return float(result["seconds"])


async def _store_conversations(store: Path) -> tuple[list[Any], dict[int, list[Any]]]:
    """The store's chats and messages (to write them out as a Telegram Desktop export)."""
    from tgtriage.core.storage.store import Store

    async with await Store.open(store) as db:
        chats = await db.all_chats()
        by_chat: dict[int, list[Any]] = {c.id: [] for c in chats}
        async for message in db.iter_messages():
            by_chat.setdefault(message.chat_id, []).append(message)
    return chats, by_chat


def run_report_bench(env: dict[str, str], store: Path, runs: int) -> dict[str, Any]:
    """`run_report` over the store in fresh processes (median); the whole command; the export path.

    The export path reuses `bench/report_bench.py`'s writer: the same messages as a full-account
    Telegram Desktop `result.json`, reported with `--from-export`.
    """
    from bench.report_bench import write_export

    store_argv = ["--profile", "demo", "--format", "json"]
    times = [_child_report(env, store_argv) for _ in range(runs)]
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tgtriage", "report", *store_argv],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    process_s = time.perf_counter() - began
    export = store.parent.parent / "result.json"
    chats, by_chat = asyncio.run(_store_conversations(store))
    write_export(export, chats, by_chat)
    del chats, by_chat
    export_s = _child_report(env, ["--from-export", str(export), "--format", "json"])
    export.unlink()
    return {
        "runs": times,
        "median_s": statistics.median(times),
        "process_s": process_s,
        "export_s": export_s,
    }


# ----------------------------------------------------------------------------- desk


def run_desk(
    store: Path,
    env: dict[str, str],
    out: Path,
    presses: int,
    burst: int,
    idle: float,
    phases: bool,
    gc_mode: str = "default",
    keys_only: bool = False,
) -> dict[str, Any]:
    """bench/desk_bench.py in its own process over a copy of the store."""
    copy = store.parent / f"desk-{out.stem}.sqlite3"
    shutil.copyfile(store, copy)
    args = [
        sys.executable,
        "-m",
        "bench.desk_bench",
        str(copy),
        "--json",
        str(out),
        "--presses",
        str(presses),
        "--burst",
        str(burst),
        "--idle",
        str(idle),
    ]
    if phases:
        args.append("--phases")
    args += ["--gc", gc_mode]
    if keys_only:
        args.append("--keys-only")
    subprocess.run(args, env=env, cwd=REPO, check=True)
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    import textual

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    speed = []
    for _ in range(5):
        began = time.perf_counter()
        sum(range(10**6))
        speed.append(time.perf_counter() - began)
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "textual": textual.__version__,
        "system": f"{platform.system()} {platform.release()}",
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "sum(range(10**6)), best of 5 (CPU speed reference)": ms(min(speed)),
    }
