"""``python -m ui``: start the app with safe server options.

Streamlit reads ``.streamlit/config.toml`` only from the working directory, so
the options that must always hold are passed on the command line here:
no usage statistics, no tracebacks or developer menu for visitors, and no
welcome banner (a headless Streamlit looks up the machine's public IP from
checkip.amazonaws.com just to print it). Extra arguments go to Streamlit,
e.g. ``python -m ui --server.port 8502``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

OPTIONS = [
    "--server.headless", "true",
    "--browser.gatherUsageStats", "false",
    "--client.showErrorDetails", "none",
    "--client.toolbarMode", "viewer",
    "--logger.hideWelcomeMessage", "true",
]  # fmt: skip


def main() -> None:
    app = Path(__file__).resolve().parent / "app.py"
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    args = sys.argv[1:]
    port = next((args[i + 1] for i, a in enumerate(args[:-1]) if a == "--server.port"), "8501")
    print(f"Starting the assistant: open http://localhost:{port}/ (staff page: /staff)", flush=True)
    command = [sys.executable, "-m", "streamlit", "run", *OPTIONS, *args, str(app)]
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
