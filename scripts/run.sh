#!/usr/bin/env bash
# Set up everything on a fresh machine, build the index (with progress) and start the chat.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export ANONYMIZED_TELEMETRY=False HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/assistant ingest
# The Streamlit chat (python -m ui passes safe server options: no telemetry, no tracebacks).
exec .venv/bin/python -m ui "$@"
