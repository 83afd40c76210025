"""The template library: every template file of the configured folders, loaded and watched.

A template with any error is left out and reported as one line `path:line: problem; fix`; the
rest of the library still loads. Keys are unique per language: the same key may exist once per
`lang` (the popup puts the chat's language first).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .matching import search_entry
from .template import Template
from .toml_file import load_file

if TYPE_CHECKING:
    from ..system.config import Config
    from ..system.paths import Paths


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The template files of some sources with their (mtime_ns, size), to notice changes."""

    sources: tuple[Path, ...]
    files: tuple[tuple[str, int, int], ...]


class Library:
    """A loaded set of templates plus one error line per problem found while loading."""

    def __init__(
        self,
        templates: Sequence[Template],
        errors: Sequence[str] = (),
        snapshot: Snapshot | None = None,
    ) -> None:
        """Hold `templates` (already validated) and the `errors` met while loading them."""
        self.templates: list[Template] = list(templates)
        self.errors: list[str] = list(errors)
        self.snapshot = snapshot or Snapshot((), ())
        self.search_entries = [search_entry(t) for t in self.templates]

    def __len__(self) -> int:
        """Number of templates."""
        return len(self.templates)

    def get(self, key: str, lang: str | None = None) -> Template | None:
        """The template with `key`, preferring `lang`, then no lang, then any."""
        folded = key.casefold()
        found = [t for t in self.templates if t.key.casefold() == folded]
        for want in (lang, None):
            for template in found:
                if template.lang == want:
                    return template
        return found[0] if found else None

    def categories(self) -> list[str]:
        """Category names in the order they first appear."""
        return list(dict.fromkeys(t.category for t in self.templates))

    def by_category(self) -> dict[str, list[Template]]:
        """Templates grouped by category, in library order."""
        groups: dict[str, list[Template]] = {}
        for template in self.templates:
            groups.setdefault(template.category, []).append(template)
        return groups

    def changed(self) -> bool:
        """Whether its files changed (edited, added, removed) since it was loaded."""
        return changed_since(self.snapshot)


def starter_dir() -> Path:
    """The folder of the built-in starter templates shipped with the package."""
    return Path(__file__).parent / "starter_templates"


def library_sources(config: Config, paths: Paths) -> list[Path]:
    """Where the desk loads templates from: the config dir's templates/ plus config paths.

    Relative config paths are taken from the config dir. Until the engineer has a templates/
    folder (`tgtriage templates init` creates it) the built-in starter set stands in for it,
    so a new user sees useful templates at once.
    """
    default = paths.templates_dir
    extra = [
        p if p.is_absolute() else paths.config_dir / p
        for p in (raw.expanduser() for raw in config.templates.paths)
    ]
    first = default if default.exists() else starter_dir()
    return [first, *(p for p in extra if p != first)]


def template_files(sources: Iterable[Path]) -> tuple[list[Path], list[str]]:
    """The `*.toml` files of `sources` (folders searched recursively, hidden parts skipped)."""
    files: list[Path] = []
    errors: list[str] = []
    for source in sources:
        if source.is_file():
            files.append(source)
        elif source.is_dir():
            found = sorted(
                p
                for p in source.rglob("*.toml")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(source).parts)
            )
            files.extend(found)
        else:
            errors.append(
                f"{source}:0: template folder not found; create it or remove it from "
                "templates.paths in config.toml"
            )
    return list(dict.fromkeys(files)), errors


def snapshot(sources: Iterable[Path]) -> Snapshot:
    """The current (mtime, size) of every template file in `sources`."""
    sources = tuple(sources)
    files, _ = template_files(sources)
    stamps: list[tuple[str, int, int]] = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            continue
        stamps.append((str(path), stat.st_mtime_ns, stat.st_size))
    return Snapshot(sources, tuple(stamps))


def changed_since(snap: Snapshot) -> bool:
    """Whether any template file of the snapshot's sources was edited, added or removed."""
    return snapshot(snap.sources).files != snap.files


def load_library(sources: Iterable[Path]) -> Library:
    """Load every template file under `sources`; errors become lines, good templates load."""
    sources = tuple(sources)
    snap = snapshot(sources)
    files, errors = template_files(sources)
    templates: list[Template] = []
    seen: dict[tuple[str, str | None], Template] = {}
    for path in files:
        loaded, file_errors = load_file(path)
        errors.extend(file_errors)
        for template in loaded:
            ident = (template.key.casefold(), template.lang)
            first = seen.get(ident)
            if first is not None:
                lang = f" (lang {template.lang})" if template.lang else ""
                errors.append(
                    f"{template.where}: duplicate key {template.key!r}{lang}, already defined at "
                    f"{first.where}; rename one of them"
                )
                continue
            seen[ident] = template
            templates.append(template)
    return Library(templates, errors, snap)


class LibraryWatcher:
    """Keeps a library current: `poll()` once a second reloads it when its files change."""

    def __init__(self, sources: Iterable[Path]) -> None:
        """Load the library from `sources` now."""
        self.sources = tuple(sources)
        self.library = load_library(self.sources)

    def poll(self) -> Library | None:
        """The reloaded library if any file changed since the last load, else None."""
        if not self.library.changed():
            return None
        return self.reload()

    def reload(self) -> Library:
        """Load the library again unconditionally (the reload key)."""
        self.library = load_library(self.sources)
        return self.library
