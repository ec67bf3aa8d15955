"""How the web API turns exceptions into its one error shape ``{"ok", "error", "status"}``.

One status table and its handlers, kept apart from api.py so every error a user can
see is decided in one place: the message is one sentence they can act on, and never
names a server path, a setting or an input they sent.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.errors import AssistantError, RateLimited
from assistant.web.models import HTTP_MESSAGES, error_response

# The API's logger name, kept when these handlers moved out of api.py (log lines show it).
log = logging.getLogger("assistant.web.app")

# Each error's status and public sentence are on its class (assistant/errors.py):
# ``http_status``, and ``public`` (None: the exception's own message is written for the user;
# otherwise its message may name files or settings, so it is logged and replaced).
_PATHLIKE = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.@~-]+){2,}[\\/]?")


def public_message(text: str) -> str:
    """Remove anything that looks like a server path from a message shown to users."""
    return _PATHLIKE.sub("[file]", text)


async def _assistant_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AssistantError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    if exc.public is None:
        return error_response(exc.http_status, public_message(str(exc)), headers)
    log.error("%s on %s %s: %s", type(exc).__name__, request.method, request.url.path, exc)
    return error_response(exc.http_status, exc.public, headers)


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


def add_error_handlers(app: FastAPI) -> None:
    """Register the table's handlers, and plain sentences for validation and HTTP errors."""
    app.add_exception_handler(AssistantError, _assistant_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
