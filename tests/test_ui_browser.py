
"""The real app in a real browser: `streamlit run` + Debian's Chromium (Playwright) + axe-core.

Checks what AppTest cannot: the page as served (embed mode, phone width, keyboard
use) and its accessibility, with axe-core's serious and critical rules. Leaves
screenshots in tests/artifacts/ (docs/chat.png is refreshed from them by hand).
Never downloads a browser: it uses /usr/bin/chromium, and skips if that is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import (
    ARTIFACTS,
    AXE,
    DESKTOP,
    LOAD_TIMEOUT_MS,
    PHONE,
    ask,
    chromium,
    needs_chromium,
    open_chat,
    serious_violations,
    streamlit_app,
)
from staff_accounts import NAME, PASSWORD, make_account

from assistant.staff import StaffStore

pytestmark = pytest.mark.slow

QUESTION = "Who chaired the Corporate Parenting Board in 2021–24?"
DATABASES: dict[str, Path] = {}  # each served app's feedback database (with its staff account)


@pytest.fixture(scope="module")
def server(bot, settings, tmp_path_factory) -> Iterator[str]:
    """`streamlit run ui/app.py` on a free port over the test index; killed at teardown."""
    needs_chromium()
    if not AXE.exists():
        pytest.fail(
            f"axe-core is missing at {AXE}: run scripts/test.sh, "
            "or npm install --prefix tests/.npm axe-core@4"
        )
    logs = tmp_path_factory.mktemp("streamlit") / "server.log"
    database = tmp_path_factory.mktemp("feedback") / "feedback.sqlite3"
    make_account(database)
    env = {
        "ASSISTANT_CORPUS_DIR": str(settings.corpus_path),
        "ASSISTANT_INDEX_DIR": str(settings.index_path),
        "ASSISTANT_FEEDBACK_DB": str(database),
        "ASSISTANT_FEEDBACK_URL": "",
    }
    with streamlit_app(env, logs) as url:
        DATABASES[url] = database
        yield url


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as running:
        yield running


def screenshot(page, name: str, *, tall: int | None = None) -> Path:
    """Save a screenshot; ``tall`` grows the viewport so the whole answer and its sources show
    (Streamlit scrolls inside its own container, so full_page alone would miss them)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if tall:
        page.set_viewport_size({"width": page.viewport_size["width"], "height": tall})
        page.wait_for_timeout(500)
    path = ARTIFACTS / name
    page.screenshot(path=str(path))
    return path


def test_answer_with_source_card_on_desktop_passes_axe(browser, server):
    page = open_chat(browser, server, DESKTOP)
    try:
        assert page.locator("h1").count() == 1
        assert serious_violations(page) == []
        ask(page, QUESTION)
        card = page.locator("[class*='st-key-source-']").first
        assert "Corporate Parenting Strategy 2021–24" in card.inner_text()
        assert (
            "Superseded — replaced by the Corporate Parenting Strategy 2025–28" in card.inner_text()
        )
        assert (
            card.get_by_role("link")
            .first.get_attribute("href", timeout=5_000)
            .startswith("https://")
        )
        assert page.get_by_text("Was this answer helpful?").first.is_visible()
        assert serious_violations(page) == []
        assert page.locator("h1").count() == 1
        screenshot(page, "chat-desktop.png")
        screenshot(page, "chat-desktop-answer.png", tall=1500)
    finally:
        page.close()


def test_phone_width_answer_fits_and_passes_axe(browser, server):
    page = open_chat(browser, server, PHONE)
    try:
        screenshot(page, "chat-phone-start.png")
        ask(page, "What money can I get for university?")
        assert page.get_by_text("£2,000").first.is_visible()
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page scrolls sideways at phone width ({width}px)"
        assert serious_violations(page) == []
        screenshot(page, "chat-phone.png")
        screenshot(page, "chat-phone-answer.png", tall=1800)
        # The README picture: this short answer with its source card, at a laptop size.
        page.set_viewport_size({"width": 1100, "height": 1150})
        # Tests write only under tests/artifacts: copy it to docs/chat.png by hand
        # to refresh the README.
        screenshot(page, "chat-readme.png")
    finally:
        page.close()


def test_help_opens_from_the_keyboard_and_crisis_answer_leads_with_contacts(browser, server):
    page = open_chat(browser, server, PHONE)
    try:
        help_button = page.get_by_role("button", name="Need help now?")
        help_button.focus()
        page.keyboard.press("Enter")
        samaritans = page.get_by_text("Samaritans").first
        samaritans.wait_for(timeout=10_000)
        assert page.get_by_role("link", name="999").first.get_attribute("href") == "tel:999"
        assert serious_violations(page) == []
        screenshot(page, "help-phone.png")
        page.keyboard.press("Escape")
        box = page.get_by_role("textbox", name="Type your question")
        box.fill("i want to end it all")
        box.press("Enter")
        alert = page.locator("[data-testid='stAlertContentError']").first
        alert.wait_for(timeout=60_000)
        crisis = alert.inner_text()
        assert crisis.index("If you are in danger right now, call 999") < crisis.index("Samaritans")
        before = crisis[: crisis.index("If you are in danger")].strip()
        assert before in ("", "emergency"), (
            f"only the icon may come before the contacts, not {before!r}"
        )
        screenshot(page, "crisis-phone.png")
    finally:
        page.close()


def test_embed_mode_shows_the_chat_only(browser, server):
    page = open_chat(browser, f"{server}?embed=true", PHONE)
    try:
        assert page.locator("h1").count() == 1
        assert page.get_by_role("link", name="Staff").count() == 0
        assert serious_violations(page) == []
        screenshot(page, "chat-embed.png")
    finally:
        page.close()


def test_staff_page_signs_in_with_an_account_and_passes_axe(browser, server):
    page = browser.new_page(viewport=DESKTOP)
    try:
        page.goto(f"{server}staff")
        name = page.get_by_label("Staff name")
        name.wait_for(timeout=LOAD_TIMEOUT_MS)
        assert serious_violations(page) == []
        name.fill(NAME)
        password = page.get_by_label("Password", exact=True)
        password.fill("not the password")
        password.press("Enter")
        page.get_by_text("That name and password do not match a staff account").wait_for(timeout=60_000)
        password.fill(PASSWORD)
        password.press("Enter")
        page.get_by_text(f"Signed in as {NAME}").wait_for(timeout=60_000)
        page.get_by_role("heading", name="Documents in the index").wait_for(timeout=60_000)
        page.get_by_role("heading", name="Recent feedback").wait_for(timeout=60_000)
        assert page.locator("h1").count() == 1
        assert serious_violations(page) == []
        screenshot(page, "staff-desktop.png", tall=2400)
    finally:
        page.close()
    signs = [(e.actor, e.outcome, e.address) for e in reversed(StaffStore(DATABASES[server]).audit()) if e.action == "sign-in"]
    # Streamlit gives no address to a visitor on localhost: recorded as "local", one lockout address.
    assert signs[-2:] == [(NAME, "failed", "local"), (NAME, "done", "local")]


def test_a_crisis_reply_after_a_long_answer_starts_in_view_on_a_phone(browser, server):
    """The newest answer is scrolled to its start: a crisis reply is never left below the fold."""
    page = open_chat(browser, server, PHONE)
    try:
        ask(page, "What does the Local Offer say about money for university and what else can I get?")
        box = page.get_by_role("textbox", name="Type your question")
        box.fill("nowhere to sleep tonight, my carer kicked me out")
        box.press("Enter")
        alert = page.locator("[data-testid='stAlertContentError']").last
        alert.wait_for(timeout=60_000)
        page.wait_for_timeout(800)  # the scroll runs once the answer is drawn
        first_line = page.get_by_text("If you are in danger right now").last
        top = first_line.bounding_box()["y"]
        # Below the page's top bar (about 60 px) and well above the input bar.
        assert 60 <= top < PHONE["height"] * 0.6, f"the crisis reply's first line is at y={top}, out of view"
        screenshot(page, "crisis-after-answer-phone.png")
    finally:
        page.close()


def test_every_new_answer_starts_in_view_on_a_phone(browser, server):
    """A second long answer after a first: the newest answer's first line is on screen, not the
    end of the one before (the chat scrolls to the start of each new answer)."""
    page = open_chat(browser, server, PHONE)
    try:
        ask(page, "What does the Local Offer say about money for university and what else can I get?")
        before = page.locator("[data-testid='stChatMessage']").count()
        ask(page, "What help is there with housing and rent when I leave care?")
        page.get_by_text("Was this answer helpful?").nth(1).wait_for(timeout=60_000)  # drawn in full
        answers = page.locator("[data-testid='stChatMessage']")
        assert answers.count() == before + 2
        page.wait_for_timeout(800)  # the scroll runs once the answer is drawn
        top = answers.last.bounding_box()["y"]
        assert 0 <= top < PHONE["height"] * 0.6, f"the newest answer starts at y={top}, out of view"
        screenshot(page, "second-answer-phone.png")
    finally:
        page.close()
