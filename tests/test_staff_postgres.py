"""Staff accounts and the sign-in lockout in a real PostgreSQL, shared by stores and processes.

The cluster is started by the tests from Debian's binaries (see ``tests/postgres.py``).
"""

from __future__ import annotations

import re

import psycopg
import pytest
from test_staff_accounts import PASSWORD, RULE, START, Clock, count_failures, guess_in_processes

from assistant.staff import Actor, StaffStore

pytestmark = pytest.mark.slow


@pytest.fixture
def database_url(cluster, request) -> str:
    """A new, empty database per test."""
    return cluster.create_database(re.sub(r"\W+", "_", request.node.name).lower()[:60])


def test_two_workers_share_the_lockout_and_the_audit_log(cluster, database_url):
    clock = Clock()
    one, two = (StaffStore(database_url, lockout=RULE, clock=clock) for _ in range(2))
    one.add("sam", PASSWORD)
    assert two.sign_in("sam", PASSWORD, "10.0.0.1").ok
    one.sign_in("sam", "guess 1", "10.0.0.2")
    two.sign_in("sam", "guess 2", "10.0.0.3")
    third = one.sign_in("sam", "guess 3", "10.0.0.4")
    assert third.locked_until == START + 300
    assert two.sign_in("sam", PASSWORD, "10.0.0.5").locked_until == START + 300
    clock.now += 301
    for n in range(3):
        result = (two, one)[n % 2].sign_in("sam", f"again {n}", "10.0.0.6")
    assert result.locked_until == clock.now + 600
    assert two.unlock("sam")
    assert one.sign_in("sam", PASSWORD, "10.0.0.7").ok
    two.record("sam", "publish", "the index", address="10.0.0.7")
    outcomes = [(e.action, e.outcome) for e in reversed(one.audit())]
    assert outcomes == [
        ("account added", "done"), ("sign-in", "done"), ("sign-in", "failed"), ("sign-in", "failed"),
        ("sign-in", "locked"), ("sign-in", "locked"), ("sign-in", "failed"), ("sign-in", "failed"),
        ("sign-in", "locked"), ("unlocked", "done"), ("sign-in", "done"), ("publish", "done"),
    ]
    with psycopg.connect(cluster.dsn(database_url.rsplit("/", 1)[1])) as db:
        [(stored,)] = db.execute("SELECT password_hash FROM staff_accounts").fetchall()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_guesses_from_processes_at_once_are_all_counted(database_url):
    StaffStore(database_url).add("sam", PASSWORD)
    guess_in_processes(database_url, processes=3, each=8)
    assert count_failures(database_url) == 24


def test_the_audited_action_names_who_and_where(database_url):
    staff = StaffStore(database_url)
    who = Actor("ali", "192.0.2.10")
    with staff.audited(who.name, "replace", "doc-1 (new.pdf)", address=who.address):
        pass
    with pytest.raises(ValueError), staff.audited(who.name, "remove", "doc-2", address=who.address):
        raise ValueError("the index could not be rebuilt")
    rows = [(e.actor, e.address, e.action, e.outcome) for e in reversed(staff.audit(days=1))]
    assert rows == [("ali", "192.0.2.10", "replace", "done"),
                    ("ali", "192.0.2.10", "remove", "failed: the index could not be rebuilt")]
