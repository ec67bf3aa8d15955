"""The ``torch_threads`` setting: how many threads the model's runtime uses to embed a question,
everywhere (torch here, pinned with ``embedding_runtime="torch"``; onnxruntime's sessions at the end).

The decision is a pure function (``torch_threads``), tested over its cases. Applying it is tested
in this process through ``Assistant.load`` and an ingest (each embedder sets its own count before
every question, so other tests are unaffected), and in a fresh interpreter, as a server starts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
import torch
from conftest import PROJECT_ROOT

from assistant import Assistant
from assistant.config import load_settings
from assistant.embed import make_embedder
from assistant.embed.local import available_cpus, batch_threads, torch_threads
from assistant.errors import ConfigError
from assistant.web.serve import settings_env


@pytest.mark.parametrize(("setting", "expected"), [(0, 1), (1, 1), (2, 2), (3, 3)])
def test_automatic_is_one_thread_and_a_number_is_taken_as_given(setting, expected):
    assert torch_threads(setting) == expected


def test_a_negative_setting_is_refused_by_the_decision_too():
    with pytest.raises(ValueError, match="torch_threads is -1"):
        torch_threads(-1)


def test_default_is_automatic(monkeypatch):
    monkeypatch.delenv("ASSISTANT_TORCH_THREADS", raising=False)
    assert load_settings().torch_threads == 0


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_negative_threads_is_a_config_error_naming_the_setting(monkeypatch, how):
    if how == "environment":
        monkeypatch.setenv("ASSISTANT_TORCH_THREADS", "-2")
        overrides = {}
    else:
        overrides = {"torch_threads": -2}
    with pytest.raises(
        ConfigError, match=r"Invalid settings \(torch_threads: .*greater than or equal to 0"
    ):
        load_settings(**overrides)


def test_workers_are_given_the_setting_like_any_other(monkeypatch):
    """``run_workers`` exports the settings; each worker then applies torch_threads when it loads."""
    monkeypatch.delenv("ASSISTANT_TORCH_THREADS", raising=False)
    assert settings_env(load_settings(torch_threads=3))["ASSISTANT_TORCH_THREADS"] == "3"


def _threads_in_a_new_thread(work) -> int:
    seen: list[int] = []

    def run() -> None:
        work()
        seen.append(torch.get_num_threads())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return seen[0]


@pytest.mark.parametrize(("setting", "expected"), [(0, 1), (3, 3)])
def test_after_assistant_load_questions_use_the_configured_threads(small_settings, setting, expected):
    settings = small_settings.model_copy(update={"torch_threads": setting, "embedding_runtime": "torch"})
    bot = Assistant.load(settings)  # loads the model itself, as the CLI, the API and eval do
    assert torch.get_num_threads() == expected
    # A thread that answers (the API's and Streamlit's threads) uses the same count.
    assert _threads_in_a_new_thread(lambda: bot.ask("who helps with rent deposits")) == expected


@pytest.mark.parametrize(("query", "setting", "expected"), [
    (1, 0, available_cpus()), (1, 1, 1), (1, 3, 3), (64, 0, 64),  # never fewer than for a question
])  # fmt: skip
def test_a_batch_uses_every_core_unless_ingest_threads_says(query, setting, expected):
    assert batch_threads(query, setting) == expected


def _recording_threads(embedder, monkeypatch) -> list[int]:
    """torch's thread count each time the model itself runs (inside the embedder: its model for
    questions and, for a build in bf16, its bulk model)."""
    from assistant.embed.bert import BertMeanEncoder

    seen: list[int] = []
    forward = BertMeanEncoder._forward

    def recording_forward(self, ids, mask):
        seen.append(torch.get_num_threads())
        return forward(self, ids, mask)

    monkeypatch.setattr(BertMeanEncoder, "_forward", recording_forward)
    return seen


@pytest.mark.skipif((available_cpus() or 1) < 2, reason="needs 2 cores to tell all cores from 1")
def test_an_ingest_uses_every_core_then_questions_use_one_again(small_settings, monkeypatch):
    """A batch of documents runs on every core; the count is put back after, and a question
    uses the embedder's one thread."""
    embedder = make_embedder(small_settings.model_copy(update={"embedding_runtime": "torch"}))
    seen = _recording_threads(embedder, monkeypatch)
    before = torch.get_num_threads()
    bot = Assistant.load(small_settings, embedder=embedder)  # builds the index first
    assert seen and set(seen) == {available_cpus()}
    assert torch.get_num_threads() == before
    seen.clear()
    bot.search("who pays for a sofa in my first flat")  # asked in no other test: not in the query cache
    assert seen == [1] and torch.get_num_threads() == 1


def test_ingest_threads_sets_the_batch_threads(small_settings, monkeypatch):
    settings = small_settings.model_copy(update={"ingest_threads": 1, "torch_threads": 2, "embedding_runtime": "torch"})
    embedder = make_embedder(settings)
    seen = _recording_threads(embedder, monkeypatch)
    Assistant.ingest(settings, embedder=embedder)
    assert seen and set(seen) == {1}
    assert torch.get_num_threads() == 2  # this embedder's threads for questions, set when it loaded


# Loads the bundled model from the settings, as a server worker does, embeds a batch, then reports
# torch's thread count in this thread and in a new one (as uvicorn's threads that answer would).
_CHILD = """
import threading, torch
from assistant.config import load_settings
from assistant.embed import make_embedder
model = make_embedder(load_settings())
model.embed_documents(["housing help for care leavers", "council tax"])
seen = []
def answer():
    model.embed_query("what help is there with rent")
    seen.append(torch.get_num_threads())
thread = threading.Thread(target=answer)
thread.start(); thread.join()
print(torch.get_num_threads(), seen[0])
"""


@pytest.mark.parametrize(("threads", "expected"), [(0, 1), (3, 3)])
def test_loading_embeddings_uses_the_set_threads(threads, expected):
    env = {
        **os.environ,
        "ANONYMIZED_TELEMETRY": "False",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ASSISTANT_TORCH_THREADS": str(threads),
        "ASSISTANT_EMBEDDING_RUNTIME": "torch",
    }
    done = subprocess.run(
        [sys.executable, "-c", _CHILD],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [str(expected), str(expected)]


@pytest.mark.parametrize(("setting", "ingest", "query", "batch"), [(0, 0, 1, available_cpus()), (2, 1, 2, 1)])
def test_onnx_questions_and_batches_run_in_sessions_with_those_threads(small_settings, setting, ingest, query, batch):
    """onnxruntime keeps its threads per session: one session for questions, one for batches
    of more than ``SMALL_BATCH`` texts (made when the first comes; a few texts run on the
    questions' session), each with the count the settings decide."""
    from assistant.embed.onnx import SMALL_BATCH

    settings = small_settings.model_copy(update={"torch_threads": setting, "ingest_threads": ingest})
    embedder = make_embedder(settings)
    assert embedder.runtime == "onnx"
    embedder.embed_query("what help is there with rent")
    embedder.embed_documents(["housing help for care leavers", "council tax"])
    assert list(embedder._model._sessions) == [query]
    embedder.embed_documents([f"housing help for care leavers, part {n}" for n in range(SMALL_BATCH + 1)])
    used = {threads: s.get_session_options().intra_op_num_threads for threads, s in embedder._model._sessions.items()}
    assert used == {query: query, batch: batch}


# -- answer_concurrency: how many turns one process works out at once ----------------------------


def _most_turns_at_once(bot, monkeypatch, questions: list[str]) -> tuple[int, list[str]]:
    """Ask every question from its own thread, all released at once; the most turns that were
    being planned at the same moment, and the answers."""
    import assistant.service as service

    inside = most = 0
    lock = threading.Lock()
    real = service.plan_turn

    def counted(*args, **kwargs):
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        try:
            time.sleep(0.05)  # long enough for every released thread to arrive
            return real(*args, **kwargs)
        finally:
            with lock:
                inside -= 1

    monkeypatch.setattr(service, "plan_turn", counted)
    start = threading.Barrier(len(questions))
    answers: dict[int, str] = {}

    def ask(i: int, question: str) -> None:
        start.wait()
        answers[i] = bot.ask(question).text

    threads = [threading.Thread(target=ask, args=(i, q)) for i, q in enumerate(questions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return most, [answers[i] for i in range(len(questions))]


QUESTIONS = ["how much is the uni bursary", "can i stay with my foster carer after 18", "what is a pathway plan",
             "do i pay council tax", "who is my personal adviser", "is there help with a rent deposit"]


@pytest.mark.parametrize("limit", [1, 3])
def test_a_process_plans_at_most_answer_concurrency_turns_at_once_and_answers_them_all(bot, monkeypatch, limit):
    limited = Assistant(settings=bot.settings.model_copy(update={"answer_concurrency": limit}),
                        embedder=bot.embedder, index=bot.index, glossary=bot.glossary)
    expected = [limited.ask(q).text for q in QUESTIONS]  # one at a time
    most, answers = _most_turns_at_once(limited, monkeypatch, QUESTIONS)
    assert answers == expected
    assert 1 <= most <= limit
    if limit > 1:
        assert most > 1, "the limit is not one turn at a time"


def test_by_default_a_process_plans_one_turn_at_a_time_and_0_is_no_limit(monkeypatch):
    import contextlib

    from assistant.service import turn_slots

    monkeypatch.delenv("ASSISTANT_ANSWER_CONCURRENCY", raising=False)
    assert load_settings().answer_concurrency == 1
    assert isinstance(turn_slots(0), contextlib.nullcontext)
    assert turn_slots(2) is turn_slots(2), "every Assistant in a process draws on the same slots"
