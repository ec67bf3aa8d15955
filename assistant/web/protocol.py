"""The server's HTTP/1.1 protocol: uvicorn's httptools protocol, with limits of its own.

``assistant serve`` must be safe on one machine with no proxy in front, and uvicorn
alone is not: it reads headers of any size (ten half-sent 50 MB headers held 0.5 GB),
never times out a half-sent request (21,000 idle connections made /health fail), and
answers protocol errors in plain text. This subclass, given to uvicorn as ``http=``:

* refuses a request whose line and headers pass ``max_header_bytes`` (431), counting the
  bytes as they arrive, before the parser buffers them, so memory stays flat;
* closes a connection whose request line and headers are not in within ``header_timeout``
  (408, or silently if it sent nothing at all), and one whose body is not in within
  ``body_timeout`` (408);
* refuses a connection from an address that already holds ``max_connections_per_client``
  (429);
* answers every error it or uvicorn writes (a bad request line or header, 400; uvicorn's
  ``limit_concurrency``, 503; an app that fails before it answers, 500) in the API's error
  shape ``{"ok", "error", "status"}``.

The limits are the app's own settings: the app publishes a ``ConnectionGuard`` in its
lifespan state, which uvicorn hands to every connection (so each worker process reads its
own app's settings and nothing is passed between processes). An app that publishes none
gets the defaults.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from assistant.web.edge import GUARD_KEY, SECURITY_HEADERS, CatchAll, ConnectionGuard, HTTPLimits
from assistant.web.models import error_body, error_response

log = logging.getLogger(__name__)

BAD_REQUEST = "The request is not valid HTTP. Please try again from a browser or an HTTP library."
TOO_LARGE = "The request's headers are too large. Clear this site's cookies and try again."
TOO_SLOW = "The request took too long to arrive. Please try again."
TOO_MANY = "Too many connections from your address at once. Close some and try again in a minute."
BUSY = "The assistant is too busy just now. Please try again in a minute."
# The end of a request's head: a blank line (CRLF, or the bare LF the parser also accepts).
_HEAD_ENDS = (b"\r\n\r\n", b"\n\n")


_ERROR_HEADERS = {**SECURITY_HEADERS, "cache-control": "no-store", "connection": "close"}


async def _busy(scope: Any, receive: Any, send: Any) -> None:
    """uvicorn's ``limit_concurrency`` refusal, in the API's shape."""
    await error_response(503, BUSY, {**_ERROR_HEADERS, "retry-after": "60"})(scope, receive, send)


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header size, timeouts and a per-address connection cap."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.app = CatchAll(self.app, outermost=True, headers=_ERROR_HEADERS)
        self.guard: ConnectionGuard = app_state.setdefault(GUARD_KEY, ConnectionGuard(HTTPLimits()))
        self.limits = self.guard.limits
        self._address: str | None = None  # counted in the guard while the connection is open
        self._timer: asyncio.TimerHandle | None = None
        self._reset_head()

    def _reset_head(self) -> None:
        self._head_open = True  # waiting for (the rest of) a request line and headers
        self._head_started = False  # some of it has arrived
        self._head_bytes = 0
        self._tail = b""  # the last bytes seen, for a blank line split between two reads

    # -- the connection ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        address = self.client[0] if self.client else ""
        if not self.guard.admit(address):
            log.warning("Refused a connection from %s: it already holds %d.", address,
                        self.guard.open_connections(address))
            self._refuse(429, TOO_MANY, {"retry-after": "60"})
            return
        self._address = address
        self._arm(self.limits.header_timeout, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._address is not None:
            self.guard.release(self._address)
            self._address = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return  # refused: nothing more is read
        if self._head_open and not self._count_head(data):
            log.warning("Refused a request from %s: headers over %d bytes.", self._address,
                        self.limits.max_header_bytes)
            self._refuse(431, TOO_LARGE)
            return
        super().data_received(data)

    def _count_head(self, data: bytes) -> bool:
        """Count the bytes of the head in ``data``; False when the head passes the limit."""
        if not self._head_started:
            self._head_started = True
            if self._timer is None:  # a new request on a kept-alive connection
                self._arm(self.limits.header_timeout, self._head_timed_out)
        seen = self._tail + data
        ends = [seen.find(end) + len(end) for end in _HEAD_ENDS if end in seen]
        if ends:  # the head ends in this read (the parser then calls on_headers_complete)
            return self._head_bytes + min(ends) - len(self._tail) <= self.limits.max_header_bytes
        self._head_bytes += len(data)
        self._tail = seen[-3:]
        return self._head_bytes <= self.limits.max_header_bytes

    # -- parser callbacks ----------------------------------------------------------------------

    def on_headers_complete(self) -> None:
        self._disarm()
        self._head_open = False
        super().on_headers_complete()
        self._arm(self.limits.body_timeout, self._body_timed_out)

    def on_message_complete(self) -> None:
        self._disarm()
        self._reset_head()  # the next request's head; its timer starts with its first byte
        super().on_message_complete()

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        super()._start_asgi_task(cycle, _busy if app is service_unavailable else app)

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request the parser refuses (a bad request line, header...)."""
        self._refuse(400, BAD_REQUEST)

    # -- timeouts ----------------------------------------------------------------------------

    def _arm(self, seconds: float, handler: Any) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, handler)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _head_timed_out(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined request waits while the one before it is answered: not its fault.
            self._arm(self.limits.header_timeout, self._head_timed_out)
        elif self._head_started:
            log.info("Closed a connection from %s: its request's headers took over %.0f s.",
                     self._address, self.limits.header_timeout)
            self._refuse(408, TOO_SLOW)
        else:
            self.transport.close()  # connected and sent nothing: a preconnect, or an attack

    def _body_timed_out(self) -> None:
        self._timer = None
        cycle = self.cycle
        if self.transport.is_closing() or cycle is None or not cycle.more_body:
            return
        log.info("Closed a connection from %s: its request's body took over %.0f s.",
                 self._address, self.limits.body_timeout)
        if cycle.response_started:
            self.transport.close()
            return
        # The app, waiting in receive(), now hears a disconnect, and anything it sends is dropped.
        cycle.disconnected = True
        cycle.message_event.set()
        self._refuse(408, TOO_SLOW)

    # -- answers written here ------------------------------------------------------------------

    def _refuse(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        """Write one error in the API's shape and close the connection."""
        if self.transport.is_closing():
            return
        body = json.dumps(error_body(status, message)).encode()
        fields = {
            "content-type": "application/json",
            "content-length": str(len(body)),
            **(headers or {}),
            **_ERROR_HEADERS,
        }
        head = [STATUS_LINE[status]]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head += [f"{name}: {value}\r\n".encode("latin-1") for name, value in fields.items()]
        self.transport.write(b"".join([*head, b"\r\n", body]))
        self.transport.close()


__all__ = ["GuardedHttpProtocol"]
