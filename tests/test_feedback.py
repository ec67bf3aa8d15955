"""Feedback is stored redacted: nothing personal in plain text."""

from __future__ import annotations

import pytest

from assistant.feedback import FeedbackError, FeedbackStore
from assistant.redact import redact


@pytest.mark.parametrize(
    ("text", "secret", "label"),
    [
        ("email me at jo.bloggs+1@example.co.uk please", "jo.bloggs", "[email]"),
        ("my number is 07700 900123", "07700", "[phone]"),
        ("call 020 8314 6660 now", "8314", "[phone]"),
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
    store.add(question="my name is Sam Jones, can I get a bursary?", answer="Yes [1]", rating=1,
              comment="text me on 07700 900123")
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
