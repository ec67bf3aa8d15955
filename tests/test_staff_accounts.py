"""Staff accounts, the shared sign-in lockout and the audit log, on a real SQLite file.

The lockout is tested across two store objects on one file, as two workers (or two hosts on
one PostgreSQL, see test_staff_postgres.py) would hold them, and across processes at once. Time
is a clock the test moves, so a five-minute lock takes no time to wait out.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner
from conftest import PROJECT_ROOT

from assistant.admin import add_document, rebuild_index, remove_document
from assistant.cli import main
from assistant.errors import CorpusError, InputError
from assistant.staff import Actor, Lockout, StaffStore, wait_words

PASSWORD = "three random words here"
RULE = Lockout(failures=3, address_failures=5, window_seconds=600, first_lock_seconds=300, max_lock_seconds=1000)
START = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db(tmp_path):
    return tmp_path / "feedback.sqlite3"


def store(db, clock, **kwargs) -> StaffStore:
    return StaffStore(db, lockout=RULE, clock=clock, **kwargs)


def cli(db, *args: str, input: str | None = None):
    return CliRunner().invoke(main, ["staff", *args], input=input,
                              env={"ASSISTANT_FEEDBACK_DB": str(db), "ASSISTANT_FEEDBACK_URL": ""})


# -- accounts and the command -----------------------------------------------------------------


def test_add_asks_twice_and_stores_only_an_argon2id_hash(db):
    mismatch = cli(db, "add", "Sam.Jones", input=f"{PASSWORD}\nsomething else entirely\n{PASSWORD}\n{PASSWORD}\n")
    assert mismatch.exit_code == 0, mismatch.output
    assert "do not match" in mismatch.output.lower()
    assert "Added the staff account 'sam.jones'" in mismatch.output
    [(name, stored)] = sqlite3.connect(db).execute("SELECT name, password_hash FROM staff_accounts").fetchall()
    assert name == "sam.jones" and stored.startswith("$argon2id$") and PASSWORD not in stored
    taken = cli(db, "add", "sam.jones", "--password-stdin", input=f"{PASSWORD}\n")
    assert taken.exit_code == 2 and "already a staff account called 'sam.jones'" in taken.output
    assert "Traceback" not in taken.output


def test_short_passwords_and_odd_names_are_refused_with_what_to_do(db, monkeypatch):
    short = cli(db, "add", "jo", "--password-stdin", input="tooshort\n")
    assert short.exit_code == 2
    assert "needs at least 12 (staff_min_password_length)" in short.output
    monkeypatch.setenv("ASSISTANT_STAFF_MIN_PASSWORD_LENGTH", "30")
    longer = cli(db, "add", "jo", "--password-stdin", input=f"{PASSWORD}\n")
    assert longer.exit_code == 2 and "at least 30" in longer.output
    odd = cli(db, "add", "jo smith", "--password-stdin", input=f"{PASSWORD}\n")
    assert odd.exit_code == 2 and "cannot be a staff name" in odd.output
    assert cli(db, "list").output.startswith("No staff accounts yet. Create one with: assistant staff add NAME")


def test_password_remove_list_unlock_and_audit_from_the_command(db):
    assert cli(db, "add", "sam", "--password-stdin", input=f"{PASSWORD}\n").exit_code == 0
    assert cli(db, "add", "ali", "--password-stdin", input=f"{PASSWORD}\n").exit_code == 0
    staff = StaffStore(db)  # the real clock: the command uses it too
    first = staff.sign_in("sam", PASSWORD, "10.0.0.1")
    changed = cli(db, "password", "sam", "--password-stdin", input="a new long password\n")
    assert changed.exit_code == 0, changed.output
    assert not staff.session_valid("sam", first.session), "a new password ends the old sessions"
    assert not staff.sign_in("sam", PASSWORD, "10.0.0.1").ok
    assert staff.sign_in("sam", "a new long password", "10.0.0.1").ok
    for _ in range(5):
        staff.sign_in("ali", "wrong guess", "10.0.0.2")
    listed = cli(db, "list").output.splitlines()
    assert listed[0].startswith("ali") and "LOCKED until" in listed[0] and "assistant staff unlock ali" in listed[0]
    assert listed[1].startswith("sam") and "LOCKED" not in listed[1]
    assert cli(db, "unlock", "ali").output.strip() == "Unlocked 'ali'."
    assert staff.sign_in("ali", PASSWORD, "10.0.0.3").ok
    assert cli(db, "remove", "ali").exit_code == 0
    gone = cli(db, "remove", "ali")
    assert gone.exit_code == 2 and "no staff account called 'ali'" in gone.output
    audit = cli(db, "audit", "--days", "1").output.splitlines()
    assert "cli:" in audit[0] and audit[0].endswith("account removed ali (done)")
    assert any(line.endswith("ali from 10.0.0.2: sign-in (failed)") for line in audit)
    assert any(line.endswith("ali from 10.0.0.2: sign-in (locked)") for line in audit), audit
    assert any(line.endswith("sam from 10.0.0.1: sign-in (done)") for line in audit)
    assert cli(db, "unlock").exit_code == 2


# -- the lockout ------------------------------------------------------------------------------


def test_lockout_is_shared_by_two_stores_and_doubles(db, clock):
    one, two = store(db, clock), store(db, clock)
    one.add("sam", PASSWORD)
    assert not one.sign_in("sam", "guess 1", "10.0.0.1").locked
    assert not two.sign_in("sam", "guess 2", "10.0.0.2").locked
    third = one.sign_in("sam", "guess 3", "10.0.0.3")
    assert third.locked and third.locked_until == START + 300
    # The other worker refuses even the right password, from any address, until the lock ends.
    locked = two.sign_in("sam", PASSWORD, "10.0.0.9")
    assert not locked.ok and locked.locked_until == START + 300
    clock.now += 301
    for n in range(3):
        result = (one, two)[n % 2].sign_in("sam", f"again {n}", "10.0.0.4")
    assert result.locked_until == clock.now + 600, "the second lock lasts twice as long"
    clock.now += 601
    for n in range(3):
        result = two.sign_in("sam", f"and again {n}", "10.0.0.5")
    assert result.locked_until == clock.now + 1000, "capped at the maximum"
    clock.now += 1001
    assert one.sign_in("sam", PASSWORD, "10.0.0.5").ok
    for n in range(3):
        result = two.sign_in("sam", f"after success {n}", "10.0.0.6")
    assert result.locked_until == clock.now + 300, "a good sign-in starts the back-off again"


def test_failures_outside_the_window_are_forgotten(db, clock):
    staff = store(db, clock)
    staff.add("sam", PASSWORD)
    staff.sign_in("sam", "one", "10.0.0.1")
    staff.sign_in("sam", "two", "10.0.0.1")
    clock.now += 601
    assert not staff.sign_in("sam", "three", "10.0.0.1").locked
    assert not staff.sign_in("sam", "four", "10.0.0.1").locked
    assert staff.sign_in("sam", "five", "10.0.0.1").locked


def test_a_name_without_an_account_locks_the_same_way_and_says_the_same(db, clock):
    staff = store(db, clock)
    staff.add("sam", PASSWORD)
    real = [staff.sign_in("sam", f"guess {n}", f"10.0.1.{n}") for n in range(4)]
    made_up = [staff.sign_in("nobody", f"guess {n}", f"10.0.2.{n}") for n in range(4)]
    assert [(r.ok, r.locked_until) for r in real] == [(r.ok, r.locked_until) for r in made_up]
    assert [r.locked for r in made_up] == [False, False, True, True]


def test_one_address_trying_many_names_is_locked_out_by_address(db, clock):
    staff = store(db, clock)
    staff.add("sam", PASSWORD)
    results = [staff.sign_in(f"name{n}", "guess", "203.0.113.7") for n in range(5)]
    assert [r.locked for r in results] == [False, False, False, False, True]
    assert staff.sign_in("sam", PASSWORD, "203.0.113.7").locked, "even the right password, from there"
    assert staff.sign_in("sam", PASSWORD, "198.51.100.1").ok, "another address is not affected"
    assert staff.unlock_address("203.0.113.7")
    assert staff.sign_in("sam", PASSWORD, "203.0.113.7").ok


WORKER = """
import sys
from assistant.staff import Lockout, StaffStore

database, n = sys.argv[1], int(sys.argv[2])
staff = StaffStore(database, lockout=Lockout(failures=1000, address_failures=1000))
for i in range(n):
    staff.sign_in("sam", f"guess {i}", f"192.0.2.{i % 200}")
"""


def count_failures(database: str) -> int:
    row = StaffStore(database).engine.connect().exec_driver_sql(
        "SELECT failures FROM staff_lockouts WHERE scope = 'account' AND key = 'sam'"
    ).first()
    return int(row[0])


def guess_in_processes(database: str, processes: int, each: int) -> None:
    """Several processes guessing at once, as a script with many sessions on many workers would."""
    env = {"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"}
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, database, str(each)], env=env,
                                stderr=subprocess.PIPE, text=True) for _ in range(processes)]
    for w in workers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err


def test_guesses_from_processes_at_once_are_all_counted(db):
    StaffStore(db).add("sam", PASSWORD)
    guess_in_processes(str(db), processes=3, each=8)
    assert count_failures(str(db)) == 24


# -- sessions, the audit log, purge -------------------------------------------------------------


def test_a_session_ends_when_its_account_is_removed(db, clock):
    staff = store(db, clock)
    staff.add("sam", PASSWORD)
    signed = staff.sign_in("SAM ", PASSWORD, None)
    assert signed.ok and signed.name == "sam" and staff.session_valid("sam", signed.session)
    staff.remove("sam")
    assert not staff.session_valid("sam", signed.session)
    assert not staff.has_accounts()
    with pytest.raises(InputError, match="no staff account called 'sam'"):
        staff.set_password("sam", "another long password")


def test_purge_keeps_only_the_retention_period(db, clock):
    staff = store(db, clock)
    staff.record("sam", "publish", "the index")
    clock.now += 40 * 86400
    staff.record("sam", "remove", "doc-2")
    assert staff.purge(30) == 1
    assert [(e.action, e.target) for e in staff.audit()] == [("remove", "doc-2")]
    assert [e.action for e in staff.audit(days=1)] == ["remove"]


def test_wait_words_say_when_and_how_long():
    assert wait_words(START + 299, now=START)[1] == 5
    assert wait_words(START + 10, now=START)[1] == 1


# -- the admin functions write the audit rows -------------------------------------------------------


@pytest.fixture
def admin_settings(small_settings, tmp_path):
    return small_settings.model_copy(update={"feedback_db": tmp_path / "admin.sqlite3", "feedback_url": None,
                                             "cache_dir": tmp_path / "cache"})


def test_upload_publish_and_remove_are_audited_with_who_and_where(admin_settings, embedder):
    who = Actor("sam", "10.1.2.3")
    rebuild_index(admin_settings, embedder=embedder, by=who)
    fields = {"id": "winter-support", "title": "Winter support 2026", "publisher": "Test Council",
              "published": 2026, "period": "2026-27", "status": "current", "superseded_by": "",
              "kind": "guidance", "source_url": "https://example.org/winter"}
    add_document(admin_settings, "winter.md", b"# Winter\n\nHelp with heating bills.\n", fields,
                 embedder=embedder, by=who)
    with pytest.raises(CorpusError):
        remove_document(admin_settings, "no-such-doc", embedder=embedder, by=who)
    remove_document(admin_settings, "doc-2", embedder=embedder, by=who)
    remove_document(admin_settings, "doc-3", embedder=embedder)  # nobody named: nothing written
    rows = [(e.actor, e.address, e.action, e.target, e.outcome.split(":")[0])
            for e in reversed(StaffStore.from_settings(admin_settings).audit())]
    assert rows == [
        ("sam", "10.1.2.3", "publish", "the index", "done"),
        ("sam", "10.1.2.3", "upload", "winter-support (winter.md)", "done"),
        ("sam", "10.1.2.3", "remove", "no-such-doc", "failed"),
        ("sam", "10.1.2.3", "remove", "doc-2", "done"),
    ]
