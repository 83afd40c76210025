"""Restyling a widget whose pseudo-classes changed (focus moved) from the rules it had before."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.css.model import RuleSet
    from textual.css.styles import RenderStyles, RulesMap

# What a node's styles depend on: each node on its CSS path (by id: the node is its own path's
# last, and its ancestors live as long as it does) with its classes and pseudo-classes.
_PathKey = tuple[tuple[int, frozenset[str], frozenset[str]], ...]

_KEPT_PER_NODE = 8  # a widget has few looks (focused or not, a class or two)


class _Look:
    """One computed look of a node: its CSS rules and its component classes' styles."""

    __slots__ = ("components", "rules")

    def __init__(self, rules: RulesMap, components: dict[str, RenderStyles]) -> None:
        """The rules `Stylesheet.apply` chose and the styles of each component class."""
        self.rules = rules
        self.components = components


class LookMemo:
    """The looks each node has had, so that focus moving back and forth restyles from memory.

    `Widget.watch_has_focus` has the App restyle the widget (`App.update_styles`): the
    stylesheet matches every rule against the node's CSS path and builds a virtual node per
    component class (`Stylesheet._process_component_classes`; a TextArea has a dozen). The
    result depends only on the stylesheet's rules and the classes and pseudo-classes of the
    nodes on that path, so it is kept per node under exactly that key; Textual's own cache
    (the `cache` argument of `Stylesheet.apply`) lives for one call only. Nodes whose rules
    use positional pseudo-classes (`:odd`, `:first-child`, …) or `:focus-within` are never
    kept: Textual leaves them out of its cache for the same reason.
    """

    def __init__(self) -> None:
        """An empty memo."""
        self._rules: list[RuleSet] | None = None
        self._looks: WeakKeyDictionary[DOMNode, dict[_PathKey, _Look]] = WeakKeyDictionary()
        self.hits = 0  # looks reused (read by tests)

    def restyle(self, stylesheet: Stylesheet, node: DOMNode, animate: bool) -> None:
        """Apply the stylesheet to `node` (a node without children), from memory if it can."""
        rules = stylesheet.rules
        if rules is not self._rules:  # parsed again (a theme or CSS change): all looks stale
            self._rules = rules
            self._looks.clear()
        key = _path_key(node)
        looks = self._looks.get(node)
        look = None if looks is None else looks.get(key)
        if look is None:
            chosen: dict[tuple[Any, ...], RulesMap] = {}
            stylesheet.apply(node, animate=animate, cache=chosen)
            if len(chosen) == 1 and node.is_attached:  # Textual found it cacheable
                if looks is None or len(looks) >= _KEPT_PER_NODE:
                    looks = self._looks[node] = {}
                components = dict(node._component_styles)
                looks[key] = _Look(next(iter(chosen.values())), components)
        else:
            self.hits += 1
            stylesheet.replace_rules(node, look.rules, animate=animate)
            _set_components(node, look.components)
        if isinstance(node, Widget) and node.is_scrollable:
            _restyle_scrollbars(stylesheet, node)


def _path_key(node: DOMNode) -> _PathKey:
    """Each node on `node`'s CSS path, with its classes and pseudo-classes now."""
    return tuple(
        (id(path_node), frozenset(path_node.classes), frozenset(path_node.get_pseudo_classes()))
        for path_node in node.css_path_nodes
    )


def _set_components(node: DOMNode, components: dict[str, RenderStyles]) -> None:
    """Give the node these component styles, repainting it when any changed."""
    old = node._component_styles
    changed = old.keys() != components.keys() or any(
        old[name] is not styles and old[name] != styles for name, styles in components.items()
    )
    node._component_styles.clear()
    node._component_styles.update(components)
    if changed:
        node.refresh()


def _restyle_scrollbars(stylesheet: Stylesheet, widget: Widget) -> None:
    """Restyle the scrollbars a scrollable widget shows, as `Stylesheet.update_nodes` does."""
    vertical = widget.show_vertical_scrollbar and widget.scrollbar_size_vertical
    horizontal = widget.show_horizontal_scrollbar and widget.scrollbar_size_horizontal
    if vertical:
        stylesheet.apply(widget.vertical_scrollbar)
    if horizontal:
        stylesheet.apply(widget.horizontal_scrollbar)
    if vertical and horizontal:
        stylesheet.apply(widget.scrollbar_corner)
