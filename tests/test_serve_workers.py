"""`assistant serve --workers N`: several processes, one index, each worker answering for itself.

The slow test starts the real command (uvicorn's supervisor and two workers) over the
session's index and tells the workers apart by the pid /health reports.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from click.testing import CliRunner

from assistant.cli import main as cli_main
from assistant.config import Contact, load_settings
from assistant.errors import ConfigError
from assistant.web.serve import export_settings, settings_env, worker_app
from eval.servers import ServerFailed, assistant_server

QUESTION = "do care leavers have to pay council tax in lewisham"


@pytest.mark.parametrize("workers", ["0", "-3"])
def test_workers_must_be_one_or_more(workers):
    """A bad --workers is a usage error (exit 2) that says what to give, before anything loads."""
    result = CliRunner().invoke(cli_main, ["serve", "--workers", workers])
    assert result.exit_code == 2
    assert (
        f"Invalid value for '--workers': {workers} is not a number of server processes: "
        "give 1 or more (e.g. --workers 4)."
    ) in result.output


def test_settings_reach_workers_through_the_environment(monkeypatch, tmp_path):
    """Settings given in code become ASSISTANT_* variables that load back to the same settings."""
    for name in ("ASSISTANT_RATE_LIMIT_PER_MINUTE", "ASSISTANT_CORS_ORIGINS",
                 "ASSISTANT_URGENT_CONTACTS", "ASSISTANT_INDEX_DIR"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    wanted = load_settings(
        rate_limit_per_minute=7,
        cors_origins=["https://www.example.gov.uk"],
        urgent_contacts=[Contact(name="Emergency", detail="999")],
        index_dir=tmp_path / "index",
    )
    env = settings_env(wanted)
    assert env["ASSISTANT_RATE_LIMIT_PER_MINUTE"] == "7"
    assert env["ASSISTANT_INDEX_DIR"] == str(tmp_path / "index")
    assert env["ASSISTANT_CORS_ORIGINS"] == '["https://www.example.gov.uk"]'
    assert "ASSISTANT_COUNCIL_NAME" not in env  # unchanged settings are not copied

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert load_settings() == wanted
    assert worker_app().state.settings == wanted  # what each worker builds its app from


def test_a_setting_the_environment_cannot_carry_stops_the_start(monkeypatch):
    """Unset here but set in the environment: workers would differ, so it is refused by name."""
    monkeypatch.setenv("ASSISTANT_LLM_BASE_URL", "http://localhost:11434/v1")
    settings = load_settings(llm_base_url=None)
    with pytest.raises(ConfigError, match=r"llm_base_url cannot be passed to the worker processes"):
        export_settings(settings)


async def _health_many(url: str, times: int) -> list[dict[str, object]]:
    """/health ``times`` times at once, each on a new connection (so any worker may accept it)."""

    async def one() -> dict[str, object]:
        async with httpx.AsyncClient(timeout=30) as http:
            return dict((await http.get(f"{url}/health")).json())

    return list(await asyncio.gather(*(one() for _ in range(times))))


@pytest.mark.slow
def test_two_workers_serve_the_same_index_and_answer(bot, settings, tmp_path):
    """Each worker reports its own pid and the same fingerprint; a question gets a cited answer."""
    env = {
        "ASSISTANT_CORPUS_DIR": str(settings.corpus_path),
        "ASSISTANT_INDEX_DIR": str(settings.index_path),
        "ASSISTANT_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
        "ASSISTANT_RATE_LIMIT_PER_MINUTE": "1000",
    }
    try:
        with assistant_server(workers=2, env=env, log=tmp_path / "server.log") as server:
            fingerprints: dict[object, object] = {}
            deadline = time.monotonic() + 60
            while len(fingerprints) < 2 and time.monotonic() < deadline:
                for body in asyncio.run(_health_many(server.url, 8)):
                    assert body["ok"] is True
                    fingerprints[body["pid"]] = body["fingerprint"]
            assert len(fingerprints) == 2, f"only these workers answered: {fingerprints}"
            assert server.process.pid not in fingerprints  # workers answer, not the supervisor
            assert set(fingerprints.values()) == {bot.index.fingerprint}

            response = httpx.post(f"{server.url}/api/chat", json={"message": QUESTION}, timeout=60)
            assert response.status_code == 200
            reply = response.json()
            assert reply["status"] == "answered"
            assert reply["citations"] and "council tax" in reply["text"].lower()
    except ServerFailed as exc:
        pytest.fail(str(exc))
