"""The CLI, driven like a user: exit codes, messages, JSON."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from assistant.cli import main


@pytest.fixture
def run(settings, monkeypatch):
    """Invoke the CLI against the session's test corpus and index."""
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(settings.index_dir))

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return invoke


def test_search_json(run, bot):
    result = run("search", "supported lodgings hours of support", "--k", "2", "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert len(hits) == 2
    assert {"text", "score", "document_id", "document_title", "status", "section", "page", "start", "end",
            "source_url"} <= set(hits[0])
    assert hits[0]["document_id"] == "local-offer"


def test_documents_lists_chunk_counts(run, bot):
    result = run("documents", "--json")
    docs = {d["id"]: d for d in json.loads(result.stdout)}
    assert docs["cps-2021-24"]["status"] == "superseded" and docs["cps-2025-28"]["chunks"] > 10


def test_ask_json(run, bot):
    result = run("ask", "how much is the uni bursary", "--json")
    assert result.exit_code == 0, result.output
    reply = json.loads(result.stdout)
    assert reply["status"] == "answered" and "£2,000" in reply["text"]
    assert reply["citations"][0]["quote"]


def test_ask_empty_question_exits_2_with_a_message(run):
    result = run("ask", "   ")
    assert result.exit_code == 2
    assert "The question is empty" in result.stderr


def test_ingest_reports_up_to_date(run, bot):
    result = run("ingest")
    assert result.exit_code == 0 and "up to date" in result.output


def test_bad_manifest_is_a_one_line_error(tmp_path, monkeypatch):
    (tmp_path / "manifest.toml").write_text("[[documents]]\nid = 'x'\n")
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(tmp_path))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    result = CliRunner().invoke(main, ["ingest"])
    assert result.exit_code == 1
    assert "missing the field(s)" in result.stderr and "Traceback" not in result.output
