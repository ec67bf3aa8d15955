"""Server-Sent Events for /api/chat/stream: ``ask_stream``'s pieces as ``token``/``done``/``error``.

Kept apart from api.py because once the first event is sent the status is 200 and
cannot change, so errors must become an ``error`` event in the same one shape.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Iterator
from typing import Any

from assistant.errors import InputError
from assistant.types import Reply
from assistant.web.edge import GENERIC_500
from assistant.web.errors import public_message
from assistant.web.models import error_body
from assistant.web.render import reply_body

# The API's logger name, kept when streaming moved out of api.py (log lines show it).
log = logging.getLogger("assistant.web.app")

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
