"""One SQL database for everything the service stores: SQLite (the default) or PostgreSQL.

Feedback, the gap log and requests to a person each keep a table here, all in one
SQLAlchemy ``metadata``, so one setting (``feedback_url``, or the SQLite file
``feedback_db``) places them all, and several workers on several hosts share one
PostgreSQL database. A store never connects when it is built. Its first use creates
the tables (or adds the columns an older database lacks); while the database is down
every use fails fast with ``FeedbackError`` and the next use tries again, so the web
API keeps answering questions while storing is refused, and recovers by itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import MetaData, create_engine, inspect, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateColumn

from assistant.errors import FeedbackError

if TYPE_CHECKING:
    from assistant.config import Settings

# Every table of every store. A column added later needs a server_default: it is added
# to existing tables by ALTER TABLE, which cannot fill old rows otherwise.
metadata = MetaData()

# An unreachable PostgreSQL fails within seconds, not after the system's TCP timeout
# (minutes): the visitor gets "try again later" at once and no worker thread hangs.
CONNECT_TIMEOUT_SECONDS = 3
# How long SQLite waits for another writer (a visitor, another worker) before failing.
SQLITE_BUSY_SECONDS = 5
EXAMPLE_URL = "postgresql+psycopg://user:password@host:5432/feedback"


class SQLStore:
    """A store over the deployment's database; safe to share between threads and processes.

    ``database`` is a SQLAlchemy URL (``postgresql+psycopg://...``, ``sqlite:///...``)
    or the path of a SQLite file. ``label`` names the store in messages for people.
    """

    label: ClassVar[str] = "feedback"
    # Raised when storing fails: each store's own subclass carries the sentence its users see.
    error: ClassVar[type[FeedbackError]] = FeedbackError

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
    def from_settings(cls, settings: Settings) -> Any:
        """The deployment's store: ``feedback_url`` if set, else the SQLite file ``feedback_db``."""
        return cls(settings.feedback_database)

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
        # SQLite: a fresh connection for each use (opening a file costs microseconds), so a file
        # or folder deleted while serving is noticed and recreated, instead of a pooled connection
        # writing on into the deleted file where nobody will read it.
        extra: dict[str, Any] = {"poolclass": NullPool} if self.path else {}
        try:
            return create_engine(self.url, pool_pre_ping=True, connect_args=connect_args, **extra)
        except (ImportError, SQLAlchemyError) as exc:
            raise self.error(
                f"The {self.label} database {self.name} cannot be used ({_reason(exc)}). "
                f"Check {self._setting}, e.g. {EXAMPLE_URL}."
            ) from exc

    def _ready(self) -> None:
        """Create the table, or add missing columns, once; again after a failure or a deleted file."""
        if self._schema_ready and self.path is not None and not self.path.exists():
            self._schema_ready = False  # the file (or its folder) was deleted: make it again
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
                raise self.error(
                    f"The {self.label} database {self.name} cannot be opened ({_reason(exc)}). "
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
            raise self.error(
                f"{self.label.capitalize()} could not be {verb} {self.name} ({_reason(exc)}). {self._advice}"
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
    """Create the tables if missing and add any column an older table lacks.

    Two workers starting together may both try to create the table: the one that
    loses finds it made when it looks a second time.
    """
    for attempt in (1, 2):
        try:
            with db.begin():
                metadata.create_all(db)
                for table in metadata.sorted_tables:
                    present = {c["name"] for c in inspect(db).get_columns(table.name)}
                    for column in table.columns:
                        if column.name not in present:
                            spec = CreateColumn(column).compile(dialect=db.dialect)
                            db.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {spec}"))
            return
        except SQLAlchemyError:
            if attempt == 2:
                raise


def _reason(exc: BaseException) -> str:
    """The driver's own words on one line, without SQLAlchemy's SQL echo and links."""
    cause = getattr(exc, "orig", None) or exc
    return " ".join(str(cause).split())[:300]
