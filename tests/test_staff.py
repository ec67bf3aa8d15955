"""The staff page in plain words: field errors by the form's labels, removing and replacing a
document (a new file is a draft until published), and the evaluation summarised before the
developer tables.

The admin core runs on real small corpora with the real model; the page runs in AppTest.
"""

from __future__ import annotations

import json
import tomllib
from types import SimpleNamespace

import pytest
from conftest import PROJECT_ROOT, make_corpus
from staff_accounts import NAME, make_account, sign_in

from assistant import Assistant
from assistant.admin import (
    Replacement,
    add_document,
    check_fields,
    make_entry,
    preview,
    remove_document,
    replace_document,
)
from assistant.errors import CorpusError
from assistant.staff import Actor, StaffStore
from ui import messages
from ui.staff import field_problems
from ui.staff_reports import evaluation_summary

APP = PROJECT_ROOT / "ui" / "app.py"
DOCS = {
    "housing.md": "# Housing\n\nCare leavers can get help with rent deposits from the housing team.\n",
    "money.md": "# Money\n\nThe setting up home allowance helps you buy furniture for your first flat.\n",
    "health.md": "# Health\n\nThe nurse offers a health assessment every year until you turn 18.\n",
}


def form(**values):
    fields = {"id": "winter-support", "title": "Winter support 2026", "publisher": "Test Council",
              "published": 2026, "period": "2026-27", "status": "current", "superseded_by": "",
              "kind": "guidance", "source_url": "https://example.org/winter"}
    return {**fields, **values}


# -- field errors a person can act on -----------------------------------------------------------


def test_every_bad_field_is_named_with_its_value_and_nothing_changes(small_settings):
    corpus = small_settings.corpus_path
    before = (corpus / "manifest.toml").read_bytes()
    with pytest.raises(CorpusError) as caught:
        add_document(small_settings, "winter.md", b"# Winter\n\nHelp with heating bills.\n",
                     form(id="Winter Support!", period="", source_url="example.org/winter"))
    problems = {name: value for name, value, _ in caught.value.problems}
    assert problems == {"id": "Winter Support!", "period": None, "source_url": "example.org/winter"}
    said = field_problems("winter.md", caught.value.problems)
    lines = said.splitlines()
    assert lines[1].startswith("- **ID") and "“Winter Support\\!” can only have lower-case letters" in lines[1]
    assert lines[2].startswith("- **Period covered") and lines[2].endswith(messages.UPLOAD_EMPTY)
    assert lines[3].startswith("- **Web address") and "“example\\.org/winter” is not a web address" in lines[3]
    assert "manifest.toml" not in said and "field(s)" not in said
    assert (corpus / "manifest.toml").read_bytes() == before and not (corpus / "winter.md").exists()


def test_a_used_id_and_an_unknown_replacement_are_refused_by_name(small_settings):
    corpus = small_settings.corpus_path
    with pytest.raises(CorpusError) as caught:
        check_fields(corpus, make_entry("x.md", form(id="doc-1", status="superseded", superseded_by="nope")))
    assert [(n, v) for n, v, _ in caught.value.problems] == [("id", "doc-1"), ("superseded_by", "nope")]


# -- removing and replacing -----------------------------------------------------------------------


@pytest.fixture
def three(tmp_path, embedder):
    from assistant import load_settings

    corpus = make_corpus(tmp_path / "corpus", DOCS)
    s = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index", cache_dir=tmp_path / "cache")
    Assistant.ingest(s, embedder=embedder)
    return s


def test_removing_a_document_rebuilds_without_it_and_keeps_a_copy(three, embedder):
    report = remove_document(three, "doc-2", embedder=embedder)
    assert report.documents == 2
    manifest = tomllib.loads((three.corpus_path / "manifest.toml").read_text())["documents"]
    assert [e["id"] for e in manifest] == ["doc-1", "doc-3"]
    assert not (three.corpus_path / "money.md").exists()
    [kept] = list((three.cache_path / "removed-documents").iterdir())
    assert (kept / "money.md").read_text() == DOCS["money.md"]
    bot = Assistant.load(three, embedder=embedder)
    assert bot.ask("how do I pay for furniture for my first flat?").status == "not_found"
    assert bot.ask("can I get help with a rent deposit?").status == "answered"


def test_a_document_another_names_as_its_replacement_or_the_last_one_cannot_be_removed(tmp_path, embedder):
    from assistant import load_settings

    corpus = make_corpus(tmp_path / "corpus", {"new.md": DOCS["money.md"], "old.md": DOCS["housing.md"]},
                         statuses={"old.md": "superseded"})
    s = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index", cache_dir=tmp_path / "cache")
    before = (corpus / "manifest.toml").read_bytes()
    with pytest.raises(CorpusError, match="named as the replacement of doc-2"):
        remove_document(s, "doc-1", embedder=embedder)
    with pytest.raises(CorpusError, match=r"No document has the id 'doc-9'\. The documents are: doc-1, doc-2"):
        remove_document(s, "doc-9", embedder=embedder)
    assert (corpus / "manifest.toml").read_bytes() == before


def test_a_failed_rebuild_puts_a_removed_document_back(three, embedder, monkeypatch):
    from assistant.errors import IndexBuildError

    before = (three.corpus_path / "manifest.toml").read_bytes()
    current = (three.index_path / "CURRENT").read_text()

    def fail(*args, **kwargs):
        raise IndexBuildError("disk full")

    monkeypatch.setattr(Assistant, "ingest", staticmethod(fail))
    with pytest.raises(IndexBuildError):
        remove_document(three, "doc-2", embedder=embedder)
    assert (three.corpus_path / "manifest.toml").read_bytes() == before
    assert (three.corpus_path / "money.md").read_text() == DOCS["money.md"]
    assert (three.index_path / "CURRENT").read_text() == current


def test_replacing_a_file_keeps_the_entry_and_answers_from_the_new_text(three, embedder):
    new = b"# Money\n\nThe setting up home allowance is now paid in two parts, before and after you move.\n"
    report = replace_document(three, "doc-2", "money 2026.md", new, embedder=embedder)
    assert report.documents == 3
    [entry] = [e for e in tomllib.loads((three.corpus_path / "manifest.toml").read_text())["documents"]
               if e["id"] == "doc-2"]
    assert entry["file"] == "money-2026.md" and entry["title"] == "Test document 2 2025"
    assert not (three.corpus_path / "money.md").exists()
    bot = Assistant.load(three, embedder=embedder)
    assert "two parts" in bot.ask("how is the setting up home allowance paid?").text


def test_a_broken_replacement_is_refused_before_anything_changes(three, embedder):
    before = (three.corpus_path / "manifest.toml").read_bytes()
    with pytest.raises(CorpusError, match="not a supported type"):
        replace_document(three, "doc-2", "money.exe", b"MZ...", embedder=embedder)
    with pytest.raises(CorpusError):
        replace_document(three, "doc-2", "money.pdf", b"%PDF-1.4 not really a pdf", embedder=embedder)
    assert (three.corpus_path / "manifest.toml").read_bytes() == before
    assert (three.corpus_path / "money.md").exists() and not (three.corpus_path / "money.pdf").exists()


# -- a new file is a draft until it is published ----------------------------------------------

MONEY = ("# Money\n\n## Setting up home\n\nThe setting up home allowance helps you buy furniture for your first flat.\n\n"
         "## Driving lessons\n\nThe council pays for ten driving lessons.\n\n"
         "## Birthdays\n\nYour personal adviser sends a card on your birthday.\n")
SPLIT_IN_TWO = "The setting up home allowance is now paid in two parts, before and after you move."


@pytest.fixture
def sections(tmp_path, embedder):
    """Two documents, the money one in three sections (three passages), indexed; a staff database."""
    from assistant import load_settings

    corpus = make_corpus(tmp_path / "corpus", {"housing.md": DOCS["housing.md"], "money.md": MONEY})
    s = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index", cache_dir=tmp_path / "cache",
                      feedback_db=tmp_path / "feedback.sqlite3")
    Assistant.ingest(s, embedder=embedder)
    return s


def as_it_is(s) -> tuple[dict[str, bytes], str]:
    """Every corpus file's bytes (the manifest too) and the build the index has in service."""
    files = {p.name: p.read_bytes() for p in sorted(s.corpus_path.iterdir())}
    return files, (s.index_path / "CURRENT").read_text()


def texts(passages) -> list[str]:
    return [p.text for p in passages]


def test_a_replacement_draft_shows_the_changed_and_removed_passages_and_writes_nothing(sections, embedder):
    before = as_it_is(sections)
    new = MONEY.replace("helps you buy furniture for your first flat.", "is now paid in two parts, before and after "
                        "you move.").split("## Birthdays")[0]
    draft = preview(sections, Replacement("doc-2", "money 2026.md", new.encode()), embedder=embedder)
    assert [(b.text, a.text) for b, a in draft.changed] == [
        ("The setting up home allowance helps you buy furniture for your first flat.", SPLIT_IN_TWO)]
    assert texts(draft.removed) == ["Your personal adviser sends a card on your birthday."]
    assert draft.new == [] and draft.quarantined == []
    assert (draft.filename, draft.replaces, draft.entry["title"]) == ("money-2026.md", "money.md", "Test document 2 2025")
    # Nothing was written: the corpus, its manifest and the build in service are as they were.
    assert as_it_is(sections) == before
    assert not (sections.cache_path / "removed-documents").exists()
    bot = Assistant.load(sections, embedder=embedder)
    assert "two parts" not in bot.ask("how is the setting up home allowance paid?").text


def test_publishing_a_replacement_draft_answers_from_the_new_text_and_is_audited(sections, embedder):
    new = MONEY + "\n## Bus pass\n\nCare leavers under 25 get a free bus pass from the council.\n"
    draft = preview(sections, Replacement("doc-2", "money.md", new.encode()), embedder=embedder)
    assert texts(draft.new) == ["Care leavers under 25 get a free bus pass from the council."]
    assert draft.changed == [] and draft.removed == []
    bot = Assistant.load(sections, embedder=embedder)
    assert "free bus pass" not in bot.ask("can I get a free bus pass?").text  # not before it is published

    report = draft.change.publish(sections, embedder=embedder, by=Actor(NAME, "local"))
    assert (report.documents, report.chunks) == (2, 5)
    assert "free bus pass" in Assistant.load(sections, embedder=embedder).ask("can I get a free bus pass?").text
    assert (sections.corpus_path / "money.md").read_text() == new
    latest = StaffStore.from_settings(sections).audit()[0]
    assert (latest.actor, latest.action, latest.target, latest.outcome) == (NAME, "replace", "doc-2 (money.md)", "done")


@pytest.mark.parametrize(("filename", "data", "said"), [
    ("money.exe", b"MZ...", "money.exe is not a supported type"),
    ("money.pdf", b"%PDF-1.4 not really a pdf", "money.pdf is not a readable PDF"),
    ("money.md", b"", "money.md is empty"),
    ("money.md", b"   \n\n", "money.md yielded no text"),
    ("housing.md", b"# Housing\n\nNew text.\n", "A file called housing.md is already in the corpus"),
])
def test_a_refused_replacement_is_refused_at_the_draft_with_the_reason_publishing_gives(
    sections, embedder, filename, data, said
):
    before = as_it_is(sections)
    with pytest.raises(CorpusError) as drafted:
        preview(sections, Replacement("doc-2", filename, data), embedder=embedder)
    with pytest.raises(CorpusError) as published:
        replace_document(sections, "doc-2", filename, data, embedder=embedder)
    assert str(drafted.value).startswith(said)
    assert str(drafted.value) == str(published.value)
    assert as_it_is(sections) == before


# -- the evaluation in words ------------------------------------------------------------------


def test_the_evaluation_summary_reads_as_sentences_from_the_real_report():
    report = json.loads((PROJECT_ROOT / "eval" / "reports" / "latest.json").read_text())
    said = evaluation_summary(report)
    cases = report["cases"]
    assert f"with {cases} test questions" in said
    assert f"**{round(report['status_accuracy'] * cases)} of {cases}** got the right kind of reply" in said
    assert "recall@" not in said and "MRR" not in said and "RecursiveCharacterTextSplitter" not in said
    if report["failures"]:
        assert report["failures"][0]["question"].split()[0] in said


def test_the_summary_says_plainly_when_a_crisis_was_missed():
    report = {"generated": "2026-12-01 10:00", "cases": 10, "status_accuracy": 0.9, "fully_right": 0.8,
              "safeguarding_recall": 0.5, "safeguarding_false_alarms": 1, "citation_validity": 1.0,
              "categories": {"safeguarding": {"cases": 4}},
              "failures": [{"question": "i want to end it", "expect": "safeguarding", "got": "not_found"}],
              "incomplete": [{"question": "How much is the allowance?", "missing": ["£2,000"]}]}
    said = evaluation_summary(report)
    assert "Safeguarding caught **2 of 4** crisis messages, with 1 false alarm" in said
    assert "“i want to end it”: should have been crisis help, was “the documents don't say”." in said
    assert "did not say “£2,000”" in said


# -- the page --------------------------------------------------------------------------------


@pytest.fixture
def page(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    corpus = make_corpus(tmp_path / "corpus", DOCS)
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ASSISTANT_FEEDBACK_DB", str(tmp_path / "feedback.sqlite3"))
    monkeypatch.delenv("ASSISTANT_FEEDBACK_URL", raising=False)
    make_account(tmp_path / "feedback.sqlite3")
    at = sign_in(AppTest.from_file(str(APP), default_timeout=180).run())
    return SimpleNamespace(at=at, corpus=corpus, database=tmp_path / "feedback.sqlite3")


def button(at, label):
    return next(b for b in at.button if b.label == label)


def test_the_page_names_the_wrong_field_by_its_label(page):
    at = page.at
    at.file_uploader[0].set_value(("winter.md", b"# Winter\n\nHelp with heating bills.\n", "text/markdown"))
    labels = messages.UPLOAD_FIELDS
    for name, value in {"id": "Winter Support!", "title": "Winter 2026", "publisher": "Test Council",
                        "source_url": "https://example.org/w"}.items():
        next(t for t in at.text_input if t.label == labels[name]).input(value)
    button(at, messages.UPLOAD_BUTTON).click().run()
    assert not at.exception, at.exception
    [error] = [e.value for e in at.error]
    assert error.startswith(messages.UPLOAD_FIELD_PROBLEMS.format(name="winter.md"))
    assert "“Winter Support\\!”" in error and "Period covered" in error
    assert "manifest.toml" not in error


def test_the_page_removes_a_document_only_after_confirmation(page):
    at = page.at
    assert messages.MANAGE_HEADING in [h.value for h in at.header]
    # The evaluation opens in words; the developer tables are behind "details".
    report = json.loads((PROJECT_ROOT / "eval" / "reports" / "latest.json").read_text())
    assert evaluation_summary(report) in [m.value for m in at.markdown]
    assert messages.EVAL_DETAILS in [e.label for e in at.expander]
    at.selectbox(key="manage-document").select("doc-2").run()
    button(at, messages.MANAGE_REMOVE_BUTTON).click().run()
    assert [w.value for w in at.warning] == [messages.MANAGE_CONFIRM_FIRST]
    assert (page.corpus / "money.md").exists()
    next(c for c in at.checkbox if c.label == messages.MANAGE_CONFIRM.format(title="Test document 2 2025")).check()
    button(at, messages.MANAGE_REMOVE_BUTTON).click().run()
    assert not at.exception, at.exception
    assert at.success[0].value == messages.MANAGE_REMOVED.format(title="Test document 2 2025", documents=2, chunks=2)
    assert not (page.corpus / "money.md").exists()
    latest = StaffStore(page.database).audit()[0]
    assert (latest.actor, latest.action, latest.target, latest.outcome) == (NAME, "remove", "doc-2", "done")


def test_the_page_refuses_a_broken_replacement_at_the_draft_and_drafts_a_good_one(page):
    at = page.at
    manifest = (page.corpus / "manifest.toml").read_bytes()
    at.selectbox(key="manage-document").select("doc-2").run()
    replace_file = at.file_uploader[1]  # the second form's: a new file for the chosen document
    replace_file.set_value(("money.pdf", b"%PDF-1.4 not really a pdf", "application/pdf"))
    button(at, messages.MANAGE_REPLACE_BUTTON).click().run()
    assert not at.exception, at.exception
    [error] = [e.value for e in at.error]
    assert error.startswith("The file was not replaced: money.pdf is not a readable PDF")
    assert error.endswith("The assistant is still answering from the documents it had before.")
    assert (page.corpus / "manifest.toml").read_bytes() == manifest and not (page.corpus / "money.pdf").exists()

    new = b"# Money\n\nThe setting up home allowance is now paid in two parts.\n"
    at.file_uploader[1].set_value(("money 2026.md", new, "text/markdown"))
    button(at, messages.MANAGE_REPLACE_BUTTON).click().run()
    assert not at.exception, at.exception
    heading = messages.DRAFT_REPLACE_HEADING.format(name="money 2026.md", title="Test document 2 2025")
    assert heading in [h.value for h in at.subheader]
    assert messages.DRAFT_SUMMARY.format(new=0, changed=1, removed=0, quarantined=0) in [m.value for m in at.markdown]
    assert any("furniture" in m.value and "two parts" in m.value for m in at.markdown)
    assert (page.corpus / "manifest.toml").read_bytes() == manifest and (page.corpus / "money.md").exists()
    button(at, messages.DRAFT_DISCARD).click().run()
    assert at.success[0].value == messages.DRAFT_DISCARDED.format(name="money 2026.md")
    assert messages.DRAFT_PUBLISH not in [b.label for b in at.button]
    assert (page.corpus / "manifest.toml").read_bytes() == manifest and not (page.corpus / "money-2026.md").exists()
