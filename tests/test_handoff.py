"""Ask a person: requests to the leaving care team, stored redacted, answered, closed, erased.

The store runs on a real SQLite file and on the suite's throwaway PostgreSQL; the team's
email goes to a real SMTP server (aiosmtpd) on 127.0.0.1; the API is driven with TestClient.
"""

from __future__ import annotations

import datetime as dt
import email
import logging
import re
import sqlite3
from collections.abc import Iterator
from email.message import Message

import psycopg
import pytest
from aiosmtpd.controller import Controller
from postgres import ClusterUnavailable, PostgresCluster

from assistant import InputError, load_settings
from assistant.handoff import RequestStore, check_contact, email_team, submit
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


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    try:
        cluster = PostgresCluster()
        cluster.start()
    except ClusterUnavailable as exc:
        pytest.fail(str(exc))
    try:
        yield cluster
    finally:
        cluster.destroy()


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
