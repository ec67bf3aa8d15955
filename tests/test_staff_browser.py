"""The staff page's drafts in a real browser: `streamlit run` + Debian's Chromium (Playwright).

A new document, and a document's new file, are drafts until published: the page shows what they
would change, and the assistant answers from them only once they are. The app is served once for
the module over a three-document corpus of its own (it is changed here, so not the session's), and
what the assistant answers is checked through an Assistant over the index in service as well as in
the chat. Leaves screenshots of the drafts in tests/artifacts/.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from browser import (
    ARTIFACTS,
    AXE,
    DESKTOP,
    LOAD_TIMEOUT_MS,
    ask,
    chromium,
    needs_chromium,
    open_chat,
    serious_violations,
    streamlit_app,
)
from conftest import PROJECT_ROOT, make_corpus
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from staff_accounts import NAME, PASSWORD, make_account

from assistant import Assistant, load_settings
from assistant.staff import StaffStore
from ui import messages

pytestmark = pytest.mark.slow

DOCS = {
    "housing.md": "# Housing\n\nCare leavers can get help with rent deposits from the housing team.\n",
    "money.md": "# Money\n\nThe setting up home allowance helps you buy furniture for your first flat.\n",
    "health.md": "# Health\n\nThe nurse offers a health assessment every year until you turn 18.\n",
}
TRAVEL = "# Travel\n\nCare leavers can get a discounted Oyster photocard for buses and trams.\n"
RAILCARD = "# Travel\n\nCare leavers can get a free 16-25 Railcard from their personal adviser.\n"
DISCARDED = "# Travel\n\nCare leavers can borrow a bicycle from the youth hub for a year.\n"
PHOTOCARD = "Can I get a discounted Oyster photocard?"
RAILCARD_QUESTION = "How do I get a free 16-25 Railcard?"
BICYCLE = "Can I borrow a bicycle from the youth hub?"
STEP_MS = 120_000  # a check or a publish embeds and rebuilds on a 2-core machine shared with other work


@pytest.fixture(scope="module")
def app(embedder, tmp_path_factory) -> Iterator[SimpleNamespace]:
    """The app served over a small corpus, its index built first, with one staff account."""
    needs_chromium()
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run scripts/test.sh, or npm install --prefix tests/.npm axe-core@4")
    root = tmp_path_factory.mktemp("staff-drafts")
    corpus = make_corpus(root / "corpus", DOCS)
    # The project's cache: the app reads the safeguarding bank's vectors from it instead of embedding
    # the bank again (20 s on two cores) while the test waits for the page.
    settings = load_settings(corpus_dir=corpus, index_dir=root / "index", cache_dir=PROJECT_ROOT / ".cache",
                             feedback_db=root / "feedback.sqlite3")
    Assistant.ingest(settings, embedder=embedder)
    make_account(settings.feedback_path)
    env = {
        "ASSISTANT_CORPUS_DIR": str(corpus),
        "ASSISTANT_INDEX_DIR": str(settings.index_path),
        "ASSISTANT_CACHE_DIR": str(settings.cache_path),
        "ASSISTANT_FEEDBACK_DB": str(settings.feedback_path),
        "ASSISTANT_FEEDBACK_URL": "",
    }
    with streamlit_app(env, root / "server.log") as url, chromium() as browser:
        yield SimpleNamespace(url=url, browser=browser, settings=settings)


def answers(app, embedder, question: str, passage: str) -> bool:
    """Does the assistant answer ``question`` now, from the index in service, quoting ``passage``?
    (Asked of an Assistant over the index, not read from the page.)"""
    reply = Assistant.load(app.settings, embedder=embedder).ask(question)
    return reply.status == "answered" and passage in reply.text


def corpus_files(app) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(app.settings.corpus_path.iterdir())}


def chat_answer(app, question: str) -> str:
    """Ask in the chat, as a visitor would, and read the newest answer."""
    page = open_chat(app.browser, app.url, DESKTOP)
    try:
        ask(page, question)
        return page.locator("[data-testid='stChatMessage']").last.inner_text()
    finally:
        page.close()


def sign_in(app):
    page = app.browser.new_page(viewport=DESKTOP)
    page.goto(f"{app.url}staff")
    page.get_by_label(messages.STAFF_NAME).wait_for(timeout=LOAD_TIMEOUT_MS)
    page.get_by_label(messages.STAFF_NAME).fill(NAME)
    password = page.get_by_label(messages.STAFF_PASSWORD, exact=True)
    password.fill(PASSWORD)
    password.press("Enter")
    page.get_by_text(f"Signed in as {NAME}").wait_for(timeout=60_000)
    page.get_by_role("heading", name=messages.MANAGE_HEADING).wait_for(timeout=60_000)
    return page


def settled(page) -> None:
    """Wait until the page's last run has drawn everything: no element left stale (greyed) from before."""
    page.wait_for_function("() => !document.querySelector(\"[data-stale='true']\")", timeout=STEP_MS)


def choose_file(page, form_text: str, name: str, text: str) -> None:
    """Put a file in the upload form that shows ``form_text``, and wait until it has been sent."""
    settled(page)
    form = page.locator("[data-testid='stForm']").filter(has_text=form_text)
    form.locator("[data-stale='false'] input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "text/markdown", "buffer": text.encode()}])
    form.locator("[data-testid='stFileChipName']").filter(has_text=name).wait_for(timeout=30_000)


def choose_document(page, title: str, doc_id: str) -> None:
    """Choose the document to replace or remove, and wait for the page to show it chosen.

    Once in 13 runs on a busy machine the opened list did not show the option (the cause was not
    found; a rerun redrawing the select is the likeliest), so the list is opened a second time
    before the test fails."""
    settled(page)
    option = page.get_by_role("option", name=f"{title} ({doc_id})")
    for attempt in range(2):
        page.locator(".st-key-manage-document").click()
        try:
            option.wait_for(timeout=10_000)
            break
        except PlaywrightTimeout:
            if attempt:
                raise
            page.keyboard.press("Escape")
            settled(page)
    option.click()
    page.get_by_text(messages.MANAGE_CONFIRM.format(title=title)).wait_for(timeout=30_000)


def draft_panel(page, showing: str):
    """The draft panel, once it shows ``showing`` (its list of passages renders after its heading)."""
    panel = page.locator(".st-key-staff-draft")
    panel.get_by_text(showing).first.wait_for(timeout=STEP_MS)
    return panel


def notice(page, text: str) -> str:
    """The page's success notice, once it starts with ``text``."""
    shown = page.locator("[data-testid='stAlertContentSuccess']").filter(has_text=text)
    shown.wait_for(timeout=STEP_MS)
    return shown.inner_text()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def test_a_new_document_and_a_new_file_are_drafts_until_published(app, embedder):
    page = sign_in(app)
    try:
        # A new document: the draft shows its passage; nothing is written and nothing answers from it.
        before = corpus_files(app)
        choose_file(page, messages.UPLOAD_FILE, "travel.md", TRAVEL)
        labels = messages.UPLOAD_FIELDS
        for name, value in {"id": "travel", "title": "Travel help 2026", "period": "2026",
                            "source_url": "https://example.org/travel"}.items():
            page.get_by_label(labels[name], exact=True).fill(value)
        page.get_by_role("button", name=messages.UPLOAD_BUTTON).click()
        panel = draft_panel(page, showing="discounted Oyster photocard for buses and trams")
        shown = panel.inner_text()
        assert messages.DRAFT_HEADING.format(name="travel.md") in shown
        assert "would add 1 new passages, change 0 and remove 0" in shown
        assert "discounted Oyster photocard for buses and trams" in shown
        assert serious_violations(page, ".st-key-staff-draft") == []
        screenshot(page, "staff-draft-new.png")
        assert corpus_files(app) == before
        assert not answers(app, embedder, PHOTOCARD, "Oyster photocard for buses")

        settled(page)  # a click during a rerun is lost
        page.get_by_role("button", name=messages.DRAFT_PUBLISH).click()
        said = notice(page, "Added travel.md")
        assert said == messages.UPLOAD_DONE.format(name="travel.md", documents=4, chunks=4)
        assert answers(app, embedder, PHOTOCARD, "Oyster photocard for buses")
        assert "discounted Oyster photocard" in chat_answer(app, PHOTOCARD)

        # Its new file: the draft shows the changed passage; discarding it changes nothing.
        choose_document(page, "Travel help 2026", "travel")
        replace_form = messages.MANAGE_REPLACE_FILE
        published = corpus_files(app)
        choose_file(page, replace_form, "travel.md", DISCARDED)
        page.get_by_role("button", name=messages.MANAGE_REPLACE_BUTTON).click()
        shown = draft_panel(page, showing="Care leavers can borrow a bicycle").inner_text()
        assert messages.DRAFT_REPLACE_HEADING.format(name="travel.md", title="Travel help 2026") in shown
        assert "would add 0 new passages, change 1 and remove 0" in shown
        assert "buses and trams. → Care leavers can borrow a bicycle" in shown
        screenshot(page, "staff-draft-replace.png")
        assert corpus_files(app) == published
        settled(page)  # a click during a rerun is lost
        page.get_by_role("button", name=messages.DRAFT_DISCARD).click()
        assert notice(page, "The draft") == messages.DRAFT_DISCARDED.format(name="travel.md")
        settled(page)
        assert page.locator(".st-key-staff-draft").count() == 0
        assert corpus_files(app) == published
        assert not answers(app, embedder, BICYCLE, "borrow a bicycle from the youth hub")
        assert answers(app, embedder, PHOTOCARD, "Oyster photocard for buses")

        # Its new file again, published: the assistant answers from the new text.
        choose_file(page, replace_form, "travel.md", RAILCARD)
        page.get_by_role("button", name=messages.MANAGE_REPLACE_BUTTON).click()
        shown = draft_panel(page, showing="Care leavers can get a free 16-25 Railcard").inner_text()
        assert "→ Care leavers can get a free 16-25 Railcard" in shown
        assert not answers(app, embedder, RAILCARD_QUESTION, "Railcard from their personal adviser")
        settled(page)  # a click during a rerun is lost
        page.get_by_role("button", name=messages.DRAFT_PUBLISH).click()
        said = notice(page, "Replaced the file")
        assert said == messages.MANAGE_REPLACED.format(title="Travel help 2026", name="travel.md", documents=4,
                                                       chunks=4)
        assert (app.settings.corpus_path / "travel.md").read_text() == RAILCARD
        assert answers(app, embedder, RAILCARD_QUESTION, "Railcard from their personal adviser")
        assert not answers(app, embedder, PHOTOCARD, "Oyster photocard for buses")
        assert "Railcard from their personal adviser" in chat_answer(app, RAILCARD_QUESTION)
    finally:
        page.close()
    audit = [(e.actor, e.action, e.target, e.outcome) for e in reversed(StaffStore.from_settings(app.settings).audit())]
    assert audit[-2:] == [(NAME, "upload", "travel (travel.md)", "done"),
                          (NAME, "replace", "travel (travel.md)", "done")]
