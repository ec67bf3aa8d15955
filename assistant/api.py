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
  small ASGI middlewares at the bottom of this file, each with one job.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from markdown_it import MarkdownIt
from markdown_it.token import Token
from pydantic import BaseModel, ConfigDict, Field, StrictInt, create_model
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import PROJECT_ROOT, Contact, Settings, load_settings
from .errors import AssistantError, InputError
from .feedback import FeedbackError, FeedbackStore
from .schema import Reply

log = logging.getLogger(__name__)

WIDGET_DIR = PROJECT_ROOT / "ui" / "widget"
GENERIC_500 = "Something went wrong on our side. Please try again in a minute."
# Origins a developer uses on their own machine are always allowed (any port).
LOCAL_ORIGIN = re.compile(r"^https?://(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$")

# Content-Security-Policy for everything but /docs: only our own scripts, styles and
# connections; inline styles are allowed for the demo page, never inline scripts.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
Status = Literal["answered", "not_found", "off_topic", "safeguarding"]


# -- request and response bodies -------------------------------------------------------


class Turn(BaseModel):
    """One earlier message of the conversation, as the widget keeps it."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: str


class ChatRequest(BaseModel):
    """A message to the assistant. ``chat_request_model`` adds the council's limits."""

    message: str = Field(
        min_length=1,
        pattern=r"\S",
        description="The question, as typed.",
        examples=["What help can I get with rent?"],
    )
    history: list[Turn] = Field(default_factory=list, description="Earlier messages, oldest first.")
    audience: Literal["care_leaver", "staff"] = "care_leaver"


def chat_request_model(settings: Settings) -> type[ChatRequest]:
    """The request body with this council's limits in its schema, so /docs and API clients see them.

    The total length of the history cannot be said in JSON Schema; it is checked in
    ``check_chat_request`` (and written in the description).
    """
    return create_model(
        "ChatRequest",
        __base__=ChatRequest,
        message=(
            str,
            Field(
                min_length=1,
                max_length=settings.max_question_chars,
                pattern=r"\S",
                description="The question, as typed.",
                examples=["What help can I get with rent?"],
            ),
        ),
        history=(
            list[Turn],
            Field(
                default_factory=list,
                max_length=settings.max_history_turns,
                description="Earlier messages, oldest first: at most "
                f"{settings.max_history_turns} messages "
                f"and {settings.max_history_chars} characters in all.",
            ),
        ),
    )


class CitationOut(BaseModel):
    number: int
    document_id: str
    document_title: str
    section: str
    page: int | None
    quote: str
    source_url: str
    superseded: bool
    chunk_id: str = ""


class ChatResponse(BaseModel):
    """``Reply.to_dict()`` plus ``html``: the answer rendered to safe HTML with citation links."""

    status: Status
    text: str
    html: str
    citations: list[CitationOut]
    question: str = ""
    standalone_question: str = ""
    backend: str = ""


class FeedbackRequest(BaseModel):
    """A thumbs up (1) or down (0) on one answer. Stored redacted: no names, numbers or emails."""

    question: str = Field(min_length=1, max_length=4000)
    answer: str = Field(min_length=1, max_length=20000)
    rating: StrictInt = Field(ge=0, le=1, description="1 = helpful, 0 = not helpful.")
    comment: str = Field("", max_length=2000)
    audience: Literal["care_leaver", "staff"] = "care_leaver"
    status: Status = "answered"


class FeedbackResponse(BaseModel):
    ok: bool
    id: int


class ContactOut(BaseModel):
    name: str
    detail: str
    when: str = ""


class Limits(BaseModel):
    """What the widget must respect so its requests are accepted."""

    max_question_chars: int
    max_history_turns: int
    max_history_chars: int


class ContactsResponse(BaseModel):
    council_name: str
    urgent: list[ContactOut]
    council: list[ContactOut]
    limits: Limits


class HealthResponse(BaseModel):
    ok: bool
    documents: int
    chunks: int
    fingerprint: str


class ErrorBody(BaseModel):
    """The shape of every error response."""

    ok: Literal[False] = False
    error: str
    status: int


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"ok": False, "error": message, "status": status}


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(status, message), status_code=status, headers=headers)


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        413: "The request body is too large.",
        422: "The request is not valid (the message says why).",
        429: "Too many requests from this client; see Retry-After.",
        503: "The service (or the feedback store) is not available.",
    }.items()
}


# -- answer rendering ---------------------------------------------------------------------

_CITE = re.compile(r"\[(\d{1,3})\]")
# UK numbers after "Call", and full 11-digit UK numbers anywhere: tappable on a phone.
_PHONE = re.compile(
    r"(?<=\b[Cc]all )(?:999|111|101|116 ?123|0\d{3} ?\d{3} ?\d{4})\b|\b0\d{2,4} ?\d{3,4} ?\d{3,4}\b"
)


def _markdown() -> MarkdownIt:
    """CommonMark with raw HTML and images off; [n] and phone numbers become links."""
    md = MarkdownIt("commonmark", {"html": False}).disable("image")
    md.core.ruler.push("citations_and_phones", _link_citations_and_phones)

    def link_open(renderer: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        if str(token.attrGet("href") or "").startswith(("http://", "https://")):
            token.attrSet("rel", "noopener noreferrer nofollow")
            token.attrSet("target", "_blank")
        return str(renderer.renderToken(tokens, idx, options, env))

    md.add_render_rule("link_open", link_open)
    return md


def _link_citations_and_phones(state: Any) -> None:
    """Turn ``[n]`` (for citations that exist) and phone numbers in text into link tokens."""
    numbers: set[int] = state.env.get("citation_numbers", set())
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children: list[Token] = []
        in_link = 0
        for token in block.children:
            in_link += token.type == "link_open"
            in_link -= token.type == "link_close"
            if token.type != "text" or in_link:
                children.append(token)
                continue
            children.extend(_split_text(token.content, numbers))
        block.children = children


def _split_text(text: str, numbers: set[int]) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    pattern = re.compile(f"{_CITE.pattern}|{_PHONE.pattern}")
    for match in pattern.finditer(text):
        if match.group(1) is not None:
            if int(match.group(1)) not in numbers:
                continue
            href, css, label = f"#cite-{match.group(1)}", "cite", match.group(0)
        else:
            href, css, label = "tel:" + re.sub(r"\D", "", match.group(0)), "tel", match.group(0)
        if match.start() > position:
            tokens.append(_text(text[position : match.start()]))
        opening = Token("link_open", "a", 1)
        opening.attrs = {"href": href, "class": css}
        tokens += [opening, _text(label), Token("link_close", "a", -1)]
        position = match.end()
    if position < len(text):
        tokens.append(_text(text[position:]))
    return tokens


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


_MD = _markdown()


def render_html(text: str, citation_numbers: set[int] | None = None) -> str:
    """The answer as HTML safe to insert into a page: markdown rendered, any HTML escaped."""
    return _MD.render(text, {"citation_numbers": citation_numbers or set()})


def reply_body(reply: Reply) -> dict[str, Any]:
    body = reply.to_dict()
    body["html"] = render_html(reply.text, {c.number for c in reply.citations})
    return body


# -- input limits, rate limit -------------------------------------------------------------


def check_chat_request(body: ChatRequest, settings: Settings) -> list[dict[str, str]]:
    """Reject what the assistant should never see (too long, too much history).

    Returns the history as the plain dicts ``Assistant.ask`` takes.
    """
    limit = settings.max_question_chars
    if len(body.message) > limit:
        raise InputError(
            f"The message is {len(body.message)} characters long; the limit is {limit}. "
            "Please shorten it."
        )
    if not body.message.strip():
        raise InputError(
            "The message is empty. Type a question, for example: 'What help can I get with rent?'"
        )
    if len(body.history) > settings.max_history_turns:
        raise InputError(
            f"The history has {len(body.history)} messages; "
            f"the limit is {settings.max_history_turns}. "
            "Send only the most recent ones."
        )
    total = sum(len(t.content) for t in body.history)
    if total > settings.max_history_chars:
        raise InputError(
            f"The history is {total} characters long; the limit is {settings.max_history_chars}. "
            "Send fewer or shorter earlier messages."
        )
    return [t.model_dump() for t in body.history]


class RateLimited(Exception):
    """Too many requests from one client in the last minute."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(
            "You are sending messages very quickly. "
            f"Please wait {self.retry_after} seconds and try again."
        )


class RateLimiter:
    """A sliding-window limit per client key, shared by the server's threads.

    In memory and per process: enough to stop one browser or script from hogging
    the assistant; a deployment with several processes divides the budget unevenly,
    which errs on the side of the users.
    """

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.max_clients = max_clients
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> float:
        """Count one request; return 0 if allowed, else the seconds until one would be."""
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return hits[0] + self.window - now
            hits.append(now)
            if len(self._hits) > self.max_clients:
                self._forget_idle(now)
            return 0.0

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
            del self._hits[key]


def client_key(request: Request) -> str:
    """The client's IP (behind a proxy, uvicorn's FORWARDED_ALLOW_IPS makes it the user's)."""
    return request.client.host if request.client else "unknown"


async def rate_limit(request: Request) -> None:
    wait = request.app.state.limiter.check(client_key(request))
    if wait:
        raise RateLimited(wait)


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
HTTP_MESSAGES = {
    404: "There is nothing at this address.",
    405: "This address does not accept that method.",
    413: "The request is too large. Send a shorter message or less history.",
}
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
    """Open the store on first use (and again after a failure, e.g. a disk that was full)."""
    with request.app.state.feedback_lock:
        if request.app.state.feedback is None:
            request.app.state.feedback = FeedbackStore(settings.feedback_path)
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
        """Is the assistant loaded, and over which index?"""
        bot = _bot(request)
        return {
            "ok": True,
            "documents": len(bot.index.documents),
            "chunks": len(bot.index.chunks),
            "fingerprint": bot.index.fingerprint,
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


# -- the HTTP edge: small ASGI middlewares -------------------------------------------------


class SecurityHeaders:
    """Adds the security headers (and a default CSP) to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("content-security-policy", CSP)
                if is_api:
                    # Answers may be about someone's own life: never cache them.
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Cors:
    """CORS for the council's sites and localhost, with refusals in the API's error shape.

    Same-origin requests (the demo page) are always allowed. A browser request with
    any other origin may read GET responses only if allowed; a POST from a refused
    origin is answered 403 without reaching the assistant or the rate limit.
    """

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.origins = {o.rstrip("/") for o in origins}

    def allowed(self, origin: str, host: str) -> bool:
        if origin in self.origins or "*" in self.origins or LOCAL_ORIGIN.match(origin):
            return True
        return bool(host) and urlsplit(origin).netloc == host

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope) if scope["type"] == "http" else Headers()
        origin = headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        ok = self.allowed(origin, headers.get("host", ""))
        refused = error_response(
            403,
            "This website is not allowed to use the assistant. "
            "The council's web team can add it to cors_origins.",
        )
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            response = (
                refused
                if not ok
                else Response(
                    status_code=204,
                    headers={
                        "Access-Control-Allow-Methods": "GET, POST",
                        "Access-Control-Allow-Headers": "Content-Type",
                        "Access-Control-Max-Age": "600",
                    },
                )
            )
            await self._send_with_cors(response, scope, receive, send, origin if ok else None)
            return
        if not ok and scope["method"] not in ("GET", "HEAD"):
            await refused(scope, receive, send)
            return
        await self._send_with_cors(self.app, scope, receive, send, origin if ok else None)

    @staticmethod
    async def _send_with_cors(
        app: ASGIApp, scope: Scope, receive: Receive, send: Send, origin: str | None
    ) -> None:
        async def send_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.add_vary_header("Origin")
                if origin:
                    headers["Access-Control-Allow-Origin"] = origin
                    headers["Access-Control-Expose-Headers"] = "Retry-After"
            await send(message)

        await app(scope, receive, send_cors)


class BodyLimit:
    """Refuses request bodies over ``max_bytes`` (413) before they are parsed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await error_response(413, HTTP_MESSAGES[413])(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise StarletteHTTPException(413)
            return message

        await self.app(scope, counting_receive, send)


class CatchAll:
    """The safety net: an unexpected error is logged in full and answered 500, generically."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("Unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await error_response(500, GENERIC_500)(scope, receive, send)


__all__ = ["ChatRequest", "RateLimiter", "create_app", "render_html"]
