"""The web API's pages: the widget's files, the demo page, and the API docs with their own CSP.

Kept apart from api.py, which serves JSON: these routes serve files and HTML, are
left out of the OpenAPI schema, and /docs needs a looser Content-Security-Policy.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response

from assistant.web.edge import WIDGET_DIR
from assistant.web.models import HTTP_MESSAGES, error_response


def add_page_routes(app: FastAPI) -> None:
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
