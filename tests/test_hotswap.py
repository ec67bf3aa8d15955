"""Builds are immutable, servers switch to a new one with no failed request, the last good one answers.

The fast tests open real Chroma builds of a three-document corpus in temporary folders; the
slow ones start the real ``assistant serve`` on free loopback ports and drive it over HTTP
while the real staff functions (``admin.add_document``) and ``Assistant.ingest`` change the
index underneath it.
"""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from staff_accounts import make_account, sign_in

from assistant import Assistant
from assistant.admin import add_document
from assistant.cli import main as cli_main
from assistant.index import in_service
from assistant.live import LiveAssistant
from eval.servers import ServerFailed, assistant_server

NEW_QUESTION = "can the pet fund help with vet bills for my dog"
PETS = b"# Pets\n\nThe pet fund pays vet bills for a dog or a cat owned by a care leaver.\n"
PET_FIELDS = {
    "id": "pets", "title": "Pet fund 2025", "publisher": "Test Council", "published": 2025,
    "period": "2025", "status": "current", "kind": "guidance", "source_url": "https://example.org/pets",
}  # fmt: skip
CRISIS = "I want to kill myself"
BAD_ENTRY = (
    '\n[[documents]]\nid = "broken"\ntitle = "Broken 2025"\npublisher = "Test Council"\npublished = 2025\n'
    'period = "2025"\nstatus = "current"\nkind = "guidance"\nsource_url = "https://example.org/b"\n'
    'file = "broken.pdf"\n'
)


def folder_hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def add_bad_file(corpus: Path) -> None:
    """A PDF that is not one, listed in the manifest: the next rebuild fails on it."""
    (corpus / "broken.pdf").write_bytes(b"this is not a PDF")
    with (corpus / "manifest.toml").open("a", encoding="utf-8") as manifest:
        manifest.write(BAD_ENTRY)


def damage(build: Path) -> None:
    """Random bytes over the first pages of the build's Chroma database."""
    database = build / "chroma" / "chroma.sqlite3"
    data = bytearray(database.read_bytes())
    data[100:8292] = os.urandom(8192)
    database.write_bytes(bytes(data))


def cli(settings, monkeypatch, *args: str):
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(settings.index_dir))
    return CliRunner().invoke(cli_main, list(args))


# -- builds: never written by a reader, kept while held ---------------------------------------


def test_loading_never_writes_to_the_build(small_settings, embedder):
    """Open, search and close: every file of the build is byte for byte as it was written."""
    report = Assistant.ingest(small_settings, embedder=embedder)
    before = folder_hashes(report.folder)
    bot = Assistant.load(small_settings, embedder=embedder)
    assert bot.index.name == report.name
    assert bot.ask("help with rent deposits").status == "answered"
    assert bot.index.collection.count() > 0  # Chroma opened (answering and /health do not need it)
    bot.index.check()
    assert folder_hashes(report.folder) == before
    bot.close()
    assert folder_hashes(report.folder) == before


def test_a_build_a_process_holds_is_kept_until_released(small_settings, embedder):
    """With no grace period, a switch deletes old builds, but never one a process still serves."""
    settings = small_settings.model_copy(update={"index_keep_seconds": 0})
    first = Assistant.ingest(settings, embedder=embedder)
    held = Assistant.load(settings, embedder=embedder)  # holds a lease on the first build
    assert held.index.name == first.name
    second = Assistant.ingest(settings, embedder=embedder)
    third = Assistant.ingest(settings, embedder=embedder)
    builds = {b.name for b in settings.index_path.glob("build-*")}
    assert builds == {first.name, second.name, third.name}  # the first is held, the second the previous
    assert held.ask("help with rent deposits").status == "answered"

    held.close()
    fourth = Assistant.ingest(settings, embedder=embedder)
    assert {b.name for b in settings.index_path.glob("build-*")} == {third.name, fourth.name}


def test_the_grace_period_keeps_replaced_builds(small_settings, embedder):
    """Within ``index_keep_seconds`` of being replaced, a build no one holds is kept."""
    first = Assistant.ingest(small_settings, embedder=embedder)
    for _ in range(3):
        Assistant.ingest(small_settings, embedder=embedder)
    assert first.folder.exists()


# -- the last good build answers ----------------------------------------------------------------


def test_a_bad_corpus_file_leaves_the_last_good_build_answering(small_settings, embedder, monkeypatch):
    """The rebuild fails on the file; load and ``ask`` answer from the build in service, and say why."""
    good = Assistant.ingest(small_settings, embedder=embedder)
    add_bad_file(small_settings.corpus_path)

    bot = Assistant.load(small_settings, embedder=embedder)
    assert bot.index.name == good.name
    [warning] = bot.warnings
    assert (warning.kind, warning.file, warning.build) == ("stale", "broken.pdf", good.name)
    assert "broken.pdf is not a readable PDF" in warning.message
    assert bot.ask("help with rent deposits").status == "answered"

    result = cli(small_settings, monkeypatch, "ask", "help with rent deposits")
    assert result.exit_code == 0, result.output
    assert "rent deposits" in result.stdout
    assert "Warning: The corpus changed but the index could not be rebuilt (broken.pdf)" in result.stderr
    assert good.name in result.stderr and "Traceback" not in result.output

    # An explicit rebuild is refused with the reason, and the build in service is untouched.
    refused = cli(small_settings, monkeypatch, "ingest", "--rebuild")
    assert refused.exit_code == 1 and "broken.pdf is not a readable PDF" in refused.output
    assert in_service(small_settings).name == good.name


def test_a_damaged_build_is_named_and_rebuilt_while_the_previous_one_answers(
    small_settings, embedder, monkeypatch
):
    """Random bytes in chroma.sqlite3: a message naming the build and the fix, no traceback,
    the previous build answers, and the damaged one is rebuilt from the corpus in the background."""
    previous = Assistant.ingest(small_settings, embedder=embedder)
    damaged = Assistant.ingest(small_settings, embedder=embedder)
    damage(damaged.folder)

    result = cli(small_settings, monkeypatch, "ask", "help with rent deposits")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "rent deposits" in result.stdout
    assert f"The index build {damaged.name}" in result.stderr
    assert "is damaged and cannot be read" in result.stderr
    assert "assistant ingest --rebuild" in result.stderr
    assert f"meanwhile answers come from the last good index, {previous.name}" in result.stderr
    rebuilt = in_service(small_settings)
    assert rebuilt.name not in {previous.name, damaged.name}  # rebuilt before the command exited
    bot = Assistant.load(small_settings, embedder=embedder)
    assert bot.index.name == rebuilt.name and not bot.warnings


def test_a_damaged_only_build_is_rebuilt_before_answering(small_settings, embedder, monkeypatch):
    """With no other build to fall back on, ``ask`` rebuilds first, and still answers."""
    only = Assistant.ingest(small_settings, embedder=embedder)
    for other in small_settings.index_path.glob("build-*"):
        assert other.name == only.name
    damage(only.folder)
    result = cli(small_settings, monkeypatch, "ask", "help with rent deposits")
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "rent deposits" in result.stdout
    assert in_service(small_settings).name != only.name


def test_a_live_assistant_switches_in_the_background_and_refuses_a_damaged_build(small_settings, embedder):
    """A new build is switched to by the watcher; a damaged new build is refused (the old one
    answers, with the warning) and rebuilt; the rebuild is then switched to."""
    settings = small_settings.model_copy(update={"index_check_seconds": 0.2})
    Assistant.ingest(settings, embedder=embedder)
    live = LiveAssistant(settings, embedder=embedder).start()
    try:
        first = live.bot
        second = Assistant.ingest(settings, embedder=embedder)
        _wait(lambda: live.bot.index.name == second.name, "the switch to the second build")
        assert first.ask("help with rent deposits").status == "answered"  # in flight: still usable

        third = Assistant.ingest(settings, embedder=embedder)
        damage(third.folder)
        _wait(lambda: in_service(settings).name not in {second.name, third.name}
              and live.bot.index.name == in_service(settings).name, "the rebuild of the damaged build")
        assert live.bot.ask("help with rent deposits").status == "answered"
        # The warnings are brought up to date just after the switch (the same look at the index).
        _wait(lambda: not live.warnings, "the damaged build's warning to clear")
    finally:
        live.stop()


def _wait(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


# -- real servers ---------------------------------------------------------------------------------


def _server_env(settings, tmp_path, check_seconds: float) -> dict[str, str]:
    return {
        "ASSISTANT_CORPUS_DIR": str(settings.corpus_path),
        "ASSISTANT_INDEX_DIR": str(settings.index_path),
        "ASSISTANT_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
        "ASSISTANT_RATE_LIMIT_PER_MINUTE": "1000000",
        "ASSISTANT_INDEX_CHECK_SECONDS": str(check_seconds),
    }


def _cites_pets(body: dict) -> bool:
    return body.get("status") == "answered" and any(c["document_id"] == "pets" for c in body["citations"])


@pytest.mark.slow
def test_requests_through_a_staff_upload_never_fail(small_settings, embedder, tmp_path):
    """Chat (a crisis message included) and /health, asked continuously on new connections of a
    two-worker server while staff upload a document: no non-2xx, and the new document is answered
    by every worker within seconds of the switch."""
    Assistant.ingest(small_settings, embedder=embedder)
    failures: list[str] = []
    pets: list[tuple[float, bool]] = []  # (when, answered from the new document)
    counts = {"chat": 0, "crisis": 0, "health": 0}
    stop = threading.Event()

    def drive(url: str, kind: str) -> None:
        while not stop.is_set():
            try:
                if kind == "health":
                    response = httpx.get(f"{url}/health", timeout=60)
                else:
                    message = {"chat": "help with rent deposits", "crisis": CRISIS, "pets": NEW_QUESTION}[kind]
                    response = httpx.post(f"{url}/api/chat", json={"message": message}, timeout=60)
            except httpx.HTTPError as exc:
                failures.append(f"{kind}: {type(exc).__name__}: {exc}")
                continue
            if not 200 <= response.status_code < 300:
                failures.append(f"{kind}: {response.status_code} {response.text[:200]}")
            elif kind == "pets":
                pets.append((time.monotonic(), _cites_pets(response.json())))
            elif kind == "crisis":
                assert response.json()["status"] == "safeguarding"
            if kind in counts:
                counts[kind] += 1

    try:
        with assistant_server(workers=2, env=_server_env(small_settings, tmp_path, 0.5),
                              log=tmp_path / "server.log") as server:
            threads = [threading.Thread(target=drive, args=(server.url, kind), daemon=True)
                       for kind in ("chat", "crisis", "health", "pets")]
            for thread in threads:
                thread.start()
            time.sleep(3)
            report = add_document(small_settings, "pets.md", PETS, PET_FIELDS, embedder=embedder)
            switched = time.monotonic()
            time.sleep(20)
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
            log = server.log.read_text(encoding="utf-8", errors="replace")
            builds = {httpx.get(f"{server.url}/health", timeout=30).json()["build"] for _ in range(8)}
    except ServerFailed as exc:
        pytest.fail(str(exc))

    assert not failures, f"{len(failures)} failed requests, e.g. {failures[:5]}\n{log[-3000:]}"
    assert min(counts.values()) >= 5, counts
    assert not any(new for when, new in pets if when < switched - 30), "answered before the upload?"
    first_new = min((when for when, new in pets if new), default=None)
    assert first_new is not None, f"the new document was never answered\n{log[-3000:]}"
    assert first_new - switched < 10
    late = [new for when, new in pets if when > first_new + 5]
    assert late and all(late), "every worker answers from the new build a few seconds after the switch"
    assert builds == {report.name}
    assert log.count(f"Now answering from the index build {report.name}") == 2  # both workers


@pytest.mark.slow
def test_hangup_reloads_a_one_worker_server_which_keeps_serving(small_settings, embedder, tmp_path):
    """kill -HUP loads the build in service at once (the check interval is an hour here). The
    build in service, damaged under the running server, does not break it: its own copy
    answers; HUP then refuses the damaged build, says so in /health, and rebuilds it."""
    first = Assistant.ingest(small_settings, embedder=embedder)
    try:
        with assistant_server(workers=1, env=_server_env(small_settings, tmp_path, 3600),
                              log=tmp_path / "server.log") as server:
            assert httpx.get(f"{server.url}/health", timeout=30).json()["build"] == first.name
            second = Assistant.ingest(small_settings, embedder=embedder)
            time.sleep(1)
            assert httpx.get(f"{server.url}/health", timeout=30).json()["build"] == first.name

            os.kill(server.process.pid, signal.SIGHUP)
            _wait(lambda: httpx.get(f"{server.url}/health", timeout=30).json()["build"] == second.name,
                  "the reload on SIGHUP", timeout=30)
            assert server.process.poll() is None
            chat = httpx.post(f"{server.url}/api/chat", json={"message": CRISIS}, timeout=60)
            assert chat.status_code == 200 and chat.json()["status"] == "safeguarding"

            damage(second.folder)  # under the running server
            for message in ("help with rent deposits", CRISIS):
                assert httpx.post(f"{server.url}/api/chat", json={"message": message}, timeout=60).status_code == 200
            assert httpx.get(f"{server.url}/health", timeout=30).status_code == 200

            os.kill(server.process.pid, signal.SIGHUP)  # reopens the build in service: damaged now

            def rebuilt() -> bool:
                body = httpx.get(f"{server.url}/health", timeout=30).json()
                return body["build"] not in {first.name, second.name} and not body["warnings"]

            _wait(rebuilt, "the background rebuild of the damaged build", timeout=90)
            assert httpx.post(f"{server.url}/api/chat", json={"message": "help with rent deposits"},
                              timeout=60).json()["status"] == "answered"
            log = server.log_tail(20000)
    except ServerFailed as exc:
        pytest.fail(str(exc))
    assert f"The index build {second.name}" in log and "is damaged and cannot be read" in log
    assert "Traceback" not in log


@pytest.mark.slow
def test_serve_starts_from_the_last_good_build_when_the_corpus_is_bad(small_settings, embedder, tmp_path):
    """A bad corpus file and a damaged build in service: serve still starts, answers from the last
    good build, and /health names the file, the build and the reasons; fixing the file rebuilds."""
    good = Assistant.ingest(small_settings, embedder=embedder)
    damaged = Assistant.ingest(small_settings, embedder=embedder)
    damage(damaged.folder)
    manifest = small_settings.corpus_path / "manifest.toml"
    fixed = manifest.read_text(encoding="utf-8")
    add_bad_file(small_settings.corpus_path)
    try:
        with assistant_server(workers=1, env=_server_env(small_settings, tmp_path, 0.5),
                              log=tmp_path / "server.log") as server:
            _wait(lambda: len(httpx.get(f"{server.url}/health", timeout=30).json()["warnings"]) == 2,
                  "both warnings", timeout=60)
            health = httpx.get(f"{server.url}/health", timeout=30).json()
            assert health["build"] == good.name
            by_kind = {w["kind"]: w for w in health["warnings"]}
            assert by_kind["stale"]["file"] == "broken.pdf"
            assert "broken.pdf is not a readable PDF" in by_kind["stale"]["reason"]
            assert by_kind["damaged"]["file"] == damaged.name
            assert str(small_settings.index_path) not in str(health)  # no server paths
            chat = httpx.post(f"{server.url}/api/chat", json={"message": "help with rent deposits"}, timeout=60)
            assert chat.status_code == 200 and chat.json()["status"] == "answered"

            manifest.write_text(fixed, encoding="utf-8")  # staff take the file out of the corpus
            time.sleep(2)  # a stray file fails the build too: still the last good build, and why
            health = httpx.get(f"{server.url}/health", timeout=30).json()
            assert health["build"] == good.name
            assert "broken.pdf has no entry in manifest.toml" in str(health["warnings"])
            (small_settings.corpus_path / "broken.pdf").unlink()

            def clean() -> bool:
                body = httpx.get(f"{server.url}/health", timeout=30).json()
                return body["build"] not in {good.name, damaged.name} and not body["warnings"]

            _wait(clean, "the rebuild once the file is fixed", timeout=90)
    except ServerFailed as exc:
        pytest.fail(str(exc))


def test_health_is_a_readiness_check_that_really_searches(small_settings, embedder):
    """/health searches Chroma and BM25: 200 with the build's name while they answer, 503 when not."""
    from fastapi.testclient import TestClient

    from assistant.web.app import create_app

    bot = Assistant.load(small_settings, embedder=embedder)
    client = TestClient(create_app(small_settings, bot))
    body = client.get("/health").json()
    assert (body["ok"], body["build"], body["warnings"]) == (True, bot.index.name, [])
    lexical, bot.index.bm25 = bot.index.bm25, None  # BM25 gone: not ready
    response = client.get("/health")
    assert response.status_code == 503 and response.json()["ok"] is False
    bot.index.bm25 = lexical
    assert client.get("/health").status_code == 200
    bot.close()  # Chroma closed and its copy removed: not ready either
    assert client.get("/health").status_code == 503


def test_health_searches_a_folder_build_in_memory_without_opening_chroma(small_settings, embedder):
    """A folder build is searched in memory, so /health searches it there too and leaves its
    Chroma collection closed (a Chroma client cost each worker ~50 MB); it still really searches:
    vectors that cannot be searched are a 503. Once Chroma is open, /health asks Chroma."""
    from fastapi.testclient import TestClient

    from assistant.index.base import LazyCollection
    from assistant.web.app import create_app

    bot = Assistant.load(small_settings, embedder=embedder)
    client = TestClient(create_app(small_settings, bot))
    assert isinstance(bot.index.collection, LazyCollection) and bot.index.folder is not None
    assert client.get("/health").status_code == 200
    assert bot.index.collection.opened is None and not bot.index.searches_chroma
    vectors, bot.index.chunk_vectors = bot.index.chunk_vectors, bot.index.chunk_vectors[:, :5]
    assert client.get("/health").status_code == 503  # the in-memory search fails: not ready
    bot.index.chunk_vectors = vectors
    assert client.get("/health").status_code == 200
    assert bot.index.collection.count() > 0  # something opened Chroma: from now on /health asks it
    assert bot.index.searches_chroma and client.get("/health").status_code == 200
    bot.close()
    assert client.get("/health").status_code == 503


def test_the_staff_page_says_the_last_good_build_answers_and_why(tmp_path, monkeypatch, embedder):
    """The Streamlit app answers from the last good build when the corpus has a bad file; the
    staff page says so, with the file and the reason."""
    from conftest import PROJECT_ROOT, make_corpus
    from streamlit.testing.v1 import AppTest

    from assistant import load_settings
    from ui import messages

    corpus = make_corpus(tmp_path / "corpus", {
        "housing.md": "# Housing\n\nCare leavers can get help with rent deposits from the housing team.\n",
        "money.md": "# Money\n\nThe setting up home allowance helps you buy furniture for your first flat.\n",
    })  # fmt: skip
    good = Assistant.ingest(load_settings(corpus_dir=corpus, index_dir=tmp_path / "index"), embedder=embedder)
    add_bad_file(corpus)
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("ASSISTANT_FEEDBACK_DB", str(tmp_path / "feedback.sqlite3"))
    make_account(tmp_path / "feedback.sqlite3")
    at = AppTest.from_file(str(PROJECT_ROOT / "ui" / "app.py"), default_timeout=180).run()
    assert not at.exception, at.exception
    assert [b.label for b in at.button] == messages.STARTERS["care_leaver"]  # the chat is up
    sign_in(at)
    said = [w.value for w in at.warning]
    assert any("(broken.pdf)" in w and "not a readable PDF" in w and good.name in w for w in said), said


@pytest.mark.slow
def test_hangup_under_the_supervisor_restarts_the_workers_on_the_new_build(small_settings, embedder, tmp_path):
    """With --workers 2, kill -HUP makes uvicorn's supervisor replace each worker; the new workers
    serve the build in service (the check interval is an hour, so only the restart can do it)."""
    first = Assistant.ingest(small_settings, embedder=embedder)

    def workers(url: str) -> dict[int, str]:
        seen: dict[int, str] = {}
        deadline = time.monotonic() + 120
        while len(seen) < 2 and time.monotonic() < deadline:
            try:
                body = httpx.get(f"{url}/health", timeout=30).json()
            except httpx.HTTPError:
                continue
            seen[body["pid"]] = body["build"]
        return seen

    try:
        with assistant_server(workers=2, env=_server_env(small_settings, tmp_path, 3600),
                              log=tmp_path / "server.log") as server:
            before = workers(server.url)
            assert set(before.values()) == {first.name}, before
            second = Assistant.ingest(small_settings, embedder=embedder)
            os.kill(server.process.pid, signal.SIGHUP)

            def replaced() -> bool:
                now = workers(server.url)
                return len(now) == 2 and not set(now) & set(before) and set(now.values()) == {second.name}

            _wait(replaced, "both workers restarted on the new build", timeout=240)
            assert server.process.poll() is None
    except ServerFailed as exc:
        pytest.fail(str(exc))


def test_a_process_leaves_no_private_copy_or_lease_behind(small_settings, embedder):
    """``assistant ask`` in its own process: its private copy and its lease are gone when it exits."""
    import subprocess
    import sys
    import tempfile

    from conftest import PROJECT_ROOT

    Assistant.ingest(small_settings, embedder=embedder)
    env = {**os.environ, "ASSISTANT_CORPUS_DIR": str(small_settings.corpus_path),
           "ASSISTANT_INDEX_DIR": str(small_settings.index_path)}  # fmt: skip
    process = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ask", "help with rent deposits"],
                               cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert "rent deposits" in out
    assert not list(Path(tempfile.gettempdir()).glob(f"assistant-build-{process.pid}-*"))
    assert not list((small_settings.index_path / "leases").glob("*"))
