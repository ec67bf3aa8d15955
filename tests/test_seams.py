"""Each extension point is a protocol with one registry: a fake goes in through the real seam.

A loader for a new file type, an embedding runtime, a vector store and an answer writer are
each added the way a developer would add a real one: one implementation, one registry entry.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
from conftest import make_corpus

import assistant.index as index_package
from assistant import Assistant, Plan, Reply, load_settings
from assistant.embed import EMBEDDERS, Embedder, make_embedder
from assistant.index import BuildReport, IndexStore, StoredIndex
from assistant.index.folder import FolderStore
from assistant.ingest.loaders import LOADERS, Loaded
from assistant.writers import WRITERS


class HashingEmbedder:
    """Bag of words hashed into 256 dimensions, normalised: similar words, similar vectors."""

    name = "hashing-256"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        vector = np.zeros(256, dtype=np.float32)
        for word in re.findall(r"[a-z]+", text.lower()):
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % 256] += 1.0
        norm = float(np.linalg.norm(vector)) or 1.0
        return (vector / norm).tolist()

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2


@pytest.fixture
def council(tmp_path):
    corpus = make_corpus(
        tmp_path / "corpus",
        {
            "money.md": "# Money\n\nThe setting up home allowance helps you buy furniture for your first flat.\n",
            "health.md": "# Health\n\nThe nurse offers a health assessment every year until you turn 18.\n",
        },
    )
    return load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")


def test_an_embedding_runtime_is_one_entry_in_embedders(council, monkeypatch):
    monkeypatch.setitem(EMBEDDERS, "local", lambda settings: HashingEmbedder())
    embedder = make_embedder(council)
    assert isinstance(embedder, Embedder) and embedder.name == "hashing-256"
    bot = Assistant.load(council)  # the configured runtime, through the registry
    assert bot.embedder.name == "hashing-256"
    assert "furniture" in bot.search("furniture for my flat", k=1)[0].text


def test_a_file_type_is_one_entry_in_loaders(council, monkeypatch):
    def load_tsv(path):
        rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return Loaded([(None, "\n\n".join(f"{name}: {detail}." for name, detail in rows))])

    monkeypatch.setitem(LOADERS, ".tsv", load_tsv)
    corpus = make_corpus(council.corpus_path.parent / "tsv", {
        "contacts.tsv": "Leaving care duty line\tCall 020 7946 0123 on weekdays\n",
    })
    settings = load_settings(corpus_dir=corpus, index_dir=council.index_path.parent / "tsv-index")
    bot = Assistant.load(settings, embedder=HashingEmbedder())
    assert "020 7946 0123" in bot.search("leaving care duty line", k=1)[0].text


@dataclass
class RecordingStore:
    """A store that keeps its builds in the folder store and records what it was asked."""

    settings: object
    calls: ClassVar[list[str]] = []  # every instance's calls (index_store makes one per use)

    def __post_init__(self) -> None:
        self.folder: IndexStore = FolderStore(self.settings)  # type: ignore[arg-type]

    def record(self, call: str) -> None:
        # Only the test's own calls: a LiveAssistant left by an earlier test (the Streamlit app's
        # is cached for the process) looks at its build in service from its own thread.
        if threading.current_thread() is threading.main_thread():
            self.calls.append(call)

    def in_service(self):
        self.record("in_service")
        return self.folder.in_service()

    def build(self, embedder, *, skip_bad=False, progress=None) -> BuildReport:
        self.record("build")
        return self.folder.build(embedder, skip_bad=skip_bad)

    def open(self, embedder, name=None) -> StoredIndex:
        self.record("open")
        return self.folder.open(embedder, name)


def test_a_vector_store_is_one_entry_in_stores(council, monkeypatch):
    monkeypatch.setattr(index_package, "STORES", {"recording": (lambda s: True, RecordingStore),
                                                  **index_package.STORES})
    RecordingStore.calls.clear()
    bot = Assistant.load(council, embedder=HashingEmbedder())
    assert RecordingStore.calls[:3] == ["in_service", "build", "open"]
    assert bot.ask("what is the setting up home allowance for").status == "answered"


class PlanWriter:
    """Writes which steps ran, to show what a writer is given."""

    name = "plan"

    def write(self, plan: Plan, ctx) -> Reply:
        steps = " > ".join(name for name, _ in plan.steps)
        return Reply(plan.status, f"{plan.kind}: {steps}", question=plan.question, standalone_question=plan.standalone)

    def stream(self, plan: Plan, ctx) -> Iterator[str | Reply]:
        reply = self.write(plan, ctx)
        yield reply.text
        yield reply


def test_an_answer_writer_is_one_entry_in_writers(council, monkeypatch):
    monkeypatch.setitem(WRITERS, "none", PlanWriter)
    bot = Assistant.load(council, embedder=HashingEmbedder())
    reply = bot.ask("what does the nurse offer")
    assert reply.text.startswith("answer: safeguarding > conversation > follow_up > retrieve") and reply.text.endswith("read_on")
    *pieces, final = bot.ask_stream("what does the nurse offer")
    assert pieces == [reply.text] and final == reply
    assert bot.ask("i want to kill myself").text == "safeguarding: safeguarding"
