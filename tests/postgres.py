"""A throwaway PostgreSQL cluster for the tests, run from Debian's server binaries.

A real server, not a fake: what the feedback store must survive (two processes
creating the table at once, a server that stops and comes back) only happens
with one. ``scripts/test.sh`` installs Debian's ``postgresql`` package when it is
missing; a machine without it fails the tests with a message, never skips them.

The cluster lives in a private folder under the system temporary folder. initdb
refuses to run as root, so under root the server runs as ``nobody``, who could
not enter pytest's ``tmp_path`` (inside root's private folder).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import psycopg

from eval.servers import free_port

# Waits for the server to start or stop: seconds in practice, more on a loaded CI machine.
START_TIMEOUT_SECONDS = 60
# A password in every URL, so tests can check it never appears in messages or logs
# (the cluster trusts local connections and never asks for it).
PASSWORD = "not-to-be-shown"


class ClusterUnavailable(RuntimeError):
    """The PostgreSQL binaries are missing or the cluster could not be started."""


def server_binaries() -> Path:
    """Debian's newest ``/usr/lib/postgresql/<version>/bin``, else where ``initdb`` is on PATH."""

    def version(initdb: str) -> int:
        name = Path(initdb).parent.parent.name
        return int(name) if name.isdigit() else 0

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise ClusterUnavailable(
        "PostgreSQL's server programs (initdb, pg_ctl) are not installed: no "
        "/usr/lib/postgresql/*/bin/initdb and no initdb on PATH. Run scripts/test.sh, which "
        "installs Debian's postgresql package, or: sudo apt-get install postgresql"
    )


def _server_user() -> dict[str, Any]:
    """subprocess arguments that run the server as ``nobody`` under root (initdb refuses root)."""
    if os.geteuid() != 0:
        return {}
    nobody = pwd.getpwnam("nobody")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}


class PostgresCluster:
    """One initdb'd cluster on 127.0.0.1 and a free port; ``stop`` and ``start`` it at will."""

    def __init__(self) -> None:
        self.bin = server_binaries()
        self.root = Path(tempfile.mkdtemp(prefix="assistant-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.running = False
        self._as = _server_user()
        for folder in (self.data, self.sockets):
            folder.mkdir()
        if self._as:
            for path in (self.root, self.data, self.sockets):
                os.chown(path, self._as["user"], self._as["group"])
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets} "
            "-c fsync=off -c full_page_writes=off"  # a test cluster: speed over durability
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", str(START_TIMEOUT_SECONDS), "start",
        )  # fmt: skip
        self.running = True

    def stop(self) -> None:
        """Stop at once, as a crash or a lost host would (``-m immediate``)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        self.running = False

    def destroy(self) -> None:
        """Stop the server if it runs and delete the cluster's folder."""
        try:
            if self.running:
                self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """Create an empty database; returns its SQLAlchemy URL (with ``PASSWORD`` in it)."""
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:{self.port}/{name}"

    def dsn(self, database: str) -> str:
        """A psycopg connection string, to look at the stored rows directly."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database} connect_timeout=5"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        done = subprocess.run(
            command, cwd=self.root, capture_output=True, text=True, check=False, **self._as
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise ClusterUnavailable(
                f"{program} failed with exit code {done.returncode}:\n{done.stdout}{done.stderr}\n"
                f"server log ({self.log}):\n{log}"
            )
