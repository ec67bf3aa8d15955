"""Run the web API with uvicorn: the one place that knows about the server process.

Kept apart from ``api.py`` so the app can be built and tested without starting a
server, and the server can be swapped (gunicorn with uvicorn workers, say)
without touching the app.
"""

from __future__ import annotations

import logging
from typing import Any

from .config import Settings


def run(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000, bot: Any = None) -> None:
    """Serve the API until interrupted; ``bot`` is a loaded Assistant (else loaded at start-up).

    uvicorn trusts X-Forwarded-For only from the addresses in FORWARDED_ALLOW_IPS
    (default 127.0.0.1), so behind the council's reverse proxy the rate limit
    counts real users, and a client cannot pick its own address.
    """
    import uvicorn

    from .api import create_app

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(settings, bot=bot)
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False, date_header=False)
