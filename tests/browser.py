"""What the browser tests share: Debian's Chromium (never a downloaded browser), axe-core, ports.

Starting and stopping the servers under test is ``eval.servers``'s job (shared with the
load measurements); ``free_port`` is re-exported from there.
"""

from __future__ import annotations

from pathlib import Path

from eval.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "tests" / ".npm" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "tests" / "artifacts"
# Without the background-networking flags Chromium keeps trying hosts this machine cannot reach.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]


__all__ = ["ARTIFACTS", "AXE", "CHROMIUM", "CHROMIUM_ARGS", "ROOT", "free_port"]
