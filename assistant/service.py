"""``Assistant``: the facade that wires settings, index, retrieval, planning and a writer together.

A turn is ``plan_turn`` (the named steps in ``answer/plan.py``) and then the writer
(``writers/``): ``ask`` writes the plan whole, ``ask_stream`` streams the same plan, and
``explain`` writes it whole and says why (``explain.py``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from assistant.answer.context import AnswerContext
from assistant.answer.guard import assess
from assistant.answer.plan import Plan, plan_turn
from assistant.answer.risk import Risk
from assistant.config import Settings, load_settings
from assistant.embed import Embedder, make_embedder
from assistant.errors import AssistantError, IndexBuildError
from assistant.explain import Explanation
from assistant.index import (
    BuildReport,
    Progress,
    StoredIndex,
    build_index,
    fingerprint,
    in_service,
    index_store,
    is_current,
    open_index,
    try_file_lock,
)
from assistant.retrieve.search import QueryVectors, Retriever
from assistant.rules import Rules, load_rules
from assistant.text.glossary import Glossary, load_glossary
from assistant.types import Chunk, Passage, Reply
from assistant.writers import Writer, make_writer, write_checked

log = logging.getLogger(__name__)
# The lock staff corpus changes hold (admin.py) while they write the corpus and rebuild.
CORPUS_LOCK = ".corpus.lock"


@dataclass(frozen=True)
class IndexWarning:
    """The assistant answers from another build than the corpus asks for: why, for staff.

    ``stale``: the corpus changed and the rebuild failed (``file`` is the corpus file at fault,
    if known); ``damaged``: the build in service cannot be read (``file`` is that build's name),
    and it is rebuilt from the corpus in the background. Either way ``build`` keeps answering.
    """

    kind: Literal["stale", "damaged"]
    build: str  # the build answering meanwhile: the last good one
    file: str | None
    reason: str
    corpus_state: str = ""  # stale: the corpus (``corpus_state``) whose build failed

    @property
    def message(self) -> str:
        if self.kind == "stale":
            where = f" ({self.file})" if self.file else ""
            return (
                f"The corpus changed but the index could not be rebuilt{where}: {self.reason} "
                f"Answers still come from the last good index, {self.build}. Fix the file, then rebuild."
            )
        return (
            f"{self.reason} It is being rebuilt from the corpus in the background; meanwhile answers come "
            f"from the last good index, {self.build}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "build": self.build, "file": self.file, "reason": self.reason,
                "message": self.message}


def problem_file(exc: BaseException) -> str | None:
    file = getattr(exc, "file", None)
    return str(file) if file else None


def corpus_fingerprint(settings: Settings) -> str:
    """The fingerprint the corpus asks for, or "" when it cannot be read (a broken manifest)."""
    try:
        return fingerprint(settings)
    except (AssistantError, OSError):
        return ""


def corpus_state(settings: Settings) -> str:
    """The fingerprint plus every file in the corpus folder (name, size, time): a build that failed
    for this state fails again, so it is tried again only when the state changes. The fingerprint
    alone misses a stray file, which fails a build but is not part of any index."""
    digest = hashlib.sha256(corpus_fingerprint(settings).encode())
    with contextlib.suppress(OSError):
        for path in sorted(settings.corpus_path.iterdir()):
            info = path.stat()
            digest.update(f"{path.name}:{info.st_size}:{info.st_mtime_ns};".encode())
    return digest.hexdigest()


def rebuild_in_background(
    settings: Settings,
    embedder: Embedder,
    *,
    force: bool,
    done: Callable[[BaseException | None], None] = lambda exc: None,
) -> threading.Thread:
    """Rebuild the index in a thread; ``done`` gets None, or the error the build failed with.

    ``done`` is called only when a build was tried.

    It waits for no one: while staff change the corpus (they hold ``CORPUS_LOCK`` and rebuild
    themselves) it does nothing. Unless ``force`` (a damaged build), an index already current
    is not built again, so several workers noticing the same change build it once.
    """

    def run() -> None:
        with try_file_lock(settings.index_path, CORPUS_LOCK) as mine:
            if not mine or not (force or not _is_current(settings)):
                return  # staff are changing the corpus, or it is built already: nothing to do
            error: BaseException | None = None
            try:
                report = build_index(settings, embedder)
                log.info("Rebuilt the index in the background: %s", report.name)
            except AssistantError as exc:
                error = exc
                log.warning("The background rebuild of the index failed: %s", exc)
            except Exception as exc:  # never a traceback from a background thread
                error = IndexBuildError(f"The index could not be rebuilt: {type(exc).__name__}: {exc}")
                log.warning("%s", error)
        done(error)

    thread = threading.Thread(target=run, name="index-rebuild", daemon=True)
    thread.start()
    return thread


def _is_current(settings: Settings) -> bool:
    try:
        return is_current(settings)
    except (AssistantError, OSError):  # a damaged pointer or manifest: not current
        return False


def open_last_good(
    settings: Settings, embedder: Embedder, name: str | None = None
) -> tuple[StoredIndex, IndexWarning | None]:
    """Open the build ``name`` (default: in service); if it is damaged, the newest build that opens.

    The warning names the damaged build and the fix. IndexBuildError when no build opens.
    """
    try:
        return open_index(settings, embedder, name), None
    except IndexBuildError as exc:
        damaged, error = name, exc
    if damaged is None:
        serving = in_service_or_none(settings)
        damaged = serving.name if serving else None
    builds: list[str] = getattr(index_store(settings), "builds", list)()
    for other in builds:
        if other == damaged:
            continue
        try:
            index = open_index(settings, embedder, other)
        except IndexBuildError:
            continue
        warning = IndexWarning("damaged", index.name, damaged, str(error))
        log.warning(warning.message)
        return index, warning
    raise error


@dataclass
class Assistant:
    """The assistant over one council's documents. Build with ``Assistant.load()``.

    ``writer`` defaults to the one ``settings.llm_backend`` names (``writers.WRITERS``).
    """

    settings: Settings
    embedder: Embedder
    index: StoredIndex
    glossary: Glossary
    writer: Writer | None = None
    rules: Rules | None = None  # default: the shipped rules, extended by the corpus folder's rules.toml
    load_seconds: float = 0.0
    # Why this is not the index the corpus asks for (a failed rebuild, a damaged build), if so.
    warnings: list[IndexWarning] = field(default_factory=list)
    rebuilding: threading.Thread | None = None  # the background rebuild of a damaged build
    retriever: Retriever = field(init=False, repr=False)
    context: AnswerContext = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.rules is None:
            self.rules = load_rules(self.settings.corpus_path)
        self.retriever = Retriever(self.settings, self.embedder, self.index, self.glossary, self.rules)
        self.context = AnswerContext(self.settings, self.retriever, self.glossary)
        if self.writer is None:
            self.writer = make_writer(self.settings)

    @classmethod
    def load(
        cls,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        progress: Progress | None = None,
        rebuild: bool = False,
        skip_bad: bool = False,
    ) -> Assistant:
        """Open the index (local folder or Chroma server), building it first if missing or stale.

        The last good index is always served. If the corpus changed and the rebuild fails, the
        build in service is opened, with a ``stale`` warning naming the file and the reason
        (only an explicit ``rebuild`` fails). If the build in service is damaged, the newest
        build that opens answers, with a ``damaged`` warning, while ``rebuilding`` rebuilds it
        from the corpus in the background; with no build to fall back on it is rebuilt here.
        """
        started = time.perf_counter()
        settings = settings or load_settings()
        if embedder is None:
            embedder = make_embedder(settings)
        kwargs = {"progress": progress} if progress else {}
        warnings: list[IndexWarning] = []
        built: str | None = None  # the build made here, loaded even if another is switched in since
        if rebuild or not _is_current(settings):
            try:
                built = build_index(settings, embedder, skip_bad=skip_bad, **kwargs).name
            except AssistantError as exc:
                serving = None if rebuild else in_service_or_none(settings)
                if serving is None:
                    raise
                warnings.append(IndexWarning("stale", serving.name, problem_file(exc), str(exc),
                                             corpus_state(settings)))
                log.warning(warnings[-1].message)
        try:
            index, damaged = open_last_good(settings, embedder, built)
        except IndexBuildError as exc:
            if built is not None:
                raise
            log.warning("%s Rebuilding it now.", exc)
            built = build_index(settings, embedder, skip_bad=skip_bad, **kwargs).name
            index, damaged = open_index(settings, embedder, built), None
        bot = cls(settings, embedder, index, load_glossary(settings.corpus_path))
        # A stale warning names the build answering, which may be the fallback of a damaged one.
        warnings = [dataclasses.replace(w, build=index.name) for w in warnings]
        if damaged is not None:
            warnings.append(damaged)
            if not any(w.kind == "stale" for w in warnings):  # else the rebuild just failed already
                bot.rebuilding = rebuild_in_background(settings, embedder, force=True)
        bot.warnings = warnings
        bot.load_seconds = time.perf_counter() - started
        return bot

    def close(self) -> None:
        """Release the loaded index (its private copy and lease); this Assistant cannot search after."""
        self.index.close()

    @staticmethod
    def ingest(
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        skip_bad: bool = False,
        progress: Progress | None = None,
    ) -> BuildReport:
        """Build a fresh index (folder or Chroma server) and switch to it atomically."""
        settings = settings or load_settings()
        if embedder is None:
            embedder = make_embedder(settings)
        kwargs = {"progress": progress} if progress else {}
        return build_index(settings, embedder, skip_bad=skip_bad, **kwargs)

    # -- retrieval -----------------------------------------------------------------

    def search(self, query: str, k: int | None = None, *, prefer: str | None = None,
               documents: set[str] | None = None) -> list[Passage]:
        """Hybrid search: dense (Chroma) + BM25, fused by RRF, current documents preferred.

        ``prefer`` forces "past" or "current" preference; ``documents`` restricts results.
        """
        return self.retriever.search(query, k, prefer=prefer, documents=documents)

    def chunk(self, chunk_id: str) -> Chunk:
        """The indexed chunk a passage or citation names (KeyError for an unknown id)."""
        return self.index.chunks[self.retriever.chunk_pos[chunk_id]]

    def documents(self) -> list[dict[str, Any]]:
        """What is indexed: id, title, status and chunk count per document."""
        return self.retriever.documents()

    # -- answering -------------------------------------------------------------------

    def plan(self, question: str, history: list[dict[str, str]] | None = None,
             audience: str = "care_leaver") -> Plan:
        """How this message would be answered, decided, with no text written (see answer/plan.py).

        At most ``answer_concurrency`` turns are planned at once in a process; others wait.
        """
        with turn_slots(self.settings.answer_concurrency):
            return plan_turn(self.context, question, history or [], audience)

    def risk(self, message: str) -> Risk:
        """How much a message reads like a crisis (clear cues, then meaning): no search, no index."""
        ctx = self.context
        return assess(message, ctx.rules, ctx.risk_model, QueryVectors(self.embedder))

    def ask(self, question: str, history: list[dict[str, str]] | None = None, audience: str = "care_leaver") -> Reply:
        """Answer one message."""
        assert self.writer is not None
        return self.writer.write(self.plan(question, history, audience), self.context)

    def explain(
        self, question: str, history: list[dict[str, str]] | None = None, audience: str = "care_leaver"
    ) -> tuple[Reply, Explanation]:
        """Answer one message as ``ask`` does, and explain why: for staff (see explain.py).

        The Reply is the one ``ask`` gives. Explaining adds one search of the standalone question
        with every candidate's scores (``Retriever.explain_ranking``), which ``ask`` never runs.
        """
        assert self.writer is not None
        plan = self.plan(question, history, audience)
        reply, verdict = write_checked(self.writer, plan, self.context)
        searched = any(step == "retrieve" for step, _ in plan.steps)
        ranking = self.retriever.explain_ranking(plan.standalone) if searched else None
        return reply, Explanation.build(plan, reply, ranking, verdict, self.context)

    def ask_stream(
        self, question: str, history: list[dict[str, str]] | None = None, audience: str = "care_leaver"
    ) -> Iterator[str | Reply]:
        """Answer one message in pieces of text, then the final Reply."""
        assert self.writer is not None
        plan = self.plan(question, history, audience)
        yield from self.writer.stream(plan, self.context)


@functools.cache
def turn_slots(setting: int) -> threading.BoundedSemaphore | contextlib.nullcontext[None]:
    """The turns one process plans at once (the ``answer_concurrency`` setting; 0: no limit).

    One per process and setting, shared by every ``Assistant`` in it: a hot swap loads a new one
    while the old one finishes its turns, and both draw on the same slots.
    """
    return threading.BoundedSemaphore(setting) if setting else contextlib.nullcontext()


def in_service_or_none(settings: Settings) -> Any:
    """The build in service, or None when there is none or its pointer cannot be read."""
    try:
        return in_service(settings)
    except AssistantError:
        return None
