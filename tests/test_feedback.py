"""Feedback is stored redacted: nothing personal in plain text."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing

import pytest

from assistant import load_settings
from assistant.feedback import CONNECT_TIMEOUT_SECONDS, FeedbackError, FeedbackStore
from assistant.text.redact import redact
from eval.servers import free_port


@pytest.mark.parametrize(
    ("text", "secret", "label"),
    [
        ("email me at jo.bloggs+1@example.co.uk please", "jo.bloggs", "[email]"),
        ("my number is 07700 900123", "07700", "[phone]"),
        ("call 020 8123 4567 now", "8123", "[phone]"),  # not the council's own number: that one is kept
        ("NI number QQ 12 34 56 C", "QQ 12", "[NI number]"),
        ("I live at SE6 4RU", "SE6 4RU", "[postcode]"),
        ("Hi, my name is Amara Okafor and I'm 19", "Amara", "[name]"),
    ],
)
def test_redaction_removes_personal_data(text, secret, label):
    cleaned = redact(text)
    assert secret not in cleaned and label in cleaned


def test_feedback_is_stored_redacted(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    store.add(
        question="my name is Sam Jones, can I get a bursary?",
        answer="Yes [1]",
        rating=1,
        comment="text me on 07700 900123",
    )
    item = store.recent()[0]
    assert "Sam" not in item.question and "[name]" in item.question
    assert "07700" not in item.comment and item.rating == 1
    raw = (tmp_path / "fb.sqlite3").read_bytes()
    assert b"07700" not in raw and b"Sam Jones" not in raw


def test_bad_rating_is_refused(tmp_path):
    with pytest.raises(FeedbackError, match="rating must be 1"):
        FeedbackStore(tmp_path / "fb.sqlite3").add(question="q", answer="a", rating=5)


def test_update_redacts_comments_and_checks_rating(tmp_path):
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    item = store.add(question="q", answer="a", rating=1)
    store.update(item, rating=0, comment="email me: sam@example.org")
    saved = store.recent()[0]
    assert saved.rating == 0 and "[email]" in saved.comment and "sam@" not in saved.comment
    with pytest.raises(FeedbackError, match="rating must be 1"):
        store.update(item, rating=3)


# -- where feedback is stored: the SQLite file by default, or a SQLAlchemy URL ---------------

# The table exactly as the first (sqlite3) version of the store created it.
FIRST_SCHEMA = """
CREATE TABLE feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    audience TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    status TEXT NOT NULL,
    rating INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT ''
)
"""
OLD_ROW = "INSERT INTO feedback VALUES (1, '2025-01-01', 'staff', 'q', 'a', 'answered', 1, '')"


def columns(path) -> set[str]:
    with closing(sqlite3.connect(path)) as db:
        return {row[1] for row in db.execute("PRAGMA table_info(feedback)")}


def test_first_use_creates_the_table_in_a_new_folder(tmp_path):
    """The schema is created on start: no setup step for a new deployment."""
    path = tmp_path / "new" / "folder" / "fb.sqlite3"
    store = FeedbackStore(path)
    assert store.recent() == []
    assert columns(path) == {
        "id", "created", "audience", "question", "answer", "status", "rating", "comment"
    }  # fmt: skip


def test_a_file_from_the_first_version_keeps_its_feedback(tmp_path):
    """Upgrading keeps existing feedback, and ids carry on (never reused)."""
    path = tmp_path / "fb.sqlite3"
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(FIRST_SCHEMA)
        db.execute(OLD_ROW)
    store = FeedbackStore(path)
    assert store.add(question="q2", answer="a2", rating=0) == 2
    assert [(i.id, i.audience, i.question) for i in store.recent()] == [
        (2, "care_leaver", "q2"),
        (1, "staff", "q"),
    ]


def test_a_table_missing_a_column_is_migrated(tmp_path):
    """A column the table lacks is added on start; old rows get its default."""
    path = tmp_path / "fb.sqlite3"
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(FIRST_SCHEMA.replace(",\n    comment TEXT NOT NULL DEFAULT ''", ""))
        db.execute(OLD_ROW.replace(", '')", ")"))
    assert "comment" not in columns(path)
    store = FeedbackStore(path)
    store.update(store.add(question="q", answer="a", rating=1), comment="mail sam@example.org")
    assert [i.comment for i in store.recent()] == ["mail [email]", ""]


def test_a_failed_open_is_tried_again_on_next_use(tmp_path):
    """Building a store never fails on the database; it recovers once the problem is fixed."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    store = FeedbackStore(blocker / "fb.sqlite3")
    with pytest.raises(FeedbackError, match=r"cannot be opened .*ASSISTANT_FEEDBACK_DB"):
        store.add(question="q", answer="a", rating=1)
    blocker.unlink()
    assert store.add(question="q", answer="a", rating=1) == 1


def test_settings_choose_the_url_or_else_the_file(tmp_path):
    file_settings = load_settings(feedback_db=tmp_path / "fb.sqlite3")
    assert FeedbackStore.from_settings(file_settings).path == tmp_path / "fb.sqlite3"
    url_settings = file_settings.model_copy(
        update={"feedback_url": f"sqlite:///{tmp_path / 'other.sqlite3'}"}
    )
    store = FeedbackStore.from_settings(url_settings)
    store.add(question="q", answer="a", rating=1)
    assert store.path == tmp_path / "other.sqlite3" and store.path.exists()
    assert not (tmp_path / "fb.sqlite3").exists()


def test_a_plain_postgres_url_uses_the_installed_driver():
    """postgres:// and postgresql:// mean psycopg (3), the driver installed with the assistant."""
    for url in ("postgres://u:pw@db.example/feedback", "postgresql://u:pw@db.example/feedback"):
        assert FeedbackStore(url).url.drivername == "postgresql+psycopg"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://care:s3cret-pw@db/feedback", "names a mysql database"),
        ("postgresql://care:s3cret-pw@db:port/feedback", "is not a database URL"),
        ("postgresql+psycopg2://care:s3cret-pw@db/feedback", "cannot be used .*psycopg2"),
    ],
)
def test_unusable_urls_are_refused_naming_the_setting_not_the_password(url, message):
    with pytest.raises(FeedbackError, match=message) as caught:
        FeedbackStore(url)
    assert "ASSISTANT_FEEDBACK_URL" in str(caught.value)
    assert "s3cret-pw" not in str(caught.value)


def test_an_unreachable_database_fails_fast_naming_it_without_the_password():
    """No server on the port: feedback fails in seconds with what to check, password masked."""
    url = f"postgresql+psycopg://care:s3cret-pw@127.0.0.1:{free_port()}/feedback"
    store = FeedbackStore(url)  # building the store does not connect
    started = time.monotonic()
    with pytest.raises(FeedbackError) as caught:
        store.add(question="q", answer="a", rating=1)
    assert time.monotonic() - started < CONNECT_TIMEOUT_SECONDS + 2
    message = str(caught.value)
    assert "postgresql+psycopg://care:***@127.0.0.1" in message and "s3cret-pw" not in message
    assert "running and reachable" in message and "ASSISTANT_FEEDBACK_URL" in message


def test_a_store_whose_folder_is_deleted_while_serving_makes_it_again(tmp_path):
    import shutil

    folder = tmp_path / "data"
    store = FeedbackStore(folder / "fb.sqlite3")
    store.add(question="Can I get a bursary?", answer="Yes [1]", rating=1)
    shutil.rmtree(folder)  # an operator's clean-up, a volume remounted...
    second = store.add(question="And for an apprenticeship?", answer="Yes [2]", rating=0)
    assert (folder / "fb.sqlite3").exists()
    assert [(i.id, i.question) for i in store.recent()] == [(second, "And for an apprenticeship?")]
    (folder / "fb.sqlite3").unlink()  # the file alone, the folder kept
    store.add(question="What about council tax?", answer="No [3]", rating=1)
    assert [i.question for i in store.recent()] == ["What about council tax?"]


def test_the_api_keeps_taking_feedback_after_its_folder_is_deleted(bot, settings, tmp_path):
    import shutil

    from fastapi.testclient import TestClient

    from assistant.web.app import create_app

    folder = tmp_path / "served"
    api = TestClient(create_app(settings.model_copy(update={"feedback_db": folder / "fb.sqlite3"}), bot))
    body = {"question": "Can I get help with rent?", "answer": "Yes [1]", "rating": 1}
    assert api.post("/api/feedback", json=body).status_code == 200
    shutil.rmtree(folder)
    answers = [api.post("/api/feedback", json=body).status_code for _ in range(3)]
    assert answers == [200, 200, 200]
    assert len(FeedbackStore(folder / "fb.sqlite3").recent()) == 3
