"""Feedback on answers, stored redacted in SQLite (the default) or PostgreSQL.

Nothing personal is stored in plain text: the question, answer and comment all
pass through ``redact`` first, whichever database holds them.

The database is a SQLAlchemy URL (the ``feedback_url`` setting), or the SQLite file
``feedback_db`` when no URL is set: one machine needs nothing more, several workers
on several hosts share one PostgreSQL database. A store never connects when it is
built. Its first use creates the table (or adds the columns an older database
lacks); while the database is down every use fails fast with ``FeedbackError`` and
the next use tries again. So the web API keeps answering questions while feedback
is refused, and recovers by itself when the database is back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Integer, MetaData, Table, Text, create_engine, inspect, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.schema import CreateColumn

from assistant.errors import FeedbackError
from assistant.text.redact import redact

if TYPE_CHECKING:
    from assistant.config import Settings

metadata = MetaData()
# The columns of the first (sqlite3) version, unchanged, so existing files keep working.
# A column added later needs a server_default: it is added to existing tables by
# ALTER TABLE, which cannot fill old rows otherwise. AUTOINCREMENT keeps SQLite from
# reusing ids, so a row id kept by a browser for a later comment never points at
# another person's row.
feedback_table = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created", Text, nullable=False),
    Column("audience", Text, nullable=False),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("rating", Integer, nullable=False),
    Column("comment", Text, nullable=False, server_default=""),
    sqlite_autoincrement=True,
)

# An unreachable PostgreSQL fails within seconds, not after the system's TCP timeout
# (minutes): the visitor gets "try again later" at once and no worker thread hangs.
CONNECT_TIMEOUT_SECONDS = 3
# How long SQLite waits for another writer (a visitor, another worker) before failing.
SQLITE_BUSY_SECONDS = 5
# Longest text kept per field: more than any real question, answer or comment.
MAX_QUESTION, MAX_ANSWER, MAX_COMMENT = 2000, 8000, 2000
EXAMPLE_URL = "postgresql+psycopg://user:password@host:5432/feedback"


@dataclass(frozen=True)
class FeedbackItem:
    id: int
    created: str
    audience: str
    question: str
    answer: str
    status: str
    rating: int
    comment: str


class FeedbackStore:
    """Redacted feedback in one SQL database; safe to share between threads and processes.

    ``database`` is a SQLAlchemy URL (``postgresql+psycopg://...``, ``sqlite:///...``)
    or the path of a SQLite file.
    """

    def __init__(self, database: str | Path | URL) -> None:
        self.url, self._setting = _database_url(database)
        is_sqlite = self.url.get_backend_name() == "sqlite"
        self.path = Path(self.url.database) if is_sqlite and self.url.database else None
        # Named in messages for people, never with the password.
        self.name = str(self.path) if self.path else self.url.render_as_string(hide_password=True)
        self._advice = (
            f"Check that its folder can be written to and that {self._setting} is right."
            if is_sqlite
            else f"Check that the database server is running and reachable from here, and "
            f"that {self._setting} is right. Answers still work meanwhile."
        )
        self.engine = self._engine()
        self._schema_lock = threading.Lock()
        self._schema_ready = False

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedbackStore:
        """The deployment's store: ``feedback_url`` if set, else the SQLite file ``feedback_db``."""
        return cls(settings.feedback_database)

    def add(
        self,
        *,
        question: str,
        answer: str,
        rating: int,
        comment: str = "",
        audience: str = "care_leaver",
        status: str = "answered",
    ) -> int:
        """Store one rating (1 = helpful, 0 = not helpful), redacted. Returns its id."""
        _check_rating(rating)
        row = {
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "audience": audience,
            "question": redact(question)[:MAX_QUESTION],
            "answer": redact(answer)[:MAX_ANSWER],
            "status": status,
            "rating": rating,
            "comment": redact(comment)[:MAX_COMMENT],
        }
        with self._transaction("saved in") as db:
            result = db.execute(feedback_table.insert().values(**row))
            return int(result.inserted_primary_key[0])

    def update(
        self, item_id: int, *, rating: int | None = None, comment: str | None = None
    ) -> None:
        """Change a stored rating or add a comment (redacted), e.g. after a thumb is changed."""
        if rating is not None:
            _check_rating(rating)
        values: dict[str, Any] = {}
        if rating is not None:
            values["rating"] = rating
        if comment is not None:
            values["comment"] = redact(comment)[:MAX_COMMENT]
        if not values:
            return
        with self._transaction("saved in") as db:
            row = feedback_table.c.id == item_id
            db.execute(feedback_table.update().where(row).values(**values))

    def recent(self, limit: int = 50) -> list[FeedbackItem]:
        """The latest ``limit`` ratings, newest first (for the staff page)."""
        query = feedback_table.select().order_by(feedback_table.c.id.desc()).limit(limit)
        with self._transaction("read from") as db:
            return [FeedbackItem(**row._mapping) for row in db.execute(query)]

    def close(self) -> None:
        """Close the pooled connections (a new use opens new ones)."""
        self.engine.dispose()

    def _engine(self) -> Engine:
        # pool_pre_ping: a connection the database dropped (a restart, a failover) is
        # replaced before use instead of failing one visitor's feedback.
        connect_args: dict[str, Any] = (
            {"timeout": SQLITE_BUSY_SECONDS}
            if self.url.get_backend_name() == "sqlite"
            else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        )
        try:
            return create_engine(self.url, pool_pre_ping=True, connect_args=connect_args)
        except (ImportError, SQLAlchemyError) as exc:
            raise FeedbackError(
                f"The feedback database {self.name} cannot be used ({_reason(exc)}). "
                f"Check {self._setting}, e.g. {EXAMPLE_URL}."
            ) from exc

    def _ready(self) -> None:
        """Create the table, or add missing columns, once; tried again after a failure."""
        if self._schema_ready:
            return
        with self._schema_lock:
            if self._schema_ready:
                return
            try:
                if self.path:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.engine.connect() as db:
                    _create_or_migrate(db)
            except (OSError, SQLAlchemyError) as exc:
                raise FeedbackError(
                    f"The feedback database {self.name} cannot be opened ({_reason(exc)}). "
                    f"{self._advice}"
                ) from exc
            self._schema_ready = True

    @contextmanager
    def _transaction(self, verb: str) -> Iterator[Connection]:
        self._ready()
        try:
            with self.engine.begin() as db:
                yield db
        except SQLAlchemyError as exc:
            # Look at the schema again next time: the database may have been replaced.
            self._schema_ready = False
            raise FeedbackError(
                f"Feedback could not be {verb} {self.name} ({_reason(exc)}). {self._advice}"
            ) from exc


def _database_url(database: str | Path | URL) -> tuple[URL, str]:
    """The SQLAlchemy URL to use, and the setting a person would change to fix it."""
    if isinstance(database, Path) or (isinstance(database, str) and "://" not in database):
        return URL.create("sqlite", database=str(database)), "ASSISTANT_FEEDBACK_DB"
    setting = "ASSISTANT_FEEDBACK_URL"
    try:
        url = make_url(database)
    except (ArgumentError, ValueError) as exc:
        # The parser's message repeats the whole URL, password included: not shown.
        raise FeedbackError(
            f"{setting} is not a database URL. Write it like {EXAMPLE_URL} "
            "or sqlite:////var/lib/assistant/feedback.sqlite3."
        ) from exc
    if url.drivername in ("postgres", "postgresql"):
        # The bare name means psycopg2 to SQLAlchemy; psycopg (3) is the driver installed.
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise FeedbackError(
            f"{setting} names a {url.get_backend_name()} database "
            f"({url.render_as_string(hide_password=True)}); feedback is stored in "
            f"PostgreSQL ({EXAMPLE_URL}) or SQLite."
        )
    return url, setting


def _create_or_migrate(db: Connection) -> None:
    """Create the table if missing and add any column an older table lacks.

    Two workers starting together may both try to create the table: the one that
    loses finds it made when it looks a second time.
    """
    for attempt in (1, 2):
        try:
            with db.begin():
                metadata.create_all(db)
                present = {c["name"] for c in inspect(db).get_columns(feedback_table.name)}
                for column in feedback_table.columns:
                    if column.name not in present:
                        spec = CreateColumn(column).compile(dialect=db.dialect)
                        db.execute(text(f"ALTER TABLE {feedback_table.name} ADD COLUMN {spec}"))
            return
        except SQLAlchemyError:
            if attempt == 2:
                raise


def _check_rating(rating: int) -> None:
    if rating not in (0, 1):
        raise FeedbackError("rating must be 1 (helpful) or 0 (not helpful).")


def _reason(exc: BaseException) -> str:
    """The driver's own words on one line, without SQLAlchemy's SQL echo and links."""
    cause = getattr(exc, "orig", None) or exc
    return " ".join(str(cause).split())[:300]
