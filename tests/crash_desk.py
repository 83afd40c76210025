"""A desk process for the SIGKILL test: the core Inbox on the demo source over a real store file.

`python -m tests.crash_desk STORE SERVER JOURNAL SEED SENDS` opens the store (rebuilding it if
damaged, as the desk does), resumes unsent replies, then sends SENDS replies to random chats.
Before each reply it appends `intent TEXT` to JOURNAL and after Inbox.send returned (the reply
is in the store's outbox) `queued TEXT`. SERVER plays Telegram's side: a reply counts as posted
when its line (random id, text) is in that file; a random id seen before is not posted again,
as Telegram does. The process prints `ready` once the desk runs and `drained` once its outbox
is empty.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
from pathlib import Path

from tgtriage.core.desk.inbox import Inbox
from tgtriage.core.desk.models import Message, OutboxState
from tgtriage.core.sources.demo import DemoSource
from tgtriage.core.storage.recovery import open_recovering
from tgtriage.core.system.config import Config


def append_line(path: Path, line: str) -> None:
    """Append one line and make it durable before going on."""
    with path.open("a", encoding="utf-8") as out:
        out.write(line + "\n")
        out.flush()
        os.fsync(out.fileno())


def read_lines(path: Path) -> list[str]:
    """The complete lines of a file (a line cut short by a kill is not one)."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    return text.split("\n")[:-1]


class ServerDemo(DemoSource):
    """The demo source whose posts are recorded in a file that outlives the process."""

    def __init__(self, server: Path, **kwargs: object) -> None:
        """Remember the file of posted replies."""
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.server = server
        self.posted = {json.loads(line)["random_id"] for line in read_lines(server)}

    async def send(self, chat_id: int, text: str, reply_to: int | None, random_id: int) -> Message:
        """Post once per random id, recording the post durably."""
        message = await super().send(chat_id, text, reply_to, random_id)
        if random_id not in self.posted:
            append_line(self.server, json.dumps({"random_id": random_id, "text": text}))
            self.posted.add(random_id)
        return message


async def run(store: Path, server: Path, journal: Path, seed: int, sends: int) -> None:
    """Open, resume, send, and wait for the outbox to drain."""
    db, _rebuilt = await open_recovering(store)
    # Replies leave at once: the undo window has tests of its own (tests/test_undo_send.py).
    config = Config(undo_send_seconds=0)
    inbox = Inbox(db, ServerDemo(server, seed=3, speed=8.0), config)
    await inbox.load_cached()
    await inbox.start()
    print("ready", flush=True)
    rng = random.Random(seed)
    chat_ids = sorted(inbox.chats)
    for k in range(sends):
        text = f"reply {seed}-{k}"
        append_line(journal, f"intent {text}")
        await inbox.send(rng.choice(chat_ids), text)
        append_line(journal, f"queued {text}")
        await asyncio.sleep(rng.uniform(0, 0.03))
    while any(i.state is not OutboxState.FAILED for items in inbox.outbox.values() for i in items):
        await asyncio.sleep(0.02)
    failed = [i.text for i in inbox.failed_items()]
    if failed:
        print(f"failed {json.dumps(failed)}", flush=True)
    print("drained", flush=True)
    await inbox.stop()
    await db.close()


if __name__ == "__main__":
    store_arg, server_arg, journal_arg, seed_arg, sends_arg = sys.argv[1:6]
    asyncio.run(
        run(Path(store_arg), Path(server_arg), Path(journal_arg), int(seed_arg), int(sends_arg))
    )
