"""The Telegram source: the engineer's own account through a Telethon user session.

Life of a source:

1. `start()` connects (reporting connecting/offline with retries until the network is there),
   checks the session is logged in (else `LoginRequired`), fetches the account, resolves the
   configured teammates' @usernames (cached), and returns the account. It does not wait for
   the chat list: the desk shows its cached screen meanwhile.
2. In the background it pages the dialog list (a FloodWait shows as a `FloodWait` event, is
   waited out and the *same* page is asked again), selects the support chats
   (`core/rules/chat_filter.py`), reads forum topic names, and then backfills each support chat's
   recent history, newest chats first and rate-limited. `dialogs()` returns once the chat list
   is known; backfilled messages arrive as ordinary `NewMessage` events (the Inbox dedupes by
   (chat_id, id)), framed by `SyncProgress` events.
3. Live updates are raw Telethon updates converted to events; only support chats produce
   message events. Updates that arrive before the chat list is known are held and applied
   right after it.
4. When the connection drops, the source reports `offline`, reconnects with back-off, reports
   `connected`, catches up on missed updates (`catch_up`), then checks the watched chats
   (the desk's open and working-set chats, see `set_hints`) against their history
   (`gap_fill`).

Telethon is imported lazily (never at module import) so the desk's cold start does not pay
for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import mimetypes
import os
import re
import time
from collections import ChainMap
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...desk.events import (
    ChatRemoved,
    ChatUpdated,
    Connection,
    ConnectionState,
    Event,
    FloodWait,
    HistoryCut,
    MessageEdited,
    MessagesDeleted,
    NewMessage,
    ReactionChanged,
    ReadUpTo,
    SyncProgress,
    Typing,
)
from ...desk.models import Chat, Message, User
from ...rules import chat_filter
from ...system.config import Config
from ...system.paths import Paths, ensure_private_dir, make_private_file
from ..base import SendError
from .client import (
    ClientFactory,
    LoginRequired,
    TelegramClientLike,
    default_factory,
    is_network_error,
    network_detail,
    preload_telethon,
)
from .reconcile import Held, Reconciler, RoundReport
from .send import part_random_id, send_error, sent_message, split_text

if TYPE_CHECKING:
    from ...rules.chat_filter import Candidate, Folder

log = logging.getLogger(__name__)

DIALOG_PAGE = 100
HISTORY_PAGE = 100
SEEN_PER_CHAT = 500
GAP_FILL_LIMIT = 100
REACH_BACK_PAGES = 5
"""How many more history pages a backfill reads to find where a customer's wait began."""
STAFF_CACHE = "staff_usernames.json"
RECONNECT_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)

Sleep = Callable[[float], Awaitable[None]]
Authorize = Callable[[TelegramClientLike], Awaitable[bool]]
"""Log a connected but unauthorized client in (e.g. show the login screen); True when done."""


def safe_filename(name: str | None, fallback: str) -> str:
    """A file name from untrusted media metadata: no folders, controls or leading dots."""
    from ...rules.sanitize import clean_line

    base = clean_line(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[\x00-\x1f<>:\"|?*]", "_", base).strip().lstrip(".").strip()
    return base[:200] or fallback


def unique_path(path: Path) -> Path:
    """`path`, or `name (1).ext`, `name (2).ext`, … if it already exists."""
    if not path.exists():
        return path
    for n in range(1, 10_000):
        candidate = path.with_name(f"{path.stem} ({n}){path.suffix}")
        if not candidate.exists():
            return candidate
    raise FileExistsError(f"{path}: too many files with this name")


class TelegramSource:
    """A ChatSource backed by a Telethon user session (see the module docstring)."""

    name = "telegram"
    backfills_itself = True
    """The start-up backfill arrives as NewMessage events; the Inbox must not fetch it again."""
    events_before_start = True
    """`events()` may be followed before `start()`: connecting/offline states show at once."""

    def __init__(
        self,
        config: Config,
        paths: Paths,
        client_factory: ClientFactory | None = None,
        *,
        sleep: Sleep | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        history_interval: float = 0.35,
        reconnect_delays: tuple[float, ...] = RECONNECT_DELAYS,
        authorize: Authorize | None = None,
    ) -> None:
        """Prepare the source; nothing connects until `start()`.

        `authorize(client)` is awaited when the session turns out not to be logged in (the desk
        shows its login screen on the connected client); without it, or when it returns False,
        `start()` raises LoginRequired.
        """
        self.config = config
        self.paths = paths
        self._factory = client_factory or default_factory(config, paths)
        self._sleep: Sleep = sleep or asyncio.sleep
        self._clock = clock
        self._monotonic = monotonic
        self._history_interval = history_interval
        self._reconnect_delays = reconnect_delays or (1.0,)
        self._client: TelegramClientLike | None = None
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self._me: User | None = None
        self._known: dict[int, Any] = {}
        self._dialogs: dict[int, Any] = {}
        self._candidates: dict[int, Candidate] = {}
        self._selected: dict[int, Chat] = {}
        self._order: dict[int, int] = {}
        self._folders: list[Folder] = []
        self._peers: dict[int, Any] = {}
        self._seen: dict[int, dict[int, tuple[int | None, int | None]]] = {}
        self._staff: set[int] = set()
        self._backlog: list[Any] | None = []
        self._dialogs_ready = asyncio.Event()
        self._synced = asyncio.Event()
        self._online = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self._last_history = float("-inf")
        self._watched: Callable[[], Iterable[int]] | None = None
        self._last_known: Callable[[int], int | None] | None = None
        self._held: Callable[[int], Held] | None = None
        self._reconciler = Reconciler(
            call=lambda request, what: self._call(request, what, wait_network=False),
            peer_of=self._peer,
            convert=self._convert_raw,
            held=self._held_of,
            emit=self._emit,
            sleep=self._sleep,
            clock=clock,
        )
        self._reconciling = asyncio.Lock()
        self.reconcile_reports: list[RoundReport] = []
        """The last rounds' reports (newest last, a few kept), for the log and tests."""
        self._authorize = authorize
        self.dialogs_complete = False
        """True once the whole dialog list was paged and every configured rule could be applied,
        so a cached chat missing from `dialogs()` really is gone (left, or not selected)."""
        self.warnings: list[str] = []
        """One-line problems the desk may show (an unknown folder name, an unresolved teammate)."""

    # ------------------------------------------------------------------ public API

    def set_hints(
        self,
        *,
        watched: Callable[[], Iterable[int]] | None = None,
        last_known_id: Callable[[int], int | None] | None = None,
        held: Callable[[int], Held] | None = None,
    ) -> None:
        """Tell the source what the desk knows.

        `watched()` gives the chats to check against history after a reconnect (the open chat
        and the working-set slots); without it the 10 most recently active support chats are
        checked. `last_known_id(chat_id)` gives the newest message id the store already holds,
        so the start-up backfill fetches only what is newer. `held(chat_id)` tells the
        reconciler what the desk holds of a chat; without it the source does not reconcile.
        """
        if watched is not None:
            self._watched = watched
        if last_known_id is not None:
            self._last_known = last_known_id
        if held is not None:
            self._held = held

    def set_authorize(self, authorize: Authorize | None) -> None:
        """Set (or clear) the login hook `start()` awaits when the session is not logged in."""
        self._authorize = authorize

    @property
    def client(self) -> TelegramClientLike | None:
        """The Telethon client, once started."""
        return self._client

    async def start(self) -> User:
        """Connect, check the login, resolve teammates; return the account (see the module doc)."""
        self._stopping = False
        if self._client is None:
            await asyncio.to_thread(preload_telethon)
        from . import convert as conv

        client = self._client or self._factory()
        if self._client is None:
            client.add_event_handler(self._on_update)
        self._client = client
        await self._connect_until_up()
        if not await client.is_user_authorized():
            if self._authorize is None or not await self._authorize(client):
                self._emit(ConnectionState(Connection.OFFLINE, "not logged in: tgtriage login"))
                raise LoginRequired("this Telegram session is not logged in; run `tgtriage login`")
            if not client.is_connected():
                await self._connect_until_up()
        me = await client.get_me()
        if me is None:
            raise LoginRequired("this Telegram session is not logged in; run `tgtriage login`")
        self._me = conv.convert_user(me)
        self._known[me.id] = me
        self._online.set()
        self._emit(ConnectionState(Connection.CONNECTED))
        await self._resolve_staff()
        self._spawn(self._sync(), "sync")
        self._spawn(self._supervise(), "connection")
        self._spawn(self._reconcile_loop(), "reconcile")
        return self._me

    async def stop(self) -> None:
        """Disconnect, cancel background work and end the event stream."""
        self._stopping = True
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._client is not None:
            with contextlib.suppress(Exception):
                await self._client.disconnect()
        self._queue.put_nowait(None)

    async def dialogs(self) -> list[Chat]:
        """The support chats, once the dialog list has been paged (most recent first)."""
        if self._client is None:
            raise RuntimeError("start() the source first")
        await self._dialogs_ready.wait()
        return list(self._selected.values())

    async def history(self, chat_id: int, before: int | None, limit: int) -> list[Message]:
        """Up to `limit` messages older than id `before` (the newest if None), oldest first."""
        if limit <= 0:
            return []
        pairs = await self._fetch_history(
            chat_id, limit=limit, offset_id=before or 0, wait_network=False
        )
        self._remember(chat_id, [m for m, _ in pairs])
        return [m for m, _ in pairs]

    async def send(self, chat_id: int, text: str, reply_to: int | None, random_id: int) -> Message:
        """Send a reply through the raw SendMessageRequest so a retry never posts twice.

        A text over Telegram's limit goes as several messages (see `split_text`); part i uses
        `part_random_id(random_id, i)`. Every sent part is also emitted as a NewMessage; the
        last part is returned.
        """
        from telethon import errors
        from telethon.tl import functions

        client = self._require_client()
        if self._me is None:
            raise SendError("Not connected to Telegram yet; retry in a moment")
        parts = split_text(text)
        if not parts:
            raise SendError("Nothing to send: the reply is empty", permanent=True)
        peer = await self._peer(chat_id)
        if peer is None:
            raise SendError("This chat is not known to Telegram any more", permanent=True)
        chat = self._selected.get(chat_id)
        forum = chat is not None and chat.kind == "forum"
        topic = await self._topic_of(chat_id, reply_to) if forum else None
        last: Message | None = None
        for index, part in enumerate(parts):
            rid = part_random_id(random_id, index)
            answer_to = reply_to if index == 0 else None
            request = functions.messages.SendMessageRequest(
                peer=peer,
                message=part,
                random_id=rid,
                reply_to=self._reply_header(answer_to, topic),
                no_webpage=False,
            )
            try:
                result = await client(request)
                message = sent_message(
                    result,
                    rid,
                    chat_id=chat_id,
                    text=part,
                    me_id=self._me.id,
                    me_name=self._me.name,
                    reply_to=answer_to,
                    topic_id=topic,
                    forum=forum,
                )
                if message is None:
                    message = await self._find_sent(chat_id, part)
            except errors.RandomIdDuplicateError:
                log.info("send: part %d already delivered earlier (same random_id)", index + 1)
                message = await self._find_sent(chat_id, part)
            except SendError:
                raise
            except Exception as exc:
                error = send_error(exc)
                if len(parts) > 1:
                    error = SendError(
                        f"Part {index + 1} of {len(parts)}: {error}",
                        retry_after=error.retry_after,
                        permanent=error.permanent,
                    )
                raise error from exc
            self._remember(chat_id, [message])
            self._emit(NewMessage(message, self._me))
            last = message
        assert last is not None
        return last

    async def mark_read(self, chat_id: int, upto: int) -> None:
        """Mark the chat read in Telegram up to message `upto` (failures are only logged)."""
        client = self._require_client()
        peer = await self._peer(chat_id)
        if peer is None:
            return
        try:
            await client.send_read_acknowledge(peer, max_id=upto)
        except Exception as exc:
            log.warning("could not mark chat %d read: %s", chat_id, type(exc).__name__)

    async def react(self, chat_id: int, message_id: int, emoji: str) -> None:
        """Put an emoji reaction on a message (raises SendError with a clear message on failure)."""
        from telethon.tl import functions, types

        client = self._require_client()
        peer = await self._peer(chat_id)
        if peer is None:
            raise SendError("This chat is not known to Telegram any more", permanent=True)
        request = functions.messages.SendReactionRequest(
            peer=peer, msg_id=message_id, reaction=[types.ReactionEmoji(emoticon=emoji)]
        )
        try:
            await client(request)
        except Exception as exc:
            raise send_error(exc) from exc

    async def download_media(self, chat_id: int, message_id: int, dest_dir: Path) -> Path:
        """Download a message's media into `dest_dir` under a safe, unique name; return the path."""
        from . import convert as conv

        client = self._require_client()
        peer = await self._peer(chat_id)
        if peer is None:
            raise FileNotFoundError(f"chat {chat_id} is not known to Telegram any more")
        msg = await client.get_messages(peer, ids=message_id)
        media = conv.convert_media(getattr(msg, "media", None)) if msg is not None else None
        if msg is None or media is None:
            raise FileNotFoundError(
                f"message {message_id} in chat {chat_id} has no media to download"
            )
        extension = mimetypes.guess_extension(media.mime or "") or ""
        if media.kind == "photo":
            extension = ".jpg"
        elif media.kind == "voice" and not extension:
            extension = ".ogg"
        fallback = f"{media.kind.replace(' ', '_')}-{abs(chat_id)}-{message_id}{extension}"
        name = safe_filename(
            media.name if media.kind not in ("sticker", "poll", "contact") else None, fallback
        )
        dest_dir.mkdir(parents=True, exist_ok=True)
        target = unique_path(dest_dir / name)
        saved = await client.download_media(msg, file=str(target))
        if not saved:
            raise FileNotFoundError(f"message {message_id}: Telegram returned no file")
        return Path(saved)

    async def wait_synced(self) -> None:
        """Wait until the start-up sync (chat list and history backfill) has finished."""
        await self._synced.wait()

    def staff_ids(self) -> frozenset[int]:
        """The account itself plus configured teammates (numeric ids and resolved @usernames)."""
        ids = set(self._staff)
        if self._me is not None:
            ids.add(self._me.id)
        return frozenset(ids)

    async def events(self) -> AsyncIterator[Event]:
        """The event stream; it ends after `stop()`."""
        while True:
            event = await self._queue.get()
            if event is None:
                return
            yield event

    async def gap_fill(self, chat_ids: Iterable[int], limit: int = GAP_FILL_LIMIT) -> int:
        """Check chats against their latest history; emit what this source has not seen.

        New messages become NewMessage events, changed edit dates MessageEdited, and messages
        this source saw that are missing from the fetched range MessagesDeleted. Returns the
        number of new messages found.
        """
        found = 0
        for chat_id in dict.fromkeys(chat_ids):
            if chat_id not in self._selected or self._stopping or await self._peer(chat_id) is None:
                continue
            known = dict(self._seen.get(chat_id, {}))
            try:
                pairs = await self._fetch_history(chat_id, limit=limit, wait_network=False)
            except Exception as exc:
                log.warning("gap fill of chat %d failed: %s", chat_id, type(exc).__name__)
                continue
            fetched = {m.id for m, _ in pairs}
            for message, sender in pairs:
                if message.id not in known:
                    found += 1
                    self._emit(NewMessage(message, sender))
                elif known[message.id][0] != message.edit_date:
                    self._emit(MessageEdited(message))
            if fetched or known:
                # fewer than asked for: that was the whole history, so anything else is gone
                low = min(fetched) if len(pairs) >= limit else 0
                gone = tuple(sorted(i for i in known if i >= low and i not in fetched))
                if gone:
                    self._emit(MessagesDeleted(chat_id, gone))
                    self._forget(chat_id, gone)
            self._remember(chat_id, [m for m, _ in pairs])
        if found:
            log.info("gap fill found %d missed messages", found)
        return found

    # ------------------------------------------------------------------ reconciling

    async def reconcile(self) -> RoundReport | None:
        """One reconcile round over the watched chats (core/sources/telegram/reconcile.py).

        None when the desk gave no `held` hint or the round was cut short (the next round
        resumes with the chats it had left).
        """
        if self._held is None or self._stopping or not self._dialogs_ready.is_set():
            return None
        async with self._reconciling:
            try:
                report = await self._reconciler.run(self._watched_chats())
            except Exception as exc:
                log.info("reconcile round cut short: %s", type(exc).__name__)
                return None
        self.reconcile_reports = [*self.reconcile_reports[-9:], report]
        if report.new or report.edited or report.deleted:
            log.info("reconcile repaired %s", report)
        return report

    async def _reconcile_loop(self) -> None:
        """Reconcile every `[telegram] reconcile_minutes` while the source runs."""
        minutes = self.config.telegram.reconcile_minutes
        if minutes <= 0:
            return
        while not self._stopping:
            await asyncio.sleep(minutes * 60)  # the event loop's clock, not the injected sleep
            await self._online.wait()
            await self.reconcile()

    def _held_of(self, chat_id: int) -> Held:
        """What the desk holds of a chat (the `held` hint)."""
        return self._held(chat_id) if self._held is not None else Held()

    def _convert_raw(
        self, chat_id: int, msg: Any, entities: dict[int, Any]
    ) -> tuple[Message, User | None]:
        """A raw message of a chat as a desk Message and its sender (for the reconciler)."""
        from . import convert as conv

        self._known.update(entities)
        lookup = ChainMap(entities, self._known)
        chat = self._selected.get(chat_id)
        forum = chat is not None and chat.kind == "forum"
        self_id = self._me.id if self._me else None
        message = conv.convert_message(msg, lookup, self_id=self_id, forum=forum)
        return message, conv.sender_user(msg, lookup, self_id)

    # ------------------------------------------------------------------ plumbing

    def _require_client(self) -> TelegramClientLike:
        """The client, or a clear error before start()."""
        if self._client is None:
            raise SendError("Not connected to Telegram yet; retry in a moment")
        return self._client

    def _emit(self, event: Event) -> None:
        """Queue one event for the desk."""
        self._queue.put_nowait(event)

    def _spawn(self, coro: Awaitable[Any], what: str) -> None:
        """Run background work, logging (not raising) its failure."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("telegram %s failed", what, exc_info=t.exception())

        task.add_done_callback(done)

    def _now(self) -> int:
        """Wall-clock Unix seconds."""
        return int(self._clock())

    async def _call(self, request: Any, what: str, *, wait_network: bool = True) -> Any:
        """Invoke a request; wait out FloodWaits visibly and (optionally) network loss, then retry.

        The very same request object is sent again, so paging resumes at the same offset.
        """
        from telethon import errors

        client = self._require_client()
        failures = 0
        while True:
            try:
                return await client(request)
            except (errors.FloodWaitError, errors.FloodPremiumWaitError) as exc:
                seconds = max(1, int(exc.seconds))
                self._emit(FloodWait(seconds, self._now() + seconds, what))
                log.info("flood wait of %d s during %s", seconds, what)
                await self._sleep(seconds)
            except Exception as exc:
                if not is_network_error(exc) or not wait_network or self._stopping:
                    raise
                failures += 1
                log.info(
                    "network error during %s (%s); waiting for the connection",
                    what,
                    type(exc).__name__,
                )
                await self._sleep(min(30.0, float(failures)))
                await self._online.wait()

    async def _pace(self) -> None:
        """Keep history requests at least `history_interval` seconds apart."""
        wait = self._last_history + self._history_interval - self._monotonic()
        if wait > 0:
            await self._sleep(wait)
        self._last_history = self._monotonic()

    # ------------------------------------------------------------------ connection

    async def _connect_until_up(self) -> None:
        """Connect, retrying with back-off and reporting offline between attempts."""
        client = self._require_client()
        attempt = 0
        while True:
            if self._stopping:
                raise ConnectionError("the Telegram source was stopped")
            self._emit(ConnectionState(Connection.CONNECTING))
            try:
                await client.connect()
                return
            except Exception as exc:
                if not is_network_error(exc):
                    raise
                delay = self._reconnect_delays[min(attempt, len(self._reconnect_delays) - 1)]
                attempt += 1
                log.info("cannot reach Telegram: %s", network_detail(exc))
                self._emit(
                    ConnectionState(Connection.OFFLINE, "cannot reach Telegram", retry_in=delay)
                )
                await self._sleep(delay)

    async def _supervise(self) -> None:
        """Follow the connection: report drops, reconnect, catch up and check watched chats."""
        client = self._require_client()
        while not self._stopping:
            error: BaseException | None = None
            try:
                await client.disconnected
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                error = exc
            if self._stopping:
                return
            self._online.clear()
            log.info("connection to Telegram lost: %s", network_detail(error))
            self._emit(ConnectionState(Connection.OFFLINE, "connection lost; reconnecting"))
            await self._connect_until_up()
            self._online.set()
            self._emit(ConnectionState(Connection.CONNECTED))
            await self._after_reconnect()

    async def _after_reconnect(self) -> None:
        """Catch up on missed updates, then check the watched chats against history."""
        client = self._require_client()
        try:
            await client.catch_up()
        except Exception as exc:
            log.warning("catch-up after reconnect failed: %s", type(exc).__name__)
        await self._dialogs_ready.wait()
        await self.gap_fill(self._watched_chats())
        await self.reconcile()

    def _watched_chats(self) -> list[int]:
        """The chats to check after a reconnect (from the desk, or the 10 most active)."""
        if self._watched is not None:
            try:
                return [c for c in self._watched() if c in self._selected]
            except Exception:
                log.exception("the watched-chats hint failed")
        ranked = sorted(self._selected, key=lambda c: self._order.get(c, 0), reverse=True)
        return ranked[:10]

    # ------------------------------------------------------------------ start-up sync

    async def _sync(self) -> None:
        """Page dialogs, select support chats, then backfill their history."""
        try:
            await self._load_dialogs()
        except Exception as exc:
            message = f"the chat list could not be loaded ({type(exc).__name__}); restart to retry"
            self.warnings.append(message)
            log.exception("%s", message)
        finally:
            self._dialogs_ready.set()
        backlog, self._backlog = self._backlog or [], None
        for update in backlog:
            await self._handle_safely(update)
        try:
            await self._backfill()
        finally:
            self._synced.set()
        await self.reconcile()

    async def _load_folders(self) -> list[Folder]:
        """The account's Telegram folders (empty when they cannot be read)."""
        from telethon.tl import functions

        from . import convert as conv

        try:
            result = await self._call(functions.messages.GetDialogFiltersRequest(), "folders")
        except Exception as exc:
            log.warning("could not read Telegram folders: %s", type(exc).__name__)
            return []
        filters = getattr(result, "filters", result) or []
        return [f for f in (conv.convert_folder(x) for x in filters) if f is not None]

    async def _load_dialogs(self) -> None:
        """Page through every dialog (resuming at the same offset after a FloodWait)."""
        from telethon.tl import functions, types

        from . import convert as conv

        if self.config.chats.folder:
            self._folders = await self._load_folders()
        request = functions.messages.GetDialogsRequest(
            offset_date=None,
            offset_id=0,
            offset_peer=types.InputPeerEmpty(),
            limit=DIALOG_PAGE,
            hash=0,
            exclude_pinned=False,
            folder_id=None,
        )
        now = self._now()
        seen: set[int] = set()
        page = 0
        while True:
            page += 1
            result = await self._call(request, f"chat list page {page}")
            entities = conv.entity_map(result.users, result.chats)
            self._known.update(entities)
            messages = {(getattr(m.peer_id, "channel_id", None), m.id): m for m in result.messages}
            fresh = 0
            last_entity: Any = None
            last_message: Any = None
            for dialog in result.dialogs:
                if not isinstance(dialog, types.Dialog):
                    continue
                chat_id = conv.marked_id(dialog.peer)
                entity = entities.get(chat_id)
                message = messages.get(
                    (getattr(dialog.peer, "channel_id", None), dialog.top_message)
                )
                if chat_id in seen or entity is None:
                    continue
                seen.add(chat_id)
                fresh += 1
                self._dialogs[chat_id] = dialog
                self._candidates[chat_id] = conv.candidate(entity, dialog, now=now)
                self._order[chat_id] = conv.unix(getattr(message, "date", None)) or 0
                with contextlib.suppress(Exception):
                    self._peers[chat_id] = _input_peer(entity)
                last_entity = entity
                if message is not None:
                    last_message = message
            total = getattr(result, "count", None) or len(seen)
            self._emit(SyncProgress("chats", len(seen), max(total, len(seen))))
            if (
                not fresh
                or len(result.dialogs) < request.limit
                or not isinstance(result, types.messages.DialogsSlice)
            ):
                break
            request.exclude_pinned = True
            request.offset_id = last_message.id if last_message is not None else 0
            request.offset_date = last_message.date if last_message is not None else None
            request.offset_peer = _input_peer(last_entity)
        self._reselect_all()
        await self._load_topics()
        for chat_id in self._selected:
            dialog = self._dialogs.get(chat_id)
            if dialog is not None:
                self._emit(ReadUpTo(chat_id, dialog.read_inbox_max_id, outbox=False))
                self._emit(ReadUpTo(chat_id, dialog.read_outbox_max_id, outbox=True))
        self.dialogs_complete = (
            chat_filter.missing_folder_message(self.config.chats, self._folders) is None
        )
        self._dialogs_ready.set()
        log.info("chat list: %d dialogs, %d support chats", len(seen), len(self._selected))

    def _reselect_all(self) -> None:
        """Apply the selection rules to every known dialog (most recent activity first)."""
        ordered = sorted(
            self._candidates.values(), key=lambda c: self._order.get(c.chat.id, 0), reverse=True
        )
        chosen = chat_filter.select_chats(ordered, self.config.chats, self._folders)
        previous = self._selected
        self._selected = {chat.id: _with_topics(chat, previous.get(chat.id)) for chat in chosen}
        warning = chat_filter.missing_folder_message(self.config.chats, self._folders)
        if warning and warning not in self.warnings:
            self.warnings.append(warning)
            log.warning("%s", warning)

    async def _load_topics(self, chat_ids: Iterable[int] | None = None) -> None:
        """Read the topic names of forum chats (one request per forum)."""
        from telethon.tl import functions

        from . import convert as conv

        for chat_id in list(chat_ids if chat_ids is not None else self._selected):
            chat = self._selected.get(chat_id)
            if chat is None or chat.kind != "forum":
                continue
            peer = await self._peer(chat_id)
            request = functions.messages.GetForumTopicsRequest(
                peer=peer, offset_date=None, offset_id=0, offset_topic=0, limit=100
            )
            try:
                result = await self._call(request, f"topics of {chat.title}")
            except Exception as exc:
                log.warning("could not read the topics of chat %d: %s", chat_id, type(exc).__name__)
                continue
            titles = dict(conv.topic_titles(result.topics))
            titles.setdefault(conv.GENERAL_TOPIC, "General")
            self._selected[chat_id] = chat.model_copy(
                update={"topics": tuple(sorted(titles.items()))}
            )

    async def _backfill(self) -> None:
        """Fetch recent history of every support chat, newest chats first, as NewMessage events."""
        limit = self.config.telegram.history_limit
        chats = sorted(self._selected, key=lambda c: self._order.get(c, 0), reverse=True)
        total = len(chats)
        if limit <= 0 or not chats:
            self._emit(SyncProgress("history", total, total, done=True))
            return
        for index, chat_id in enumerate(chats):
            if self._stopping:
                return
            self._emit(SyncProgress("history", index, total))
            await self._backfill_chat(chat_id, limit)
        self._emit(SyncProgress("history", total, total, done=True))

    async def _backfill_chat(self, chat_id: int, limit: int | None = None) -> None:
        """Emit one chat's recent history (newer than what the store has) oldest first."""
        if chat_id not in self._selected:
            return
        limit = self.config.telegram.history_limit if limit is None else limit
        min_id = 0
        if self._last_known is not None:
            with contextlib.suppress(Exception):
                min_id = int(self._last_known(chat_id) or 0)
        try:
            pairs = await self._fetch_history(chat_id, limit=limit, min_id=min_id)
            cut: int | None = None
            if not min_id:
                pairs, cut = await self._reach_back(chat_id, pairs, complete=len(pairs) < limit)
        except Exception as exc:
            log.warning("history of chat %d could not be loaded: %s", chat_id, type(exc).__name__)
            return
        self._remember(chat_id, [m for m, _ in pairs])
        for message, sender in pairs:
            self._emit(NewMessage(message, sender))
        if cut is not None:
            self._emit(HistoryCut(chat_id, cut))
        dialog = self._dialogs.get(chat_id)
        if dialog is not None:
            # Telegram's unread count, not the number of messages fetched (after them)
            self._emit(ReadUpTo(chat_id, dialog.read_inbox_max_id, unread=dialog.unread_count))

    async def _reach_back(
        self, chat_id: int, pairs: list[tuple[Message, User | None]], *, complete: bool
    ) -> tuple[list[tuple[Message, User | None]], int]:
        """Page further back while the window holds no staff message, up to REACH_BACK_PAGES.

        Returns the longer window and the history cut: the oldest id fetched, or 0 when the
        chat's beginning was reached (a wait that began before the cut shows as a lower bound).
        """
        from ...rules.triage import Role, StaffRule

        rule = StaffRule(me_id=self._me.id if self._me else 0, staff_ids=frozenset(self._staff))
        for _ in range(REACH_BACK_PAGES):
            if complete or not pairs or any(rule.role(m) is Role.STAFF for m, _ in pairs):
                break
            older = await self._fetch_history(chat_id, limit=HISTORY_PAGE, offset_id=pairs[0][0].id)
            complete = len(older) < HISTORY_PAGE
            pairs = [*older, *pairs]
        return pairs, 0 if complete or not pairs else pairs[0][0].id

    async def _fetch_history(
        self,
        chat_id: int,
        *,
        limit: int,
        offset_id: int = 0,
        min_id: int = 0,
        wait_network: bool = True,
    ) -> list[tuple[Message, User | None]]:
        """Up to `limit` messages before `offset_id` (0 = newest) and after `min_id`, oldest first."""
        from telethon.tl import functions

        from . import convert as conv

        peer = await self._peer(chat_id)
        if peer is None:
            return []
        chat = self._selected.get(chat_id)
        forum = chat is not None and chat.kind == "forum"
        self_id = self._me.id if self._me else None
        collected: list[tuple[Message, User | None]] = []
        offset = offset_id
        while len(collected) < limit:
            size = min(HISTORY_PAGE, limit - len(collected))
            request = functions.messages.GetHistoryRequest(
                peer=peer,
                offset_id=offset,
                offset_date=None,
                add_offset=0,
                limit=size,
                max_id=0,
                min_id=min_id,
                hash=0,
            )
            await self._pace()
            result = await self._call(request, "history", wait_network=wait_network)
            entities = conv.entity_map(result.users, result.chats)
            self._known.update(entities)
            lookup = ChainMap(entities, self._known)
            batch = [m for m in result.messages if hasattr(m, "peer_id") and m.id > min_id]
            for msg in batch:
                collected.append(
                    (
                        conv.convert_message(msg, lookup, self_id=self_id, forum=forum),
                        conv.sender_user(msg, lookup, self_id),
                    )
                )
            if len(result.messages) < size or not batch:
                break
            offset = min(m.id for m in batch)
        collected.sort(key=lambda pair: pair[0].id)
        return collected

    def _remember(self, chat_id: int, messages: Iterable[Message]) -> None:
        """Note message ids (with edit date and topic) this source has handed to the desk."""
        seen = self._seen.setdefault(chat_id, {})
        for message in messages:
            seen[message.id] = (message.edit_date, message.topic_id)
        if len(seen) > SEEN_PER_CHAT + 100:
            for old in sorted(seen)[: len(seen) - SEEN_PER_CHAT]:
                del seen[old]

    def _forget(self, chat_id: int | None, ids: Iterable[int]) -> None:
        """Drop deleted ids from the seen sets (all non-channel chats when chat_id is None)."""
        targets = (
            [chat_id] if chat_id is not None else [c for c in self._seen if c > -1_000_000_000_000]
        )
        for target in targets:
            seen = self._seen.get(target)
            if seen:
                for message_id in ids:
                    seen.pop(message_id, None)

    # ------------------------------------------------------------------ peers and topics

    async def _peer(self, chat_id: int) -> Any:
        """The InputPeer of a chat (from the dialog list, else the session's entity cache)."""
        peer = self._peers.get(chat_id)
        if peer is not None:
            return peer
        from telethon import utils

        client = self._require_client()
        try:
            raw_id, kind = utils.resolve_id(chat_id)
            peer = await client.get_input_entity(kind(raw_id))
        except Exception as exc:
            log.warning("chat %d cannot be resolved: %s", chat_id, type(exc).__name__)
            return None
        self._peers[chat_id] = peer
        return peer

    async def _topic_of(self, chat_id: int, message_id: int | None) -> int | None:
        """The forum topic a message is in (General when unknown or not a reply)."""
        from . import convert as conv

        if message_id is None:
            return conv.GENERAL_TOPIC
        known = self._seen.get(chat_id, {}).get(message_id)
        if known is not None and known[1] is not None:
            return known[1]
        client = self._require_client()
        try:
            msg = await client.get_messages(await self._peer(chat_id), ids=message_id)
        except Exception as exc:
            log.warning("could not look up the topic of a message: %s", type(exc).__name__)
            return conv.GENERAL_TOPIC
        if msg is None:
            return conv.GENERAL_TOPIC
        return conv.convert_message(msg, {}, forum=True).topic_id

    @staticmethod
    def _reply_header(reply_to: int | None, topic: int | None) -> Any:
        """InputReplyToMessage for a reply and/or a forum topic (None for a plain message)."""
        from telethon.tl import types

        from .convert import GENERAL_TOPIC

        in_topic = topic is not None and topic != GENERAL_TOPIC
        if reply_to is None and not in_topic:
            return None
        if reply_to is None:
            return types.InputReplyToMessage(reply_to_msg_id=topic, top_msg_id=topic)
        return types.InputReplyToMessage(
            reply_to_msg_id=reply_to, top_msg_id=topic if in_topic and topic != reply_to else None
        )

    async def _find_sent(self, chat_id: int, text: str) -> Message:
        """The message an earlier attempt already posted (Telegram refused a duplicate random_id)."""
        try:
            pairs = await self._fetch_history(chat_id, limit=50, wait_network=False)
        except Exception as exc:
            raise send_error(exc) from exc
        for message, _ in reversed(pairs):
            if message.out and message.text == text:
                return message
        raise SendError(
            "Telegram says this reply was already sent, but it is not among the chat's latest "
            "messages; check the chat before sending it again",
            permanent=True,
        )

    # ------------------------------------------------------------------ staff

    def _staff_cache_path(self) -> Path:
        """The JSON file caching resolved teammate usernames."""
        return self.paths.data_dir / STAFF_CACHE

    def _load_staff_cache(self) -> dict[str, int]:
        """Resolved usernames from earlier runs (empty if missing or unreadable)."""
        try:
            data = json.loads(self._staff_cache_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k).lower(): int(v) for k, v in data.items() if isinstance(v, int)}

    def _save_staff_cache(self, cache: dict[str, int]) -> None:
        """Write the username cache (0600, atomically)."""
        path = self._staff_cache_path()
        ensure_private_dir(path.parent)
        tmp = make_private_file(path.with_name(path.name + ".tmp"))
        tmp.write_text(json.dumps(cache, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
        os.chmod(path, 0o600)

    async def _resolve_staff(self) -> None:
        """Teammates from config: numeric ids directly, @usernames resolved once and cached."""
        client = self._require_client()
        cache = self._load_staff_cache()
        changed = False
        for entry in self.config.staff.ids:
            ref = chat_filter.parse_reference(entry)
            if ref.chat_id is not None:
                self._staff.add(ref.chat_id)
                continue
            name = ref.username or ""
            if name in cache:
                self._staff.add(cache[name])
                continue
            try:
                entity = await client.get_entity(name)
            except Exception as exc:
                message = f"staff.ids: @{name} could not be resolved ({type(exc).__name__}); check the username"
                self.warnings.append(message)
                log.warning("%s", message)
                continue
            cache[name] = int(entity.id)
            self._staff.add(int(entity.id))
            changed = True
        if changed:
            try:
                self._save_staff_cache(cache)
            except OSError as exc:
                log.warning("could not save the teammate cache: %s", exc)

    # ------------------------------------------------------------------ live updates

    async def _on_update(self, update: Any) -> None:
        """Telethon's raw update handler: hold updates until the chat list is known."""
        if self._backlog is not None:
            self._backlog.append(update)
            return
        await self._handle_safely(update)

    async def _handle_safely(self, update: Any) -> None:
        """Handle one update, logging (never raising) a failure."""
        try:
            await self._handle(update)
            self._note_pts(update)
        except Exception:
            log.exception("could not handle a %s update", type(update).__name__)

    def _note_pts(self, update: Any) -> None:
        """Tell the reconciler a pts-bearing update was applied (gapless ones spare a check)."""
        from . import convert as conv

        pts = getattr(update, "pts", None)
        if pts is None:
            return
        channel_id = getattr(update, "channel_id", None)
        peer = getattr(getattr(update, "message", None), "peer_id", None)
        if channel_id is not None:
            chat_id: int | None = -1_000_000_000_000 - channel_id
        elif peer is not None:
            chat_id = conv.marked_id(peer)
        else:
            chat_id = None
        self._reconciler.note_pts(chat_id, pts, getattr(update, "pts_count", 0))

    async def _handle(self, update: Any) -> None:
        """Turn one raw Telethon update into desk events."""
        from telethon.tl import types

        from . import convert as conv

        entities: dict[int, Any] = getattr(update, "_entities", None) or {}
        self_id = self._me.id if self._me else None
        if isinstance(update, types.UpdateNewMessage | types.UpdateNewChannelMessage):
            await self._on_message(update.message, entities)
        elif isinstance(update, types.UpdateShortMessage | types.UpdateShortChatMessage):
            await self._on_message(conv.short_to_message(update, self_id), entities)
        elif isinstance(update, types.UpdateEditMessage | types.UpdateEditChannelMessage):
            self._on_edit(update.message, entities)
        elif isinstance(update, types.UpdateDeleteMessages):
            if update.messages:
                ids = tuple(update.messages)
                self._forget(None, ids)
                self._emit(MessagesDeleted(None, ids))
        elif isinstance(update, types.UpdateDeleteChannelMessages):
            chat_id = conv.marked_id(types.PeerChannel(update.channel_id))
            if chat_id in self._selected and update.messages:
                self._forget(chat_id, update.messages)
                self._emit(MessagesDeleted(chat_id, tuple(update.messages)))
        elif isinstance(update, types.UpdateReadHistoryInbox | types.UpdateReadHistoryOutbox):
            chat_id = conv.marked_id(update.peer)
            if chat_id in self._selected:
                outbox = isinstance(update, types.UpdateReadHistoryOutbox)
                self._emit(ReadUpTo(chat_id, update.max_id, outbox=outbox))
        elif isinstance(update, types.UpdateReadChannelInbox | types.UpdateReadChannelOutbox):
            chat_id = conv.marked_id(types.PeerChannel(update.channel_id))
            if chat_id in self._selected:
                outbox = isinstance(update, types.UpdateReadChannelOutbox)
                self._emit(ReadUpTo(chat_id, update.max_id, outbox=outbox))
        elif isinstance(
            update,
            types.UpdateUserTyping | types.UpdateChatUserTyping | types.UpdateChannelUserTyping,
        ):
            self._on_typing(update)
        elif isinstance(update, types.UpdateMessageReactions):
            self._on_reactions(update)
        elif isinstance(update, types.UpdateChannel):
            await self._on_chat_changed(
                conv.marked_id(types.PeerChannel(update.channel_id)), entities
            )
        elif isinstance(update, types.UpdateChat):
            await self._on_chat_changed(conv.marked_id(types.PeerChat(update.chat_id)), entities)
        elif (
            isinstance(update, types.UpdateDialogFilter | types.UpdateDialogFilters)
            and self.config.chats.folder
        ):
            self._folders = await self._load_folders()
            await self._apply_reselection()

    async def _on_message(self, msg: Any, entities: dict[int, Any]) -> None:
        """A new message (incoming, ours from any device, or a teammate's)."""
        from telethon.tl import types

        from . import convert as conv

        if not hasattr(msg, "peer_id"):
            return  # MessageEmpty
        self._known.update(entities)
        chat_id = conv.marked_id(msg.peer_id)
        self_id = self._me.id if self._me else None
        if chat_id not in self._candidates:
            await self._adopt(chat_id, entities)
        if isinstance(msg, types.MessageService) and await self._on_service(msg, chat_id):
            return
        chat = self._selected.get(chat_id)
        if chat is None:
            return
        lookup = ChainMap(entities, self._known)
        message = conv.convert_message(msg, lookup, self_id=self_id, forum=chat.kind == "forum")
        self._order[chat_id] = max(self._order.get(chat_id, 0), message.date)
        self._remember(chat_id, [message])
        self._emit(NewMessage(message, conv.sender_user(msg, lookup, self_id)))

    def _on_edit(self, msg: Any, entities: dict[int, Any]) -> None:
        """An edited message in a support chat."""
        from . import convert as conv

        if not hasattr(msg, "peer_id"):
            return
        self._known.update(entities)
        chat_id = conv.marked_id(msg.peer_id)
        chat = self._selected.get(chat_id)
        if chat is None:
            return
        self_id = self._me.id if self._me else None
        message = conv.convert_message(
            msg, ChainMap(entities, self._known), self_id=self_id, forum=chat.kind == "forum"
        )
        self._remember(chat_id, [message])
        self._emit(MessageEdited(message))

    async def _on_service(self, msg: Any, chat_id: int) -> bool:
        """Act on chat-changing service messages; True when the message itself must be dropped."""
        from telethon.tl import types

        action = msg.action
        me = self._me.id if self._me else None
        if isinstance(action, types.MessageActionChatDeleteUser) and action.user_id == me:
            self._drop_chat(chat_id)
            return True
        if isinstance(action, types.MessageActionChatMigrateTo):
            self._drop_chat(chat_id)
            return True
        candidate = self._candidates.get(chat_id)
        if isinstance(action, types.MessageActionChatEditTitle) and candidate is not None:
            chat = candidate.chat.model_copy(update={"title": action.title})
            self._candidates[chat_id] = _replace_chat(candidate, chat)
            await self._reselect(chat_id)
        elif isinstance(action, types.MessageActionTopicCreate | types.MessageActionTopicEdit):
            self._note_topic(chat_id, msg)
        return False

    def _note_topic(self, chat_id: int, msg: Any) -> None:
        """Keep forum topic names current from topic create/edit service messages."""
        from . import convert as conv

        chat = self._selected.get(chat_id)
        title = getattr(msg.action, "title", None)
        if chat is None or not title:
            return
        topic_id = msg.id
        if not hasattr(msg.action, "icon_color"):  # an edit: the topic is the one it is posted in
            topic_id = conv.reply_and_topic(msg.reply_to, forum=True)[1] or msg.id
        topics = dict(chat.topics)
        topics[topic_id] = str(title)
        updated = chat.model_copy(update={"topics": tuple(sorted(topics.items()))})
        self._selected[chat_id] = updated
        self._emit(ChatUpdated(updated))

    def _on_typing(self, update: Any) -> None:
        """Someone is typing in a support chat (cancelled when the action says so)."""
        from telethon.tl import types

        from . import convert as conv

        if isinstance(update, types.UpdateUserTyping):
            chat_id, user_id = update.user_id, update.user_id
        elif isinstance(update, types.UpdateChatUserTyping):
            chat_id = conv.marked_id(types.PeerChat(update.chat_id))
            user_id = conv.marked_id(update.from_id)
        else:
            chat_id = conv.marked_id(types.PeerChannel(update.channel_id))
            user_id = conv.marked_id(update.from_id)
        if chat_id not in self._selected:
            return
        cancelled = isinstance(update.action, types.SendMessageCancelAction)
        until = self._now() + (0 if cancelled else conv.TYPING_SECONDS)
        self._emit(Typing(chat_id, user_id, until))

    def _on_reactions(self, update: Any) -> None:
        """Reactions on a message in a support chat (who reacted, where Telegram says)."""
        from . import convert as conv

        chat_id = conv.marked_id(update.peer)
        if chat_id not in self._selected:
            return
        reactions = update.reactions
        recent = getattr(reactions, "recent_reactions", None) or []
        for item in recent:
            emoji = conv.reaction_emoji(item.reaction)
            if emoji:
                self._emit(
                    ReactionChanged(chat_id, update.msg_id, conv.marked_id(item.peer_id), emoji)
                )
        if recent or self._me is None:
            return
        for count in getattr(reactions, "results", None) or []:
            emoji = conv.reaction_emoji(count.reaction)
            if emoji and count.chosen_order is not None:
                self._emit(ReactionChanged(chat_id, update.msg_id, self._me.id, emoji))

    # ------------------------------------------------------------------ chats joining, leaving, renamed

    async def _adopt(self, chat_id: int, entities: dict[int, Any]) -> None:
        """A chat not in the dialog list (just joined, or a new private chat): consider it."""
        from . import convert as conv

        entity = entities.get(chat_id) or self._known.get(chat_id)
        if entity is None:
            client = self._require_client()
            try:
                from telethon import utils

                raw_id, kind = utils.resolve_id(chat_id)
                entity = await client.get_entity(kind(raw_id))
            except Exception as exc:
                log.info(
                    "a message from an unknown chat could not be resolved: %s", type(exc).__name__
                )
                return
        self._known[chat_id] = entity
        self._candidates[chat_id] = conv.candidate(entity, None, now=self._now())
        if not getattr(entity, "min", False):
            with contextlib.suppress(Exception):
                self._peers[chat_id] = _input_peer(entity)
        await self._reselect(chat_id, backfill=False)

    async def _on_chat_changed(self, chat_id: int, entities: dict[int, Any]) -> None:
        """A chat's details changed, or we joined/left it (UpdateChannel / UpdateChat)."""
        from . import convert as conv

        entity = entities.get(chat_id)
        if entity is None:
            client = self._require_client()
            try:
                from telethon import utils

                raw_id, kind = utils.resolve_id(chat_id)
                entity = await client.get_entity(kind(raw_id))
            except Exception as exc:
                log.info("changed chat %d could not be fetched: %s", chat_id, type(exc).__name__)
                if chat_id in self._selected and self._dialogs_ready.is_set():
                    self._drop_chat(chat_id)
                return
        self._known[chat_id] = entity
        if not conv.is_usable(entity):
            self._drop_chat(chat_id)
            return
        dialog = self._dialogs.get(chat_id)
        self._candidates[chat_id] = conv.candidate(entity, dialog, now=self._now())
        if not getattr(entity, "min", False):
            with contextlib.suppress(Exception):
                self._peers[chat_id] = _input_peer(entity)
        await self._reselect(chat_id)

    async def _reselect(self, chat_id: int, *, backfill: bool = True) -> None:
        """Re-apply the selection rules to one chat and tell the desk what changed."""
        candidate = self._candidates.get(chat_id)
        if candidate is None:
            return
        folder = (
            chat_filter.find_folder(self._folders, self.config.chats.folder)
            if self.config.chats.folder
            else None
        )
        wanted = chat_filter.is_support_chat(candidate, self.config.chats, folder)
        was = self._selected.get(chat_id)
        if not wanted:
            if was is not None:
                self._drop_chat(chat_id, forget_candidate=False)
            return
        chosen = chat_filter.select_chats([candidate], self.config.chats, self._folders)
        chat = _with_topics(chosen[0] if chosen else candidate.chat, was)
        self._selected[chat_id] = chat
        self._order.setdefault(chat_id, self._now())
        if chat != was:
            self._emit(ChatUpdated(chat))
        if was is None:
            if chat.kind == "forum":
                await self._load_topics([chat_id])
                if self._selected[chat_id] != chat:
                    self._emit(ChatUpdated(self._selected[chat_id]))
            if backfill and self._dialogs_ready.is_set():
                self._spawn(self._backfill_chat(chat_id), "backfill")

    async def _apply_reselection(self) -> None:
        """Re-apply the rules to every chat (after the folders changed)."""
        before = dict(self._selected)
        self._reselect_all()
        for chat_id in before.keys() - self._selected.keys():
            self._emit(ChatRemoved(chat_id))
        for chat_id, chat in self._selected.items():
            if before.get(chat_id) != chat:
                self._emit(ChatUpdated(chat))
                if chat_id not in before:
                    self._spawn(self._backfill_chat(chat_id), "backfill")

    def _drop_chat(self, chat_id: int, *, forget_candidate: bool = True) -> None:
        """We left (or lost) a chat: stop following it and tell the desk."""
        if forget_candidate:
            self._candidates.pop(chat_id, None)
            self._peers.pop(chat_id, None)
        self._seen.pop(chat_id, None)
        if self._selected.pop(chat_id, None) is not None:
            self._emit(ChatRemoved(chat_id))


def _input_peer(entity: Any) -> Any:
    """The InputPeer of a User/Chat/Channel."""
    from telethon import utils

    return utils.get_input_peer(entity, allow_self=True)


def _with_topics(chat: Chat, previous: Chat | None) -> Chat:
    """`chat`, keeping the topic names already known for it."""
    if previous is None or chat.topics or not previous.topics:
        return chat
    return chat.model_copy(update={"topics": previous.topics})


def _replace_chat(candidate: Candidate, chat: Chat) -> Candidate:
    """The same candidate describing an updated chat."""
    from dataclasses import replace

    return replace(candidate, chat=chat)
