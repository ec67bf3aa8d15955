"""Shared fixtures: the real bundled model, and real Chroma indexes in temporary folders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Starlette's TestClient sends "Host: testserver": allowed in tests, besides the default hosts.
os.environ.setdefault("ASSISTANT_ALLOWED_HOSTS", '["localhost", "127.0.0.1", "::1", "testserver"]')

from assistant import Assistant, load_settings
from assistant.config import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout the tests run in
CORPUS = PROJECT_ROOT / "corpus"


@pytest.fixture(scope="session")
def embedder():
    from assistant.embed.local import LocalEmbeddings

    return LocalEmbeddings(runtime="onnx")  # the default runtime (embedding_runtime)


@pytest.fixture(scope="session")
def corpus_copy(tmp_path_factory) -> Path:
    """A copy of the shipped corpus (tests never write into the repository)."""
    target = tmp_path_factory.mktemp("corpus") / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture(scope="session")
def settings(corpus_copy, tmp_path_factory) -> Settings:
    index = tmp_path_factory.mktemp("index")
    return load_settings(corpus_dir=corpus_copy, index_dir=index, feedback_db=index / "feedback.sqlite3")


@pytest.fixture(scope="session")
def bot(settings, embedder) -> Assistant:
    """The assistant over the real corpus, with its index built once per test session."""
    return Assistant.load(settings, embedder=embedder)


def seeded_index(bot: Assistant, folder: Path) -> Path:
    """An empty index folder holding the session build's embedding cache: a build of its own there
    embeds only what the session's did not (a rebuild's path), not the shipped documents again."""
    from assistant.embed import CACHE_FOLDER

    shutil.copytree(bot.settings.index_path / CACHE_FOLDER, folder / CACHE_FOLDER)
    return folder


def said_before(*messages: str) -> list[dict[str, str]]:
    """A chat history of the user's earlier messages (follow-ups read only what the user said)."""
    return [{"role": "user", "content": message} for message in messages]


def make_corpus(folder: Path, documents: dict[str, str], *, statuses: dict[str, str] | None = None) -> Path:
    """Write a small corpus: {file name: text} plus a valid manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for number, (name, text) in enumerate(documents.items(), 1):
        if isinstance(text, bytes):
            (folder / name).write_bytes(text)
        else:
            (folder / name).write_text(text, encoding="utf-8")
        status = (statuses or {}).get(name, "current")
        extra = 'superseded_by = "doc-1"\n' if status == "superseded" else ""
        entries.append(
            f'[[documents]]\nid = "doc-{number}"\ntitle = "Test document {number} 2025"\n'
            f'publisher = "Test Council"\npublished = 2025\nperiod = "2025"\nstatus = "{status}"\n{extra}'
            f'kind = "guidance"\nsource_url = "https://example.org/{number}"\nfile = "{name}"\n'
        )
    (folder / "manifest.toml").write_text("\n".join(entries), encoding="utf-8")
    return folder


def another_council(tmp_path: Path, embedder, documents: dict[str, str], *,
                    statuses: dict[str, str] | None = None) -> Assistant:
    """The assistant over a small corpus of another council's documents ({file name: text}),
    written and indexed under ``tmp_path``."""
    corpus = make_corpus(tmp_path / "corpus", documents, statuses=statuses)
    return Assistant.load(load_settings(corpus_dir=corpus, index_dir=tmp_path / "index"), embedder=embedder)


@pytest.fixture
def small_settings(tmp_path) -> Settings:
    corpus = make_corpus(
        tmp_path / "corpus",
        {
            "housing.md": "# Housing\n\nCare leavers can get help with rent deposits from the housing team.\n",
            "money.md": "# Money\n\nThe setting up home allowance helps you buy furniture for your first flat.\n",
            "health.md": "# Health\n\nThe nurse offers a health assessment every year until you turn 18.\n",
        },
    )
    return load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")


@pytest.fixture(scope="module")
def cluster():
    """A throwaway PostgreSQL cluster from Debian's server binaries (see tests/postgres.py)."""
    from postgres import ClusterUnavailable, PostgresCluster

    try:
        running = PostgresCluster()
        running.start()
    except ClusterUnavailable as exc:
        pytest.fail(str(exc))
    try:
        yield running
    finally:
        running.destroy()
