"""The widget end to end: a real server, Debian's Chromium, the keyboard, axe-core, screenshots.

The server runs as `python -m assistant.cli serve` in a subprocess over the session's
index (started by eval.servers); the browser opens /demo, a page whose own CSS is
hostile to widgets.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from browser import ARTIFACTS, AXE, CHROMIUM, CHROMIUM_ARGS, ROOT

from eval.servers import ServerFailed, assistant_server

pytestmark = pytest.mark.slow

QUESTION = "do care leavers have to pay council tax in lewisham"
WIDGET = "care-chat-widget"

if not CHROMIUM.exists() or not AXE.exists():  # scripts/test.sh installs both
    pytest.skip(
        "needs /usr/bin/chromium and axe-core (run scripts/test.sh)", allow_module_level=True
    )



@pytest.fixture(scope="module")
def server(bot, settings, tmp_path_factory) -> Iterator[str]:
    """The API in its own process over the session's index (``bot`` has built it)."""
    env = {
        "ASSISTANT_CORPUS_DIR": str(settings.corpus_path),
        "ASSISTANT_INDEX_DIR": str(settings.index_path),
        "ASSISTANT_FEEDBACK_DB": str(settings.feedback_path),
        "ASSISTANT_RATE_LIMIT_PER_MINUTE": "1000",
    }
    log = tmp_path_factory.mktemp("server") / "server.log"
    try:
        with assistant_server(env=env, log=log) as running:
            yield running.url
    except ServerFailed as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.problems = []  # console errors (CSP violations among them) and uncaught exceptions
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.goto(f"{server}/demo")
    wait_for_widget(page)
    yield page
    context.close()


def wait_for_widget(page) -> None:
    page.wait_for_function(
        f"() => {{ const h = document.querySelector('{WIDGET}'); "
        "return h && h.shadowRoot && !h.shadowRoot.querySelector('.root').hidden; }"
    )


def focused_in_widget(page) -> str:
    """Id, class or tag of the element focused in the widget's shadow root ('' if elsewhere)."""
    return page.evaluate(
        f"() => {{ const h = document.querySelector('{WIDGET}');"
        " const a = h.shadowRoot.activeElement;"
        " if (document.activeElement !== h || !a) return '';"
        " return a.id || a.className || a.tagName.toLowerCase(); }"
    )


def tab_to_launcher(page) -> None:
    for _ in range(40):
        page.keyboard.press("Tab")
        if focused_in_widget(page) == "launcher":
            return
    pytest.fail("Tab never reached the widget's launcher")


def ask(page, question: str, status_class: str = "") -> None:
    count = page.locator(f"{WIDGET} .msg.bot .answer").count()
    page.locator(f"{WIDGET} textarea").focus()
    page.keyboard.type(question)
    page.keyboard.press("Enter")
    page.locator(f"{WIDGET} .msg.bot .answer").nth(count).wait_for(timeout=30_000)
    if status_class:
        page.locator(f"{WIDGET} .msg.{status_class}").first.wait_for(timeout=5_000)


def computed(page, script: str) -> str:
    return str(page.evaluate(script))


def axe_violations(page) -> list[dict]:
    """Serious and critical axe-core findings on the page, the widget's shadow tree included."""
    page.evaluate(
        AXE.read_text() + "\n;0"
    )  # evaluated over the DevTools protocol: the page's CSP stays on
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " targets: v.nodes.map(n => n.target)}))"
    )
    return list(result)


def test_keyboard_user_asks_and_gets_a_streamed_cited_answer(page, server):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-closed.png"))
    tab_to_launcher(page)
    page.keyboard.press("Enter")
    assert focused_in_widget(page) == "ccw-input"
    launcher_expanded = page.locator(f"{WIDGET} .launcher")
    assert launcher_expanded.get_attribute("aria-expanded") == "true"

    # Tokens arrive before the final answer replaces them.
    page.keyboard.type(QUESTION)
    with page.expect_response(f"{server}/api/chat/stream") as streamed:
        page.keyboard.press("Enter")
    assert streamed.value.headers["content-type"].startswith("text/event-stream")
    answer = page.locator(f"{WIDGET} .msg.bot .answer").first
    answer.wait_for(timeout=30_000)
    assert "council tax" in answer.inner_text().lower()
    cite = page.locator(f"{WIDGET} .answer a.cite").first
    assert cite.inner_text() == "[1]" and cite.get_attribute("aria-label") == "Source 1"
    page.screenshot(path=str(ARTIFACTS / "widget-desktop.png"))
    if os.environ.get(
        "UPDATE_DOCS_SCREENSHOT"
    ):  # kept out of normal runs: tests do not write to the repo
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copy(ARTIFACTS / "widget-desktop.png", ROOT / "docs" / "widget.png")

    # The citation shows its quoted passage when followed.
    cite.click()
    quote = page.locator(f"{WIDGET} .sources li").first.locator("blockquote")
    assert quote.is_visible() and len(quote.inner_text()) > 20

    # Screen readers hear the answer.
    live = page.locator(f"{WIDGET} [aria-live=polite]")
    page.wait_for_function(
        f"() => document.querySelector('{WIDGET}').shadowRoot.querySelector('[aria-live=polite]')"
        ".textContent.startsWith('Answer:')"
    )
    assert "council tax" in live.inner_text().lower()

    page.screenshot(path=str(ARTIFACTS / "widget-desktop-source.png"))

    # Escape closes and gives focus back to the launcher.
    page.keyboard.press("Escape")
    assert page.locator(f"{WIDGET} .panel").is_hidden()
    assert focused_in_widget(page) == "launcher"
    assert launcher_expanded.get_attribute("aria-expanded") == "false"
    assert page.problems == []


def test_the_page_and_the_widget_do_not_restyle_each_other(page):
    page.locator(f"{WIDGET} .launcher").click()
    ask(page, QUESTION)
    host_p = computed(page, "() => getComputedStyle(document.querySelector('.callout p')).fontSize")
    host_button = computed(
        page, "() => getComputedStyle(document.querySelector('header button')).backgroundColor"
    )
    host_font = computed(page, "() => getComputedStyle(document.body).fontFamily")
    assert (host_p, host_button) == ("30px", "rgb(255, 105, 180)")
    assert "Georgia" in host_font
    inside = f"document.querySelector('{WIDGET}').shadowRoot"
    assert (
        computed(page, f"() => getComputedStyle({inside}.querySelector('.send')).backgroundColor")
        == "rgb(0, 84, 107)"
    )
    assert (
        computed(page, f"() => getComputedStyle({inside}.querySelector('.answer p')).fontSize")
        == "16px"
    )
    assert "Comic" not in computed(
        page, f"() => getComputedStyle({inside}.querySelector('textarea')).fontFamily"
    )
    summary = f"{inside}.querySelector('.sources summary')"
    assert computed(page, f"() => getComputedStyle({summary}).display") != "none"
    # The widget added no style to the page itself.
    assert page.evaluate("() => document.styleSheets.length") == 1


def test_focus_stays_in_the_open_panel(page):
    page.locator(f"{WIDGET} .launcher").click()
    seen = set()
    for _ in range(15):
        page.keyboard.press("Tab")
        where = focused_in_widget(page)
        assert where, "focus left the chat panel"
        seen.add(where)
    assert {"close", "summary", "log", "ccw-input", "send", "clear"} <= seen


def test_conversation_is_kept_for_the_tab_and_crisis_answers_stand_out(page, server):
    page.locator(f"{WIDGET} .launcher").click()
    ask(page, "I want to kill myself", status_class="urgent")
    urgent = page.locator(f"{WIDGET} .msg.urgent")
    first_link = urgent.locator("a").first
    assert first_link.get_attribute("href") == "tel:999"  # contacts first
    assert urgent.locator(".urgent-now").is_visible()

    page.reload()
    wait_for_widget(page)
    page.locator(f"{WIDGET} .launcher").click()
    assert page.locator(f"{WIDGET} .msg.user").first.inner_text().endswith("I want to kill myself")
    assert page.locator(f"{WIDGET} .msg.urgent").count() == 1


def test_feedback_is_sent(page, server):
    page.locator(f"{WIDGET} .launcher").click()
    ask(page, QUESTION)
    with page.expect_response(f"{server}/api/feedback") as posted:
        page.locator(f"{WIDGET} .feedback button").first.click()
    assert posted.value.status == 200
    page.locator(f"{WIDGET} .feedback [role=status]").filter(has_text="Thank you").wait_for()
    assert page.locator(f"{WIDGET} .feedback button").first.get_attribute("aria-pressed") == "true"


def test_help_now_lists_the_contacts_with_tap_to_call(page):
    page.locator(f"{WIDGET} .launcher").click()
    page.locator(f"{WIDGET} .help summary").click()
    body = page.locator(f"{WIDGET} .help-body")
    body.locator("a[href='tel:116123']").wait_for()
    assert "Samaritans" in body.inner_text()


def test_no_serious_accessibility_violations(page):
    assert axe_violations(page) == []  # closed: the launcher on the host page
    page.locator(f"{WIDGET} .launcher").click()
    ask(page, QUESTION)
    page.locator(f"{WIDGET} .answer a.cite").first.click()
    page.locator(f"{WIDGET} .help summary").click()
    assert axe_violations(page) == []
    ask(page, "I want to kill myself", status_class="urgent")
    assert axe_violations(page) == []


def test_phone_width_and_reduced_motion(browser, server):
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        reduced_motion="reduce",
    )
    page = context.new_page()
    try:
        page.goto(f"{server}/demo")
        wait_for_widget(page)
        page.locator(f"{WIDGET} .launcher").tap()
        panel = page.locator(f"{WIDGET} .panel")
        box = panel.bounding_box()
        assert box is not None and box["width"] == 390 and box["x"] == 0
        inside = f"document.querySelector('{WIDGET}').shadowRoot"
        assert (
            computed(
                page, f"() => getComputedStyle({inside}.querySelector('.panel')).animationName"
            )
            == "none"
        )
        page.locator(f"{WIDGET} textarea").focus()
        ask(page, "I want to kill myself", status_class="urgent")
        # Nothing is wider than the screen.
        assert page.evaluate(f"() => {inside}.querySelector('.log').scrollWidth") <= 390
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "widget-phone.png"))
    finally:
        context.close()


# -- asking a person ------------------------------------------------------------------------------


def test_a_decline_offers_the_team_and_the_request_is_sent_at_phone_size(browser, server, settings):
    """On a phone: an off-topic question, the visible button, the pre-filled form, a reference."""
    from assistant.handoff import RequestStore

    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    try:
        page.goto(f"{server}/demo")
        wait_for_widget(page)
        page.locator(f"{WIDGET} .launcher").tap()
        ask(page, "what is the weather in paris")
        offer = page.locator(f"{WIDGET} .msg.bot .handoff-open.button").last
        assert offer.is_visible() and offer.inner_text() == "Ask the leaving care team"
        offer.tap()
        assert offer.get_attribute("aria-expanded") == "true"
        form = page.locator(f"{WIDGET} .handoff-form")
        question = form.get_by_label("Your question (you can change it)")
        assert question.input_value() == "what is the weather in paris"
        assert focused_in_widget(page).startswith("ccw-handoff-")  # focus moved into the form
        assert "2 working days" in form.locator(".next").inner_text()
        assert axe_violations(page) == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "widget-handoff-form-phone.png"))

        # Edit the question, choose phone, give a number, send: all from the keyboard.
        question.fill("Can someone help me find a flat near college?")
        form.get_by_label("Phone").check()
        contact = form.get_by_label("Your phone number")
        assert contact.get_attribute("type") == "tel"
        contact.fill("07700 900")
        with page.expect_response(f"{server}/api/handoff") as refused:
            contact.press("Enter")
        assert refused.value.status == 422
        form.locator(".handoff-status.error").filter(has_text="phone number").wait_for()
        contact.fill("07700 900123")
        with page.expect_response(f"{server}/api/handoff") as posted:
            form.get_by_role("button", name="Send to the team").tap()
        assert posted.value.status == 200
        reference = posted.value.json()["reference"]
        sent = page.locator(f"{WIDGET} .handoff-sent")
        sent.wait_for()
        assert f"Your reference is #{reference}." in sent.inner_text()
        assert focused_in_widget(page) == "handoff-sent"
        inside = f"document.querySelector('{WIDGET}').shadowRoot"
        assert page.evaluate(f"() => {inside}.querySelector('.log').scrollWidth") <= 390
        assert axe_violations(page) == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "widget-handoff-phone.png"))

        stored = RequestStore(settings.feedback_path).get(reference)
        assert stored.question == "Can someone help me find a flat near college?"
        assert (stored.contact_method, stored.contact, stored.status) == ("phone", "07700 900123", "open")
        # The conversation kept for the tab remembers that it was sent.
        page.reload()
        wait_for_widget(page)
        page.locator(f"{WIDGET} .launcher").tap()
        assert f"#{reference}" in page.locator(f"{WIDGET} .handoff-sent").inner_text()
        # The refused number's 422 is logged by the browser; nothing else may be.
        assert [p for p in problems if "status of 422" not in p] == []
        assert len(problems) <= 1
    finally:
        context.close()


def test_every_answer_links_to_the_team_and_the_form_works_from_the_keyboard(page):
    page.locator(f"{WIDGET} .launcher").click()
    ask(page, QUESTION)
    link = page.locator(f"{WIDGET} .msg.bot .handoff-open.link").last
    assert link.inner_text() == "Ask the leaving care team"
    link.focus()
    page.keyboard.press("Enter")
    question = page.locator(f"{WIDGET} .handoff-form textarea")
    assert question.input_value() == QUESTION
    assert focused_in_widget(page).endswith("-q")  # the question, ready to edit
    # Tab walks the form in order: the checked choice, the contact, send, cancel.
    seen = []
    for _ in range(4):
        page.keyboard.press("Tab")
        seen.append(focused_in_widget(page))
    assert seen[0] == "input" and seen[1].endswith("-c") and seen[2:] == ["send", "clear"], seen
    # Escape closes only the form, and focus goes back to the link.
    page.keyboard.press("Escape")
    assert page.locator(f"{WIDGET} .handoff-form").count() == 0
    assert page.locator(f"{WIDGET} .panel").is_visible()
    assert focused_in_widget(page) == "handoff-open link"
    assert link.get_attribute("aria-expanded") == "false"
    assert page.problems == []
