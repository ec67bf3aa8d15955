"""Start real servers in subprocesses for measurements and tests, and stop them after.

``assistant serve`` (one or several workers), Streamlit and ``chroma run`` are
started the same way: on a free loopback port, with their output in a log file
(never a pipe, which a chatty server would fill and then block on), polled until
a URL answers 200. A server that exits or does not answer in time is a
``ServerFailed`` naming the command and the end of its log, so a failure says why
without a second run. Each server is started in its own session and stopped with
its whole process group, so uvicorn's workers or Streamlit's children never
outlive it.

Used by ``eval/load.py``, ``eval/load_workers.py`` and the browser and worker tests.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# Offline, and no telemetry: the servers must not try to reach the network.
QUIET_ENV = {"ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
# Each worker loads the model and the index; on a busy 2-core machine that is a minute.
ASSISTANT_START_SECONDS = 240.0
LOG_TAIL_CHARS = 4000


class ServerFailed(RuntimeError):
    """A server exited while starting, or did not answer in time (the message has its log)."""


@dataclass
class Server:
    """A started server: where it answers, its process and its log."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        """The end of the server's output (stdout and stderr together)."""
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError as exc:
            return f"(its log {self.log} cannot be read: {exc})"


def free_port() -> int:
    """A free TCP port on the loopback address (the servers here listen on 127.0.0.1 only)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_url(server: Server, url: str, *, timeout: float, name: str) -> None:
    """Poll ``url`` until it answers 200; ``ServerFailed`` if the server exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        code = server.process.poll()
        if code is not None:
            raise ServerFailed(
                f"{name} exited with code {code} before {url} answered. "
                f"The end of its log ({server.log}):\n{server.log_tail()}"
            )
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise ServerFailed(
                f"{name} did not answer {url} within {timeout:.0f} s. "
                f"The end of its log ({server.log}):\n{server.log_tail()}"
            )
        time.sleep(0.3)


def stop(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """Stop a server started here, with its children (its own process group): politely first."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        process.wait(timeout=5)


@contextmanager
def started(
    command: Sequence[str],
    *,
    ready: str,
    url: str,
    name: str,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    timeout: float = 60.0,
) -> Iterator[Server]:
    """Run ``command`` until the block ends, once ``ready`` (a URL) answers 200.

    ``env`` is added to this process's environment (plus ``QUIET_ENV``); the output
    goes to ``log`` (default: a kept temporary file, named in errors).
    """
    if log is None:
        with tempfile.NamedTemporaryFile(prefix="server-", suffix=".log", delete=False) as handle:
            log = Path(handle.name)
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(command),
            cwd=ROOT,
            env={**os.environ, **QUIET_ENV, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(url=url, process=process, log=log)
    try:
        wait_for_url(server, ready, timeout=timeout, name=name)
        yield server
    finally:
        stop(process)


@contextmanager
def assistant_server(
    *,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    timeout: float = ASSISTANT_START_SECONDS,
) -> Iterator[Server]:
    """``assistant serve --workers N`` on a free loopback port, ready when /health answers.

    Settings go in ``env`` as ``ASSISTANT_*`` variables (index folder, Chroma URL,
    rate limit...), exactly as a deployment gives them.
    """
    port = free_port()
    command = [
        sys.executable, "-m", "assistant.cli", "serve",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with started(
        command, ready=f"{url}/health", url=url, name="assistant serve", env=env, log=log,
        timeout=timeout,
    ) as server:  # fmt: skip
        yield server


def chroma_executable() -> Path:
    """The ``chroma`` command of the installed chromadb (next to this Python), else on PATH."""
    beside = Path(sys.executable).parent / "chroma"
    if beside.exists():
        return beside
    found = shutil.which("chroma")
    if found is None:
        raise ServerFailed(
            f"There is no 'chroma' command next to {sys.executable} or on PATH: "
            "install chromadb (pip install 'chromadb>=1,<2') in this environment."
        )
    return Path(found)


@contextmanager
def chroma_server(
    path: Path, *, log: Path | None = None, timeout: float = 60.0
) -> Iterator[Server]:
    """``chroma run --path PATH`` on a free loopback port, ready when its heartbeat answers."""
    port = free_port()
    command = [
        str(chroma_executable()), "run", "--path", str(path),
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with started(
        command, ready=f"{url}/api/v2/heartbeat", url=url, name="chroma run", log=log,
        timeout=timeout,
    ) as server:  # fmt: skip
        yield server
