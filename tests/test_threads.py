"""The ``torch_threads`` setting: how many threads torch uses in each ``assistant serve`` process.

The decision is a pure function (``torch_threads``), tested over its cases; applying it is
tested in a fresh interpreter, so this process's torch keeps its own thread count.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import PROJECT_ROOT

from assistant.config import load_settings
from assistant.embed.local import torch_threads
from assistant.errors import ConfigError
from assistant.web.serve import settings_env, threads_for


@pytest.mark.parametrize(
    ("setting", "workers", "cpus", "expected"),
    [
        (0, 1, 2, 1),  # automatic, 2 cores: one thread even for one process
        (0, 1, 1, 1),
        (0, 1, None, 1),  # core count unknown: taken as 1
        (0, 2, 2, 1),  # automatic, several workers: one thread each
        (0, 2, 16, 1),
        (0, 4, 8, 1),
        (0, 1, 4, None),  # automatic, one process on 4+ cores: torch's default
        (0, 1, 64, None),
        (1, 1, 64, 1),  # a number is taken as given, whatever the workers or cores
        (3, 1, 2, 3),
        (2, 4, 2, 2),
    ],
)
def test_threads_decided_from_setting_workers_and_cores(setting, workers, cpus, expected):
    assert torch_threads(setting, workers=workers, cpus=cpus) == expected


def test_a_negative_setting_is_refused_by_the_decision_too():
    with pytest.raises(ValueError, match="torch_threads is -1"):
        torch_threads(-1, workers=1, cpus=2)


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


def test_workers_get_the_settled_number(monkeypatch):
    """With several workers, automatic becomes 1 and is exported to them like any setting."""
    monkeypatch.delenv("ASSISTANT_TORCH_THREADS", raising=False)
    auto = load_settings(torch_threads=0)
    settled = threads_for(auto, workers=2)
    assert settled.torch_threads == 1
    assert settings_env(settled)["ASSISTANT_TORCH_THREADS"] == "1"
    assert auto.torch_threads == 0  # the caller's settings are left as they were
    assert threads_for(load_settings(torch_threads=3), workers=2).torch_threads == 3


# Sets the threads as ``assistant serve`` does, loads the bundled model and embeds, then reports
# torch's thread count in this thread and in a new one (as uvicorn's threads that answer would).
_CHILD = """
import threading, torch
from assistant.config import load_settings
from assistant.embed.local import LocalEmbeddings, use_torch_threads
settings = load_settings()
use_torch_threads(settings.torch_threads, workers=1)
model = LocalEmbeddings(settings.embedding_model)
model.embed_documents(["housing help for care leavers", "council tax"])
seen = []
def answer():
    model.embed_query("what help is there with rent")
    seen.append(torch.get_num_threads())
thread = threading.Thread(target=answer)
thread.start(); thread.join()
print(torch.get_num_threads(), seen[0])
"""


@pytest.mark.parametrize("threads", [1, 3])
def test_loading_embeddings_uses_the_set_threads(threads):
    env = {
        **os.environ,
        "ANONYMIZED_TELEMETRY": "False",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "ASSISTANT_TORCH_THREADS": str(threads),
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
    assert done.stdout.split() == [str(threads), str(threads)]
