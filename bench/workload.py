"""The DESIGN §8 workload — 1,000 chats, 200,000 messages, 100 awaiting — written into a real store.

Everything goes through the Store API in batches, the way the desk writes; the triage summaries
are derived by replaying each chat's messages through `core.triage` (what the Inbox does when it
recomputes a chat), so they agree with the messages exactly.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from pathlib import Path

from tgtriage.core.desk.models import Chat, ChatTriage, Media, Message, User
from tgtriage.core.rules import triage
from tgtriage.core.storage.store import Store

ME = User(id=1, first_name="Dana", last_name="Kovač", username="dana_support")
TEAMMATES = (
    User(id=2, first_name="Ilya", last_name="Petrov", username="ilya_ops"),
    User(id=3, first_name="Mia", last_name="Chen", username="mia_help"),
)
STAFF_IDS = frozenset({ME.id, *(u.id for u in TEAMMATES)})
FIRST_CUSTOMER_ID = 100_000
SUPERGROUP_BASE = -1_000_000_000_000
WAIT_SPREAD = 3 * 3600
HISTORY_SPAN = 90 * 86400

_WORDS = [
    "server",
    "panel",
    "backup",
    "restore",
    "invoice",
    "payment",
    "domain",
    "dns",
    "record",
    "ssl",
    "certificate",
    "renew",
    "mail",
    "queue",
    "bounce",
    "ticket",
    "upgrade",
    "plan",
    "disk",
    "quota",
    "cpu",
    "memory",
    "reboot",
    "console",
    "ssh",
    "key",
    "firewall",
    "port",
    "timeout",
    "latency",
    "packet",
    "loss",
    "route",
    "ping",
    "traceroute",
    "database",
    "mysql",
    "postgres",
    "replica",
    "cron",
    "job",
    "log",
    "error",
    "warning",
    "nginx",
    "apache",
    "php",
    "python",
    "node",
    "deploy",
    "rollback",
    "snapshot",
    "volume",
    "migrate",
    "region",
    "frankfurt",
    "amsterdam",
    "please",
    "thanks",
    "again",
    "still",
    "not",
    "working",
    "since",
    "yesterday",
    "morning",
    "could",
    "you",
    "check",
    "when",
    "will",
    "it",
    "be",
    "fixed",
    "we",
    "tried",
    "that",
    "already",
    "here",
    "is",
    "the",
    "output",
    "of",
    "the",
    "command",
    "my",
    "site",
    "is",
    "down",
    "the",
    "page",
    "says",
    "bad",
    "gateway",
    "customers",
    "are",
    "complaining",
    "urgent",
    "hello",
]
_COMPANIES = [
    "Acme",
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Stark",
    "Wayne",
    "Tyrell",
    "Soylent",
    "Cyberdyne",
    "Aperture",
    "Oscorp",
    "Wonka",
    "Gringotts",
    "Monarch",
    "Duff",
    "Nakatomi",
    "Pied",
    "Wuphf",
    "Dunder",
    "Sterling",
    "Bluth",
]
_FIRST = [
    "Anna",
    "Boris",
    "Chloe",
    "Dmitri",
    "Elena",
    "Farid",
    "Greta",
    "Hugo",
    "Irina",
    "Jonas",
    "Kira",
    "Liam",
    "Marta",
    "Nikolai",
    "Olga",
]
_LAST = [
    "Ivanova",
    "Smith",
    "Müller",
    "Rossi",
    "Novak",
    "Tanaka",
    "Silva",
    "Kowalski",
    "Dubois",
    "Jensen",
    "Sato",
    "Costa",
    "Weber",
]


@dataclass(frozen=True)
class Spec:
    """How big the workload is."""

    chats: int = 1_000
    messages: int = 200_000
    awaiting: int = 100
    slots: int = 10
    seed: int = 8

    @classmethod
    def quick(cls) -> Spec:
        """A small workload for trying the benchmark out (not the budget's workload)."""
        return cls(chats=200, messages=20_000, awaiting=40)

    @classmethod
    def sized(cls, size: str) -> Spec:
        """The budget's workload ("1k") or ten times it ("10k": a large support organisation)."""
        if size == "10k":
            return cls(chats=10_000, messages=2_000_000, awaiting=1_000)
        if size == "1k":
            return cls()
        raise ValueError(f"unknown workload size {size!r} (1k or 10k)")


@dataclass(frozen=True)
class Built:
    """What was built and how long it took."""

    path: Path
    chats: int
    messages: int
    awaiting: int
    slots: dict[int, int]
    seconds: float
    now: int


def _text(rng: random.Random) -> str:
    """A support-chat message of realistic length and shape."""
    shape = rng.random()
    if shape < 0.55:
        n = rng.randint(2, 14)
    elif shape < 0.9:
        n = rng.randint(15, 45)
    else:
        n = rng.randint(46, 120)
    words = [rng.choice(_WORDS) for _ in range(n)]
    text = " ".join(words).capitalize()
    if rng.random() < 0.06:  # pasted command output
        lines = [f"$ {rng.choice(_WORDS)} --{rng.choice(_WORDS)}"]
        lines += [" ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 9))) for _ in range(4)]
        text += "\n" + "\n".join(lines)
    return text


def _sizes(spec: Spec, rng: random.Random) -> list[int]:
    """Messages per chat: a few busy chats, many quiet ones, summing to `spec.messages`."""
    floor = max(3, min(20, spec.messages // spec.chats // 2))
    weights = [rng.paretovariate(1.3) for _ in range(spec.chats)]
    spare = spec.messages - floor * spec.chats
    total = sum(weights)
    sizes = [floor + int(spare * w / total) for w in weights]
    for i in range(spec.messages - sum(sizes)):
        sizes[i % spec.chats] += 1
    return sizes


def _chat(index: int, rng: random.Random) -> tuple[Chat, list[int]]:
    """Chat `index` and its customers' user ids (one in a private chat, 1–3 in a group)."""
    if index % 4 == 3:  # a quarter are private chats: the chat id is the customer's id
        uid = FIRST_CUSTOMER_ID + index * 10
        name = f"{_FIRST[index % len(_FIRST)]} {_LAST[index % len(_LAST)]}"
        return Chat(id=uid, title=f"{name} #{index}", kind="private"), [uid]
    company = _COMPANIES[index % len(_COMPANIES)]
    chat = Chat(id=SUPERGROUP_BASE - 5_000 - index, title=f"{company} {index} · Support")
    return chat, [FIRST_CUSTOMER_ID + index * 10 + k for k in range(rng.randint(1, 3))]


def _messages(
    chat: Chat, customers: list[int], count: int, awaiting: bool, now: int, rng: random.Random
) -> list[Message]:
    """A chat's history, oldest first; if `awaiting`, customers wrote last (since 0–3 h ago)."""
    tail = min(count - 1, rng.randint(1, 3)) if awaiting else 0
    if awaiting:
        wait_from = now - rng.randint(30, WAIT_SPREAD)
        last_staff = wait_from - rng.randint(60, 7200)
        tail_dates = [wait_from, *sorted(rng.randint(wait_from, now) for _ in range(tail - 1))]
    else:
        last_staff = now - rng.randint(600, 20 * 86400)
        tail_dates = []
    # The history walks backwards from the last staff message.
    head: list[int] = []
    t = last_staff
    for _ in range(count - tail):
        head.append(t)
        t -= rng.choice((5, 20, 60, 240, 900, 3600, 14400, 40000))
    head.reverse()
    dates = head + tail_dates
    out: list[Message] = []
    for i, date in enumerate(dates, start=1):
        from_end = count - i
        if from_end < tail:
            staff = False
        elif from_end == tail:
            staff = True  # the last staff message (for a quiet chat: the very last message)
        else:
            staff = rng.random() < 0.42
        if staff:
            sender = ME.id if rng.random() < 0.6 else rng.choice(TEAMMATES).id
        else:
            sender = rng.choice(customers)
        media = None
        text = _text(rng)
        if rng.random() < 0.03:
            media = Media(kind="photo", size=rng.randint(40_000, 4_000_000))
            text = "" if rng.random() < 0.5 else text
        reply_to = rng.randint(max(1, i - 8), i - 1) if i > 1 and rng.random() < 0.1 else None
        out.append(
            Message(
                chat_id=chat.id,
                id=i,
                date=date,
                sender_id=sender,
                out=sender == ME.id,
                text=text,
                media=media,
                reply_to=reply_to,
            )
        )
    return out


async def _build_pragmas(store: Store) -> None:
    """Trade durability for speed while the workload is written (a crash just means rebuilding)."""
    db = store._db  # the bench's own store: no other writer, closed right after the build
    await db.execute("PRAGMA synchronous = OFF")
    await db.execute("PRAGMA cache_size = -262144")  # 256 MB while building; gone on close


def _summary(chat_id: int, messages: list[Message], rule: triage.StaffRule) -> ChatTriage:
    """The chat's triage summary: read up to the last staff message, then replayed."""
    read = max((m.id for m in messages if rule.role(m) is triage.Role.STAFF), default=0)
    return triage.derive(ChatTriage(chat_id=chat_id, read_inbox_max=read), messages, rule)


async def build(path: Path, spec: Spec, *, now: int | None = None, batch: int = 20_000) -> Built:
    """Write the workload into a fresh store at `path`; return what was built."""
    began = time.perf_counter()
    now = int(time.time()) if now is None else now
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    rng = random.Random(spec.seed)
    rule = triage.StaffRule(me_id=ME.id, staff_ids=STAFF_IDS)
    sizes = _sizes(spec, rng)
    awaiting = set(rng.sample(range(spec.chats), spec.awaiting))
    store = await Store.open(path)
    await _build_pragmas(store)
    try:
        chats: list[Chat] = []
        users: dict[int, User] = {u.id: u for u in (ME, *TEAMMATES)}
        summaries: list[ChatTriage] = []
        pending: list[Message] = []
        total = 0
        for index in range(spec.chats):
            chat, customers = _chat(index, rng)
            chats.append(chat)
            for k, uid in enumerate(customers):
                users[uid] = User(
                    id=uid,
                    first_name=_FIRST[(index + k) % len(_FIRST)],
                    last_name=_LAST[(index * 7 + k) % len(_LAST)],
                )
            messages = _messages(chat, customers, sizes[index], index in awaiting, now, rng)
            summaries.append(_summary(chat.id, messages, rule))
            pending.extend(messages)
            if len(pending) >= batch:
                if total == 0:
                    await store.upsert_chats(chats)
                total += len(await store.add_messages(pending))
                pending = []
        await store.upsert_chats(chats)
        total += len(await store.add_messages(pending))
        await store.upsert_users(users.values())
        await store.save_triage(summaries)
        await store.set_meta("me_id", str(ME.id))
        await store.set_meta("staff_ids", ",".join(str(u.id) for u in TEAMMATES))
        waiting_ids = [s.chat_id for s in summaries if s.waiting_since is not None]
        others = [c.id for c in chats if c.id not in set(waiting_ids)]
        slot_chats = (waiting_ids[: spec.slots // 2] + others)[: spec.slots]
        slots = {}
        for slot, chat_id in enumerate(slot_chats, start=1):
            await store.set_slot(slot, chat_id)
            slots[slot] = chat_id
        await store.set_meta("bench_build_seconds", f"{time.perf_counter() - began:.1f}")
        await store.set_meta("bench_built_at", str(now))
    finally:
        await store.close()
    return Built(
        path=path,
        chats=len(chats),
        messages=total,
        awaiting=len(waiting_ids),
        slots=slots,
        seconds=time.perf_counter() - began,
        now=now,
    )


async def existing(path: Path) -> Built:
    """What an earlier `build` left at `path` (for `bench.run --reuse`), its build time included."""
    store = await Store.open(path)
    try:
        chats = await store.all_chats()
        summaries = await store.load_triage()
        return Built(
            path=path,
            chats=len(chats),
            messages=await store.message_count(),
            awaiting=sum(1 for s in summaries.values() if s.waiting_since is not None),
            slots=await store.slots(),
            seconds=float(await store.get_meta("bench_build_seconds") or "nan"),
            now=int(await store.get_meta("bench_built_at") or "0"),
        )
    finally:
        await store.close()


def main() -> None:
    """Build the workload at the path given on the command line (for poking at it by hand)."""
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/workload/data/demo.sqlite3")
    built = asyncio.run(build(target, Spec.quick() if "--quick" in sys.argv else Spec()))
    print(built)


if __name__ == "__main__":
    main()
