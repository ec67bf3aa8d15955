"""The HTTP edge of the web API: input limits, the rate limit, the server's connection limits,
and small ASGI middlewares (security headers, host names, CORS, body size, last-resort errors),
each with one job."""

from __future__ import annotations

import hmac
import logging
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import AddressValueError, IPv6Address
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.answer.guard import is_safeguarding
from assistant.config import Settings
from assistant.errors import InputError, RateLimited, StaffOnly
from assistant.web.models import HTTP_MESSAGES, ChatRequest, error_response

log = logging.getLogger(__name__)

WIDGET_DIR = Path(__file__).resolve().parent / "widget"  # package data: the widget and its demo page
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
# A Host header: a name or IPv4 address, or an IPv6 address in brackets, and an optional port.
_HOST = re.compile(r"^(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9._-]+))(?::\d{1,5})?$")


# -- input limits, rate limit -------------------------------------------------------------


def check_chat_request(body: ChatRequest, settings: Settings) -> list[dict[str, str]]:
    """Reject what the assistant should never see (an empty message, too much history).

    A message over ``max_question_chars`` is refused by the assistant itself, after it has been
    read for danger (``answer.plan.plan_turn``): a crisis is never refused for its length.
    Returns the history as the plain dicts ``Assistant.ask`` takes.
    """
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


def check_staff(request: Request, settings: Settings) -> None:
    """Let a staff-only request through only with ``Authorization: Bearer <staff_api_token>``.

    The token is compared in constant time. With no token set, nothing is staff-only-allowed.
    """
    token = settings.staff_api_token
    if not token:
        raise StaffOnly(
            "Explanations are for staff and are turned off on this server: no staff API token is set. "
            "To turn them on, set ASSISTANT_STAFF_API_TOKEN (or staff_api_token in council.toml), restart, "
            "and send the header 'Authorization: Bearer <token>'."
        )
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise StaffOnly(
            "Explanations are for staff: send the header 'Authorization: Bearer <token>' with the staff API "
            "token set on this server (ASSISTANT_STAFF_API_TOKEN)."
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
    """Hold back a client sending too fast, except with a message the guard reads as a crisis."""
    wait = request.app.state.limiter.check(client_key(request))
    if wait and not await _reads_as_crisis(request):
        raise RateLimited(wait)


async def _reads_as_crisis(request: Request) -> bool:
    """Does the request's message read as a crisis? (The body is read once and kept for the route.)"""
    live = getattr(request.app.state, "live", None)
    bot = live.bot if live is not None and live.loaded else None
    try:
        body = await request.json()
    except Exception:  # not JSON: the route will answer 422
        return False
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str) or not message.strip():
        return False
    if bot is None:  # still loading: the clear cues decide
        return is_safeguarding(message)
    try:
        return bool(await run_in_threadpool(lambda: bot.risk(message).crisis))
    except Exception:  # the check must never turn a rate limit into an error: the clear cues decide
        log.exception("The safeguarding check of a rate-limited message failed; its clear cues decide.")
        try:
            return is_safeguarding(message, getattr(getattr(bot, "context", None), "rules", None))
        except Exception:
            log.exception("The clear cues of a rate-limited message could not be read.")
            return False



# -- the server's connection limits ----------------------------------------------------------


@dataclass(frozen=True)
class HTTPLimits:
    """What one connection may take of the server (the settings of the same names, and their defaults)."""

    max_header_bytes: int = Settings.model_fields["max_header_bytes"].default
    header_timeout: float = Settings.model_fields["header_timeout"].default
    body_timeout: float = Settings.model_fields["body_timeout"].default
    max_connections_per_client: int = Settings.model_fields["max_connections_per_client"].default

    @classmethod
    def from_settings(cls, settings: Settings) -> HTTPLimits:
        return cls(
            max_header_bytes=settings.max_header_bytes,
            header_timeout=settings.header_timeout,
            body_timeout=settings.body_timeout,
            max_connections_per_client=settings.max_connections_per_client,
        )


class ConnectionGuard:
    """The limits of one server, and its open connections per client address.

    The app publishes its guard in its lifespan state (``GUARD_KEY``), where the server's
    protocol (``assistant.web.protocol``) finds it for every connection: the limits come
    from the app's own settings, in every worker process, with nothing to pass between them.
    """

    def __init__(self, limits: HTTPLimits) -> None:
        self.limits = limits
        self._open: Counter[str] = Counter()

    def admit(self, address: str) -> bool:
        """Count a new connection from ``address``; False (not counted) if it holds its share."""
        cap = self.limits.max_connections_per_client
        if cap and self._open[address] >= cap:
            return False
        self._open[address] += 1
        return True

    def release(self, address: str) -> None:
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]

    def open_connections(self, address: str) -> int:
        return self._open.get(address, 0)


GUARD_KEY = "assistant.connection_guard"


# -- the HTTP edge: small ASGI middlewares -------------------------------------------------


class HTTPOnly:
    """An ASGI middleware that acts on HTTP requests and passes anything else (lifespan) through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class SecurityHeaders(HTTPOnly):
    """Adds the security headers (and a default CSP) to every HTTP response."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
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


def host_name(header: str | None) -> str | None:
    """The host of a Host header, lower-case and without port or IPv6 brackets; None if malformed."""
    match = _HOST.match(header or "")
    if match is None:
        return None
    if match["ipv6"] is not None:
        try:
            return str(IPv6Address(match["ipv6"]))
        except AddressValueError:
            return None
    return match["name"].lower()


class HostCheck(TrustedHostMiddleware):
    """Starlette's check of the Host header, with refusals in the API's error shape.

    A request for a host name not in ``allowed_hosts`` (or with no Host header) is answered
    400 before anything else reads it, so no page, link or redirect is ever built from a name an
    attacker chose. Never redirects (Starlette's ``www_redirect`` is off). IPv6 addresses
    are compared without brackets, so "::1" allows ``Host: [::1]:8000``.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str]) -> None:
        super().__init__(app, allowed_hosts=[_bare(h) for h in allowed_hosts], www_redirect=False)

    def allows(self, host: str) -> bool:
        return self.allow_any or any(
            host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:]))
            for pattern in self.allowed_hosts
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = Headers(scope=scope).get("host")
        host = host_name(header)
        if host is not None and self.allows(host):
            await self.app(scope, receive, send)
            return
        # The operator's clue when a real name is missing from the setting (never echoed to the client).
        log.warning("Refused a request for host %r: not in allowed_hosts.", (header or "")[:100])
        message = (
            "The request has no Host header: send the server's name, as browsers do."
            if not header
            else "This server does not answer for that host name. Use the assistant's own address."
        )
        await error_response(400, message)(scope, receive, send)


def _bare(pattern: str) -> str:
    pattern = pattern.strip().lower()
    return pattern[1:-1] if pattern.startswith("[") and pattern.endswith("]") else pattern


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


class BodyLimit(HTTPOnly):
    """Refuses request bodies over ``max_bytes`` (413) before they are parsed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
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


class CatchAll(HTTPOnly):
    """The safety net: an unexpected error is logged in full and answered 500, generically.

    The app has one inside its middlewares. The server's protocol (``web/protocol.py``) puts an
    ``outermost`` one around the whole app: its 500 carries the security headers itself (the
    app's middlewares are inside it), an app that returns without answering gets the 500 too
    (uvicorn would write plain text), and an error after the answer began is passed on without
    logging it again (the app's own net did).
    """

    def __init__(self, app: ASGIApp, *, outermost: bool = False, headers: dict[str, str] | None = None) -> None:
        super().__init__(app)
        self.outermost = outermost
        self.headers = headers

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if not (started and self.outermost):
                log.exception("Unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
        else:
            if started or not self.outermost:
                return
        await error_response(500, GENERIC_500, self.headers)(scope, receive, send)


