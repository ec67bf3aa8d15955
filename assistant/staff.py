"""Staff accounts, sign-in lockout and the audit log, in the deployment's database.

The staff page shows personal data (feedback, young people's requests with their contact), so
each member of staff signs in with their own name and password, and everything they do there is
written down:

- ``staff_accounts``: a name and an argon2id hash of its password (never the password).
- ``staff_lockouts``: failed sign-ins counted per name typed *and* per client address. After
  ``staff_lockout_failures`` failures (``staff_lockout_address_failures`` from one address) within
  ``staff_lockout_window_minutes``, signing in is refused for ``staff_lockout_minutes``; each new
  lock lasts twice as long as the last, up to ``staff_lockout_max_minutes``, until a day passes
  without a lock. The counters are rows updated by single SQL statements, so every session, worker
  and host sharing the database shares them: 20 browser sessions get no more guesses than one.
  A name that has no account is counted and locked exactly like one that has, and a wrong password
  takes as long to check either way, so the page never reveals which names exist.
- ``staff_audit``: every sign-in (done, failed, locked) and every staff action (upload, publish,
  replace, remove a document, reading or answering a request, downloading the gap CSV, and the
  account changes made with ``assistant staff``), kept ``staff_audit_retention_days``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Column, Float, Integer, Table, Text, and_, case, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection

from assistant.config import Settings
from assistant.errors import InputError, StaffError
from assistant.store import SQLStore, metadata

log = logging.getLogger(__name__)

staff_accounts = Table(
    "staff_accounts",
    metadata,
    Column("name", Text, primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("created", Text, nullable=False),
    Column("changed", Text, nullable=False),
)

# One row per (scope, key): scope "account" keys the name as typed, "address" the client address.
# Times are seconds since the epoch, so "now + lock_seconds" is arithmetic in SQL on any database.
staff_lockouts = Table(
    "staff_lockouts",
    metadata,
    Column("scope", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("window_start", Float, nullable=False, server_default="0"),
    Column("locked_until", Float, nullable=False, server_default="0"),
    Column("lock_seconds", Float, nullable=False, server_default="0"),
)

staff_audit = Table(
    "staff_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("address", Text, nullable=False, server_default=""),
    Column("action", Text, nullable=False),
    Column("target", Text, nullable=False, server_default=""),
    Column("outcome", Text, nullable=False, server_default="done"),
    sqlite_autoincrement=True,
)

# What the audit log calls each action (``assistant staff audit`` prints these words).
SIGN_IN = "sign-in"
UPLOAD, PUBLISH, REPLACE, REMOVE = "upload", "publish", "replace", "remove"
READ_REQUEST, ANSWER_REQUEST, CLOSE_REQUEST = "read request", "answer request", "close request"
DOWNLOAD_GAPS = "download gap CSV"
ACCOUNT_ADDED, PASSWORD_CHANGED, ACCOUNT_REMOVED, UNLOCKED = (
    "account added", "password changed", "account removed", "unlocked",
)  # fmt: skip

# A day without a lock and the next lock is the first length again.
BACKOFF_FORGET_SECONDS = 24 * 3600
# Names: what a person would type, short enough to show in a table.
MAX_NAME = 64
_NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
MAX_PASSWORD = 1024  # argon2 takes any length; this keeps a pasted novel from costing anything
MAX_TARGET = 300
UNKNOWN_ADDRESS = "unknown"

# argon2id (the library's default type) with its default cost (RFC 9106's second recommended
# setting: 64 MiB, 3 passes): about 50 ms a check on this machine's cores.
_hasher = PasswordHasher()
# Checked when a name has no account, so a wrong name costs the same time as a wrong password.
_DUMMY_HASH = _hasher.hash("no account has this password")


def normal_name(name: str) -> str:
    """The name as stored and compared: trimmed, lower case."""
    return name.strip().lower()


def check_name(name: str) -> str:
    """The normal name, or an ``InputError`` saying what a name may hold."""
    normal = normal_name(name)
    if not _NAME.match(normal):
        raise InputError(
            f"{name!r} cannot be a staff name: use 1 to {MAX_NAME} letters, digits, dots, hyphens, "
            "underscores or @, starting with a letter or digit (e.g. sam.jones)."
        )
    return normal


@dataclass(frozen=True)
class Actor:
    """Who does a staff action, for the audit log: an account name and the client address."""

    name: str
    address: str = ""


@dataclass(frozen=True)
class Account:
    name: str
    created: str
    changed: str
    locked_until: float  # seconds since the epoch; 0 when not locked


@dataclass(frozen=True)
class SignIn:
    """What one sign-in attempt came to. ``session`` identifies the password that signed in."""

    ok: bool
    name: str
    locked_until: float = 0.0
    session: str = ""

    @property
    def locked(self) -> bool:
        return self.locked_until > 0


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    actor: str
    address: str
    action: str
    target: str
    outcome: str


@dataclass(frozen=True)
class Lockout:
    """The lockout rule (from the ``staff_lockout_*`` settings)."""

    failures: int = 5
    address_failures: int = 20
    window_seconds: float = 15 * 60
    first_lock_seconds: float = 5 * 60
    max_lock_seconds: float = 24 * 3600

    @classmethod
    def from_settings(cls, s: Settings) -> Lockout:
        return cls(
            failures=s.staff_lockout_failures,
            address_failures=s.staff_lockout_address_failures,
            window_seconds=s.staff_lockout_window_minutes * 60,
            first_lock_seconds=s.staff_lockout_minutes * 60,
            max_lock_seconds=max(s.staff_lockout_max_minutes, s.staff_lockout_minutes) * 60,
        )


def _stamp(moment: dt.datetime) -> str:
    # Sortable text in local time, like the other stores' timestamps.
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S")


class StaffStore(SQLStore):
    """Staff accounts, lockout counters and the audit log (see the module docstring)."""

    label = "staff accounts"
    error = StaffError

    def __init__(
        self,
        database: str | Path | URL,
        *,
        lockout: Lockout | None = None,
        min_password_length: int = 12,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(database)
        self.lockout = lockout or Lockout()
        self.min_password_length = min_password_length
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Settings) -> StaffStore:
        return cls(
            settings.feedback_database,
            lockout=Lockout.from_settings(settings),
            min_password_length=settings.staff_min_password_length,
        )

    # -- accounts ---------------------------------------------------------------------------

    def check_password(self, password: str) -> None:
        """An ``InputError`` unless the password is long enough (and not absurdly long)."""
        if len(password) < self.min_password_length:
            raise InputError(
                f"That password has {len(password)} characters; a staff password needs at least "
                f"{self.min_password_length} (staff_min_password_length). A few unrelated words "
                "make a long password that is easy to remember."
            )
        if len(password) > MAX_PASSWORD:
            raise InputError(f"That password is over {MAX_PASSWORD} characters: choose a shorter one.")

    def add(self, name: str, password: str, *, by: str = "") -> str:
        """Create an account; returns its normal name. Refused if the name is taken."""
        normal = check_name(name)
        self.check_password(password)
        now = _stamp(self._now())
        with self._transaction("saved in") as db:
            if db.execute(select(staff_accounts.c.name).where(staff_accounts.c.name == normal)).first():
                raise InputError(
                    f"There is already a staff account called {normal!r}. To give it a new password, "
                    f"run: assistant staff password {normal}"
                )
            db.execute(staff_accounts.insert().values(
                name=normal, password_hash=_hasher.hash(password), created=now, changed=now))
            self._audit(db, by or normal, ACCOUNT_ADDED, normal)
        return normal

    def set_password(self, name: str, password: str, *, by: str = "") -> None:
        """Give an account a new password; sessions signed in with the old one end."""
        normal = normal_name(name)
        self.check_password(password)
        with self._transaction("saved in") as db:
            done = db.execute(
                staff_accounts.update()
                .where(staff_accounts.c.name == normal)
                .values(password_hash=_hasher.hash(password), changed=_stamp(self._now()))
            )
            if not done.rowcount:
                raise self._no_account(normal)
            self._audit(db, by or normal, PASSWORD_CHANGED, normal)

    def remove(self, name: str, *, by: str = "") -> None:
        """Delete an account (its audit rows stay); its sessions end at their next page view."""
        normal = normal_name(name)
        with self._transaction("deleted from") as db:
            done = db.execute(staff_accounts.delete().where(staff_accounts.c.name == normal))
            if not done.rowcount:
                raise self._no_account(normal)
            self._clear(db, "account", normal)
            self._audit(db, by or normal, ACCOUNT_REMOVED, normal)

    def accounts(self) -> list[Account]:
        """Every account by name, with when each is locked until (0 = not locked)."""
        lock = staff_lockouts.alias()
        query = (
            select(staff_accounts, func.coalesce(lock.c.locked_until, 0.0))
            .outerjoin(lock, and_(lock.c.scope == "account", lock.c.key == staff_accounts.c.name))
            .order_by(staff_accounts.c.name)
        )
        now = self.clock()
        with self._transaction("read from") as db:
            rows = db.execute(query).all()
        return [
            Account(r.name, r.created, r.changed, float(r[-1]) if float(r[-1]) > now else 0.0) for r in rows
        ]

    def has_accounts(self) -> bool:
        with self._transaction("read from") as db:
            return db.execute(select(staff_accounts.c.name).limit(1)).first() is not None

    def unlock(self, name: str, *, by: str = "") -> bool:
        """Forget a name's failed sign-ins and lock; True if it was locked."""
        normal = normal_name(name)
        with self._transaction("saved in") as db:
            was = self._locked_until(db, [("account", normal)]) > 0
            self._clear(db, "account", normal)
            self._audit(db, by or normal, UNLOCKED, normal)
        return was

    def unlock_address(self, address: str, *, by: str = "") -> bool:
        """Forget a client address's failed sign-ins and lock; True if it was locked."""
        with self._transaction("saved in") as db:
            was = self._locked_until(db, [("address", address)]) > 0
            self._clear(db, "address", address)
            self._audit(db, by or "cli", UNLOCKED, f"address {address}")
        return was

    # -- signing in -------------------------------------------------------------------------

    def sign_in(self, name: str, password: str, address: str | None) -> SignIn:
        """Check a name and password from a client address, counting failures and honouring locks.

        A locked name or address is refused without looking at the password, so guesses made
        during a lock teach nothing and do not lengthen it.
        """
        normal = normal_name(name)[:MAX_NAME] or "(empty)"
        where = (address or UNKNOWN_ADDRESS)[:MAX_NAME]
        keys = [("account", normal), ("address", where)]
        with self._transaction("read from") as db:
            until = self._locked_until(db, keys)
            if until:
                self._audit(db, normal, SIGN_IN, "", outcome="locked", address=where)
                return SignIn(False, normal, locked_until=until)
            row = db.execute(
                select(staff_accounts.c.password_hash).where(staff_accounts.c.name == normal)
            ).first()
        stored = row[0] if row else None
        ok = _verify(stored or _DUMMY_HASH, password[:MAX_PASSWORD]) and stored is not None
        with self._transaction("saved in") as db:
            if ok:
                assert stored is not None
                if _hasher.check_needs_rehash(stored):
                    stored = _hasher.hash(password)
                    db.execute(staff_accounts.update().where(staff_accounts.c.name == normal)
                               .values(password_hash=stored))
                self._clear(db, "account", normal)
                self._audit(db, normal, SIGN_IN, "", address=where)
                return SignIn(True, normal, session=session_tag(stored))
            now = self.clock()
            limits = {"account": self.lockout.failures, "address": self.lockout.address_failures}
            for scope, key in keys:
                self._count_failure(db, scope, key, limits[scope], now)
            until = self._locked_until(db, keys)
            self._audit(db, normal, SIGN_IN, "", outcome="locked" if until else "failed", address=where)
        return SignIn(False, normal, locked_until=until)

    def session_valid(self, name: str, session: str) -> bool:
        """Is this account still there with the password its session signed in with?"""
        with self._transaction("read from") as db:
            row = db.execute(
                select(staff_accounts.c.password_hash).where(staff_accounts.c.name == name)
            ).first()
        return bool(row) and session_tag(row[0]) == session

    def _count_failure(self, db: Connection, scope: str, key: str, limit: int, now: float) -> None:
        """One more failure for (scope, key): atomic statements, safe with any number of workers."""
        first = self.lockout.first_lock_seconds
        insert = (postgresql.insert if db.dialect.name == "postgresql" else sqlite.insert)(staff_lockouts)
        db.execute(insert.values(scope=scope, key=key, failures=0, window_start=now, locked_until=0.0,
                                 lock_seconds=first).on_conflict_do_nothing())
        c = staff_lockouts.c
        row = and_(c.scope == scope, c.key == key)
        stale = c.window_start < now - self.lockout.window_seconds
        # Every SET reads the row as it was before this statement, on SQLite and PostgreSQL alike.
        db.execute(staff_lockouts.update().where(row).values(
            failures=case((stale, 1), else_=c.failures + 1),
            window_start=case((stale, now), else_=c.window_start),
            lock_seconds=case((c.locked_until < now - BACKOFF_FORGET_SECONDS, first), else_=c.lock_seconds),
        ))
        longest = self.lockout.max_lock_seconds
        db.execute(staff_lockouts.update().where(and_(row, c.failures >= limit)).values(
            locked_until=now + c.lock_seconds,
            lock_seconds=case((c.lock_seconds * 2 > longest, longest), else_=c.lock_seconds * 2),
            failures=0,
            window_start=now,
        ))

    def _locked_until(self, db: Connection, keys: list[tuple[str, str]]) -> float:
        """The latest lock in force over these (scope, key) pairs, or 0."""
        c = staff_lockouts.c
        query = select(func.max(c.locked_until)).where(
            or_(*(and_(c.scope == scope, c.key == key) for scope, key in keys)), c.locked_until > self.clock()
        )
        return float(db.execute(query).scalar() or 0.0)

    def _clear(self, db: Connection, scope: str, key: str) -> None:
        c = staff_lockouts.c
        db.execute(staff_lockouts.delete().where(and_(c.scope == scope, c.key == key)))

    # -- the audit log ----------------------------------------------------------------------

    def record(self, actor: str, action: str, target: str = "", *, outcome: str = "done",
               address: str | None = None) -> None:
        """Write one audit row."""
        with self._transaction("saved in") as db:
            self._audit(db, actor, action, target, outcome=outcome, address=address)

    @contextmanager
    def audited(self, actor: str, action: str, target: str = "", *,
                address: str | None = None) -> Iterator[None]:
        """Run a staff action and write its audit row: "done", or "failed: why" (then re-raise)."""
        try:
            yield
        except Exception as exc:
            self._record_quietly(actor, action, target, f"failed: {' '.join(str(exc).split())}", address)
            raise
        self._record_quietly(actor, action, target, "done", address)

    def _record_quietly(self, actor: str, action: str, target: str, outcome: str, address: str | None) -> None:
        # The action has happened (or failed) already: a log that cannot be written must not
        # hide that from the person, but it is logged loudly for whoever runs the server.
        try:
            self.record(actor, action, target, outcome=outcome, address=address)
        except StaffError:
            log.exception("the audit row for %s %s by %s could not be written", action, target, actor)

    def audit(self, days: int | None = None, *, limit: int = 1000) -> list[AuditEntry]:
        """Audit rows of the last ``days`` days (all if None), newest first."""
        query = select(staff_audit).order_by(staff_audit.c.id.desc()).limit(limit)
        if days is not None:
            query = query.where(staff_audit.c.at >= _stamp(self._now() - dt.timedelta(days=days)))
        with self._transaction("read from") as db:
            return [AuditEntry(**row._mapping) for row in db.execute(query)]

    def purge(self, older_than_days: int) -> int:
        """Delete audit rows older than ``older_than_days`` (and long-quiet lockout counters)."""
        cutoff = _stamp(self._now() - dt.timedelta(days=older_than_days))
        quiet = self.clock() - BACKOFF_FORGET_SECONDS
        c = staff_lockouts.c
        with self._transaction("deleted from") as db:
            done = db.execute(staff_audit.delete().where(staff_audit.c.at < cutoff))
            db.execute(staff_lockouts.delete().where(c.locked_until < quiet, c.window_start < quiet))
            return int(done.rowcount or 0)

    def _audit(self, db: Connection, actor: str, action: str, target: str, *, outcome: str = "done",
               address: str | None = None) -> None:
        db.execute(staff_audit.insert().values(
            at=_stamp(self._now()), actor=actor[:MAX_NAME], address=(address or "")[:MAX_NAME],
            action=action, target=target[:MAX_TARGET], outcome=outcome[:MAX_TARGET]))

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock())

    def _no_account(self, name: str) -> InputError:
        return InputError(f"There is no staff account called {name!r}. `assistant staff list` shows them.")


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def session_tag(password_hash: str) -> str:
    """A short tag of the stored hash: a session is valid while its account keeps this password."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


def wait_words(locked_until: float, now: float | None = None) -> tuple[str, int]:
    """('14:05', 5): the local time a lock ends and the whole minutes until then."""
    now = time.time() if now is None else now
    minutes = max(1, math.ceil((locked_until - now) / 60))
    return dt.datetime.fromtimestamp(locked_until).strftime("%H:%M"), minutes


def audit_target(value: Any) -> str:
    """A value for the audit's target column, on one line."""
    return " ".join(str(value).split())[:MAX_TARGET]
