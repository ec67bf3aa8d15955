"""The web API behind the council's chat widget: answers, contacts, feedback, requests to a person.

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
  ``api_models.py``, answer rendering in ``api_render.py``, the error table in
  ``api_errors.py``, streamed events in ``api_stream.py``, and the widget's files,
  demo page and docs in ``api_pages.py``. This module wires them and holds the API routes.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from fastapi import BackgroundTasks, Depends, FastAPI, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from assistant.config import Contact, Settings, load_settings
from assistant.errors import InputError, RateLimited
from assistant.feedback import FeedbackStore
from assistant.gaps import GapLog, Reason, note
from assistant.handoff import MAX_CONTACT, MAX_QUESTION, RequestStore, notify, submit
from assistant.live import LiveAssistant
from assistant.types import Reply
from assistant.web.edge import (
    GUARD_KEY,
    BodyLimit,
    CatchAll,
    ConnectionGuard,
    Cors,
    HostCheck,
    HTTPLimits,
    RateLimiter,
    SecurityHeaders,
    check_chat_request,
    check_staff,
    client_key,
    rate_limit,
)
from assistant.web.errors import add_error_handlers
from assistant.web.models import (
    ERRORS,
    STAFF_ONLY,
    ChatRequest,
    ChatResponse,
    ContactsResponse,
    FeedbackRequest,
    FeedbackResponse,
    HandoffRequest,
    HandoffResponse,
    HealthResponse,
    chat_request_model,
)
from assistant.web.pages import add_page_routes
from assistant.web.render import render_html, reply_body
from assistant.web.stream import SSE_EVENT, sse_events

log = logging.getLogger(__name__)


# -- the app ---------------------------------------------------------------------------------


def create_app(settings: Settings | None = None, bot: Any = None, *, watch: bool | None = None) -> FastAPI:
    """Build the app. A given ``bot`` (tests) is used as is; otherwise one is loaded at start-up.

    ``watch`` (default: when no ``bot`` is given) switches to each new build in service, in the
    background (``live.LiveAssistant``); ``app.state.live.reload()`` does it at once.
    """
    settings = settings or (bot.settings if bot is not None else load_settings())
    live = LiveAssistant(settings, bot=bot, watch=bot is None if watch is None else watch)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        await run_in_threadpool(live.start)
        log.info("Assistant loaded in %.1f s", live.bot.load_seconds)
        try:
            # For the server's protocol (assistant.web.protocol): this app's connection limits.
            yield {GUARD_KEY: ConnectionGuard(HTTPLimits.from_settings(settings))}
        finally:
            live.stop()

    app = FastAPI(
        title=f"{settings.council_name} care leavers assistant API",
        version="1",
        description="Grounded, cited answers about support for children in care and care leavers.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # "/api/chat/" is a 404, not a redirect to a URL built from the request's Host header.
        redirect_slashes=False,
    )
    app.state.live = live
    app.state.settings = settings
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.feedback = None
    app.state.feedback_lock = threading.Lock()
    app.state.gaps = None
    # Gap entries are written after the reply is sent, one at a time, off the request's thread.
    app.state.gap_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gap-log")
    app.state.requests = None
    # Requests land in a person's queue: besides the per-minute limit, a few an hour per client.
    app.state.handoff_limiter = RateLimiter(settings.handoff_per_hour, window=3600.0)

    add_error_handlers(app)
    _add_api_routes(app, settings)
    add_page_routes(app)

    # Last added runs first: headers on everything, then the host name, CORS, the safety net.
    body_limit = 32_000 + 8 * (settings.max_question_chars + settings.max_history_chars)
    app.add_middleware(BodyLimit, max_bytes=body_limit)
    app.add_middleware(CatchAll)
    app.add_middleware(Cors, origins=settings.cors_origins)
    app.add_middleware(HostCheck, allowed_hosts=settings.allowed_hosts)
    app.add_middleware(SecurityHeaders)
    return app


def _bot(request: Request) -> Any:
    """The Assistant answering now: read once per request, so a switch never splits one."""
    return request.app.state.live.bot


def _feedback_store(request: Request, settings: Settings) -> FeedbackStore:
    """The store of ``feedback_url`` (or the SQLite ``feedback_db``), built on first use.

    It connects only when used: while the database is down each feedback request
    fails fast (503) and the next one tries again, and chat never waits for it.
    """
    with request.app.state.feedback_lock:
        if request.app.state.feedback is None:
            request.app.state.feedback = FeedbackStore.from_settings(settings)
        return request.app.state.feedback


def _log_gap(request: Request, settings: Settings, question: str, reason: Reason, audience: str) -> None:
    """Count a declined or unhelpful question for the gap report, after the reply, never failing it."""
    state = request.app.state
    with state.feedback_lock:
        if state.gaps is None:
            state.gaps = GapLog.from_settings(settings)
    if state.live.loaded:
        bot = state.live.bot
        state.gap_writer.submit(note, state.gaps, bot, question, reason, audience)


def _request_store(request: Request, settings: Settings) -> RequestStore:
    """The requests store, in the same database as feedback, built on first use."""
    with request.app.state.feedback_lock:
        if request.app.state.requests is None:
            request.app.state.requests = RequestStore.from_settings(settings)
        return request.app.state.requests


async def _handoff_rate_limit(request: Request) -> None:
    wait = request.app.state.handoff_limiter.check(client_key(request))
    if wait:
        raise RateLimited(wait)


def _contacts(contacts: list[Contact]) -> list[dict[str, str]]:
    return [c.model_dump() for c in contacts]


def _with_body(endpoint: Callable[..., Any], model: type[BaseModel]) -> Callable[..., Any]:
    """Give an endpoint's ``body`` parameter a model built at run time (see chat_request_model)."""
    endpoint.__annotations__["body"] = model
    return endpoint


def _add_api_routes(app: FastAPI, settings: Settings) -> None:
    limited = [Depends(rate_limit)]
    chat_model = chat_request_model(settings)

    def chat(body: ChatRequest, request: Request) -> dict[str, Any]:
        """Answer one message with cited sources (whole answer at once).

        With ``explain: true`` and the staff token (``Authorization: Bearer <staff_api_token>``),
        the response also carries ``explanation``: why this answer was given.
        """
        history = check_chat_request(body, settings)
        if body.explain:
            check_staff(request, settings)
            reply, explanation = _bot(request).explain(body.message, history=history, audience=body.audience)
            return reply_body(reply) | {"explanation": explanation.to_dict()}
        reply = _bot(request).ask(body.message, history=history, audience=body.audience)
        if reply.status == "not_found":
            _log_gap(request, settings, reply.standalone_question or body.message, "declined", body.audience)
        return reply_body(reply)

    app.add_api_route(
        "/api/chat",
        _with_body(chat, chat_model),
        methods=["POST"],
        response_model=ChatResponse,
        response_model_exclude_unset=True,  # ``explanation`` only when asked for
        dependencies=limited,
        responses={**ERRORS, **STAFF_ONLY},
        tags=["chat"],
    )

    async def chat_stream(body: ChatRequest, request: Request) -> StreamingResponse:
        """Answer one message as Server-Sent Events, so the widget can show it as it comes."""
        history = check_chat_request(body, settings)
        if body.explain:
            raise InputError(
                "Explanations are not streamed. Ask the same question of the chat endpoint that answers "
                "whole (not the stream), with \"explain\": true and the staff token."
            )
        asked = _bot(request).ask_stream(body.message, history=history, audience=body.audience)

        def watched() -> Iterator[Any]:
            for piece in asked:
                if isinstance(piece, Reply) and piece.status == "not_found":
                    question = piece.standalone_question or body.message
                    _log_gap(request, settings, question, "declined", body.audience)
                yield piece

        pieces = watched()
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
            "handoff": {
                "team": settings.handoff_team,
                "next_steps": settings.handoff_next_steps,
                "max_question_chars": MAX_QUESTION,
                "max_contact_chars": MAX_CONTACT,
            },
        }

    @app.post(
        "/api/handoff",
        response_model=HandoffResponse,
        dependencies=[*limited, Depends(_handoff_rate_limit)],
        responses=ERRORS,
        tags=["handoff"],
    )
    def handoff(body: HandoffRequest, request: Request, background: BackgroundTasks) -> dict[str, Any]:
        """Send a question to the leaving care team, with an email address or phone for the reply.

        The request is stored (the question redacted) and waits on the staff page; if SMTP
        is set, the team is emailed after this answer is sent. Requests are never readable
        through the API.
        """
        store = _request_store(request, settings)
        reference = submit(store, settings, **body.model_dump(), email=False)
        if settings.smtp_host:
            background.add_task(notify, store, settings, reference)
        return {"ok": True, "reference": reference, "next_steps": settings.handoff_next_steps}

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
        item = store.add(**body.model_dump())  # the request's fields are the store's
        if body.rating == 0 and body.status != "safeguarding":  # a crisis is never logged as a gap
            _log_gap(request, settings, body.question, "unhelpful", body.audience)
        return {"ok": True, "id": item}

    @app.get(
        "/health", response_model=HealthResponse, responses={503: ERRORS[503]}, tags=["service"]
    )
    def health(request: Request) -> dict[str, Any]:
        """Is the assistant ready: does its index really answer a search, and which build is it?

        A readiness check: it searches the vector store and BM25 once (503 if either fails).
        ``warnings`` says when the build answering is not the one the corpus asks for (a failed
        rebuild, a damaged build), with the file and the reason. With several workers (or
        hosts) behind a proxy, each answers for itself: the fingerprints must all be the same,
        or some worker serves another index.
        """
        live = request.app.state.live
        bot = live.bot
        live.check()
        return {
            "ok": True,
            "documents": len(bot.index.documents),
            "chunks": len(bot.index.chunks),
            "fingerprint": bot.index.fingerprint,
            "build": bot.index.name,
            "pid": os.getpid(),
            "warnings": [_public_warning(w, settings) for w in live.warnings],
        }


def _public_warning(warning: Any, settings: Settings) -> dict[str, Any]:
    """A warning as /health shows it: the corpus and index folders by name, not by server path."""
    body: dict[str, Any] = warning.to_dict()
    for key in ("reason", "message"):
        for folder in (settings.corpus_path, settings.index_path):
            body[key] = body[key].replace(f"{folder}/", "").replace(str(folder), folder.name)
    return body


__all__ = ["ChatRequest", "RateLimiter", "create_app", "render_html"]
