"""The key footer: Textual's Footer without the widgets it leaks on every recompose."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer

from .dialogs import DeskScreen
from .keymap import ACTIONS
from .textual_compat import bindings_ready, prune_dead_watchers

_PLACE = {action.action: place for place, action in enumerate(ACTIONS)}


class DeskFooter(Footer):
    """Textual's Footer (8.2), which forgets the key widgets it replaces.

    The Footer recomposes its keys whenever the bindings change — each focus change and each
    modal screen — and every key it composes registers a watcher on the Footer's `compact`
    reactive (`data_bind`). Textual drops the watchers of removed widgets only when that
    reactive changes, which it never does here, so every recompose kept ~10 dead key widgets
    alive: thousands over a shift, and a heap the garbage collector walks in full.
    """

    _shown: tuple[object, ...] | None = None

    def _signature(self) -> tuple[object, ...]:
        """What compose() would draw: the shown bindings, whether enabled, their tooltips."""
        app = self.app
        return (
            self.show_command_palette,
            tuple(
                (
                    binding.key,
                    app.get_key_display(binding),
                    binding.description,
                    binding.action,
                    binding.group,
                    tooltip,
                )
                # Not whether each is enabled: the desk's keys wait (disabled) only while a
                # dialog covers this footer, and redrawing it then and again after is wasted.
                for _, binding, _enabled, tooltip in self.screen.active_bindings.values()
                if binding.show or binding.action == "command_palette"
            ),
        )

    def compose(self) -> ComposeResult:
        """Textual's keys in the desk's own order (tui/keymap.py), so a remapped key keeps its
        place instead of moving to the far end (Textual re-adds a remapped binding last)."""
        keys = list(super().compose())
        yield from sorted(keys, key=lambda key: _PLACE.get(getattr(key, "action", ""), len(_PLACE)))

    async def recompose(self) -> None:
        """Recompose the keys — unless they would be the same ones (most focus changes) or a
        dialog is open over the desk — then let go of the watchers of the keys just removed.

        A recompose mounts and styles a dozen widgets (several milliseconds) after every
        switch, and leaves as many behind for the garbage collector.
        """
        screen = self.screen if self.is_attached else None
        if isinstance(screen, DeskScreen) and screen.dialog is not None and self._shown:
            return  # the desk's keys rest while a dialog is open: the footer stays as it was
        if bindings_ready(self) and self.is_attached:
            signature = self._signature()
            if signature == self._shown:
                return
            self._shown = signature
        await super().recompose()
        prune_dead_watchers(self)
