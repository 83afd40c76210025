#!/usr/bin/env bash
# mypy and import-linter find packages by folder, but core/, tui/ and styles/ are mapped into the
# tgtriage package by pyproject.toml: this lays the package out under build/typecheck/ (hard links,
# made anew on each run; a build artefact, not part of the repository) so both tools see tgtriage.*.
set -euo pipefail
cd "$(dirname "$0")/.."
TREE=build/typecheck/tgtriage
rm -rf build/typecheck
mkdir -p "$TREE"
cp -al tgtriage/. "$TREE/"
for dir in core tui styles; do cp -al "$dir" "$TREE/$dir"; done
find build/typecheck -name __pycache__ -prune -exec rm -rf {} +
