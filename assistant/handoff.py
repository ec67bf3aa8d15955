"""Ask a person: a young person's request to the leaving care team, kept until it is answered.

A request is the question (redacted, like feedback: the team replies through the contact
the young person chose to give, so the message itself keeps nothing personal), one way to
reply (an email address or a phone number, checked so the team can use it), and a state:
``open`` -> ``answered`` (with a staff note) -> ``closed``. Closing erases the contact,
and ``purge`` deletes every request untouched for ``request_retention_days``: nothing
personal is kept longer than needed.

Requests live in the deployment's database beside feedback (``assistant.store``). They are
read only on the staff page: no API route returns one.

When SMTP is set, the team gets one plain email per request. The request is stored first;
a failed email never loses it: it is logged, the request keeps ``emailed = False``, and the
staff page says "not emailed".
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

from sqlalchemy import Boolean, Column, Integer, Table, Text, event, false
from sqlalchemy.engine import URL

from assistant.config import Settings
from assistant.errors import HandoffError, InputError
from assistant.store import SQLStore, metadata
from assistant.text.redact import redact

log = logging.getLogger(__name__)

ContactMethod = Literal["email", "phone"]
State = Literal["open", "answered", "closed"]
STATES: tuple[State, ...] = ("open", "answered", "closed")
METHODS: tuple[ContactMethod, ...] = ("email", "phone")

# Longest text kept per field: more than any real question or note. 254 is the longest
# email address SMTP allows (RFC 5321); a phone number is far shorter.
MAX_QUESTION, MAX_NOTE, MAX_CONTACT = 2000, 2000, 254
# An SMTP server that does not answer must not hold a young person's page for long.
SMTP_TIMEOUT_SECONDS = 10

# AUTOINCREMENT: a reference number given to one young person never names another's request.
requests_table = Table(
    "requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created", Text, nullable=False),
    Column("updated", Text, nullable=False),
    Column("audience", Text, nullable=False),
    Column("question", Text, nullable=False),
    Column("contact_method", Text, nullable=False),
    Column("contact", Text, nullable=False, server_default=""),
    Column("status", Text, nullable=False, server_default="open"),
    Column("staff_note", Text, nullable=False, server_default=""),
    Column("emailed", Boolean, nullable=False, server_default=false()),
    sqlite_autoincrement=True,
)

# A plausible address: something@domain.tld, no spaces, a top-level domain of letters.
_EMAIL = re.compile(r"^[^@\s]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}$")
# What people put between digits: spaces, hyphens, dots, brackets ("+44 (0)20 8314 6660").
_PHONE_SEPARATORS = re.compile(r"[\s().-]")


@dataclass(frozen=True)
class Request:
    """One request as the staff page shows it (``contact`` is empty once closed)."""

    id: int
    created: str
    updated: str
    audience: str
    question: str
    contact_method: str
    contact: str
    status: str
    staff_note: str
    emailed: bool


def check_contact(method: str, contact: str) -> str:
    """The contact, trimmed, if the team could use it; else an ``InputError`` saying what to fix.

    A phone number is a UK one (0 and 10 digits, or +44 and 10) or an international one
    (+ or 00, then 8 to 15 digits, the E.164 limit). The message never repeats what was typed.
    """
    contact = contact.strip()
    if method == "email":
        if not _EMAIL.match(contact) or ".." in contact:
            raise InputError(
                "That email address doesn't look right. Check it is written like "
                "name@example.com, or choose phone instead."
            )
        return contact
    if method == "phone":
        digits = _PHONE_SEPARATORS.sub("", contact.replace("(0)", ""))
        uk = re.fullmatch(r"0\d{10}|\+440?\d{10}", digits)
        international = re.fullmatch(r"(?:\+|00)[1-9]\d{7,14}", digits)
        if not (uk or international):
            raise InputError(
                "That phone number doesn't look right. Give a UK number like 07700 900123, "
                "or an international one starting with +, or choose email instead."
            )
        return contact
    raise InputError("Choose how the team should reply: by email or by phone.")


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _stamp(moment: dt.datetime) -> str:
    # Sortable text in local time, like feedback's ``created``.
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


class RequestStore(SQLStore):
    """Requests to a person in the deployment's database (see ``assistant.store``)."""

    label = "requests"
    error = HandoffError

    def __init__(self, database: str | Path | URL) -> None:
        super().__init__(database)
        if self.path is not None:
            # Erased contacts are overwritten in the file, not left in its free pages.
            event.listen(self.engine, "connect", _secure_delete)

    def add(
        self,
        *,
        question: str,
        contact_method: str,
        contact: str,
        audience: str = "care_leaver",
    ) -> int:
        """Store one open request (the question redacted, the contact checked); returns its number."""
        contact = check_contact(contact_method, contact)[:MAX_CONTACT]
        cleaned = redact(question.strip())[:MAX_QUESTION]
        if not cleaned:
            raise InputError("The question is empty. Write what you would like to ask the team.")
        now = _stamp(_now())
        row = {
            "created": now,
            "updated": now,
            "audience": audience,
            "question": cleaned,
            "contact_method": contact_method,
            "contact": contact,
            "status": "open",
            "staff_note": "",
            "emailed": False,
        }
        with self._transaction("saved in") as db:
            result = db.execute(requests_table.insert().values(**row))
            return int(result.inserted_primary_key[0])

    def get(self, request_id: int) -> Request | None:
        """One request by its number, or None."""
        query = requests_table.select().where(requests_table.c.id == request_id)
        with self._transaction("read from") as db:
            row = db.execute(query).first()
        return _request(row) if row else None

    def list(self, status: str | None = None, limit: int = 200) -> list[Request]:
        """Requests in one state (or all), newest first."""
        query = requests_table.select().order_by(requests_table.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(requests_table.c.status == _check_state(status))
        with self._transaction("read from") as db:
            return [_request(row) for row in db.execute(query)]

    def counts(self) -> dict[str, int]:
        """How many requests are in each state (every state named, zeros included)."""
        with self._transaction("read from") as db:
            rows = db.execute(requests_table.select().with_only_columns(requests_table.c.status))
            found = [row[0] for row in rows]
        return {state: found.count(state) for state in STATES}

    def mark_answered(self, request_id: int, note: str = "") -> None:
        """The team has replied: record it, with a note (redacted) of what was said or done."""
        self._change(request_id, status="answered", staff_note=redact(note.strip())[:MAX_NOTE])

    def close(self, request_id: int, note: str | None = None) -> None:
        """Nothing more to do: the contact is erased; the question and note stay until purged."""
        values: dict[str, str] = {"status": "closed", "contact": ""}
        if note is not None and note.strip():
            values["staff_note"] = redact(note.strip())[:MAX_NOTE]
        self._change(request_id, **values)

    def mark_emailed(self, request_id: int) -> None:
        """The team was emailed about this request."""
        with self._transaction("saved in") as db:
            row = requests_table.c.id == request_id
            db.execute(requests_table.update().where(row).values(emailed=True))

    def purge(self, older_than_days: int, *, now: dt.datetime | None = None) -> int:
        """Delete every request last changed more than ``older_than_days`` ago; returns how many."""
        cutoff = _stamp((now or _now()) - dt.timedelta(days=older_than_days))
        with self._transaction("deleted from") as db:
            result = db.execute(requests_table.delete().where(requests_table.c.updated < cutoff))
            return int(result.rowcount or 0)

    def _change(self, request_id: int, **values: str) -> None:
        with self._transaction("saved in") as db:
            row = requests_table.c.id == request_id
            result = db.execute(
                requests_table.update().where(row).values(updated=_stamp(_now()), **values)
            )
            if not result.rowcount:
                raise InputError(f"There is no request #{request_id}. It may have been deleted.")


def _secure_delete(connection: object, _record: object) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA secure_delete = ON")
    cursor.close()


def _request(row: object) -> Request:
    values = dict(row._mapping)  # type: ignore[attr-defined]
    values["emailed"] = bool(values["emailed"])
    return Request(**values)


def _check_state(status: str) -> str:
    if status not in STATES:
        raise InputError(f"A request is open, answered or closed, not {status[:20]!r}.")
    return status


# -- telling the team -------------------------------------------------------------------------


def notification(settings: Settings, request: Request) -> EmailMessage:
    """The team's email about one request: the number and the redacted question, never the contact.

    The contact stays in one place, the staff page, where closing the request erases it; a
    copy in a mailbox would outlive that. The subject names nothing personal.
    """
    message = EmailMessage()
    message["Subject"] = f"New request #{request.id} from the care leavers assistant"
    message["From"] = settings.smtp_from or settings.handoff_email or ""
    message["To"] = settings.handoff_email or ""
    how = "by email" if request.contact_method == "email" else "by phone"
    message.set_content(
        f"A young person has asked {settings.handoff_team} a question through the "
        f"{settings.council_name} care leavers assistant.\n\n"
        f"Reference: #{request.id}\n"
        f"Received: {request.created.replace('T', ' ')}\n"
        f"They would like a reply {how}.\n\n"
        f"Their question (personal details removed):\n{request.question}\n\n"
        "How to reply: open the assistant's staff page, section \"Requests from young people\". "
        "It shows the contact details. Mark the request answered when you have replied, "
        "and close it when nothing more is needed: closing deletes the contact details.\n\n"
        f"What the young person was told: {settings.handoff_next_steps}\n"
    )
    return message


def email_team(settings: Settings, request: Request) -> bool:
    """Send the team's email; True if the server took it. Failures are logged, never raised."""
    if not settings.smtp_host:
        return False
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            smtp.send_message(notification(settings, request))
    except (OSError, smtplib.SMTPException) as exc:
        log.error(
            "Request #%s is stored, but the team could not be emailed through %s:%s (%s: %s). "
            "Check smtp_host, smtp_port and the SMTP login; the request waits on the staff page.",
            request.id, settings.smtp_host, settings.smtp_port, type(exc).__name__, exc,
        )  # fmt: skip
        return False
    return True


def notify(store: RequestStore, settings: Settings, request_id: int) -> bool:
    """Email the team about a stored request and record that it was; True if emailed."""
    request = store.get(request_id)
    if request is None or not email_team(settings, request):
        return False
    store.mark_emailed(request_id)
    return True


def submit(
    store: RequestStore,
    settings: Settings,
    *,
    question: str,
    contact_method: str,
    contact: str,
    audience: str = "care_leaver",
    email: bool = True,
) -> int:
    """Store a request, delete expired ones, and (if ``email`` and SMTP is set) email the team.

    Returns the reference number. The web API passes ``email=False`` and sends the email
    after answering, so the young person never waits for the mail server.
    """
    request_id = store.add(
        question=question, contact_method=contact_method, contact=contact, audience=audience
    )
    store.purge(settings.request_retention_days)
    if email:
        notify(store, settings, request_id)
    return request_id


__all__ = [
    "METHODS",
    "STATES",
    "HandoffError",
    "Request",
    "RequestStore",
    "check_contact",
    "email_team",
    "notification",
    "notify",
    "submit",
]
