"""Run the web API with uvicorn: the one place that knows about the server process.

Kept apart from ``api.py`` so the app can be built and tested without starting a
server, and the server can be swapped (gunicorn with uvicorn workers, say)
without touching the app.

``run`` serves, in this process, an Assistant the caller has already loaded.
``run_workers`` starts several processes, each with its own Assistant (answering
is CPU-bound: threads of one process share one interpreter lock). uvicorn starts
them from an import string, so each builds its app with ``worker_app``, from the
environment; ``run_workers`` first exports the settings it was given as
``ASSISTANT_*`` variables, so every worker gets exactly those settings. The index
is built once, before the workers start, so N workers never race to build it;
they then all read the same index (the local folder, or a Chroma server) and
write feedback to the same database.

Every process switches to a new build in service by itself, in the background, with no
failed request (``live.LiveAssistant``, every ``index_check_seconds``); ``kill -HUP`` makes a
one-worker server look at once (``reload_on_hangup``) and the supervisor restart its workers.

Torch's threads are not set here: every process that loads the model embeds
questions with ``torch_threads`` threads (1 when automatic; ``embed.local``), so each
worker, given the settings, uses them as any other process does.
"""

from __future__ import annotations

import json
import logging
import os
import signal
from typing import TYPE_CHECKING, Any

from assistant.config import Settings, load_settings
from assistant.errors import ConfigError

if TYPE_CHECKING:
    from fastapi import FastAPI

# The process id is in every line: with several workers, the log says which one spoke.
LOG_FORMAT = "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s"
# uvicorn's supervisor pings each worker, replaces one that does not answer in time, and on
# SIGHUP waits this long for each new worker to load. Its default, 5 s, is too short here: a
# worker loads the model in 20-45 s on two busy cores, and one busy answering can miss a ping.
WORKER_HEALTHCHECK_SECONDS = 120


def run(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000, bot: Any = None) -> None:
    """Serve the API in this process until interrupted; ``bot`` is a loaded Assistant (else
    loaded at start-up).

    uvicorn trusts X-Forwarded-For only from the addresses in FORWARDED_ALLOW_IPS
    (default 127.0.0.1), so behind the council's reverse proxy the rate limit
    counts real users, and a client cannot pick its own address.
    """
    import uvicorn

    from assistant.web.app import create_app

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    _log_hosts(settings)
    app = create_app(settings, bot=bot, watch=True)
    reload_on_hangup(app.state.live)
    uvicorn.run(app, **server_options(host, port))


def reload_on_hangup(live: Any) -> None:
    """``kill -HUP`` loads the build in service again, in the background, and keeps serving.

    uvicorn handles SIGINT and SIGTERM only, so SIGHUP's default (ending the process) would
    stop a one-worker server. Under the multi-worker supervisor, uvicorn itself restarts the
    workers one by one on SIGHUP, each loading the build in service.
    """

    def handle(signum: int, frame: Any) -> None:
        logging.getLogger(__name__).info("SIGHUP: loading the index in service again.")
        live.reload()

    signal.signal(signal.SIGHUP, handle)


def run_workers(
    settings: Settings, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 2
) -> None:
    """Serve the API from ``workers`` processes until interrupted (this one supervises them).

    Build the index first (``Assistant.load`` once, as ``assistant serve`` does):
    workers that found it missing would each build it in turn. Each worker loads
    its own Assistant with ``settings``, passed to it through the environment.
    """
    import uvicorn

    if workers < 1:
        raise ConfigError(f"workers is {workers}: give 1 or more server processes.")
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    _log_hosts(settings)
    export_settings(settings)
    uvicorn.run(
        "assistant.web.serve:worker_app",
        factory=True,
        workers=workers,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        **server_options(host, port),
    )


def _log_hosts(settings: Settings) -> None:
    logging.getLogger(__name__).info(
        "Answering for the host names %s; requests for others get 400 (the allowed_hosts setting).",
        ", ".join(settings.allowed_hosts),
    )


# The HTTP/1.1 protocol with the app's header, timeout and connection limits (web/protocol.py).
PROTOCOL = "assistant.web.protocol:GuardedHttpProtocol"


def server_options(host: str, port: int) -> dict[str, Any]:
    """uvicorn's options for ``assistant serve`` (one process or several); tests serve with them too."""
    return {
        "host": host,
        "port": port,
        "http": PROTOCOL,
        "log_level": "info",
        "server_header": False,
        "date_header": False,
    }


def worker_app() -> FastAPI:
    """The app of one worker process: settings from the environment, Assistant loaded at start-up.

    uvicorn calls this (``assistant.web.serve:worker_app``, as a factory) in each worker
    started by ``run_workers``.
    """
    from assistant.web.app import create_app

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    return create_app(load_settings())


def settings_env(settings: Settings) -> dict[str, str]:
    """The ``ASSISTANT_*`` variables that make ``load_settings()`` return ``settings`` here.

    Only the settings that differ from what the environment and the council profile
    already give, so nothing (a password, say) is copied into the environment needlessly.
    Text is exported as is, everything else as JSON (which pydantic-settings reads
    for lists and objects, and which is the plain number for numbers).
    """
    inherited = load_settings()
    values = settings.model_dump(mode="json")
    env: dict[str, str] = {}
    for name in type(settings).model_fields:
        if getattr(settings, name) == getattr(inherited, name) or values[name] is None:
            continue
        value = values[name]
        env[f"ASSISTANT_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return env


def export_settings(settings: Settings) -> None:
    """Put ``settings`` into this process's environment, for the workers it starts.

    Checks the round trip: a setting the environment cannot carry (one that is unset
    here but set in the profile) stops the start with its name, rather than letting
    the workers run with other settings than this process.
    """
    os.environ.update(settings_env(settings))
    seen = load_settings()
    fields = type(settings).model_fields
    differ = [name for name in fields if getattr(seen, name) != getattr(settings, name)]
    if differ:
        raise ConfigError(
            f"The setting(s) {', '.join(differ)} cannot be passed to the worker processes "
            "through ASSISTANT_* variables: unset in this process, but set in the council "
            "profile or the environment. Give them a value, or remove them there."
        )
