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
if [ ! -x .venv/bin/python ]; then
  echo "[1/3] Creating the virtual environment .venv..."
  "$PY" -m venv .venv
fi
stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)${extra:+-$extra}"
# pip's own lines, one a package, without its notices about local package folders.
progress() { grep --line-buffered -E '^(Collecting|Installing collected|Successfully installed|ERROR)' | cut -c1-110 || true; }
if [ ! -f "$stamp" ]; then
  started=$(date +%s)
  echo "[2/3] Installing PyTorch (CPU build, from the local wheel)..."
  # Exactly this torch: its CPU wheel is on disk; any other spec pulls CUDA builds.
  .venv/bin/pip install --disable-pip-version-check --progress-bar off torch==2.13.0 2>&1 | progress
  echo "[3/3] Installing the assistant and its dependencies${extra:+ (with the test tools)} (first run: a few minutes)..."
  .venv/bin/pip install --disable-pip-version-check --progress-bar off -e ".${extra:+[$extra]}" 2>&1 | progress
  .venv/bin/python -c "import assistant" || { echo "The installation did not complete; run this command again." >&2; exit 1; }
  touch "$stamp"
  echo "Installed in $(( $(date +%s) - started )) s."
fi
