#!/usr/bin/env bash
# The whole test suite, from a fresh clone: venv + install, lint, types, tests, then the wheel
# installed non-editable into a second fresh venv and the demo started headless once.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

# The end-to-end tests drive a real terminal through tmux; install it where we can.
if ! command -v tmux >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing tmux for the end-to-end tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux) >/dev/null
  else
    echo "== tmux not found and cannot install it: the tmux end-to-end tests will be skipped"
  fi
fi

echo "== virtual environment .venv"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]'

echo "== ruff"
.venv/bin/ruff check core tui tgtriage tests bench scripts
.venv/bin/ruff format --check core tui tgtriage tests bench scripts

echo "== mypy and import contracts (over the package laid out by scripts/typecheck_tree.sh)"
bash scripts/typecheck_tree.sh
MYPYPATH=build/typecheck .venv/bin/mypy -p tgtriage.core -p tgtriage.tui -p tgtriage.cli
(cd build/typecheck && PYTHONPATH=. ../../.venv/bin/lint-imports ../../pyproject.toml)

echo "== pytest"
.venv/bin/python -m pytest -q "$@"

echo "== wheel: non-editable install into a fresh venv, demo started headless"
rm -rf build dist
.venv/bin/python -m pip wheel -q --no-deps -w dist .
WHEEL_VENV=$(mktemp -d)/venv
"$PY" -m venv "$WHEEL_VENV"
"$WHEEL_VENV/bin/python" -m pip install -q dist/tgtriage-*.whl
SMOKE_HOME=$(mktemp -d)
(cd "$SMOKE_HOME" && TGTRIAGE_CONFIG_DIR="$SMOKE_HOME/config" TGTRIAGE_DATA_DIR="$SMOKE_HOME/data" \
  "$WHEEL_VENV/bin/tgtriage" demo --seed 7 --speed 20 --headless-seconds 2)
"$WHEEL_VENV/bin/tgtriage" --version
echo "== all checks passed"
