"""Canned replies: the template grammar, the library on disk, rendering, matching and triggers.

The names callers use are gathered here; each lives in the module that does its one job:
`template.py` (a template and its body's grammar), `toml_file.py` (one file parsed, problems as
lines), `library.py` (the folders loaded and watched), `render.py` (placeholders filled, fields),
`matching.py` (a `/query` ranked), `tab_stops.py` (fields followed through edits) and
`triggers.py` (the `/word` at the cursor, the language).
"""

from __future__ import annotations

from .library import (
    Library,
    LibraryWatcher,
    Snapshot,
    changed_since,
    library_sources,
    load_library,
    snapshot,
    starter_dir,
    template_files,
)
from .matching import match, usage_score
from .render import (
    Field,
    RenderContext,
    Rendered,
    customer_id_for,
    insert_rendered,
    next_field,
    previous_field,
    render,
    unfilled_fields,
    unfilled_message,
)
from .tab_stops import fields_after_edit, tab_stop
from .template import FIELD_CLOSE, FIELD_OPEN, VARIABLES, Template, parse_body
from .toml_file import load_file, parse_file
from .triggers import detect_lang, trigger_at

__all__ = [
    "FIELD_CLOSE",
    "FIELD_OPEN",
    "VARIABLES",
    "Field",
    "Library",
    "LibraryWatcher",
    "RenderContext",
    "Rendered",
    "Snapshot",
    "Template",
    "changed_since",
    "customer_id_for",
    "detect_lang",
    "fields_after_edit",
    "insert_rendered",
    "library_sources",
    "load_file",
    "load_library",
    "match",
    "next_field",
    "parse_body",
    "parse_file",
    "previous_field",
    "render",
    "snapshot",
    "starter_dir",
    "tab_stop",
    "template_files",
    "trigger_at",
    "unfilled_fields",
    "unfilled_message",
    "usage_score",
]
