#!/usr/bin/env bash
# Create .venv at the repository root and install the project (idempotent).
# Usage: scripts/setup.sh [test]   — "test" also installs the test tools.
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PY="$candidate"; break
    fi
  done
fi
[ -n "$PY" ] || { echo "Python 3.11 is needed (set PYTHON=/path/to/python3.11)." >&2; exit 1; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)${extra:+-$extra}"
if [ ! -f "$stamp" ]; then
  echo "Installing into .venv (first run takes a few minutes)..."
  # Exactly this torch: its CPU wheel is on disk; any other spec pulls CUDA builds.
  .venv/bin/pip install --quiet --disable-pip-version-check torch==2.13.0
  if [ "$extra" = "test" ]; then
    .venv/bin/pip install --quiet --disable-pip-version-check -e ".[test]"
  else
    .venv/bin/pip install --quiet --disable-pip-version-check -e .
  fi
  touch "$stamp"
fi
