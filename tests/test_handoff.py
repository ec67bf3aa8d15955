"""Ask a person: requests to the leaving care team, stored redacted, answered, closed, erased.

The store runs on a real SQLite file and on the suite's throwaway PostgreSQL; the team's
email goes to a real SMTP server (aiosmtpd) on 127.0.0.1; the API is driven with TestClient
(the handoff route needs no assistant, so no model is loaded here).
"""

from __future__ import annotations

import datetime as dt
import email
import json
import logging
import re
import sqlite3
from collections.abc import Iterator
from email.message import Message

import psycopg
import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from assistant import InputError, load_settings
from assistant.handoff import RequestStore, check_contact, email_team, submit
from assistant.web.app import create_app
from eval.servers import free_port

QUESTION = "My name is Sam Jones, I'm at SE6 4RU. Can I get help with my rent deposit? Text 07700 900123"
PERSONAL = ("Sam Jones", "SE6 4RU", "07700 900123")


# -- the store -----------------------------------------------------------------------------


def test_a_request_is_stored_open_with_its_question_redacted(tmp_path):
    store = RequestStore(tmp_path / "data.sqlite3")
    number = store.add(question=QUESTION, contact_method="email", contact=" sam@example.org ")
    request = store.get(number)
    assert request is not None
    assert (request.status, request.contact_method, request.contact) == ("open", "email", "sam@example.org")
    assert request.audience == "care_leaver" and request.emailed is False
    assert "help with my rent deposit" in request.question
    for personal in PERSONAL:
        assert personal not in request.question
    assert {"[name]", "[postcode]", "[phone]"} <= set(re.findall(r"\[\w+\]", request.question))
    raw = (tmp_path / "data.sqlite3").read_bytes()
    assert b"Sam Jones" not in raw and b"07700" not in raw and b"sam@example.org" in raw


def test_requests_are_listed_by_state_newest_first_and_counted(tmp_path):
    store = RequestStore(tmp_path / "data.sqlite3")
    first = store.add(question="Can I stay put?", contact_method="phone", contact="07700 900111")
    second = store.add(question="Who is my PA?", contact_method="phone", contact="+33 6 12 34 56 78")
    third = store.add(question="Bus pass?", contact_method="email", contact="a.b@example.co.uk")
    assert [r.id for r in store.list("open")] == [third, second, first]
    store.mark_answered(second, "Rang back, PA visit booked. Her mobile is 07700 900222")
    answered = store.get(second)
    assert answered.status == "answered" and answered.contact == "+33 6 12 34 56 78"
    assert "PA visit booked" in answered.staff_note and "07700" not in answered.staff_note
    assert [r.id for r in store.list("answered")] == [second]
    assert [r.id for r in store.list()] == [third, second, first]
    assert store.counts() == {"open": 2, "answered": 1, "closed": 0}
    with pytest.raises(InputError, match="open, answered or closed"):
        store.list("pending")
    with pytest.raises(InputError, match="no request #999"):
        store.mark_answered(999, "nothing")


def test_closing_erases_the_contact_from_the_database_file(tmp_path):
    path = tmp_path / "data.sqlite3"
    store = RequestStore(path)
    number = store.add(question="Council tax?", contact_method="email", contact="sam.jones@example.org")
    assert b"sam.jones@example.org" in path.read_bytes()
    store.close(number)
    closed = store.get(number)
    assert closed.status == "closed" and closed.contact == ""
    assert closed.question == "Council tax?"  # kept, redacted, until purged
    assert b"sam.jones@example.org" not in path.read_bytes()


def test_purge_deletes_requests_untouched_for_the_retention_period(tmp_path):
    store = RequestStore(tmp_path / "data.sqlite3")
    old = store.add(question="Old question", contact_method="phone", contact="020 8314 6660")
    store.close(old)
    waiting = store.add(question="Still waiting", contact_method="phone", contact="020 8314 6661")
    assert store.purge(90) == 0
    assert store.purge(90, now=dt.datetime.now() + dt.timedelta(days=91)) == 2
    assert store.list() == [] and store.get(waiting) is None


def test_the_request_table_sits_beside_feedback_in_one_file(tmp_path):
    from assistant.feedback import FeedbackStore

    path = tmp_path / "data.sqlite3"
    FeedbackStore(path).add(question="q", answer="a", rating=1)
    RequestStore(path).add(question="q", contact_method="email", contact="a@example.org")
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        columns = {row[1] for row in db.execute("PRAGMA table_info(requests)")}
    assert {"feedback", "requests"} <= tables
    assert columns == {
        "id", "created", "updated", "audience", "question", "contact_method",
        "contact", "status", "staff_note", "emailed",
    }  # fmt: skip


# -- contact validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "contact"),
    [
        ("email", "sam@example.org"),
        ("email", "jo.bloggs+care@mail.example.co.uk"),
        ("phone", "07700 900123"),
        ("phone", "020 8314 6660"),
        ("phone", "+44 7700 900123"),
        ("phone", "+44 (0)20 8314 6660"),
        ("phone", "+1 (415) 555-0100"),
        ("phone", "0033 6 12 34 56 78"),
    ],
)
def test_usable_contacts_are_accepted(method, contact):
    assert check_contact(method, f"  {contact} ") == contact


@pytest.mark.parametrize(
    ("method", "contact", "says"),
    [
        ("email", "sam", "email address doesn't look right"),
        ("email", "sam@localhost", "email address doesn't look right"),
        ("email", "sam @example.org", "email address doesn't look right"),
        ("email", "sam@exa..mple.org", "email address doesn't look right"),
        ("email", "07700 900123", "email address doesn't look right"),
        ("phone", "07123 456", "phone number doesn't look right"),
        ("phone", "sam@example.org", "phone number doesn't look right"),
        ("phone", "123456789012", "phone number doesn't look right"),
        ("phone", "+44 7700 900123 ext 4", "phone number doesn't look right"),
        ("post", "1 High Street", "by email or by phone"),
    ],
)
def test_unusable_contacts_get_a_clear_error_that_does_not_repeat_them(tmp_path, method, contact, says):
    with pytest.raises(InputError, match=says) as refused:
        RequestStore(tmp_path / "data.sqlite3").add(question="q", contact_method=method, contact=contact)
    assert contact not in str(refused.value)
    assert RequestStore(tmp_path / "data.sqlite3").list() == []


# -- the same store on PostgreSQL --------------------------------------------------------------


@pytest.mark.slow
def test_requests_on_postgresql_are_redacted_answered_closed_and_purged(cluster):
    url = cluster.create_database("handoff")
    store = RequestStore(url)
    number = store.add(question=QUESTION, contact_method="phone", contact="07700 900333", audience="staff")
    store.mark_answered(number, "Rang 07700 900333, then emailed sam.jones@example.org")
    with psycopg.connect(cluster.dsn("handoff")) as db:
        question, note, contact, status = db.execute(
            "SELECT question, staff_note, contact, status FROM requests WHERE id = %s", (number,)
        ).fetchone()
    stored = f"{question} {note}"
    for personal in (*PERSONAL, "sam.jones@example.org"):
        assert personal not in stored
    assert note == "Rang [phone], then emailed [email]"
    assert (contact, status) == ("07700 900333", "answered")
    store.close(number)
    assert store.get(number).contact == "" and store.counts()["closed"] == 1
    assert store.purge(30, now=dt.datetime.now() + dt.timedelta(days=31)) == 1
    assert store.list() == []


# -- emailing the team -----------------------------------------------------------------------------


class Inbox:
    """aiosmtpd's handler: keeps every message the server accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def mail_settings(tmp_path, port: int, **extra):
    return load_settings(
        feedback_db=tmp_path / "data.sqlite3",
        handoff_email="leavingcare@example.gov.uk",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        smtp_from="assistant@example.gov.uk",
        **extra,
    )


def test_the_team_gets_one_plain_email_without_personal_data(tmp_path, smtp):
    inbox, port = smtp
    settings = mail_settings(tmp_path, port)
    store = RequestStore.from_settings(settings)
    number = submit(store, settings, question=QUESTION, contact_method="email", contact="sam@example.org")
    assert store.get(number).emailed is True
    assert len(inbox.messages) == 1
    sender, recipients, message = inbox.messages[0]
    assert sender == "assistant@example.gov.uk" and recipients == ["leavingcare@example.gov.uk"]
    assert message["Subject"] == f"New request #{number} from the care leavers assistant"
    assert message.get_content_type() == "text/plain"
    body = message.get_payload(decode=True).decode()
    assert f"Reference: #{number}" in body and "reply by email" in body
    assert "help with my rent deposit" in body and "Requests from young people" in body
    for personal in (*PERSONAL, "sam@example.org"):
        assert personal not in body and personal not in message["Subject"]


def test_a_mail_server_that_is_down_keeps_the_request_and_logs_why(tmp_path, caplog):
    settings = mail_settings(tmp_path, free_port())  # nothing listens there
    store = RequestStore.from_settings(settings)
    with caplog.at_level(logging.ERROR, logger="assistant.handoff"):
        number = submit(store, settings, question="Who is my PA?", contact_method="phone", contact="07700 900123")
    request = store.get(number)
    assert request.status == "open" and request.emailed is False
    assert any(f"Request #{number} is stored" in r.getMessage() for r in caplog.records)
    assert "07700" not in caplog.text


def test_without_smtp_nothing_is_sent_and_the_request_waits(tmp_path):
    settings = load_settings(feedback_db=tmp_path / "data.sqlite3")
    store = RequestStore.from_settings(settings)
    number = submit(store, settings, question="q?", contact_method="email", contact="a@example.org")
    assert email_team(settings, store.get(number)) is False
    assert store.get(number).emailed is False


def test_smtp_without_the_team_address_is_a_clear_settings_error():
    from assistant import ConfigError

    with pytest.raises(ConfigError, match="handoff_email"):
        load_settings(smtp_host="mail.example.gov.uk")


# -- the web API ----------------------------------------------------------------------------------

VALID = {"question": QUESTION, "contact_method": "phone", "contact": "07700 900123"}


def api(tmp_path, **overrides) -> TestClient:
    overrides.setdefault("rate_limit_per_minute", 10_000)
    overrides.setdefault("handoff_per_hour", 10_000)
    overrides.setdefault("feedback_db", tmp_path / "data.sqlite3")
    return TestClient(create_app(settings=load_settings(**overrides)))


def assert_error(response, status: int) -> str:
    """The app's one error shape, with a sentence for people and nothing internal."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"ok", "error", "status"} and body["ok"] is False and body["status"] == status
    for leak in ("Traceback", "/tmp/", "pydantic", "'loc'"):
        assert leak not in response.text
    return body["error"]


def test_a_request_through_the_api_gets_a_reference_and_what_happens_next(tmp_path):
    client = api(tmp_path, handoff_next_steps="We will call you within 2 working days.")
    response = client.post("/api/handoff", json={**VALID, "audience": "staff"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {"ok": True, "reference": body["reference"], "next_steps": "We will call you within 2 working days."}
    assert response.headers["cache-control"] == "no-store"
    stored = RequestStore(tmp_path / "data.sqlite3").get(body["reference"])
    assert (stored.status, stored.audience, stored.contact) == ("open", "staff", "07700 900123")
    assert "Sam Jones" not in stored.question and "rent deposit" in stored.question
    assert "07700" not in response.text  # nothing of the request comes back


def test_requests_are_never_readable_through_the_api(tmp_path):
    client = api(tmp_path)
    reference = client.post("/api/handoff", json=VALID).json()["reference"]
    assert_error(client.get("/api/handoff"), 405)
    assert_error(client.get(f"/api/handoff/{reference}"), 404)
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/api/handoff"]) == {"post"}
    assert not any(p.startswith("/api/handoff/") or "request" in p for p in paths)


def test_contacts_tell_the_widget_who_answers_and_what_happens(tmp_path):
    handoff = api(tmp_path).get("/api/contacts").json()["handoff"]
    profile = load_settings()
    assert handoff["team"] == profile.handoff_team == "the leaving care team"
    assert handoff["next_steps"] == profile.handoff_next_steps
    assert "2 working days" in handoff["next_steps"] and "999" in handoff["next_steps"]
    assert handoff["max_question_chars"] == 2000


def test_an_unusable_contact_is_a_422_saying_what_to_fix(tmp_path):
    client = api(tmp_path)
    error = assert_error(client.post("/api/handoff", json={**VALID, "contact": "07700"}), 422)
    assert "phone number doesn't look right" in error
    error = assert_error(client.post("/api/handoff", json={**VALID, "contact_method": "email"}), 422)
    assert "email address doesn't look right" in error and "07700" not in error
    assert RequestStore(tmp_path / "data.sqlite3").list() == []


HOSTILE = {
    "empty question": {**VALID, "question": ""},
    "blank question": {**VALID, "question": " \n\t "},
    "huge question": {**VALID, "question": "x" * 2001},
    "huge contact": {**VALID, "contact": "0" * 255},
    "question a number": {**VALID, "question": 42},
    "question a list": {**VALID, "question": ["a", "b"]},
    "question an object": {**VALID, "question": {"$gt": ""}},
    "contact null": {**VALID, "contact": None},
    "contact a number": {**VALID, "contact": 7700900123},
    "unknown method": {**VALID, "contact_method": "carrier pigeon"},
    "unknown audience": {**VALID, "audience": "admin"},
    "extra field": {**VALID, "status": "closed"},
    "asks to read others": {**VALID, "id": 1},
    "missing contact": {"question": "q", "contact_method": "email"},
    "not an object": [VALID],
    "a bare string": "please",
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_bodies_are_refused_with_a_4xx_and_store_nothing(tmp_path, case):
    client = api(tmp_path)
    assert_error(client.post("/api/handoff", json=HOSTILE[case]), 422)
    assert RequestStore(tmp_path / "data.sqlite3").list() == []


def test_oversized_and_unparseable_bodies_are_refused(tmp_path):
    client = api(tmp_path)
    headers = {"content-type": "application/json"}
    assert_error(client.post("/api/handoff", content=b'{"question": "' + b"x" * 300_000 + b'"}', headers=headers), 413)
    assert_error(client.post("/api/handoff", content=b'{"question": "hi"', headers=headers), 422)
    assert_error(client.post("/api/handoff", content=b"\xff\xfe", headers=headers), 422)


def test_requests_are_rate_limited_per_hour_and_per_minute(tmp_path):
    client = api(tmp_path, handoff_per_hour=2)
    assert [client.post("/api/handoff", json=VALID).status_code for _ in range(2)] == [200, 200]
    refused = client.post("/api/handoff", json=VALID)
    assert "wait" in assert_error(refused, 429)
    assert 60 < int(refused.headers["retry-after"]) <= 3600
    assert len(RequestStore(tmp_path / "data.sqlite3").list()) == 2

    per_minute = api(tmp_path / "other", rate_limit_per_minute=1)
    assert per_minute.post("/api/handoff", json=VALID).status_code == 200
    assert_error(per_minute.post("/api/handoff", json=VALID), 429)


def test_the_api_emails_the_team_after_answering(tmp_path, smtp):
    inbox, port = smtp
    settings = mail_settings(tmp_path, port, rate_limit_per_minute=10_000)
    client = TestClient(create_app(settings=settings))
    reference = client.post("/api/handoff", json=VALID).json()["reference"]
    assert [m["Subject"] for _, _, m in inbox.messages] == [f"New request #{reference} from the care leavers assistant"]
    assert RequestStore(tmp_path / "data.sqlite3").get(reference).emailed is True


def test_a_store_that_cannot_be_opened_is_a_503_for_people(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    client = api(tmp_path, feedback_db=blocker / "data.sqlite3")
    error = assert_error(client.post("/api/handoff", json=VALID), 503)
    assert error.startswith("Your request could not be sent just now.") and "Need help now?" in error
    assert str(tmp_path) not in json.dumps(error)
