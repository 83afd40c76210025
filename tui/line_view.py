"""A ScrollView drawn with the line API, whose own style is worked out once per CSS change."""

from __future__ import annotations

from rich.style import Style

from .textual_compat import SelfSizedScrollView


class LineScrollView(SelfSizedScrollView):
    """A ScrollView that keeps its own rich style (computing it walks every ancestor)."""

    _base_style: Style | None = None

    @property
    def _base(self) -> Style:
        """The widget's own style, kept until CSS changes."""
        if self._base_style is None:
            self._base_style = self.rich_style
        return self._base_style

    def notify_style_update(self) -> None:
        """CSS changed (a theme, focus): when the widget's style did, drop what was drawn."""
        super().notify_style_update()
        old, self._base_style = self._base_style, None
        if old is not None and old != self._base:
            self.base_style_changed()

    def base_style_changed(self) -> None:
        """Forget lines drawn with the old style (subclasses say which)."""
