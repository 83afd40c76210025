"""Where a key's time goes: wall-clock timers wrapped around the desk's and Textual's steps.

Diagnosis only (`python -m bench.run --phases`): the wrappers add microseconds per call, which is
why the budgeted figures are taken without them. Each wrapped call is logged as
(name, start, seconds); `breakdown()` sums them over a time window, e.g. one key press.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable
from typing import Any

LOG: list[tuple[str, float, float]] = []


def _wrap(owner: object, attr: str, name: str) -> None:
    """Replace `owner.attr` with a timed version (sync or async)."""
    original = getattr(owner, attr)
    if getattr(original, "__bench_phase__", False):
        return
    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            """The wrapped coroutine, timed."""
            began = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                LOG.append((name, began, time.perf_counter() - began))

        wrapper: Callable[..., Any] = timed_async
    else:

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            """The wrapped function, timed."""
            began = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                LOG.append((name, began, time.perf_counter() - began))

        wrapper = timed
    wrapper.__bench_phase__ = True  # type: ignore[attr-defined]
    setattr(owner, attr, wrapper)


def instrument() -> None:
    """Time the steps between a key and its frame (call before the app starts)."""
    from textual._compositor import Compositor
    from textual.screen import Screen
    from textual.widgets import Static
    from tgtriage.core.desk.applier import EventApplier
    from tgtriage.core.desk.inbox import Inbox
    from tgtriage.core.desk.replies import Replies
    from tgtriage.core.storage.store import Store
    from tgtriage.tui import message_lines as message_lines_module
    from tgtriage.tui.app import DeskApp
    from tgtriage.tui.chat_list import ChatList
    from tgtriage.tui.conversation import Conversation

    targets: list[tuple[object, str, str]] = [
        (DeskApp, "open_chat", "tui/desk_composing.py:DeskApp.open_chat (total)"),
        (DeskApp, "_save_draft", "tui/desk_composing.py:DeskApp._save_draft"),
        (DeskApp, "_refresh_panels", "tui/desk_paint.py:DeskApp._refresh_panels"),
        (DeskApp, "_on_changes", "tui/desk_paint.py:DeskApp._on_changes"),
        (DeskApp, "_render_message", "tui/desk_paint.py:DeskApp._render_message"),
        (DeskApp, "action_switcher", "tui/desk_navigation.py:DeskApp.action_switcher"),
        (DeskApp, "_tick", "tui/desk_paint.py:DeskApp._tick (1 s timer)"),
        (Replies, "poll", "core/desk/replies.py:Replies.poll (template files changed?)"),
        (Static, "update", "textual/widgets/_static.py:Static.update"),
        (Inbox, "open", "core/desk/actions.py:InboxActions.open"),
        (Inbox, "recent", "core/desk/queries.py:InboxQueries.recent (from memory)"),
        (Inbox, "history", "core/desk/inbox.py:Inbox.history"),
        (Inbox, "next_waiting", "core/desk/queries.py:InboxQueries.next_waiting"),
        (Inbox, "order", "core/desk/queries.py:InboxQueries.order"),
        (EventApplier, "apply", "core/desk/applier.py:EventApplier.apply (one slice)"),
        (Store, "messages", "core/storage/messages.py:MessageQueries.messages"),
        (Store, "newest_rows", "core/storage/messages.py:MessageQueries.newest_rows"),
        (Store, "save_triage", "core/storage/marks.py:DeskMarks.save_triage"),
        (Store, "save_slice", "core/storage/store.py:Store.save_slice (behind the screen)"),
        (Store, "set_slot", "core/storage/marks.py:DeskMarks.set_slot"),
        (Store, "add_messages", "core/storage/messages.py:MessageQueries.add_messages"),
        (Conversation, "show", "tui/conversation.py:Conversation.show"),
        (Conversation, "_relayout", "tui/conversation.py:Conversation._relayout"),
        (message_lines_module, "_wrap", "tui/wrap.py:_wrap (one message)"),
        (ChatList, "set_order", "tui/chat_list.py:ChatList.set_order"),
        (ChatList, "set_open", "tui/chat_list.py:ChatList.set_open"),
        (ChatList, "update_rows", "tui/chat_list.py:ChatList.update_rows"),
        (ChatList, "render_line", "tui/chat_list.py:ChatList.render_line"),
        (Screen, "_refresh_layout", "textual/screen.py:Screen._refresh_layout (layout+paint)"),
        (Screen, "_compositor_refresh", "textual/screen.py:Screen._compositor_refresh (paint)"),
        (Compositor, "reflow", "textual/_compositor.py:Compositor.reflow"),
        (Compositor, "render_update", "textual/_compositor.py:Compositor.render_update"),
    ]
    for owner, attr, name in targets:
        _wrap(owner, attr, name)


def per_call() -> dict[str, dict[str, float]]:
    """Calls, median, p95 and max (ms) of every wrapped step over the whole session."""
    by_name: dict[str, list[float]] = {}
    for name, _, took in LOG:
        by_name.setdefault(name, []).append(took * 1000)
    stats: dict[str, dict[str, float]] = {}
    for name, values in by_name.items():
        values.sort()
        stats[name] = {
            "calls": len(values),
            "median_ms": values[len(values) // 2],
            "p95_ms": values[min(len(values) - 1, int(len(values) * 0.95))],
            "max_ms": values[-1],
        }
    return stats


def breakdown(start: float, end: float) -> dict[str, float]:
    """Seconds spent in each wrapped step that began inside [start, end] (nested steps overlap)."""
    totals: dict[str, float] = {}
    for name, began, took in LOG:
        if start <= began <= end:
            totals[name] = totals.get(name, 0.0) + took
    return totals
