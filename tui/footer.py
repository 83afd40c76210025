"""The key footer: Textual's Footer without the widgets it leaks on every recompose."""

from __future__ import annotations

from collections.abc import Sequence

from textual import events
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer

from .dialogs import DeskScreen
from .keymap import ACTIONS, MESSAGE_ACTIONS, NARROW_LABELS
from .textual_compat import FooterKey, bindings_ready, prune_dead_watchers

# Message mode's keys are bound only while it is on (tui/conversation.py): they come first then,
# and the desk's own keys fill what room is left.
_PLACE = {action.action: place for place, action in enumerate((*MESSAGE_ACTIONS, *ACTIONS))}
_KEPT_LAST = "help"  # when keys must go for lack of room, the help key stays


def _width(keys: Sequence[Widget]) -> int:
    """The columns compact footer keys take: key, space, label, and a space after each."""
    return sum(
        len(key.key_display) + len(key.description) + 2 if isinstance(key, FooterKey) else 0
        for key in keys
    )


def fit_keys(keys: list[Widget], columns: int) -> list[Widget]:
    """The keys that fit in `columns`: with shorter labels first, then without the last keys
    but help (a key cut in the middle, or help out of sight, helps no one)."""
    if _width(keys) <= columns:
        return keys
    for key in keys:
        if isinstance(key, FooterKey) and key.action in NARROW_LABELS:
            key.description = NARROW_LABELS[key.action]
    while _width(keys) > columns and len(keys) > 1:
        droppable = [k for k in keys if getattr(k, "action", None) != _KEPT_LAST]
        keys.remove(droppable[-1])
    return keys


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
            app.size.width,
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
        place instead of moving to the far end (Textual re-adds a remapped binding last), and
        only as many as fit the width (`fit_keys`)."""
        keys = list(super().compose())
        keys.sort(key=lambda key: _PLACE.get(getattr(key, "action", ""), len(_PLACE)))
        yield from fit_keys(keys, self.app.size.width)

    async def on_resize(self, event: events.Resize) -> None:
        """A narrower or wider terminal: the keys that fit (and their labels) are chosen again."""
        await self.recompose()

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
