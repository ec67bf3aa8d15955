#!/usr/bin/env bash
# Set up everything on a fresh machine and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test
# The browser tests drive Debian's Chromium and inject axe-core (never 'playwright install').
if ! command -v chromium >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
# The feedback tests start a throwaway cluster from Debian's PostgreSQL server binaries.
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  echo "Installing Debian's postgresql for the feedback tests..."
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi
if [ ! -f tests/.npm/node_modules/axe-core/axe.min.js ]; then
  npm install --silent --no-audit --no-fund --prefix tests/.npm axe-core@4 >/dev/null
fi
export ANONYMIZED_TELEMETRY=False HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
echo "Checking style (ruff) and the one-way import layers (import-linter)..."
.venv/bin/ruff check assistant ui eval tests
.venv/bin/lint-imports --no-cache
.venv/bin/python -m pytest "$@"
