"""The index on a real Chroma server (``chroma_url``): shared, switched atomically, kept fresh.

One ``chroma run`` serves the module. The repository corpus is ingested into it once;
then other processes -- each with an empty index folder of its own -- load the
assistant from the server alone and must answer exactly as the local folder does.
The later tests change the corpus: an ingest killed half-way must leave the
previous build serving, and a stale fingerprint must rebuild and switch.
"""

from __future__ import annotations

import functools
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PROJECT_ROOT
from langchain_core.embeddings import Embeddings

from assistant import Assistant
from assistant.config import Settings
from assistant.errors import ConfigError, IndexBuildError
from assistant.index import fingerprint
from assistant.index.chroma_server import PREFIX, connect, reader, served
from eval.servers import QUIET_ENV, chroma_server, free_port

pytestmark = pytest.mark.slow

QUESTIONS = ["What is the EET target?", "What money can I get for uni?"]
NEW_FACT = "Care leavers can borrow a bicycle free of charge from the council's cycle library."

# A process of its own: settings from ASSISTANT_* variables, as a worker gets them.
ANSWER = """
import json, sys
from assistant import Assistant, load_settings
bot = Assistant.load(load_settings())
replies = [bot.ask(q).to_dict() for q in json.loads(sys.argv[1])]
bot.index.check()  # /health's search, which asks the server's own vector index
index = {"name": bot.index.name, "fingerprint": bot.index.fingerprint}
print(json.dumps({**index, "replies": replies, "chromadb": "chromadb" in sys.modules}))
"""
# An ingest that stops for good once the first passages are on the server (then is killed).
STALLED_INGEST = """
import sys, time
from pathlib import Path
from assistant import Assistant, load_settings

def progress(stage, done, total):
    if stage == "Writing the index" and done >= 1:
        Path(sys.argv[1]).write_text("passages written")
        time.sleep(600)

Assistant.ingest(load_settings(), progress=progress)
"""


class CachedEmbeddings(Embeddings):
    """The real model, remembering passage vectors: a second build of the same texts is quick.

    Both stores are given the very same vectors, so what the comparison tests is the
    storage path, not the model.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.name = model.name  # the same model, so the same vectors (the Embedder seam's name)
        self.seen: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        new = [t for t in dict.fromkeys(texts) if t not in self.seen]
        if new:
            self.seen.update(zip(new, self.model.embed_documents(new), strict=True))
        return [self.seen[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.model.embed_query(text)

    def count_tokens(self, text: str) -> int:
        return int(self.model.count_tokens(text))


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("chroma-data")
    with chroma_server(data, log=data.parent / "chroma.log") as server:
        yield server.url


@pytest.fixture(scope="module")
def cached(embedder) -> CachedEmbeddings:
    return CachedEmbeddings(embedder)


@pytest.fixture(scope="module")
def server_settings(settings, chroma_url, tmp_path_factory) -> Settings:
    """The session's corpus, indexed on the server (the index folder only holds the build lock)."""
    lock = tmp_path_factory.mktemp("lock-only")
    return settings.model_copy(update={"chroma_url": chroma_url, "index_dir": lock})


@pytest.fixture(scope="module")
def first_build(server_settings, cached) -> str:
    """The repository corpus ingested into the server: the build's name."""
    report = Assistant.ingest(server_settings, embedder=cached)
    assert report.folder is None and report.name.startswith("build-")
    return report.name


@pytest.fixture(scope="module")
def changed_corpus(settings, tmp_path_factory) -> Path:
    """The Local Offer alone, with one new fact: a different fingerprint, quick to embed."""
    folder = tmp_path_factory.mktemp("changed") / "corpus"
    folder.mkdir()
    manifest = (settings.corpus_path / "manifest.toml").read_text(encoding="utf-8")
    entry = next(e for e in manifest.split("[[documents]]") if 'id = "local-offer"' in e)
    (folder / "manifest.toml").write_text("[[documents]]" + entry, encoding="utf-8")
    for name in ("glossary.toml", "lewisham-local-offer-summary.md"):
        (folder / name).write_bytes((settings.corpus_path / name).read_bytes())
    with (folder / "lewisham-local-offer-summary.md").open("a", encoding="utf-8") as handle:
        handle.write(f"\n\n## Getting around\n\n{NEW_FACT}\n")
    return folder


def worker_env(settings: Settings, index_dir: Path) -> dict[str, str]:
    env = {
        **os.environ, **QUIET_ENV,
        "ASSISTANT_CORPUS_DIR": str(settings.corpus_path),
        "ASSISTANT_INDEX_DIR": str(index_dir),
        "ASSISTANT_CHROMA_URL": str(settings.chroma_url),
    }  # fmt: skip
    env.pop("ASSISTANT_PROFILE", None)
    return env


def test_processes_answer_from_the_server_exactly_as_the_local_folder_does(
    server_settings, first_build, cached, tmp_path
):
    """Every worker serves identical results: all they read comes from the server, BM25 included."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", ANSWER, json.dumps(QUESTIONS)],
            cwd=PROJECT_ROOT,
            env=worker_env(server_settings, tmp_path / f"empty-{n}"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    update = {"chroma_url": None, "index_dir": tmp_path / "local"}
    folder = server_settings.model_copy(update=update)
    local = Assistant.load(folder, embedder=cached)
    expected = [local.ask(q).to_dict() for q in QUESTIONS]

    outputs = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err[-3000:]
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    first, second = outputs
    assert first == second
    assert first["name"] == first_build  # loaded, not rebuilt
    assert first["fingerprint"] == local.index.fingerprint == fingerprint(server_settings)
    assert first["replies"] == expected
    assert first["chromadb"] is False  # read over Chroma's HTTP API: no chromadb client in a worker
    assert expected[0]["status"] == "answered" and expected[0]["citations"]
    assert not list((tmp_path / "empty-0").glob("build-*"))  # nothing local was written


def test_an_ingest_killed_half_way_leaves_the_previous_build_serving(
    server_settings, first_build, changed_corpus, cached, tmp_path
):
    """SIGKILL while the new passages are being written: the pointer still names the old build."""
    changed = server_settings.model_copy(update={"corpus_dir": changed_corpus})
    marker = tmp_path / "writing"
    ingest = subprocess.Popen(
        [sys.executable, "-c", STALLED_INGEST, str(marker)],
        cwd=PROJECT_ROOT, env=worker_env(changed, tmp_path / "lock"),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert ingest.poll() is None, ingest.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the ingest never reached 'Writing the index'"
            time.sleep(0.2)
    finally:
        ingest.send_signal(signal.SIGKILL)
        ingest.wait(timeout=30)

    url = server_settings.chroma_url
    client = connect(url)
    previous = {"build": first_build, "fingerprint": fingerprint(server_settings)}
    assert served(reader(url), url) == previous
    builds = {c.name for c in client.list_collections()}
    half_written = {b for b in builds if b.startswith(PREFIX + "build-") and first_build not in b}
    assert len(half_written) == 1  # its passages, but no corpus collection: it died mid-way

    bot = Assistant.load(server_settings, embedder=cached)  # the original corpus: no rebuild
    assert bot.index.name == first_build
    assert bot.index.fingerprint == fingerprint(server_settings)
    reply = bot.ask(QUESTIONS[0])
    assert reply.status == "answered" and reply.citations


def test_a_stale_fingerprint_rebuilds_into_a_new_collection_and_switches(
    server_settings, first_build, changed_corpus, cached
):
    """A changed corpus is noticed at load; the new build serves; it and the previous remain."""
    changed = server_settings.model_copy(update={"corpus_dir": changed_corpus})
    bot = Assistant.load(changed, embedder=cached)
    assert bot.index.name != first_build
    assert bot.index.fingerprint == fingerprint(changed) != fingerprint(server_settings)
    assert NEW_FACT in bot.search("borrow a bicycle", k=1)[0].text

    url = server_settings.chroma_url
    client = connect(url)
    assert served(reader(url), url) == {"build": bot.index.name, "fingerprint": fingerprint(changed)}
    ours = sorted(c.name for c in client.list_collections() if c.name.startswith(PREFIX + "build-"))
    kept = [f"{PREFIX}{b}{end}" for b in (first_build, bot.index.name) for end in ("", "-corpus")]
    assert ours == sorted(kept)  # the half-written build is gone


def test_a_replaced_build_is_kept_for_its_grace_period_then_deleted(
    server_settings, first_build, changed_corpus, cached
):
    """Workers on other hosts may still serve the build before last: it stays for
    ``index_keep_seconds`` after it was replaced, then the next ingest deletes it."""
    changed = server_settings.model_copy(update={"corpus_dir": changed_corpus})
    url = server_settings.chroma_url
    client = connect(url)

    def builds() -> list[str]:
        return sorted({c.name.removesuffix("-corpus")[len(PREFIX):] for c in client.list_collections()
                       if c.name.startswith(PREFIX + "build-")})

    before = builds()
    third = Assistant.ingest(changed, embedder=cached).name  # the grace period is an hour
    assert builds() == sorted([*before, third])  # nothing deleted: the build before last is recent

    no_grace = changed.model_copy(update={"index_keep_seconds": 0})
    fourth = Assistant.ingest(no_grace, embedder=cached).name
    assert builds() == sorted([third, fourth])  # only the one in service and the one it replaced
    assert served(reader(url), url)["build"] == fourth


def test_an_unreachable_server_says_where_and_what_to_do(settings, embedder, tmp_path):
    """A chroma_url nothing answers at stops the load, naming the URL and the two ways out."""
    url = f"http://127.0.0.1:{free_port()}"
    nowhere = settings.model_copy(update={"chroma_url": url, "index_dir": tmp_path})
    wanted = (
        rf"Chroma server at {re.escape(url)} .*`chroma run --path DIR --port \d+`"
        r".*unset ASSISTANT_CHROMA_URL"
    )
    with pytest.raises(IndexBuildError, match=wanted):
        Assistant.load(nowhere, embedder=embedder)


def test_a_chroma_url_that_is_not_an_address_is_a_setting_error(settings, embedder, tmp_path):
    """'127.0.0.1:8000' lacks http://: a ConfigError that shows the value and an example."""
    bad = settings.model_copy(update={"chroma_url": "127.0.0.1:8000", "index_dir": tmp_path})
    with pytest.raises(ConfigError, match=r"chroma_url is '127\.0\.0\.1:8000'.*http://127\.0\.0\.1:8000"):
        Assistant.load(bad, embedder=embedder)


def test_a_web_server_that_is_not_chroma_is_named_with_what_it_answered(settings, embedder, tmp_path):
    """Something else listening at chroma_url (here a plain file server) is not taken for Chroma."""
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as other:
        threading.Thread(target=other.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{other.server_address[1]}"
        elsewhere = settings.model_copy(update={"chroma_url": url, "index_dir": tmp_path})
        try:
            with pytest.raises(IndexBuildError, match=rf"Chroma server at {re.escape(url)} .*HTTP 404 .* not an answer from Chroma\)"):
                Assistant.load(elsewhere, embedder=embedder)
        finally:
            other.shutdown()
