"""The simulated Telegram's catch-up through Telethon's own update machinery (its `MessageBox`).

`DifferenceSim` is tests/sim_telegram.py's `SimTelegram` whose catch-up after a connect is not a
replay of the missed updates but what a real server and Telethon 1.x do together: a real
`telethon._updates.MessageBox`, loaded with the pts the client had seen, is handed an
`UpdatesTooLong` and asks `updates.GetDifference`; the sim answers from the updates missed
while away with `updates.DifferenceSlice`s of `slice_size` pts (each with its intermediate
state) and a final `updates.Difference`, with each channel's missed updates inline when there
are few (`inline_channel_updates`), else announced by `UpdateChannelTooLong`; the box then asks `updates.GetChannelDifference` per channel, answered
in pages of the request's limit, or with `updates.ChannelDifferenceTooLong` for the channels in
`too_long` (the box then drops what that channel missed, as Telethon does). What the box
returns reaches the client's handlers in order, with the entities attached like Telethon's
`_preprocess_updates` does, one slice at a time like Telethon's update loop.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from typing import Any

from telethon import utils
from telethon._updates.entitycache import EntityCache
from telethon._updates.messagebox import GapError, MessageBox
from telethon._updates.session import ChannelState, SessionState
from telethon.tl import types
from telethon.tl.types import updates as diff_types

from tests.fake_tl import peer_of, when
from tests.sim_serving import CHANNEL_FLOOR
from tests.sim_telegram import SimTelegram


def _pts(update: Any) -> tuple[int, int] | None:
    """(pts, pts_count) of an update that takes part in a pts sequence, else None."""
    pts = getattr(update, "pts", None)
    if not pts:
        return None
    return pts, getattr(update, "pts_count", None) or 0


def _channel_of(update: Any) -> int | None:
    """The marked id of the channel whose pts counts this update, or None (the account's)."""
    message = getattr(update, "message", None)
    peer = getattr(message, "peer_id", None)
    if isinstance(peer, types.PeerChannel):
        return utils.get_peer_id(peer)
    channel_id = getattr(update, "channel_id", None)
    return utils.get_peer_id(types.PeerChannel(channel_id)) if channel_id else None


class DifferenceSim(SimTelegram):
    """SimTelegram whose catch-up goes through GetDifference / GetChannelDifference."""

    def __init__(self, *args: Any, slice_size: int = 500, **kwargs: Any) -> None:
        """`slice_size`: the pts one DifferenceSlice covers at most."""
        super().__init__(*args, **kwargs)
        self.slice_size = slice_size
        self.round_trip = 0.1
        self.catch_up_seconds = 0.0  # Telethon's update loop asks as soon as it is connected
        self.inline_channel_updates = 0
        """A channel with at most this many missed updates has them inline in the difference."""
        """Seconds each difference request takes (the desk works between them)."""
        self.too_long: set[int] = set()
        """Channels (marked ids) answered with ChannelDifferenceTooLong."""
        self.served: list[str] = []
        """The kind of every difference answered, in order (e.g. 'DifferenceSlice')."""
        self._account_log: list[Any] = []
        self._channel_logs: dict[int, list[Any]] = {}
        self._channels_announced = False
        self._message_box: MessageBox | None = None
        self.answered_locally = 0
        """Difference requests the client's `answer_locally` hook answered (no round trip)."""

    # ------------------------------------------------------------------ the catch-up

    async def fetch_missed(self) -> None:
        """A catch-up is Telethon's update loop over GetDifference and GetChannelDifference."""
        await self.get_difference()

    async def get_difference(self) -> None:
        """Telethon's update loop over what was missed: difference first, then channels."""
        account, channels = await self._file_missed()
        box, cache = self._load_box(account, channels)
        self._message_box = box  # where TelegramClient keeps it (the source looks there)
        self._channels_announced = False
        with contextlib.suppress(GapError):  # an UpdatesTooLong always is one
            box.process_updates(types.UpdatesTooLong(), cache, [])
        for _ in range(100_000):  # a catch-up that never ends is a bug of the sim or the box
            if not (self.connected and self.updates_alive):
                break
            request = box.get_difference()
            if request is not None:
                answer = await self._asked(request, self._serve_difference)
                updates, users, chats = box.apply_difference(answer, cache)
            else:
                request = box.get_channel_difference(cache)
                if request is None:
                    break
                answer = await self._asked(request, self._serve_channel_difference)
                updates, users, chats = box.apply_channel_difference(request, answer, cache)
            self.served.append(type(answer).__name__)
            await self._dispatch(updates, users, chats)
        else:
            raise AssertionError(f"the catch-up did not end: {self.served[-5:]}")
        self._account_log.clear()
        self._channel_logs.clear()

    async def _file_missed(self) -> tuple[int, dict[int, int]]:
        """Sort the missed updates into the account's and each channel's log (typing and the
        like are gone); return the pts the client had seen of each before them."""
        account = self.account_pts
        channels: dict[int, int] = {}
        missed, self.missed = self.missed, []
        for count, update in enumerate(missed, 1):
            if count % 2000 == 0:
                await asyncio.sleep(0)  # the server's work: the desk paints meanwhile
            info = _pts(update)
            if info is None:
                continue
            before = info[0] - info[1]
            channel = _channel_of(update)
            if channel is None:
                account = min(account, before)
                self._account_log.append(update)
            else:
                channels[channel] = min(channels.get(channel, before), before)
                self._channel_logs.setdefault(channel, []).append(update)
        self._account_log.sort(key=lambda u: _pts(u)[0])  # type: ignore[index]
        return account, channels

    def _load_box(self, account: int, channels: dict[int, int]) -> tuple[MessageBox, EntityCache]:
        """A MessageBox holding the pts the client had seen before the missed updates."""
        box = MessageBox(logging.getLogger("tests.sim_difference"))
        box.load(  # what Telethon reads back from its session file
            SessionState(self.me.id, 2, False, account, 0, self.now(), 0, 0),
            [ChannelState(utils.resolve_id(c)[0], pts) for c, pts in channels.items()],
        )
        cache = EntityCache()
        cache.set_self_user(self.me.id, False, self.me.access_hash)
        users, chats = self._everyone()
        cache.extend(users, chats)
        return box, cache

    def _everyone(self) -> tuple[list[Any], list[Any]]:
        """Every user and chat the sim knows (the session's entity cache holds them all)."""
        users = [e for e in self.entities.values() if isinstance(e, types.User)]
        chats = [e for e in self.entities.values() if not isinstance(e, types.User)]
        return users, chats

    async def _asked(self, request: Any, serve: Any) -> Any:
        """One request of Telethon's update loop: through the client's `answer_locally` hook
        first (as core/sources/telegram/client.py's `DeskClient.__call__`), else a round trip."""
        hook = self.answer_locally
        if hook is not None:
            answer = await hook(request)
            if answer is not None:
                self.answered_locally += 1
                return answer
        self.requests.append(request)  # what reached the (simulated) server
        await asyncio.sleep(self.round_trip)
        return serve(request)

    async def _dispatch(self, updates: list[Any], users: list[Any], chats: list[Any]) -> None:
        """Hand a slice's updates to the handlers in order (Telethon's sequential dispatch),
        with the entities the answer named attached (Telethon's `_preprocess_updates`)."""
        attached = {utils.get_peer_id(e): e for e in (*users, *chats)}
        for update in updates:
            update._entities = attached
            for handler in list(self.handlers):
                await handler(update)
            self.delivered += 1
        await asyncio.sleep(0)

    # ------------------------------------------------------------------ serving

    def _serve_difference(self, request: Any) -> Any:
        """GetDifference: the account's missed updates after `request.pts`, a slice at a time."""
        log = self._account_log  # in pts order (`_file_missed`)
        first = bisect.bisect_right(log, request.pts, key=lambda u: _pts(u)[0])  # type: ignore[index]
        end = bisect.bisect_right(log, request.pts + self.slice_size, key=lambda u: _pts(u)[0])  # type: ignore[index]
        pending, taken = log[first:], log[first:end]
        news = [u.message for u in taken if isinstance(u, types.UpdateNewMessage)]
        others = [u for u in taken if not isinstance(u, types.UpdateNewMessage)]
        if not self._channels_announced:
            self._channels_announced = True
            others += self._channel_news()
        users, chats = self._named(
            [*news, *(getattr(u, "message", None) for u in others)],
            *(_channel_of(u) or 0 for u in others),
        )
        date = when(self.now())
        if len(taken) < len(pending):
            top = _pts(taken[-1])[0] if taken else request.pts + self.slice_size  # type: ignore[index]
            return diff_types.DifferenceSlice(
                new_messages=news,
                new_encrypted_messages=[],
                other_updates=others,
                chats=chats,
                users=users,
                intermediate_state=types.updates.State(
                    pts=top, qts=0, date=date, seq=0, unread_count=0
                ),
            )
        return diff_types.Difference(
            new_messages=news,
            new_encrypted_messages=[],
            other_updates=others,
            chats=chats,
            users=users,
            state=types.updates.State(
                pts=self.account_pts, qts=0, date=date, seq=0, unread_count=0
            ),
        )

    def _channel_news(self) -> list[Any]:
        """What a difference says of the channels: a few updates inline, else UpdateChannelTooLong
        (the client then asks GetChannelDifference)."""
        news: list[Any] = []
        for chat_id, log in self._channel_logs.items():
            if len(log) <= self.inline_channel_updates and chat_id not in self.too_long:
                news += log
                log.clear()
            else:
                channel_id = utils.resolve_id(chat_id)[0]
                news.append(types.UpdateChannelTooLong(channel_id, pts=self.channel_pts[chat_id]))
        return news

    def _serve_channel_difference(self, request: Any) -> Any:
        """GetChannelDifference: a page of the channel's missed updates, or TooLong."""
        chat_id = utils.get_peer_id(types.PeerChannel(request.channel.channel_id))
        current = self.channel_pts[chat_id]
        if request.pts >= current:
            return diff_types.ChannelDifferenceEmpty(pts=current, final=True)
        if chat_id in self.too_long:
            self._sync_meta(chat_id)
            meta = self.dialog_meta[chat_id]
            history = self.truth(chat_id)
            users, chats = self._named(history[-request.limit :], chat_id)
            return diff_types.ChannelDifferenceTooLong(
                dialog=types.Dialog(
                    peer=peer_of(self.entities[chat_id]),
                    top_message=history[-1].id if history else 0,
                    read_inbox_max_id=meta["read_inbox_max_id"],
                    read_outbox_max_id=meta["read_outbox_max_id"],
                    unread_count=meta["unread_count"],
                    unread_mentions_count=0,
                    unread_reactions_count=0,
                    unread_poll_votes_count=0,
                    notify_settings=types.PeerNotifySettings(),
                    pts=current,
                ),
                messages=history[-request.limit :],
                chats=chats,
                users=users,
                final=True,
            )
        log = self._channel_logs.get(chat_id, [])
        pending = sorted(
            (u for u in log if _pts(u)[0] > request.pts),  # type: ignore[index]
            key=lambda u: _pts(u)[0],  # type: ignore[index]
        )
        page = pending[: request.limit]
        news = [u.message for u in page if isinstance(u, types.UpdateNewChannelMessage)]
        others = [u for u in page if not isinstance(u, types.UpdateNewChannelMessage)]
        final = len(page) == len(pending)
        users, chats = self._named([*news, *(getattr(u, "message", None) for u in others)], chat_id)
        return diff_types.ChannelDifference(
            pts=current if final else _pts(page[-1])[0],  # type: ignore[index]
            new_messages=news,
            other_updates=others,
            chats=chats,
            users=users,
            final=final,
        )


__all__ = ["CHANNEL_FLOOR", "DifferenceSim"]
