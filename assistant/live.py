"""``LiveAssistant``: a long-running process's Assistant, switched to each new build with no restart.

A server (every API worker, the Streamlit app) holds one. A thread looks every
``index_check_seconds`` (and at once on ``reload``, which ``kill -HUP`` calls) at the build
in service. A new one is loaded in the background, beside the one answering, then swapped
in with one assignment: a request reads ``bot`` once, so it is answered wholly by the old
build or wholly by the new, never fails for the switch. The old build is closed
``RETIRE_SECONDS`` later, when the requests that started on it are long done.

The last good build is always served. A new build that cannot be opened is refused and
rebuilt from the corpus in the background; a corpus changed behind the server's back is
rebuilt in the background; if that fails, the build in service keeps answering. Either way
``warnings`` says so (the log, /health and the staff page show them), with the file and
the reason.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from assistant.config import Settings
from assistant.errors import AssistantError, IndexBuildError
from assistant.index import in_service, open_index
from assistant.service import (
    Assistant,
    IndexWarning,
    corpus_fingerprint,
    corpus_state,
    in_service_or_none,
    problem_file,
    rebuild_in_background,
)
from assistant.text.glossary import load_glossary

log = logging.getLogger(__name__)
# An answer, even streamed, takes seconds: two minutes after a switch no request still reads the old build.
RETIRE_SECONDS = 120.0


class LiveAssistant:
    """The Assistant of a long-running process, kept on the build in service (see the module)."""

    def __init__(self, settings: Settings, *, bot: Assistant | None = None, embedder: Any = None,
                 watch: bool = True) -> None:
        self.settings = settings
        self._bot = bot
        self._embedder = embedder if embedder is not None else getattr(bot, "embedder", None)
        self.watch = watch
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._force = False
        self._refreshing = threading.Lock()
        self._thread: threading.Thread | None = None
        self._rebuild: threading.Thread | None = None
        self._damaged: dict[str, str] = {}  # build name -> why it cannot be opened
        self._failed: dict[str, tuple[str | None, str]] = {}  # corpus_state -> (file, reason)
        self._warnings: list[IndexWarning] = []
        self.switches = 0  # builds switched to since start (for the log and tests)
        if bot is not None:
            self._adopt(bot)

    # -- what requests use -------------------------------------------------------------------

    @property
    def bot(self) -> Assistant:
        """The Assistant answering now (read it once per request)."""
        bot = self._bot
        if bot is None:
            raise AssistantError("The assistant is still starting.")
        return bot

    @property
    def loaded(self) -> bool:
        return self._bot is not None

    @property
    def warnings(self) -> list[IndexWarning]:
        """Why the build answering is not the one the corpus asks for, if it is not."""
        return list(self._warnings)

    def check(self) -> None:
        """Readiness: really search the vector store and BM25 of the build answering."""
        self.bot.index.check()

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> LiveAssistant:
        """Load the assistant if none was given (the last good build), then start watching."""
        if self._bot is None:
            kwargs = {"embedder": self._embedder} if self._embedder is not None else {}
            bot = Assistant.load(self.settings, **kwargs)
            self._embedder = bot.embedder
            self._adopt(bot)
            self._bot = bot
        if self.watch and self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="index-watch", daemon=True)
            self._thread.start()
        return self

    def reload(self) -> None:
        """Load the build in service again now, even if it is the one answering (``kill -HUP``)."""
        self._force = True
        self._wake.set()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()

    def _adopt(self, bot: Assistant) -> None:
        """Take over what ``Assistant.load`` found: its warnings and its background rebuild."""
        for warning in getattr(bot, "warnings", []):
            if warning.kind == "damaged" and warning.file:
                self._damaged[warning.file] = warning.reason
            elif warning.kind == "stale":
                self._failed[warning.corpus_state] = (warning.file, warning.reason)
        self._warnings = list(getattr(bot, "warnings", []))
        self._rebuild = getattr(bot, "rebuilding", None)

    def _watch(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self.settings.index_check_seconds)
            self._wake.clear()
            if self._stopped.is_set():
                return
            force, self._force = self._force, False
            try:
                self.refresh(force=force)
            except Exception as exc:  # the watcher never dies, and never prints a traceback
                log.warning("Checking the index in service failed: %s: %s", type(exc).__name__, exc)

    # -- one look ------------------------------------------------------------------------------

    def refresh(self, *, force: bool = False) -> bool:
        """Look at the build in service and the corpus once; True if another build was switched in."""
        with self._refreshing:
            switched = self._switch_if_new(force)
            self._rebuild_if_stale()
            self._update_warnings()
            return switched

    def _switch_if_new(self, force: bool) -> bool:
        bot = self.bot
        try:
            serving = in_service(self.settings)
        except AssistantError as exc:  # a damaged pointer: keep answering, rebuild
            if corpus_state(self.settings) not in self._failed:
                log.warning("%s", exc)
                self._start_rebuild(force=True)
            return False
        if serving is not None and serving.name in self._damaged:
            # Rebuild the damaged build, unless the corpus is known to fail (then say so, and wait
            # for a change of the corpus folder).
            if corpus_state(self.settings) not in self._failed:
                self._start_rebuild(force=True)
            return False
        if serving is None:
            return False
        if serving.name == bot.index.name and not force:
            return False
        try:
            index = open_index(self.settings, self._embedder, serving.name)
        except IndexBuildError as exc:
            self._damaged[serving.name] = str(exc)
            log.warning("%s It is being rebuilt from the corpus in the background; %s keeps answering.",
                        exc, bot.index.name)
            self._start_rebuild(force=True)
            return False
        new = Assistant(self.settings, bot.embedder, index, load_glossary(self.settings.corpus_path))
        self._bot = new  # the switch: one assignment, between requests
        self.switches += 1
        log.info("Now answering from the index build %s (was %s).", index.name, bot.index.name)
        timer = threading.Timer(RETIRE_SECONDS, bot.close)
        timer.daemon = True
        timer.start()
        return True

    def _rebuild_if_stale(self) -> None:
        wanted, state = corpus_fingerprint(self.settings), corpus_state(self.settings)
        if not wanted or wanted == self.bot.index.fingerprint or state in self._failed:
            return
        self._start_rebuild(force=False, wanted=state)

    def _start_rebuild(self, *, force: bool, wanted: str = "") -> None:
        if self._rebuild is not None and self._rebuild.is_alive():
            return

        def done(error: BaseException | None) -> None:
            key = wanted or corpus_state(self.settings)
            if error is not None:
                self._failed[key] = (problem_file(error), str(error))
            else:
                self._failed.pop(key, None)
            self._wake.set()  # look at the new build (or say why there is none) at once

        self._rebuild = rebuild_in_background(self.settings, self._embedder, force=force, done=done)

    def _update_warnings(self) -> None:
        bot = self.bot
        served = bot.index.name
        warnings: list[IndexWarning] = []
        serving = in_service_or_none(self.settings)
        if serving is not None and serving.name in self._damaged and serving.name != served:
            warnings.append(IndexWarning("damaged", served, serving.name, self._damaged[serving.name]))
        state = corpus_state(self.settings)
        if state in self._failed:  # the corpus as it is now failed to build
            file, reason = self._failed[state]
            warnings.append(IndexWarning("stale", served, file, reason, state))
        for warning in warnings:
            if warning not in self._warnings:
                log.warning(warning.message)
        self._warnings = warnings


__all__ = ["RETIRE_SECONDS", "LiveAssistant"]
