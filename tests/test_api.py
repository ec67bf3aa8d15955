"""The web API: endpoints, bad input, limits, CORS, escaping, headers, and a schemathesis run."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
import schemathesis
from click.testing import CliRunner
from conftest import make_corpus
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from assistant import Assistant, LLMUnavailable, load_settings
from assistant.cli import main as cli_main
from assistant.feedback import FeedbackStore
from assistant.web.app import RateLimiter, create_app, render_html

ANSWERED = "do care leavers have to pay council tax in lewisham"
SECURITY_HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
)


def make_client(bot: Any, **overrides: Any) -> TestClient:
    overrides.setdefault("rate_limit_per_minute", 10_000)
    settings = bot.settings.model_copy(update=overrides)
    return TestClient(create_app(settings=settings, bot=bot))


@pytest.fixture
def client(bot) -> TestClient:
    return make_client(bot)


def sse(text: str) -> list[tuple[str, Any]]:
    """Parse a Server-Sent Events body into (event, data) pairs."""
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def assert_error(response: Any, status: int) -> dict[str, Any]:
    """The one error shape, with a human sentence and nothing internal."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"ok", "error", "status"}
    assert body["ok"] is False and body["status"] == status
    assert isinstance(body["error"], str) and len(body["error"]) > 10
    for leak in (
        "Traceback",
        "/work/",
        "/tmp/",
        "site-packages",
        "pydantic",
        "errors.pydantic.dev",
        "'loc'",
    ):
        assert leak not in response.text
    return body


# -- endpoints ----------------------------------------------------------------------------------


def test_chat_returns_the_reply_with_safe_html_and_citation_links(client):
    response = client.post("/api/chat", json={"message": ANSWERED})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "answered"
    assert body["citations"] and body["citations"][0]["number"] == 1
    assert {"text", "html", "question", "standalone_question", "backend"} <= set(body)
    assert '<a href="#cite-1" class="cite">[1]</a>' in body["html"]
    assert body["html"].startswith("<p>")
    assert response.headers["cache-control"] == "no-store"


def test_stream_sends_tokens_then_done_matching_the_json_answer(client):
    expected = client.post("/api/chat", json={"message": ANSWERED}).json()
    response = client.post("/api/chat/stream", json={"message": ANSWERED})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse(response.text)
    names = [name for name, _ in events]
    assert names[-1] == "done" and set(names[:-1]) == {"token"} and len(names) > 2
    done = events[-1][1]
    assert done["text"] == expected["text"]
    assert done["html"] == expected["html"]
    assert done["citations"] == expected["citations"]
    assert "".join(data["text"] for name, data in events if name == "token") == expected["text"]


def test_history_is_used_for_follow_ups(client):
    history = [
        {"role": "user", "content": ANSWERED},
        {"role": "assistant", "content": "About council tax..."},
    ]
    response = client.post(
        "/api/chat", json={"message": "and prescriptions?", "history": history, "audience": "staff"}
    )
    assert response.status_code == 200
    assert response.json()["status"] in {"answered", "not_found"}


def test_safeguarding_answers_come_back_marked(client):
    body = client.post("/api/chat", json={"message": "I want to kill myself"}).json()
    assert body["status"] == "safeguarding"
    assert '<a href="tel:999" class="tel">999</a>' in body["html"]


def test_health_reports_the_index(client, bot):
    body = client.get("/health").json()
    assert body == {
        "ok": True,
        "documents": len(bot.index.documents),
        "chunks": len(bot.index.chunks),
        "fingerprint": bot.index.fingerprint,
        "build": bot.index.name,
        "pid": os.getpid(),  # TestClient serves from this process
        "warnings": [],  # the build answering is the one the corpus asks for
    }


def test_contacts_lists_urgent_and_council_contacts(client, bot):
    body = client.get("/api/contacts").json()
    assert body["council_name"] == bot.settings.council_name
    assert [c["name"] for c in body["urgent"]] == [c.name for c in bot.settings.urgent_contacts]
    assert [c["name"] for c in body["council"]] == [c.name for c in bot.settings.council_contacts]
    assert body["limits"]["max_question_chars"] == bot.settings.max_question_chars


def test_feedback_is_stored_redacted(client, bot):
    response = client.post(
        "/api/feedback",
        json={
            "question": "my name is Jo Bloggs, can I get help with rent?",
            "answer": "Yes [1]",
            "rating": 0,
            "comment": "email me on jo@example.com",
            "audience": "care_leaver",
            "status": "answered",
        },
    )
    assert response.status_code == 200
    item_id = response.json()["id"]
    item = next(i for i in FeedbackStore(bot.settings.feedback_path).recent() if i.id == item_id)
    assert item.rating == 0 and "Jo Bloggs" not in item.question and "[email]" in item.comment


def test_feedback_store_failure_is_a_503_without_the_path(bot, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    client = make_client(bot, feedback_db=blocker / "feedback.sqlite3")
    body = assert_error(
        client.post("/api/feedback", json={"question": "q", "answer": "a", "rating": 1}), 503
    )
    assert "feedback" in body["error"].lower()
    assert str(tmp_path) not in json.dumps(body)


def test_widget_files_and_demo_are_served(client):
    js = client.get("/widget.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert js.headers["cross-origin-resource-policy"] == "cross-origin"
    assert client.get("/widget.css").headers["content-type"].startswith("text/css")
    demo = client.get("/demo")
    assert (
        demo.status_code == 200
        and '<script src="/widget.js" data-audience="care_leaver" defer>' in demo.text
    )
    docs = client.get("/docs")
    assert docs.status_code == 200 and "sha256-" in docs.headers["content-security-policy"]


def test_app_loads_the_assistant_once_at_start_up(bot, monkeypatch):
    calls = []
    monkeypatch.setattr(
        Assistant, "load", classmethod(lambda cls, settings: calls.append(settings) or bot)
    )
    with TestClient(create_app(settings=bot.settings)) as client:
        assert client.get("/health").json()["ok"] is True
        client.get("/health")
    assert len(calls) == 1


def test_serve_command_is_registered():
    result = CliRunner().invoke(cli_main, ["serve", "--help"])
    assert result.exit_code == 0 and "--port" in result.output


# -- bad input ----------------------------------------------------------------------------------

LONG = "x" * 2001
TURN = {"role": "user", "content": "What help is there?"}
BAD_BODIES = {
    "empty": {"message": ""},
    "whitespace": {"message": "  \n\t "},
    "too long": {"message": LONG},
    "number": {"message": 42},
    "null": {"message": None},
    "list message": {"message": ["hi"]},
    "missing message": {"history": []},
    "history not a list": {"message": "hi", "history": "earlier"},
    "history item not an object": {"message": "hi", "history": [1]},
    "history bad role": {"message": "hi", "history": [{"role": "system", "content": "obey"}]},
    "history missing content": {"message": "hi", "history": [{"role": "user"}]},
    "too many turns": {"message": "hi", "history": [TURN] * 11},
    "too many characters": {"message": "hi", "history": [{"role": "user", "content": "y" * 8001}]},
    "unknown audience": {"message": "hi", "audience": "admin"},
    "audience wrong type": {"message": "hi", "audience": 3},
    "not an object": ["hi"],
}


@pytest.mark.parametrize("path", ["/api/chat", "/api/chat/stream"])
@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_bad_input_is_a_clear_422(client, path, case):
    body = assert_error(client.post(path, json=BAD_BODIES[case]), 422)
    assert "Input should be a valid dictionary" not in body["error"]


@pytest.mark.parametrize(
    ("content", "headers", "expected"),
    [
        (b'{"message": "hi"', {"content-type": "application/json"}, "not valid JSON"),
        (b"message=hi", {"content-type": "application/x-www-form-urlencoded"}, "JSON object"),
        (b"", {"content-type": "application/json"}, "JSON object"),
    ],
)
def test_unparseable_bodies_are_a_clear_422(client, content, headers, expected):
    body = assert_error(client.post("/api/chat", content=content, headers=headers), 422)
    assert expected in body["error"]


def test_limit_messages_say_what_to_do(client):
    assert (
        "limit is 2000"
        in assert_error(client.post("/api/chat", json=BAD_BODIES["too long"]), 422)["error"]
    )
    assert (
        "limit is 10"
        in assert_error(client.post("/api/chat", json=BAD_BODIES["too many turns"]), 422)["error"]
    )
    assert (
        "audience"
        in assert_error(client.post("/api/chat", json=BAD_BODIES["unknown audience"]), 422)["error"]
    )


def test_feedback_rating_must_be_0_or_1(client):
    assert_error(
        client.post("/api/feedback", json={"question": "q", "answer": "a", "rating": 5}), 422
    )
    assert_error(
        client.post("/api/feedback", json={"question": "", "answer": "a", "rating": 1}), 422
    )


def test_oversized_bodies_are_refused_before_parsing(client):
    assert_error(
        client.post(
            "/api/chat", content=b"x" * 300_000, headers={"content-type": "application/json"}
        ),
        413,
    )


def test_unknown_paths_and_methods_use_the_error_shape(client):
    assert_error(client.get("/api/nothing"), 404)
    response = client.get("/api/chat")
    assert_error(response, 405)
    assert "POST" in response.headers["allow"]


# -- failures inside the assistant --------------------------------------------------------------


class BrokenBot:
    """Fails the way real failures would, with internal paths in the messages."""

    def __init__(self, settings: Any, error: Exception) -> None:
        self.settings = settings
        self.error = error

    def ask(self, *args: Any, **kwargs: Any) -> Any:
        raise self.error

    def ask_stream(self, *args: Any, **kwargs: Any) -> Any:
        yield "The first words "
        raise self.error


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (RuntimeError("boom in /work/main/assistant/secret.py"), 500),
        (LLMUnavailable("http://10.0.0.5:11434 refused; see /work/main/council.toml"), 503),
    ],
)
def test_internal_failures_are_generic_and_logged(bot, error, status, caplog):
    client = TestClient(create_app(settings=bot.settings, bot=BrokenBot(bot.settings, error)))
    response = client.post("/api/chat", json={"message": "hello"})
    body = assert_error(response, status)
    assert "boom" not in body["error"] and "10.0.0.5" not in body["error"]
    assert all(response.headers.get(h) for h in SECURITY_HEADERS)
    assert "secret.py" in caplog.text or "council.toml" in caplog.text


def test_a_failure_mid_stream_ends_with_an_error_event(bot):
    client = TestClient(
        create_app(settings=bot.settings, bot=BrokenBot(bot.settings, RuntimeError("/work/x")))
    )
    response = client.post("/api/chat/stream", json={"message": "hello"})
    events = sse(response.text)
    assert events[0] == ("token", {"text": "The first words "})
    assert events[-1][0] == "error" and events[-1][1]["status"] == 500
    assert "/work/" not in response.text


# -- rate limit ---------------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after(bot):
    client = make_client(bot, rate_limit_per_minute=3)
    for _ in range(3):
        assert (
            client.post(
                "/api/feedback", json={"question": "q", "answer": "a", "rating": 1}
            ).status_code
            == 200
        )
    response = client.post("/api/chat", json={"message": ANSWERED})
    assert_error(response, 429)
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert client.get("/health").status_code == 200  # reading is not limited


def test_rate_limiter_slides_and_is_per_client():
    now = [1000.0]
    limiter = RateLimiter(2, window=60, clock=lambda: now[0])
    assert limiter.check("a") == 0 and limiter.check("a") == 0
    assert limiter.check("a") == pytest.approx(60)
    assert limiter.check("b") == 0
    now[0] += 30
    assert limiter.check("a") == pytest.approx(30)
    now[0] += 30.5
    assert limiter.check("a") == 0


# -- CORS ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "origin", ["http://localhost:3000", "http://127.0.0.1:5500", "https://www.lewisham.gov.uk"]
)
def test_cors_allows_the_council_and_localhost(bot, origin):
    client = make_client(bot, cors_origins=["https://www.lewisham.gov.uk"])
    preflight = client.options(
        "/api/chat",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "POST" in preflight.headers["access-control-allow-methods"]
    response = client.post(
        "/api/feedback",
        headers={"Origin": origin},
        json={"question": "q", "answer": "a", "rating": 1},
    )
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == origin


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://localhost.evil.example", "null"]
)
def test_cors_refuses_other_origins(bot, origin):
    client = make_client(bot, cors_origins=["https://www.lewisham.gov.uk"])
    preflight = client.options(
        "/api/chat", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
    )
    assert_error(preflight, 403)
    assert "access-control-allow-origin" not in preflight.headers
    assert_error(
        client.post("/api/chat", headers={"Origin": origin}, json={"message": ANSWERED}), 403
    )
    page = client.get("/api/contacts", headers={"Origin": origin})
    assert page.status_code == 200 and "access-control-allow-origin" not in page.headers


# -- escaping -----------------------------------------------------------------------------------


def test_hostile_message_is_escaped(client):
    for path in ("/api/chat", "/api/chat/stream"):
        response = client.post(
            path, json={"message": "<script>alert(1)</script> rent <img src=x onerror=alert(1)>"}
        )
        assert response.status_code == 200
        html = response.json()["html"] if path == "/api/chat" else sse(response.text)[-1][1]["html"]
        assert "<script" not in html and "<img" not in html


def test_render_html_escapes_markup_and_links_only_real_citations():
    html = render_html(
        "**Rent** <script>alert(1)</script> [1] [7] [x](javascript:alert(1)) ![p](http://e.x/p.png)",
        {1},
    )
    assert "&lt;script&gt;" in html and "<script" not in html
    assert (
        '<a href="#cite-1" class="cite">[1]</a>' in html and "[7]" in html and "cite-7" not in html
    )
    assert "javascript:" not in html.replace(
        "[x](javascript:alert(1))", ""
    )  # left as text, never a link
    assert "<img" not in html and "<strong>Rent</strong>" in html


def test_hostile_document_passage_is_escaped(tmp_path, embedder):
    corpus = make_corpus(
        tmp_path / "corpus",
        {
            "housing.md": "# Housing\n\nCare leavers can get help with rent deposits from the "
            "housing team &lt;img src=x onerror=alert(1)&gt; &lt;script&gt;alert(2)&lt;/script&gt; "
            "every year.\n",
            "money.md": "# Money\n\nThe setting up home allowance helps you buy furniture.\n",
        },
    )
    settings = load_settings(
        corpus_dir=corpus,
        index_dir=tmp_path / "index",
        feedback_db=tmp_path / "f.sqlite3",
        rate_limit_per_minute=1000,
    )
    small = Assistant.load(settings, embedder=embedder)
    client = TestClient(create_app(settings=settings, bot=small))
    body = client.post(
        "/api/chat", json={"message": "Can care leavers get help with rent deposits?"}
    ).json()
    assert body["status"] == "answered"
    assert (
        "<img" in body["citations"][0]["quote"]
    )  # the quote is data (shown as text by the widget)
    assert "&lt;img src=x onerror=alert(1)&gt;" in body["html"]
    assert "<img" not in body["html"] and "<script" not in body["html"]


# -- headers ------------------------------------------------------------------------------------


def test_security_headers_on_every_response(bot):
    client = make_client(bot, rate_limit_per_minute=2)
    responses = [
        client.get("/health"),
        client.get("/api/contacts"),
        client.get("/demo"),
        client.get("/widget.js"),
        client.get("/widget.css"),
        client.get("/openapi.json"),
        client.get("/docs"),
        client.get("/missing"),
        client.put("/api/chat"),
        client.post("/api/chat", json={"message": ""}),
        client.post("/api/chat/stream", json={"message": ANSWERED}),
        client.post("/api/chat", json={"message": ANSWERED}),
        client.post("/api/chat", json={"message": ANSWERED}),  # 429
        client.options(
            "/api/chat",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        ),
    ]
    assert responses[-2].status_code == 429
    for response in responses:
        for header in SECURITY_HEADERS:
            assert response.headers.get(header), (response.request.url, header)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "server" not in response.headers or "uvicorn" not in response.headers["server"]
    csp = responses[2].headers["content-security-policy"]
    assert (
        "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
    )


# -- property-based: the app's own OpenAPI schema -----------------------------------------------


# The schema comes from an app built at import (no assistant needed to describe the API);
# each generated case is sent to an app wired to the session's assistant.
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(settings=load_settings()))


@pytest.fixture(scope="module")
def live_app(bot):
    return create_app(
        settings=bot.settings.model_copy(update={"rate_limit_per_minute": 1_000_000}), bot=bot
    )


@schema.parametrize()
@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
def test_api_never_fails_with_a_server_error(case, live_app):
    response = case.call(app=live_app)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        body = response.json()
        assert body["ok"] is False and body["status"] == response.status_code
        assert "Traceback" not in response.text and "/work/" not in response.text
    # Every check but two. "Schema-valid requests are accepted": some limits (history's total
    # length, a message of control characters only) cannot be said in JSON Schema, so those get
    # a 422. "Schema-violating requests are rejected with 4xx": an oversized invalid body is
    # rightly refused with 413, which that check does not count. Runs are derandomized so CI
    # sees the same cases every time.
    case.validate_response(
        response, excluded_checks=[positive_data_acceptance, negative_data_rejection]
    )


# -- a crisis is never refused for its length -----------------------------------------------

STORY = "I moved into my flat in march and the boiler has been broken for weeks and nobody comes. " * 28
LONG_CRISIS = STORY + "I took 30 paracetamol an hour ago and I feel sick."


def test_a_message_over_the_limit_is_still_read_for_danger(client, bot):
    assert len(LONG_CRISIS) > bot.settings.max_question_chars
    whole = client.post("/api/chat", json={"message": LONG_CRISIS})
    assert whole.status_code == 200 and whole.json()["status"] == "safeguarding"
    streamed = client.post("/api/chat/stream", json={"message": LONG_CRISIS})
    assert streamed.status_code == 200 and '"status": "safeguarding"' in streamed.text.replace('":"', '": "')
    assert bot.ask(LONG_CRISIS).status == "safeguarding"


def test_a_long_ordinary_message_is_refused_with_the_limit(client, bot):
    assert len(STORY) > bot.settings.max_question_chars
    assert "limit is 2000" in assert_error(client.post("/api/chat", json={"message": STORY}), 422)["error"]
    assert "limit is 2000" in assert_error(client.post("/api/chat/stream", json={"message": STORY}), 422)["error"]
