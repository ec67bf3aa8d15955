"""The embedding cache: vectors kept beside the index, so a rebuild embeds only new or changed texts.

Content-addressed: an entry's key is the SHA-256 of the model's fingerprint and the exact text
that was embedded, so a vector is only ever served for the very text and model it was made
from. A model's fingerprint (``LocalEmbeddings.fingerprint``) changes with its name, its files
(weights, tokenizer, pooling, normalisation) and the code that runs it, so a changed model
simply misses. The vectors are stored as the float32 the model gave, and given back as the
same floats: a build from the cache is bit for bit the build that filled it.

The layout, in the index folder beside the builds (so it goes where the index goes)::

    embedding-cache/<fingerprint[:24]>.npz   one model's entries: keys, vectors, last build that used each

Each save writes a new file and renames it over the old one, so a crash mid-write leaves the
previous file whole. A file that cannot be read (damaged, another format, another model) is
logged as a warning and ignored: the build embeds everything and the save replaces it.
Bounded: an entry that none of the last ``embedding_cache_builds`` builds with its model used
is dropped when the cache is saved, and besides the current model's file only the
``OTHER_MODELS_KEPT`` most recently used other models' files are kept.

Builds are serialised by the index lock (``index.file_lock``), so one cache file has one
writer. The folder is safe to delete at any time: the next ingest embeds everything again.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from assistant.config import Settings

log = logging.getLogger("assistant.embed.cache")

CACHE_FOLDER = "embedding-cache"
# Another model's vectors are kept for one switch back (trying a model, then returning).
OTHER_MODELS_KEPT = 1
FORMAT = 1
_KEY_BYTES = 32


def model_fingerprint(embedder: object) -> str | None:
    """The embedder's ``fingerprint`` (which must change whenever its vectors would), or None
    when it has none: such an embedder (a test fake, say) is never cached."""
    found = getattr(embedder, "fingerprint", None)
    return found if isinstance(found, str) and found else None


class EmbeddingCache:
    """One model's cached vectors in ``folder`` (see the module docstring).

    ``get`` looks texts up and counts ``hits`` and ``misses``; ``put`` adds what was embedded;
    ``save`` writes the file (atomically) and drops entries unused for ``keep_builds`` builds.
    """

    def __init__(self, folder: Path, model: str, *, keep_builds: int) -> None:
        if keep_builds < 1:
            raise ValueError(f"keep_builds is {keep_builds}: give 1 or more builds")
        self.folder, self.model, self.keep_builds = folder, model, keep_builds
        self.path = folder / f"{hashlib.sha256(model.encode()).hexdigest()[:24]}.npz"
        self.hits = self.misses = 0
        self.builds = 0  # saves of this model's file so far
        self._vectors: dict[bytes, np.ndarray] = {}
        self._used: dict[bytes, int] = {}  # key -> the build that last used it
        self._load()

    def __len__(self) -> int:
        return len(self._vectors)

    def key(self, text: str) -> bytes:
        """The entry's address: the model's fingerprint and the exact text."""
        digest = hashlib.sha256(self.model.encode())
        digest.update(b"\0" + text.encode("utf-8", "surrogatepass"))
        return digest.digest()

    def get(self, texts: list[str]) -> list[list[float] | None]:
        """Each text's cached vector, or None for a text not embedded before with this model."""
        found: list[list[float] | None] = []
        for text in texts:
            key = self.key(text)
            vector = self._vectors.get(key)
            if vector is None:
                self.misses += 1
                found.append(None)
            else:
                self.hits += 1
                self._used[key] = self.builds + 1
                found.append(vector.tolist())
        return found

    def put(self, texts: list[str], vectors: list[list[float]]) -> None:
        """Keep the vectors just embedded for ``texts`` (in the same order)."""
        for text, vector in zip(texts, vectors, strict=True):
            key = self.key(text)
            self._vectors[key] = np.asarray(vector, dtype=np.float32)
            self._used[key] = self.builds + 1

    def save(self) -> None:
        """Write the entries used in this build or the ``keep_builds - 1`` before it, atomically.

        Never raises for the file system (a read-only or full disk): the build does not need
        the cache, so a failure is logged and the next build embeds again.
        """
        builds = self.builds + 1
        keep = [k for k, used in self._used.items() if used > builds - self.keep_builds]
        tmp = self.folder / f".{self.path.name}.{os.getpid()}.tmp"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            vectors = np.stack([self._vectors[k] for k in keep]) if keep else np.zeros((0, 0), np.float32)
            keys = np.frombuffer(b"".join(keep), dtype=np.uint8).reshape(-1, _KEY_BYTES)
            with tmp.open("wb") as handle:
                np.savez(
                    handle, format=np.int64(FORMAT), model=np.str_(self.model), builds=np.int64(builds),
                    keys=keys, vectors=vectors.astype(np.float32, copy=False),
                    used=np.asarray([self._used[k] for k in keep], dtype=np.int64),
                )  # fmt: skip
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except (OSError, ValueError) as exc:
            tmp.unlink(missing_ok=True)
            log.warning("The embedding cache %s could not be saved (%s); the next build embeds again.",
                        self.path, exc)
            return
        self.builds = builds
        self._vectors = {k: self._vectors[k] for k in keep}
        self._used = {k: self._used[k] for k in keep}
        self._tidy()

    def _load(self) -> None:
        if not self.path.is_file():
            return
        try:
            with np.load(self.path, allow_pickle=False) as data:
                if int(data["format"]) != FORMAT or str(data["model"]) != self.model:
                    raise ValueError("it was written for another model or by another version")
                keys, vectors, used = data["keys"], data["vectors"], data["used"]
                builds = int(data["builds"])
            if (keys.ndim != 2 or keys.shape[1] != _KEY_BYTES or vectors.dtype != np.float32
                    or vectors.ndim != 2 or not len(keys) == len(vectors) == len(used)):  # fmt: skip
                raise ValueError("its arrays do not fit together")
        # A damaged file can fail in many ways (zip, header, pickle refused, missing array):
        # every one means only that there is no cache, never that the build fails.
        except Exception as exc:
            log.warning("The embedding cache %s could not be read (%s); it is ignored and rebuilt.",
                        self.path, exc)
            return
        self.builds = builds
        for row, key in enumerate(keys):
            self._vectors[key.tobytes()] = vectors[row]
            self._used[key.tobytes()] = int(used[row])

    def _tidy(self) -> None:
        """Remove other writers' leftovers and the files of models no longer used."""
        try:
            for stale in self.folder.glob(".*.tmp"):
                stale.unlink(missing_ok=True)
            others = sorted((p for p in self.folder.glob("*.npz") if p != self.path),
                            key=lambda p: p.stat().st_mtime, reverse=True)  # fmt: skip
            for old in others[OTHER_MODELS_KEPT:]:
                old.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("The embedding cache folder %s could not be tidied (%s).", self.folder, exc)


@contextmanager
def index_cache(settings: Settings, embedder: object) -> Iterator[EmbeddingCache | None]:
    """The cache for one build of ``settings``' index, saved when the block ends, even if the build
    fails (what was embedded is kept for the retry). None when ``embedding_cache_builds`` is 0
    or the embedder has no fingerprint."""
    model = model_fingerprint(embedder)
    if model is None or settings.embedding_cache_builds == 0:
        yield None
        return
    cache = EmbeddingCache(
        settings.index_path / CACHE_FOLDER, model, keep_builds=settings.embedding_cache_builds
    )
    try:
        yield cache
    finally:
        cache.save()
