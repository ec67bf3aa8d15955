"""What the browser tests share: Debian's Chromium (never a downloaded browser), axe-core, ports,
the Streamlit app served over a corpus, and the chat as a visitor uses it.

Starting and stopping the servers under test is ``eval.servers``'s job (shared with the
load measurements); ``free_port`` is re-exported from there.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from eval.servers import ServerFailed, free_port, started

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "ui" / "app.py"
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
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LOAD_TIMEOUT_MS = 180_000  # the first page view loads the embedding model


def needs_chromium() -> None:
    """Skip the test when Debian's Chromium is missing (scripts/test.sh installs it)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not at /usr/bin/chromium (scripts/test.sh installs it with apt-get)")


@contextmanager
def streamlit_app(env: dict[str, str], log: Path) -> Iterator[str]:
    """`streamlit run ui/app.py` on a free loopback port with these ``ASSISTANT_*`` settings, until the
    block ends; yields its address (ending in /). A server that does not start fails the test."""
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        "--client.toolbarMode", "viewer", "--client.showErrorDetails", "none",
        str(APP),
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        with started(command, ready=f"{url}_stcore/health", url=url, name="streamlit", env=env, log=log):
            yield url
    except ServerFailed as exc:
        pytest.fail(str(exc))


@contextmanager
def chromium() -> Iterator[object]:
    """Debian's Chromium, headless, through Playwright, until the block ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_chat(browser, url: str, viewport: dict[str, int]):
    """A new page on the chat, once its starter questions show (the model has loaded)."""
    page = browser.new_page(viewport=viewport)
    page.goto(url)
    page.get_by_role("button", name="What money can I get for university?").wait_for(timeout=LOAD_TIMEOUT_MS)
    return page


def ask(page, question: str) -> None:
    """Type a question into the chat and wait for its answer's first source card."""
    box = page.get_by_role("textbox", name="Type your question")
    box.fill(question)
    box.press("Enter")
    page.locator("[class*='st-key-source-']").first.wait_for(timeout=60_000)
    page.wait_for_timeout(500)  # let the last layout settle before screenshots and axe


def serious_violations(page, selector: str | None = None) -> list[str]:
    """axe-core's serious and critical findings on the page (or the element ``selector``)."""
    page.add_script_tag(path=str(AXE))
    context = f"document.querySelector({selector!r})" if selector else "document"
    result = page.evaluate(f"async () => await axe.run({context})")
    return [
        f"{v['impact']}: {v['id']} — {v['help']} ({[n['target'] for n in v['nodes'][:3]]})"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


__all__ = [
    "APP", "ARTIFACTS", "AXE", "CHROMIUM", "CHROMIUM_ARGS", "DESKTOP", "LOAD_TIMEOUT_MS", "PHONE", "ROOT",
    "ask", "chromium", "free_port", "needs_chromium", "open_chat", "serious_violations", "streamlit_app",
]
