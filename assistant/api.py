"""The web API behind the council's chat widget: JSON and streamed answers, contacts, feedback.

Run it with ``assistant serve``; build it in tests with ``create_app(settings, bot)``.

Why it looks the way it does:

* One ``Assistant`` per process, loaded once (the model takes seconds) and shared:
  answering only reads the index, so concurrent requests need no lock (checked by
  asking 16 threads at once and comparing with serial answers).
* The people using it may be young, upset and on a phone: every error is one
  sentence they (or the widget) can show, in one shape
  ``{"ok": false, "error": "...", "status": code}``, and never a stack trace or a
  server path.
* The widget sits on the council's own pages, so answers are rendered to HTML here,
  once, with raw HTML disabled: neither a document nor a user can inject markup.
* The HTTP edge (security headers, CORS, body size, last-resort errors) is a few
  small ASGI middlewares in ``api_edge.py``, each with one job; bodies are in
  ``api_models.py`` and answer rendering in ``api_render.py``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import re
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .api_edge import (
    GENERIC_500,
    WIDGET_DIR,
    BodyLimit,
    CatchAll,
    Cors,
    RateLimited,
    RateLimiter,
    SecurityHeaders,
    check_chat_request,
    rate_limit,
)
from .api_models import (
    ERRORS,
    HTTP_MESSAGES,
    ChatRequest,
    ChatResponse,
    ContactsResponse,
    FeedbackRequest,
    FeedbackResponse,
    HealthResponse,
    chat_request_model,
    error_body,
    error_response,
)
from .api_render import render_html, reply_body
from .config import Contact, Settings, load_settings
from .errors import AssistantError, InputError
from .feedback import FeedbackError, FeedbackStore
from .schema import Reply

log = logging.getLogger(__name__)


# -- errors: one table ----------------------------------------------------------------------

# Exception -> (status, public message). None means the exception's own message is
# written for the user (InputError); the others may name files or settings, so they
# are logged and replaced by a sentence the user can act on.
ERROR_TABLE: list[tuple[type[Exception], int, str | None]] = [
    (InputError, 422, None),
    (RateLimited, 429, None),
    (FeedbackError, 503, "Your feedback could not be saved just now. Please try again later."),
    (
        AssistantError,
        503,
        "The assistant is not available right now. Please try again in a few minutes.",
    ),
]
_PATHLIKE = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.@~-]+){2,}[\\/]?")


def public_message(text: str) -> str:
    """Remove anything that looks like a server path from a message shown to users."""
    return _PATHLIKE.sub("[file]", text)


def _handler(
    status: int, message: str | None
) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(request: Request, exc: Exception) -> Response:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        if message is None:
            return error_response(status, public_message(str(exc)), headers)
        log.error("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
        return error_response(status, message, headers)

    return handle


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, describe_validation(exc.errors()))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and request.method == "POST":
        # FastAPI's "error parsing the body" (bytes that are not UTF-8): bad JSON like any other.
        return error_response(422, "The request body is not valid JSON (UTF-8 text). " + _EXAMPLE)
    message = HTTP_MESSAGES.get(exc.status_code) or public_message(str(exc.detail))
    return error_response(exc.status_code, message, dict(exc.headers or {}))


_EXAMPLE = 'Send a JSON object such as {"message": "What help can I get with rent?"}.'
_FRIENDLY = {
    "missing": "is required",
    "string_too_short": "is empty: type some text",
    "string_pattern_mismatch": "is empty: type some text",
    "string_too_long": "is too long: the limit is {max_length} characters. Please shorten it",
    "too_long": "has too many items: the limit is {max_length}. Send only the most recent ones",
    "extra_forbidden": "is not an accepted field",
    "string_type": "must be text",
    "list_type": "must be a list",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
}


def describe_validation(errors: list[Any]) -> str:
    """Pydantic's errors as one plain sentence: which field, what is wrong. No inputs, no URLs."""
    example = _EXAMPLE
    parts: list[str] = []
    for err in errors[:3]:
        kind = err.get("type", "")
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")[:80]
        if kind == "json_invalid":
            return f"The request body is not valid JSON. {example}"
        if not where:
            return (
                "The request body must be a JSON object (Content-Type: application/json). "
                + example
            )
        problem = _FRIENDLY.get(kind, "").format(**err.get("ctx", {})) or str(
            err.get("msg", "is not valid")
        ).replace("Input should be", "should be")
        parts.append(f"'{where}' {problem}")
    return "The request is not valid: " + "; ".join(parts) + "."



# -- the app ---------------------------------------------------------------------------------


def create_app(settings: Settings | None = None, bot: Any = None) -> FastAPI:
    """Build the app. A given ``bot`` (tests) is used as is; otherwise one is loaded at start-up."""
    settings = settings or (bot.settings if bot is not None else load_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        if app.state.bot is None:
            from .pipeline import Assistant

            app.state.bot = await run_in_threadpool(Assistant.load, settings)
            log.info("Assistant loaded in %.1f s", app.state.bot.load_seconds)
        yield

    app = FastAPI(
        title=f"{settings.council_name} care leavers assistant API",
        version="1",
        description="Grounded, cited answers about support for children in care and care leavers.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.bot = bot
    app.state.settings = settings
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.feedback = None
    app.state.feedback_lock = threading.Lock()

    for exc_class, status, message in ERROR_TABLE:
        app.add_exception_handler(exc_class, _handler(status, message))
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)

    _add_api_routes(app, settings)
    _add_page_routes(app)

    # Last added runs first: headers on everything, then CORS, then the safety net.
    body_limit = 32_000 + 8 * (settings.max_question_chars + settings.max_history_chars)
    app.add_middleware(BodyLimit, max_bytes=body_limit)
    app.add_middleware(CatchAll)
    app.add_middleware(Cors, origins=settings.cors_origins)
    app.add_middleware(SecurityHeaders)
    return app


def _bot(request: Request) -> Any:
    bot = request.app.state.bot
    if bot is None:
        raise AssistantError("The assistant is still starting.")
    return bot


def _feedback_store(request: Request, settings: Settings) -> FeedbackStore:
    """The store of ``feedback_url`` (or the SQLite ``feedback_db``), built on first use.

    It connects only when used: while the database is down each feedback request
    fails fast (503) and the next one tries again, and chat never waits for it.
    """
    with request.app.state.feedback_lock:
        if request.app.state.feedback is None:
            request.app.state.feedback = FeedbackStore.from_settings(settings)
        return request.app.state.feedback


def _contacts(contacts: list[Contact]) -> list[dict[str, str]]:
    return [c.model_dump() for c in contacts]


def _with_body(endpoint: Callable[..., Any], model: type[BaseModel]) -> Callable[..., Any]:
    """Give an endpoint's ``body`` parameter a model built at run time (see chat_request_model)."""
    endpoint.__annotations__["body"] = model
    return endpoint


SSE_EVENT = {
    "type": "object",
    "description": "One Server-Sent Event; `data` is JSON: {text} for `token`, "
    "the body of /api/chat for "
    "`done`, and {ok, error, status} for `error`.",
    "properties": {
        "event": {"type": "string", "enum": ["token", "done", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
    "required": ["event", "data"],
}


def _add_api_routes(app: FastAPI, settings: Settings) -> None:
    limited = [Depends(rate_limit)]
    chat_model = chat_request_model(settings)

    def chat(body: ChatRequest, request: Request) -> dict[str, Any]:
        """Answer one message with cited sources (whole answer at once)."""
        history = check_chat_request(body, settings)
        reply = _bot(request).ask(body.message, history=history, audience=body.audience)
        return reply_body(reply)

    app.add_api_route(
        "/api/chat",
        _with_body(chat, chat_model),
        methods=["POST"],
        response_model=ChatResponse,
        dependencies=limited,
        responses=ERRORS,
        tags=["chat"],
    )

    async def chat_stream(body: ChatRequest, request: Request) -> StreamingResponse:
        """Answer one message as Server-Sent Events, so the widget can show it as it comes."""
        history = check_chat_request(body, settings)
        pieces = _bot(request).ask_stream(body.message, history=history, audience=body.audience)
        # The first step validates and answers: a bad message is a 422 here, before any event.
        first = await run_in_threadpool(next, pieces, None)
        return StreamingResponse(
            sse_events(first, pieces),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    app.add_api_route(
        "/api/chat/stream",
        _with_body(chat_stream, chat_model),
        methods=["POST"],
        dependencies=limited,
        tags=["chat"],
        response_class=StreamingResponse,
        responses={
            200: {
                "description": "Server-Sent Events: `token` events, then one `done` event "
                "(or an `error` event).",
                "content": {"text/event-stream": {"schema": SSE_EVENT}},
            },
            **ERRORS,
        },
    )

    @app.get("/api/contacts", response_model=ContactsResponse, tags=["help"])
    def contacts() -> dict[str, Any]:
        """Where to get help now (the widget's "Need help now?"), and the input limits."""
        return {
            "council_name": settings.council_name,
            "urgent": _contacts(settings.urgent_contacts),
            "council": _contacts(settings.council_contacts),
            "limits": {
                "max_question_chars": settings.max_question_chars,
                "max_history_turns": settings.max_history_turns,
                "max_history_chars": settings.max_history_chars,
            },
        }

    @app.post(
        "/api/feedback",
        response_model=FeedbackResponse,
        dependencies=limited,
        responses=ERRORS,
        tags=["feedback"],
    )
    def feedback(body: FeedbackRequest, request: Request) -> dict[str, Any]:
        """Store a rating of one answer (redacted of personal data)."""
        store = _feedback_store(request, settings)
        item = store.add(
            question=body.question,
            answer=body.answer,
            rating=body.rating,
            comment=body.comment,
            audience=body.audience,
            status=body.status,
        )
        return {"ok": True, "id": item}

    @app.get(
        "/health", response_model=HealthResponse, responses={503: ERRORS[503]}, tags=["service"]
    )
    def health(request: Request) -> dict[str, Any]:
        """Is the assistant loaded, over which index, and in which worker process?

        With several workers (or hosts) behind a proxy, each answers for itself: the
        fingerprints must all be the same, or some worker serves another index.
        """
        bot = _bot(request)
        return {
            "ok": True,
            "documents": len(bot.index.documents),
            "chunks": len(bot.index.chunks),
            "fingerprint": bot.index.fingerprint,
            "pid": os.getpid(),
        }


def sse_events(first: Any, rest: Iterator[Any]) -> Iterator[str]:
    """Server-Sent Events from ``ask_stream``'s pieces; errors become an ``error`` event."""
    try:
        for item in itertools.chain([first], rest):
            if isinstance(item, Reply):
                yield _sse("done", reply_body(item))
                return
            if item:
                yield _sse("token", {"text": item})
        raise RuntimeError("the answer stream ended without a reply")
    except InputError as exc:
        yield _sse("error", error_body(422, public_message(str(exc))))
    except Exception:
        log.exception("Streaming an answer failed")
        yield _sse("error", error_body(500, GENERIC_500))


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _add_page_routes(app: FastAPI) -> None:
    """The widget's files, the demo page and the API docs."""
    assets = {
        "widget.js": "text/javascript; charset=utf-8",
        "widget.css": "text/css; charset=utf-8",
    }

    def asset(name: str) -> Callable[[], Response]:
        def serve() -> Response:
            path = WIDGET_DIR / name
            if not path.is_file():
                return error_response(404, HTTP_MESSAGES[404])
            # Any site may load the widget's files; short caching so a fix reaches users quickly.
            return FileResponse(
                path,
                media_type=assets[name],
                headers={
                    "Cache-Control": "public, max-age=300",
                    "Cross-Origin-Resource-Policy": "cross-origin",
                },
            )

        return serve

    for name in assets:
        app.add_api_route(f"/{name}", asset(name), methods=["GET"], include_in_schema=False)

    @app.get("/demo", include_in_schema=False)
    def demo() -> Response:
        return FileResponse(
            WIDGET_DIR / "demo.html",
            media_type="text/html; charset=utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        page = get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} — docs"
        )
        return HTMLResponse(
            page.body, headers={"Content-Security-Policy": docs_csp(bytes(page.body).decode())}
        )


def docs_csp(page: str) -> str:
    """Swagger UI's page: its CDN files and exactly its own inline script (by hash)."""
    hashes = " ".join(
        "'sha256-" + _b64(hashlib.sha256(script.encode()).digest()) + "'"
        for script in re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    )
    cdn = "https://cdn.jsdelivr.net"
    return (
        f"default-src 'self'; script-src 'self' {cdn} {hashes}; "
        f"style-src 'self' {cdn} 'unsafe-inline'; "
        "img-src 'self' data: https://fastapi.tiangolo.com; connect-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'"
    )


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


__all__ = ["ChatRequest", "RateLimiter", "create_app", "render_html"]
