"""The key footer: Textual's Footer without the widgets it leaks on every recompose."""

from __future__ import annotations

from textual.widgets import Footer


class DeskFooter(Footer):
    """Textual's Footer (8.2), which forgets the key widgets it replaces.

    The Footer recomposes its keys whenever the bindings change — each focus change and each
    modal screen — and every key it composes registers a watcher on the Footer's `compact`
    reactive (`data_bind`). Textual drops the watchers of removed widgets only when that
    reactive changes, which it never does here, so every recompose kept ~10 dead key widgets
    alive: thousands over a shift, and a heap the garbage collector walks in full.
    """

    async def recompose(self) -> None:
        """Recompose the keys, then let go of the watchers of the keys just removed."""
        await super().recompose()
        watchers = getattr(self, "__watchers", None)
        if not isinstance(watchers, dict):
            return
        for entries in watchers.values():
            entries[:] = [
                (node, callback)
                for node, callback in entries
                if node is self or (node.is_attached and not getattr(node, "_closing", False))
            ]
