"""The app's long-lived objects: settings, the embedding model, the Assistant, the stores.

The model and the loaded index are expensive, so they are cached for the whole
server process (``st.cache_resource``) and shared by every visitor. Building
the index is *not* done inside a cached call: on a first run it happens in
front of the visitor with a progress bar, then the cached load finds it ready.
The Assistant is a ``LiveAssistant``: after a staff rebuild (or one by any other process) it
loads the new build in the background and switches between runs, with no restart and no
error; if a rebuild failed, it keeps answering from the last good build and says why.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import streamlit as st

from assistant import Assistant, Settings, gaps, load_settings
from assistant.embed import make_embedder
from assistant.errors import AssistantError
from assistant.feedback import FeedbackStore
from assistant.gaps import GapLog, Reason
from assistant.handoff import RequestStore
from assistant.index import Progress, in_service
from assistant.live import LiveAssistant
from assistant.service import IndexWarning
from assistant.staff import Lockout, StaffStore
from assistant.text.redact import redact

from . import messages, render

log = logging.getLogger("ui")


def settings() -> Settings:
    """Settings as the deployment defines them (council.toml + ASSISTANT_* variables), read per run
    so a test or an operator changing a variable is seen without a restart."""
    return load_settings()


def embedder(model: str) -> Any:
    """The embedding model, loaded once per process (a few seconds; never downloaded), embedding
    questions with the ``torch_threads`` setting's threads (1 when automatic), and a rebuild's
    documents with ``ingest_threads`` (every core when automatic)."""
    s = settings()
    return _embedder(model, s.torch_threads, s.ingest_threads, s.model_copy(update={"embedding_model": model}))


@st.cache_resource(show_spinner=messages.LOADING)
def _embedder(model: str, threads: int, ingest_threads: int, _settings: Settings) -> Any:
    return make_embedder(_settings)


@st.cache_resource(show_spinner=False)
def _build_lock() -> threading.Lock:
    """One index build at a time in this process, however many visitors arrive together."""
    return threading.Lock()


@st.cache_resource(show_spinner=messages.LOADING, max_entries=2)
def _live(key: str, _settings: Settings, _embedder: Any) -> LiveAssistant:
    """The process's Assistant, switched to each new build in the background (assistant/live.py)."""
    return LiveAssistant(_settings, embedder=_embedder).start()


def progress_reporter(bar: Any) -> Progress:
    """A build progress callback that moves a Streamlit progress bar."""

    def report(stage: str, done: int, total: int) -> None:
        label, fraction = render.stage_text(stage, done, total)
        bar.progress(fraction, text=label)

    return report


def assistant(s: Settings) -> Assistant:
    """The Assistant over the build in service, building the first index (visibly) if there is none.

    Later builds are switched to in the background, between runs, with no reload of the page;
    if the corpus changed and the rebuild failed, the last good build answers (``warnings``).
    """
    return live_assistant(s).bot


def live_assistant(s: Settings) -> LiveAssistant:
    """The process's LiveAssistant for these settings (its ``warnings`` are for the staff page)."""
    model = embedder(s.embedding_model)
    if not _has_index(s):
        with _build_lock():
            if not _has_index(s):  # another visitor may have just built it
                with st.status(messages.BUILDING, expanded=True) as status:
                    bar = st.progress(0.0, text=messages.BUILDING)
                    try:
                        Assistant.ingest(s, embedder=model, progress=progress_reporter(bar))
                    except BaseException:
                        status.update(state="error", expanded=False)
                        raise
                    status.update(label=messages.BUILD_DONE, state="complete", expanded=False)
    public = s.model_dump_json(exclude={"staff_password", "staff_api_token", "llm_api_key", "smtp_password"})
    return _live(public, s, model)


def switch_now(s: Settings) -> None:
    """After a staff rebuild: answer from the new build from the next run on (no waiting for the check)."""
    try:
        live_assistant(s).refresh()
    except Exception as exc:  # the watcher will try again; the old build keeps answering
        log_error("switching to the new index", exc)


def index_warnings(s: Settings) -> list[IndexWarning]:
    """Why the assistant answers from another build than the corpus asks for (staff page)."""
    try:
        return live_assistant(s).warnings
    except Exception as exc:  # the page says the load failed already
        log_error("index warnings", exc)
        return []


def _has_index(s: Settings) -> bool:
    try:
        return in_service(s) is not None
    except AssistantError:  # a damaged pointer: the last good build is found on load
        return True


def current_assistant() -> Assistant | None:
    """The loaded Assistant (for a widget callback, which is not given one), or None if it can't be had."""
    try:
        return assistant(settings())
    except Exception as exc:
        log_error("loading the assistant", exc)
        return None


def feedback_store(source: Settings | str) -> FeedbackStore:
    """The feedback store of these settings (``feedback_url``, else the file ``feedback_db``),
    or of a database URL or file path given directly."""
    if isinstance(source, Settings):
        return _feedback_store(source.feedback_database, source.feedback_retention_days)
    return _feedback_store(source)


@st.cache_resource(show_spinner=False)
def _feedback_store(database: str, retention_days: int | None = None) -> FeedbackStore:
    """One store per database, shared by all visitors. It connects only when used, so a
    database that is down refuses feedback for a while without breaking the chat."""
    return FeedbackStore(database, retention_days=retention_days)


def gap_log(s: Settings) -> GapLog:
    """The gap log of these settings (in the feedback database), shared by all visitors."""
    return _gap_log(s.feedback_database, s.gap_examples, s.retention_days)


@st.cache_resource(show_spinner=False)
def _gap_log(database: str, examples: bool, retention_days: int) -> GapLog:
    return GapLog(database, examples=examples, retention_days=retention_days)


def note_gap(bot: Assistant, question: str, reason: Reason, audience: str) -> None:
    """Count a declined or unhelpful question for the staff page's gap report; never fails the chat."""
    try:
        gaps.note(gap_log(bot.settings), bot, question, reason, audience)
    except Exception as exc:  # a store that cannot even be built: the answer stands
        log_error("gap log", exc)


def request_store(s: Settings) -> RequestStore:
    """The store of young people's requests to a person, in the same database as feedback."""
    return _request_store(s.feedback_database)


@st.cache_resource(show_spinner=False)
def _request_store(database: str) -> RequestStore:
    """One store per database, shared by all visitors (it connects only when used)."""
    return RequestStore(database)


def staff_store(s: Settings) -> StaffStore:
    """Staff accounts, sign-in counters and the audit log, in the same database as feedback."""
    return _staff_store(s.feedback_database, Lockout.from_settings(s), s.staff_min_password_length)


@st.cache_resource(show_spinner=False)
def _staff_store(database: str, lockout: Lockout, min_password_length: int) -> StaffStore:
    return StaffStore(database, lockout=lockout, min_password_length=min_password_length)


def client_address(s: Settings) -> str:
    """The visitor's address for the sign-in lockout and the audit log.

    ``st.context.ip_address`` (Streamlit 1.45 and later) is the WebSocket peer's address; behind
    a reverse proxy that is the proxy, so ``staff_client_header`` names the header the proxy
    sets (its last address is the one the proxy saw). Streamlit gives no address for a visitor
    on localhost, and older versions none at all: those are "local" and "unknown", each one
    address for the lockout, so guessing from them is still counted.
    """
    context = getattr(st, "context", None)
    if s.staff_client_header and context is not None:
        try:
            header = context.headers.get(s.staff_client_header)
        except Exception:  # no request to read (AppTest)
            header = None
        forwarded = header.split(",")[-1].strip() if isinstance(header, str) else ""
        if forwarded:
            return forwarded
    if context is None or not hasattr(type(context), "ip_address"):
        return "unknown"  # a Streamlit too old to say
    try:
        address = context.ip_address
    except Exception:  # no connection to ask
        return "unknown"
    if address is None:
        return "local"
    return address if isinstance(address, str) and address else "unknown"  # AppTest gives a stand-in


def log_error(where: str, exc: BaseException) -> None:
    """Log what went wrong for the operator, redacted: messages can echo what someone typed."""
    log.error("%s failed: %s: %s", where, type(exc).__name__, redact(str(exc)))
