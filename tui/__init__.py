"""The Textual desk: screens, widgets and key bindings over core."""
