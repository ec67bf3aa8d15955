"""The gap report: declined and unhelpful questions, counted by meaning, with nothing personal kept.

Real SQLite in a temporary folder and the suite's throwaway PostgreSQL, the real bundled
model for meaning, the real API and CLI.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import PROJECT_ROOT
from fastapi.testclient import TestClient
from staff_accounts import make_account, sign_in

from assistant import gaps
from assistant.cli import main
from assistant.config import BUNDLED_MODEL
from assistant.text.redact import redact
from assistant.web.app import create_app

CASES = yaml.safe_load((PROJECT_ROOT / "tests" / "data" / "redaction_cases.yaml").read_text(encoding="utf-8"))
TODAY = dt.date(2026, 11, 30)


@pytest.fixture(scope="module")
def vocabulary() -> gaps.Vocabulary:
    texts = [p.read_text(encoding="utf-8") for p in (PROJECT_ROOT / "corpus").iterdir()
             if p.suffix in (".md", ".txt")]
    return gaps.Vocabulary.build([*texts, "Lewisham Council"], gaps._model_words(BUNDLED_MODEL))


def log_in(tmp_path: Path, **kwargs) -> gaps.GapLog:
    return gaps.GapLog(tmp_path / "data.sqlite3", **kwargs)


def add(log: gaps.GapLog, embedder, question: str, *, reason="declined", day=TODAY, vocabulary=None):
    return log.add(question=question, reason=reason, vector=embedder.embed_query(question),
                   section="Local Offer › Money", today=day, vocabulary=vocabulary)


# -- nothing personal is kept -----------------------------------------------------------------


def test_no_personal_item_of_the_helper_written_set_reaches_a_stored_example(vocabulary):
    """Each message of tests/data/redaction_cases.yaml (written without sight of this code) holds
    personal items; what would be stored as the example must hold none of them."""
    leaked = []
    for case in CASES["personal"]:
        kept = " ".join(redact(case["text"]).split())
        if gaps.looks_personal(kept, vocabulary):
            continue
        leaked += [item for item in case["items"] if item.lower() in kept.lower()]
    items = sum(len(c["items"]) for c in CASES["personal"])
    # Measured 2 of 189: "its jordan again" (a name that is also a word, in lower case) and
    # "Lewisham College" (the documents' own words). The set was used to shape the check, so this
    # is a regression bound, not a first-sight measure.
    assert len(leaked) <= 2, leaked
    assert items >= 150


def test_ordinary_questions_keep_their_words(vocabulary):
    questions = [q["question"] for q in yaml.safe_load((PROJECT_ROOT / "eval" / "questions.yaml").read_text())]
    kept = [q for q in questions if not gaps.looks_personal(redact(q), vocabulary)]
    assert len(kept) >= 0.9 * len(questions)
    for ordinary in ("Is Lewisham Council still doing Staying Put till 21?",
                     "how much is the setting up home allowance in 2025-28",
                     "what help do 18-25 year olds get with council tax"):
        assert not gaps.looks_personal(ordinary, vocabulary), ordinary


@pytest.mark.parametrize("message", [
    "my name is Tyrese and I need a deposit",
    "can u tell Kwame i got the job",
    "email me at sam dot k at hotmail dot com",
    "born 02/12/2008, what happens at 18",
    "I live at 12 Catford Road, can I get a grant",
    "my case number is 4471 0932",
    "thanks x Precious",
])
def test_a_personal_message_is_counted_without_its_words(tmp_path, embedder, vocabulary, message):
    log = log_in(tmp_path)
    add(log, embedder, message, vocabulary=vocabulary)
    [entry] = log.entries()
    assert entry.example is None and entry.reason == "declined" and entry.day == TODAY.isoformat()


def test_with_examples_off_nothing_but_the_count_and_meaning_is_kept(tmp_path, embedder, vocabulary):
    log = log_in(tmp_path, examples=False)
    add(log, embedder, "is there a clothing allowance", vocabulary=vocabulary)
    [entry] = log.entries()
    assert entry.example is None and entry.vector.shape == (384,)
    assert gaps.report(log.entries())[0].count == 1


# -- grouping by meaning ------------------------------------------------------------------------


def test_rewordings_fall_into_one_group_and_other_topics_apart(tmp_path, embedder, vocabulary):
    log = log_in(tmp_path)
    pregnancy = ["im pregnant what help can i get", "what support is there if I am pregnant",
                 "pregnant and in care, what help do I get?"]
    birthdays = ["do i get anything on my birthday", "does the council give birthday money"]
    for q in [*pregnancy, "is there a free gym membership", *birthdays]:
        add(log, embedder, q, vocabulary=vocabulary)
    groups = gaps.report(log.entries())
    assert [g.count for g in groups] == [3, 2, 1]
    assert set(groups[0].examples) <= set(pregnancy) and len(groups[0].examples) == 2
    assert set(groups[1].examples) <= set(birthdays)
    assert groups[0].section == "Local Offer › Money"


def test_counts_are_per_week_and_the_period_and_retention_hold(tmp_path, embedder):
    log = log_in(tmp_path, retention_days=90)
    for days_ago in (0, 0, 8, 40):  # TODAY is a Monday
        add(log, embedder, "is there a clothing allowance", day=TODAY - dt.timedelta(days=days_ago))
    [group] = gaps.report(log.entries(7, today=TODAY))
    assert group.count == 2
    [group] = gaps.report(log.entries(today=TODAY))
    assert group.weeks == (("2026-10-19", 1), ("2026-11-16", 1), ("2026-11-30", 2))
    # The first entry of a later day purges what is past the retention period.
    add(log, embedder, "is there a clothing allowance", day=TODAY + dt.timedelta(days=60))
    assert sorted(e.day for e in log.entries()) == ["2026-11-22", "2026-11-30", "2026-11-30", "2027-01-29"]
    assert log.purge(1, today=TODAY + dt.timedelta(days=60)) == 3


def test_csv_export_has_a_row_per_topic_and_never_a_formula(tmp_path, embedder):
    log = log_in(tmp_path)
    add(log, embedder, "=HYPERLINK(\"http://x\") clothing allowance?")
    add(log, embedder, "what about a free railcard")
    rows = list(csv.reader(io.StringIO(gaps.to_csv(gaps.report(log.entries())))))
    assert rows[0] == list(gaps.CSV_COLUMNS) and len(rows) == 3
    assert all(not cell.startswith("=") for row in rows for cell in row)


# -- where the questions come from ------------------------------------------------------------


def wait_for_entries(log: gaps.GapLog, n: int) -> list[gaps.GapEntry]:
    for _ in range(100):
        entries = log.entries()
        if len(entries) >= n:
            return entries
        time.sleep(0.05)
    return log.entries()


def test_the_api_logs_declines_and_unhelpful_answers_but_never_answers_or_crises(bot, settings, tmp_path):
    db = tmp_path / "api.sqlite3"
    api = TestClient(create_app(settings.model_copy(update={"feedback_db": db}), bot))
    for message in ("What is the EET target?", "I want to kill myself tonight"):
        assert api.post("/api/chat", json={"message": message}).json()["status"] in ("answered", "safeguarding")
    declined = api.post("/api/chat", json={"message": "what is the phone number of the library"})
    assert declined.json()["status"] == "not_found"
    streamed = api.post("/api/chat/stream", json={"message": "how much is the free railcard worth"})
    assert '"status": "not_found"' in streamed.text
    rated = {"question": "Can I get help with rent?", "answer": "Yes [1]", "rating": 0}
    assert api.post("/api/feedback", json=rated).status_code == 200
    crisis = {"question": "I want to die", "answer": "Call 999", "rating": 0, "status": "safeguarding"}
    assert api.post("/api/feedback", json=crisis).status_code == 200
    entries = wait_for_entries(gaps.GapLog(db), 3)
    assert sorted(e.reason for e in entries) == ["declined", "declined", "unhelpful"]
    assert all(e.section for e in entries)
    assert not any("die" in (e.example or "") or "kill" in (e.example or "") for e in entries)


def test_the_cli_reports_topics_and_writes_csv(tmp_path, embedder, monkeypatch):
    db = tmp_path / "cli.sqlite3"
    log = gaps.GapLog(db)
    today = dt.date.today()
    for q in ("is there a clothing allowance", "clothing allowance for care leavers?", "free railcard?"):
        add(log, embedder, q, day=today)
    monkeypatch.setenv("ASSISTANT_FEEDBACK_DB", str(db))
    out = CliRunner().invoke(main, ["gaps", "--days", "7"])
    assert out.exit_code == 0, out.output
    assert "3 questions in the last 7 days" in out.output and "in 2 topics" in out.output
    assert "1. 2 × clothing allowance for care leavers?" in out.output
    target = tmp_path / "gaps.csv"
    out = CliRunner().invoke(main, ["gaps", "--csv", str(target)])
    assert out.exit_code == 0 and len(target.read_text().splitlines()) == 3


def test_the_store_works_on_postgresql(embedder, cluster):
    log = gaps.GapLog(cluster.create_database("gaps"))
    add(log, embedder, "is there a clothing allowance")
    add(log, embedder, "do care leavers get a clothing allowance")
    [group] = gaps.report(log.entries(today=TODAY))
    assert group.count == 2 and group.declined == 2
    assert log.purge(1, today=TODAY + dt.timedelta(days=5)) == 2


def test_a_declined_chat_question_shows_on_the_staff_page_with_a_csv_download(bot, settings, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    from ui import messages

    db = tmp_path / "ui.sqlite3"
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(settings.corpus_path))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(settings.index_path))
    monkeypatch.setenv("ASSISTANT_FEEDBACK_DB", str(db))
    monkeypatch.delenv("ASSISTANT_FEEDBACK_URL", raising=False)
    make_account(db)
    at = AppTest.from_file(str(PROJECT_ROOT / "ui" / "app.py"), default_timeout=180).run()
    at.chat_input[0].set_value("what is the phone number of the library").run()
    assert not at.exception, at.exception
    assert [e.example for e in gaps.GapLog(db).entries()] == ["what is the phone number of the library"]

    sign_in(at)
    assert messages.GAPS_HEADING in [h.value for h in at.header]
    shown = [m.value for m in at.markdown]
    assert messages.GAPS_SUMMARY.format(total=1, topics=1) in shown
    assert any("number of the library" in t and "| 1 |" in t for t in shown), shown
