"""Feedback in a real PostgreSQL: shared by worker processes, redacted, and never blocking chat.

The cluster is started by the tests from Debian's binaries (see ``tests/postgres.py``).
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time

import psycopg
import pytest
from conftest import PROJECT_ROOT
from fastapi.testclient import TestClient
from postgres import PASSWORD, PostgresCluster

from assistant import Assistant
from assistant.feedback import FeedbackStore
from assistant.web.app import create_app

pytestmark = pytest.mark.slow

# One worker process of a deployment, reduced to what it does with feedback.
WORKER = """
import sys
from assistant.feedback import FeedbackStore

url, n = sys.argv[1], sys.argv[2]
store = FeedbackStore(url)
print(store.add(
    question=f"worker {n}: my email is sam{n}@example.org, can I get a bursary?",
    answer="Yes [1]",
    rating=1,
    comment=f"text me on 07700 90012{n}",
))
"""


@pytest.fixture
def database_url(cluster, request) -> str:
    """A new, empty database per test: each test starts with no feedback table."""
    return cluster.create_database(re.sub(r"\W+", "_", request.node.name).lower()[:60])


def stored_rows(cluster: PostgresCluster, url: str) -> list[tuple[int, str, str, str]]:
    """The rows exactly as PostgreSQL holds them, read without the store."""
    with psycopg.connect(cluster.dsn(url.rsplit("/", 1)[1])) as db:
        return db.execute(
            "SELECT id, question, answer, comment FROM feedback ORDER BY id"
        ).fetchall()


def test_two_worker_processes_each_land_their_feedback_once_redacted(cluster, database_url):
    """Workers share one database: both create the table at once, each row lands once, redacted."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, database_url, str(n)],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2)
    ]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    ids = sorted(int(out.strip()) for out, _ in outputs)

    rows = stored_rows(cluster, database_url)
    assert [row[0] for row in rows] == ids and len(set(ids)) == 2
    assert sorted(row[1].split(":")[0] for row in rows) == ["worker 1", "worker 2"]
    for _, question, _, comment in rows:
        assert "@example.org" not in question and "[email]" in question
        assert "07700" not in comment and "[phone]" in comment
    assert len(FeedbackStore(database_url).recent()) == 2


def test_api_refuses_feedback_while_the_database_is_down_and_keeps_answering(
    cluster, database_url, small_settings, embedder, caplog
):
    """A database outage costs feedback only: 503 at once, chat still 200, recovery by itself."""
    bot = Assistant.load(small_settings, embedder=embedder)
    settings = small_settings.model_copy(
        update={"feedback_url": database_url, "rate_limit_per_minute": 10_000}
    )
    client = TestClient(create_app(settings=settings, bot=bot))
    rating = {"question": "help with rent?", "answer": "Yes [1]", "rating": 1}
    chat = {"message": "can I get help with a rent deposit?"}

    first = client.post("/api/feedback", json=rating)
    assert first.status_code == 200, first.text

    cluster.stop()
    try:
        started = time.monotonic()
        refused = client.post("/api/feedback", json=rating)
        assert time.monotonic() - started < 10
        assert refused.status_code == 503
        assert refused.json() == {
            "ok": False,
            "error": "Your feedback could not be saved just now. Please try again later.",
            "status": 503,
        }
        answered = client.post("/api/chat", json=chat)
        assert answered.status_code == 200 and answered.json()["text"]
    finally:
        cluster.start()

    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("postgres:***@127.0.0.1" in line for line in logged), logged
    assert not any(PASSWORD in line for line in logged)

    again = client.post("/api/feedback", json={**rating, "rating": 0})
    assert again.status_code == 200, again.text
    assert [row[0] for row in stored_rows(cluster, database_url)] == [
        first.json()["id"],
        again.json()["id"],
    ]
