"""The package layout in pyproject.toml matches the folders: core/, tui/, styles/ mapped, no symlinks."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAPPED = {
    "tgtriage": "tgtriage",
    "tgtriage.core": "core",
    "tgtriage.tui": "tui",
    "tgtriage.styles": "styles",
}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_folder_is_listed_in_pyproject() -> None:
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    found = set()
    for package, folder in MAPPED.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join([package, *rel.parts]))
    assert found == listed, "add new packages to [tool.setuptools] packages in pyproject.toml"


def test_the_package_dir_maps_the_top_level_folders() -> None:
    assert _pyproject()["tool"]["setuptools"]["package-dir"] == MAPPED


def test_no_symlinks_in_the_source_tree() -> None:
    links = [
        p.relative_to(ROOT)
        for folder in MAPPED.values()
        for p in (ROOT / folder).rglob("*")
        if p.is_symlink()
    ]
    assert links == []


def test_textual_and_rich_are_pinned_exactly() -> None:
    deps = _pyproject()["project"]["dependencies"]
    assert any(d.startswith("textual==") for d in deps)
    assert any(d.startswith("rich==") for d in deps)
