"""The search index: where builds are kept, behind one ``IndexStore`` seam.

``STORES`` lists the implementations; ``index_store(settings)`` picks one. Adding a vector
store means one module implementing ``IndexStore`` (see ``base.py``) and one entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from assistant.config import Settings
from assistant.index.base import (
    BuildReport,
    IndexStore,
    InService,
    StoredIndex,
    file_lock,
    fingerprint,
    try_file_lock,
)
from assistant.index.chroma_server import ChromaServerStore
from assistant.index.folder import FolderStore
from assistant.ingest.prepare import Progress, no_progress

# name -> (is it the one these settings ask for?, the store for them); the first match wins.
STORES: dict[str, tuple[Callable[[Settings], bool], Callable[[Settings], IndexStore]]] = {
    "chroma_server": (lambda s: bool(s.chroma_url), ChromaServerStore),
    "folder": (lambda s: True, FolderStore),
}


def index_store(settings: Settings) -> IndexStore:
    """The store these settings use: a Chroma server when ``chroma_url`` is set, else the folder."""
    for wanted, make in STORES.values():
        if wanted(settings):
            return make(settings)
    raise AssertionError("the folder store accepts any settings")  # pragma: no cover


def in_service(settings: Settings) -> InService | None:
    """The build in service (local folder or Chroma server), or None if none was built yet."""
    return index_store(settings).in_service()


def is_current(settings: Settings) -> bool:
    """Is an index in service, built from the corpus, chunking and model as they are now?"""
    serving = in_service(settings)
    return serving is not None and serving.fingerprint == fingerprint(settings)


def open_index(settings: Settings, embedder: Any, name: str | None = None) -> StoredIndex:
    """Load the index in service, or the build called ``name``, from wherever settings keep it."""
    return index_store(settings).open(embedder, name)


def build_index(
    settings: Settings, embedder: Any, *, skip_bad: bool = False, progress: Progress = no_progress
) -> BuildReport:
    """Ingest the corpus into a new build and switch to it on success."""
    return index_store(settings).build(embedder, skip_bad=skip_bad, progress=progress)


__all__ = [
    "STORES", "BuildReport", "InService", "IndexStore", "Progress", "StoredIndex", "build_index",
    "file_lock", "fingerprint", "in_service", "index_store", "is_current", "open_index", "try_file_lock",
]
