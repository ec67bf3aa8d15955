"""The embedding cache: a rebuild embeds only new or changed texts, and builds the same index.

Real builds of a small corpus with the real bundled model; ``Counting`` wraps the real embedder
to record which texts reach the model.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest
from click.testing import CliRunner

from assistant import Assistant
from assistant.admin import add_document
from assistant.cli import main
from assistant.embed import CACHE_FOLDER, EmbeddingCache
from assistant.embed.local import LocalEmbeddings, resolve_model
from assistant.ingest.prepare import CACHE_STAGE

NEW_DOCUMENT = (
    b"# Education\n\nThe virtual school head tracks the progress of every child in care.\n\n"
    b"A bursary of two thousand pounds helps care leavers at university.\n"
)
FIELDS = {
    "id": "education-2025", "title": "Education support 2025", "publisher": "Test Council",
    "published": 2025, "period": "2025", "status": "current", "kind": "guidance",
    "source_url": "https://example.org/education",
}  # fmt: skip


class Counting:
    """The real embedder, recording every text it is asked to embed."""

    def __init__(self, inner: LocalEmbeddings) -> None:
        self.inner, self.name, self.fingerprint = inner, inner.name, inner.fingerprint
        self.embedded: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded.extend(texts)
        return self.inner.embed_documents(texts)

    def embed_bulk(self, texts: list[str]) -> list[list[float]]:  # what a build stores (bf16 here)
        self.embedded.extend(texts)
        return self.inner.embed_bulk(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)


def cache_files(settings) -> list:
    return sorted((settings.index_path / CACHE_FOLDER).glob("*.npz"))


def vectors(bot: Assistant) -> tuple[np.ndarray, np.ndarray]:
    return bot.index.chunk_vectors, bot.index.unit_vectors


def top(bot: Assistant, queries: list[str]) -> list[list[tuple[str, float]]]:
    return [[(p.chunk_id, p.score) for p in bot.search(q, k=3)] for q in queries]


QUERIES = ["help with a rent deposit", "furniture for my first flat", "yearly health check"]


def test_a_rebuild_takes_every_vector_from_the_cache_and_builds_the_same_index(small_settings, embedder):
    off = small_settings.model_copy(update={"embedding_cache_builds": 0})
    uncached = Assistant.ingest(off, embedder=embedder)
    assert uncached.cached == 0 and cache_files(small_settings) == []
    no_cache = Assistant.load(off, embedder=embedder)
    expected, expected_top = vectors(no_cache), top(no_cache, QUERIES)
    total = len(no_cache.index.chunks) + len(no_cache.index.unit_owners)

    counting = Counting(embedder)
    cold = Assistant.ingest(small_settings, embedder=counting)
    assert (cold.cached, cold.embedded) == (0, len(counting.embedded))
    assert len(cache_files(small_settings)) == 1
    from_cold = Assistant.load(small_settings, embedder=embedder)
    cold_vectors, cold_top = vectors(from_cold), top(from_cold, QUERIES)

    counting.embedded.clear()
    stages: list[tuple[str, int, int]] = []
    warm = Assistant.ingest(small_settings, embedder=counting, progress=lambda *s: stages.append(s))
    assert (warm.cached, warm.embedded) == (total, 0)
    assert counting.embedded == []
    assert (CACHE_STAGE, total, total) in stages  # the progress bar says so
    from_warm = Assistant.load(small_settings, embedder=embedder)
    assert from_warm.index.folder != from_cold.index.folder

    # Bit for bit the vectors of a build without the cache, so the same rankings and scores.
    for got in (cold_vectors, vectors(from_warm)):
        for array, want in zip(got, expected, strict=True):
            assert array.dtype == want.dtype and np.array_equal(array, want)
    assert cold_top == top(from_warm, QUERIES) == expected_top


def test_adding_one_document_embeds_only_its_texts(small_settings, embedder):
    before = Assistant.load(small_settings, embedder=embedder).index
    counting = Counting(embedder)
    report = add_document(small_settings, "education.md", NEW_DOCUMENT, FIELDS, embedder=counting)
    assert report.documents == 4
    assert report.embedded == len(counting.embedded) > 0
    assert report.cached == len(before.chunks) + len(before.unit_owners)  # every vector of the others
    assert all("virtual school" in text or "bursary" in text for text in counting.embedded)
    bot = Assistant.load(small_settings, embedder=embedder)
    assert bot.search("bursary for university", k=1)[0].document_id == "education-2025"


def test_another_model_never_gets_this_models_vectors(small_settings, embedder, caplog):
    Assistant.ingest(small_settings, embedder=embedder)
    # The same weights under another setting (a folder instead of "bundled:"): another model
    # to the cache, which keys vectors by the model's fingerprint.
    other = LocalEmbeddings(resolve_model(embedder.name))
    assert other.fingerprint != embedder.fingerprint
    report = Assistant.ingest(small_settings, embedder=other)
    assert report.cached == 0 and report.embedded > 0
    assert len(cache_files(small_settings)) == 2  # one file per model

    # Even a file put in another model's place is refused, with a warning.
    mine = EmbeddingCache(small_settings.index_path / CACHE_FOLDER, embedder.fingerprint, keep_builds=3)
    theirs = EmbeddingCache(small_settings.index_path / CACHE_FOLDER, other.fingerprint, keep_builds=3)
    theirs.path.write_bytes(mine.path.read_bytes())
    with caplog.at_level(logging.WARNING, logger="assistant.embed.cache"):
        swapped = EmbeddingCache(theirs.folder, other.fingerprint, keep_builds=3)
    assert len(mine) > 0 and len(swapped) == 0
    assert "another model" in caplog.text


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_a_damaged_cache_is_ignored_with_a_warning_and_rebuilt(small_settings, embedder, caplog, damage):
    first = Assistant.ingest(small_settings, embedder=embedder)
    [path] = cache_files(small_settings)
    data = path.read_bytes()
    path.write_bytes({"garbage": b"not a cache at all" * 50, "truncated": data[: len(data) // 2],
                      "empty": b""}[damage])  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="assistant.embed.cache"):
        again = Assistant.ingest(small_settings, embedder=embedder)
    assert "could not be read" in caplog.text and "ignored and rebuilt" in caplog.text
    assert (again.cached, again.embedded) == (0, first.embedded)
    bot = Assistant.load(small_settings, embedder=embedder)
    assert "rent deposits" in bot.search("rent deposit help", k=1)[0].text
    third = Assistant.ingest(small_settings, embedder=embedder)
    assert third.embedded == 0  # the cache was written whole again


def test_a_failed_save_leaves_the_previous_cache_whole(small_settings, embedder, caplog, monkeypatch):
    """The disk fills up half-way through writing the cache: the build still succeeds, and the
    file from the build before is untouched (it is only ever replaced by a complete one)."""
    Assistant.ingest(small_settings, embedder=embedder)
    [path] = cache_files(small_settings)
    before = path.read_bytes()
    (small_settings.corpus_path / "housing.md").write_text("# Housing\n\nTenancy sustainment workers visit.\n")

    def disk_full(handle, **arrays):
        handle.write(b"PK\x03\x04 half a zip")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("assistant.embed.cache.np.savez", disk_full)
    with caplog.at_level(logging.WARNING, logger="assistant.embed.cache"):
        report = Assistant.ingest(small_settings, embedder=embedder)
    assert report.embedded > 0 and "could not be saved" in caplog.text
    assert path.read_bytes() == before
    assert list(path.parent.glob(".*.tmp")) == []


def test_entries_no_recent_build_used_are_dropped(small_settings, embedder):
    """With embedding_cache_builds = 2, a text is kept through one build that does not use it."""
    settings = small_settings.model_copy(update={"embedding_cache_builds": 2})
    housing = settings.corpus_path / "housing.md"
    original = housing.read_text()
    Assistant.ingest(settings, embedder=embedder)
    housing.write_text("# Housing\n\nTenancy sustainment workers visit every month.\n")
    assert Assistant.ingest(settings, embedder=embedder).embedded > 0
    housing.write_text(original)  # undone after one build: nothing to embed
    assert Assistant.ingest(settings, embedder=embedder).embedded == 0

    housing.write_text("# Housing\n\nTenancy sustainment workers visit every month.\n")
    Assistant.ingest(settings, embedder=embedder)
    housing.write_text("# Housing\n\nA floating support worker helps you keep your flat.\n")
    Assistant.ingest(settings, embedder=embedder)
    housing.write_text(original)  # two builds without it: its vectors were dropped
    counting = Counting(embedder)
    assert Assistant.ingest(settings, embedder=counting).embedded > 0
    assert all("rent deposits" in text or "Housing" in text for text in counting.embedded)


def test_the_cli_says_how_many_vectors_came_from_the_cache(small_settings, monkeypatch):
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(small_settings.corpus_dir))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(small_settings.index_dir))
    first = CliRunner().invoke(main, ["ingest"], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "(0 vectors from the cache," in first.stdout
    again = CliRunner().invoke(main, ["ingest", "--rebuild"], catch_exceptions=False)
    found = re.search(r"\((\d+) vectors from the cache, 0 texts embedded\)", again.stdout)
    assert found and int(found.group(1)) > 0, again.stdout
    assert "Vectors from the cache" in again.stderr  # the progress bar's stage
