"""The HTTP server on its own: header size, timeouts, connections per address, host names.

A real uvicorn server on 127.0.0.1, configured as ``assistant serve`` configures it
(``server_options``), with the session's assistant; raw sockets send what no HTTP library
would (half-sent and oversized headers, idle connections, bad request lines), httpx the rest.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from assistant.config import Settings
from assistant.web.app import create_app
from assistant.web.edge import GENERIC_500
from assistant.web.serve import server_options
from eval.servers import free_port

DEFAULT_HOSTS = Settings.model_fields["allowed_hosts"].default_factory()  # type: ignore[misc]
LIMITS = {"max_header_bytes": 16_384, "header_timeout": 1.0, "body_timeout": 1.5, "max_connections_per_client": 6}


@dataclass
class Live:
    url: str
    port: int
    server: uvicorn.Server


@contextmanager
def live_server(bot, **overrides) -> Iterator[Live]:
    """The app served by uvicorn in a thread, as ``assistant serve`` serves it."""
    settings = bot.settings.model_copy(update={"allowed_hosts": DEFAULT_HOSTS, **LIMITS, **overrides})
    with serve(create_app(settings, bot=bot)) as live:
        yield live


@contextmanager
def serve(app, **options) -> Iterator[Live]:
    port = free_port()
    options = server_options("127.0.0.1", port) | {"log_level": "warning", **options}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.05)
    try:
        yield Live(f"http://127.0.0.1:{port}", port, server)
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def live(bot):
    with live_server(bot) as server:
        yield server


def connect(live: Live, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", live.port), timeout=10, source_address=(source, 0))
    return sock


def read_all(sock: socket.socket, timeout: float = 10) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def parse(raw: bytes) -> tuple[int, dict[str, str], dict]:
    """Status, headers and JSON body of one raw HTTP response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, json.loads(body)


def assert_error(raw: bytes, status: int) -> dict[str, str]:
    """The response is the API's error shape with this status, on a closed connection."""
    code, headers, body = parse(raw)
    assert code == status, raw[:300]
    assert headers["content-type"] == "application/json" and headers["connection"] == "close"
    assert headers["x-content-type-options"] == "nosniff"
    assert body["ok"] is False and body["status"] == status and body["error"].endswith(".")
    return headers


def health(live: Live, source: str = "127.0.0.1") -> int:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=10) as client:
        return client.get(f"{live.url}/health").status_code


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


# -- request line and headers -------------------------------------------------------------


def test_headers_over_the_limit_are_refused_with_431_before_they_are_read(live):
    """Ten connections each sending 8 MB of one header: each refused at ~16 KiB, memory flat.

    Before the limit, uvicorn buffered every byte: ten half-sent 50 MB headers held 0.5 GB.
    """
    before = rss_bytes()
    sockets, refused = [], []
    for _ in range(10):
        sock = connect(live)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        sent = 0
        try:
            while sent < 8_000_000:
                sock.sendall(b"a" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
        refused.append(sent)
        sockets.append(sock)
    grown = rss_bytes() - before
    for sock in sockets:
        assert_error(read_all(sock), 431)
        sock.close()
    assert max(refused) < 8_000_000, "the server read the whole header"
    assert grown < 40_000_000, f"memory grew by {grown / 1e6:.0f} MB"
    assert health(live) == 200


def test_the_default_limit_is_16_kib(bot):
    """Served with the default settings: a 17 KiB header is refused, a 15 KiB one served."""
    with serve(create_app(bot.settings, bot=bot)) as live:
        answers = []
        for size in (17 * 1024, 15 * 1024):
            sock = connect(live)
            head = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fill: " + b"a" * size
            sock.sendall(head + b"\r\nConnection: close\r\n\r\n")
            answers.append(parse(read_all(sock))[0])
    assert answers == [431, 200]


def test_headers_under_the_limit_are_served(live):
    sock = connect(live)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Fill: " + b"a" * 15_000 + b"\r\nConnection: close\r\n\r\n")
    code, _, body = parse(read_all(sock))
    assert code == 200 and body["ok"] is True


def test_a_header_split_between_reads_is_counted_whole(live):
    """The limit counts the head across reads: 12 reads of 2 KiB make 24 KiB, refused."""
    sock = connect(live)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    try:
        for i in range(12):
            sock.sendall(f"X-Part-{i}: ".encode() + b"b" * 2048 + b"\r\n")
            time.sleep(0.02)
        sock.sendall(b"\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert_error(read_all(sock), 431)


def test_pipelined_and_kept_alive_requests_still_work(live):
    sock = connect(live)
    request = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    sock.sendall(request * 2)
    time.sleep(0.5)
    sock.sendall(request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
    raw = read_all(sock)
    assert raw.count(b"HTTP/1.1 200 OK") == 3


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"NOT A REQUEST\r\n\r\n",
        b"GET /health HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n",
        b"POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n",
    ],
)
def test_protocol_errors_answer_400_in_the_api_shape(live, request_bytes):
    sock = connect(live)
    sock.sendall(request_bytes)
    assert_error(read_all(sock), 400)


# -- timeouts -------------------------------------------------------------------------------


def test_a_half_sent_request_is_timed_out_with_408(live):
    sock = connect(live)
    started = time.monotonic()
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    assert_error(read_all(sock), 408)
    assert LIMITS["header_timeout"] - 0.1 < time.monotonic() - started < LIMITS["header_timeout"] + 2


def test_a_slowly_sent_head_is_timed_out_from_its_first_byte(live):
    """Sending a byte now and then does not keep a head open past header_timeout."""
    sock = connect(live)
    started = time.monotonic()
    try:
        for byte in b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n":
            sock.send(bytes([byte]))
            time.sleep(0.1)
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert_error(read_all(sock), 408)
    assert time.monotonic() - started < LIMITS["header_timeout"] + 2


def test_a_connection_that_sends_nothing_is_closed(live):
    sock = connect(live)
    started = time.monotonic()
    assert read_all(sock) == b""
    assert time.monotonic() - started < LIMITS["header_timeout"] + 2


def test_a_half_sent_body_is_timed_out_with_408(live):
    sock = connect(live)
    started = time.monotonic()
    sock.sendall(
        b"POST /api/feedback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 200\r\n\r\n{\"question\": "
    )
    assert_error(read_all(sock), 408)
    assert LIMITS["body_timeout"] - 0.1 < time.monotonic() - started < LIMITS["body_timeout"] + 2
    assert health(live) == 200


def test_a_slow_answer_is_not_timed_out(live):
    """The timeouts cover what the client sends: a long answer (a streamed chat) runs its course."""
    with httpx.Client(timeout=60) as client:
        response = client.post(f"{live.url}/api/chat/stream", json={"message": "Can I get help with rent?"})
    assert response.status_code == 200 and "event: done" in response.text


# -- connections per address --------------------------------------------------------------


def test_idle_connections_from_one_address_cannot_starve_others(live):
    """An address holding its share is refused 429; others (and it, once they close) are served."""
    held = [connect(live) for _ in range(LIMITS["max_connections_per_client"])]
    time.sleep(0.2)
    extra = connect(live)
    headers = assert_error(read_all(extra), 429)
    assert headers["retry-after"].isdigit()
    assert health(live, source="127.0.0.2") == 200  # another address is served meanwhile
    for sock in held:
        sock.close()
    time.sleep(0.3)
    assert health(live) == 200


def test_held_connections_are_released_by_the_timeout(live):
    """Idle connections close after header_timeout, so the address gets its share back."""
    held = [connect(live) for _ in range(LIMITS["max_connections_per_client"])]
    time.sleep(LIMITS["header_timeout"] + 0.5)
    assert health(live) == 200
    assert all(read_all(sock, timeout=2) == b"" for sock in held)


def test_uvicorn_concurrency_limit_answers_503_in_the_api_shape(bot):
    with live_server(bot, max_connections_per_client=0) as live:
        live.server.config.limit_concurrency = 1  # read by each new connection
        held = connect(live)
        time.sleep(0.2)
        sock = connect(live)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        raw = read_all(sock)
        held.close()
    assert_error(raw, 503)


def test_an_app_that_fails_before_answering_gets_a_json_500():
    """The server's last resort, outside every middleware of the app: never uvicorn's plain text."""

    async def broken(scope, receive, send):
        raise RuntimeError("failed reading /srv/assistant/secret.toml")

    async def silent(scope, receive, send):
        return None

    for app in (broken, silent):
        with serve(app, lifespan="off") as live:
            response = httpx.get(f"{live.url}/health")
        assert response.status_code == 500 and response.headers["content-type"] == "application/json"
        assert response.json() == {"ok": False, "status": 500, "error": GENERIC_500}


# -- host names ---------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_the_default_hosts_are_served(live, host):
    response = httpx.get(f"{live.url}/health", headers={"Host": f"{host}:{live.port}"})
    assert response.status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "localhost.evil.example", "127.0.0.1@evil.example", "testserver"])
def test_other_hosts_are_refused_in_the_api_shape(live, host):
    for path in ("/health", "/api/chat/", "/api/contacts", "/demo"):
        response = httpx.post(f"{live.url}{path}", headers={"Host": host}, json={"message": "rent?"})
        assert response.status_code == 400, (path, response.text)
        assert response.json() == {
            "ok": False,
            "status": 400,
            "error": "This server does not answer for that host name. Use the assistant's own address.",
        }
        assert "location" not in response.headers and "evil" not in response.text


def test_a_request_without_host_is_refused(live):
    sock = connect(live)
    sock.sendall(b"GET /health HTTP/1.0\r\n\r\n")
    code, _, body = parse(read_all(sock))
    assert code == 400 and "no Host header" in body["error"]


def test_a_trailing_slash_is_a_json_404_never_a_redirect(live):
    response = httpx.post(f"{live.url}/api/chat/", json={"message": "rent?"}, follow_redirects=False)
    assert response.status_code == 404 and "location" not in response.headers
    assert response.json() == {"ok": False, "status": 404, "error": "There is nothing at this address."}


def test_allowed_hosts_takes_names_and_sub_domains(bot):
    settings = bot.settings.model_copy(update={"allowed_hosts": ["assistant.example.gov.uk", "*.council.example"]})
    client = TestClient(create_app(settings, bot=bot))
    assert client.get("/health", headers={"Host": "assistant.example.gov.uk"}).status_code == 200
    assert client.get("/health", headers={"Host": "chat.council.example:443"}).status_code == 200
    assert client.get("/health", headers={"Host": "localhost"}).status_code == 400
    assert client.get("/health").status_code == 400  # "testserver", allowed only by the tests' settings


def test_a_bad_host_pattern_is_a_setting_error():
    from assistant.config import load_settings
    from assistant.errors import ConfigError

    with pytest.raises(ConfigError, match=r"allowed_hosts.*\*\.example\.gov\.uk"):
        load_settings(allowed_hosts=["assistant.*.gov.uk"])


# -- the feedback store under a running server ----------------------------------------------


def test_feedback_recovers_when_its_folder_is_deleted_and_when_it_comes_back(bot, tmp_path):
    """Deleted while serving, the folder is made again; put back empty, it is used again."""
    import shutil

    from assistant.feedback import FeedbackStore

    folder = tmp_path / "served"
    body = {"question": "Can I get help with rent?", "answer": "Yes [1]", "rating": 1}
    with live_server(bot, feedback_db=folder / "fb.sqlite3") as live, httpx.Client(timeout=10) as client:
        post = lambda: client.post(f"{live.url}/api/feedback", json=body).status_code  # noqa: E731
        assert post() == 200
        shutil.rmtree(folder)
        assert [post() for _ in range(4)] == [200] * 4
        shutil.rmtree(folder)
        folder.mkdir()  # an operator puts the folder back, empty
        assert [post() for _ in range(4)] == [200] * 4
    assert len(FeedbackStore(folder / "fb.sqlite3").recent()) == 4
