"""Issue 4's budget: filtering a 500-template library as the engineer types `/word` (16 ms).

The library is written as TOML files (English and Russian, realistic bodies with placeholders)
and loaded with `load_library`, as the desk does; then `core.templates.match` — the popup's
filter — runs once per keystroke of typed triggers (`/g`, `/gr`, `/gre`, …), with usage counts
for a fifth of the keys and the chat's language set. Each call is timed on its own.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from tgtriage.core.templates import load_library, match

_EN = [
    "greet",
    "hello",
    "thanks",
    "sorry",
    "delay",
    "refund",
    "invoice",
    "payment",
    "server",
    "down",
    "dns",
    "ssl",
    "backup",
    "restore",
    "upgrade",
    "plan",
    "disk",
    "quota",
    "password",
    "reset",
    "login",
    "twofactor",
    "migrate",
    "domain",
    "transfer",
    "mail",
    "spam",
    "bounce",
    "firewall",
    "port",
    "ssh",
    "panel",
    "reboot",
    "outage",
    "maintenance",
    "escalate",
    "engineering",
    "ticket",
    "close",
    "rate",
    "feedback",
    "followup",
    "check",
    "fixed",
    "workaround",
    "logs",
    "details",
    "screenshot",
    "version",
    "browser",
    "cache",
]
_RU = [
    "привет",
    "спасибо",
    "извините",
    "задержка",
    "возврат",
    "счет",
    "оплата",
    "сервер",
    "недоступен",
    "резервная",
    "копия",
]


def _toml_string(text: str) -> str:
    """A TOML basic string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_library(folder: Path, count: int, seed: int = 4) -> list[str]:
    """Write `count` templates into TOML files under `folder`; return their keys."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    keys: list[str] = []
    per_file = 50
    for file_no in range(0, count, per_file):
        parts: list[str] = []
        for i in range(file_no, min(count, file_no + per_file)):
            ru = i % 5 == 4
            words = _RU if ru else _EN
            key = f"{rng.choice(_EN)}-{rng.choice(_EN)}-{i}"
            keys.append(key)
            title = " ".join(rng.choice(words) for _ in range(rng.randint(2, 5))).capitalize()
            sentences = [
                " ".join(rng.choice(words) for _ in range(rng.randint(6, 18))).capitalize() + "."
                for _ in range(rng.randint(2, 8))
            ]
            body = "Hi {{ customer.first_name || 'there' }}! " + " ".join(sentences)
            if rng.random() < 0.4:
                body += " Reference: {{ input.reference }}."
            body += "\n{{ agent.first_name }}"
            parts.append(
                "[[template]]\n"
                f"key = {_toml_string(key)}\n"
                f"title = {_toml_string(title)}\n"
                f"category = {_toml_string(rng.choice(['Opening', 'Questions', 'Billing', 'Outages', 'Closing']))}\n"
                f"lang = {_toml_string('ru' if ru else 'en')}\n"
                f'body = """\n{body}\n"""\n'
            )
        (folder / f"lib{file_no // per_file:02d}.toml").write_text(
            "\n".join(parts), encoding="utf-8"
        )
    return keys


def run(folder: Path, count: int = 500, words: int = 60, seed: int = 5) -> dict[str, Any]:
    """Load the library and time `match` on every keystroke of `words` typed triggers."""
    keys = write_library(folder, count)
    began = time.perf_counter()
    library = load_library([folder])
    load_s = time.perf_counter() - began
    if library.errors:
        raise RuntimeError(f"generated templates did not load: {library.errors[0]}")
    rng = random.Random(seed)
    now = int(time.time())
    usage = {
        k: (rng.randint(1, 40), now - rng.randint(0, 40 * 86400))
        for k in rng.sample(keys, count // 5)
    }
    samples: list[float] = []
    queries: list[str] = [""]  # the popup opening on a bare "/"
    for _ in range(words):
        word = rng.choice([*_EN, *_EN, *_RU, *(k.split("-")[0] for k in keys[:50])])
        queries.extend(word[:n] for n in range(1, len(word) + 1))
    for query in queries:
        t0 = time.perf_counter()
        match(library, query, usage, "en", limit=20, now=now)
        samples.append(time.perf_counter() - t0)
    return {"templates": len(library), "load_s": load_s, "samples": samples}
