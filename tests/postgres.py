"""A throwaway PostgreSQL server, from Debian's binaries, on a temp dir and a free port: for the
tests (tests/scale/conftest.py) and for the replica benchmark (bench/replicas.py), which is why
nothing here needs pytest.

`initdb` and `postgres` refuse to run as root, so as root they run as the `postgres` system user
(`runuser -u postgres --`); otherwise as whoever runs them. The server listens on 127.0.0.1
only, trusts local connections (it holds nothing but test data) and skips fsync.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.live import free_port

BINARIES_GLOB = "/usr/lib/postgresql/*/bin"
SYSTEM_USER = "postgres"
ROLE = "bridge"
_SAFE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
MISSING = f"PostgreSQL binaries not found in {BINARIES_GLOB} (apt-get install postgresql)"


def find_binaries() -> Path | None:
    """The newest PostgreSQL bin directory that has `initdb`, `pg_ctl` and `psql`."""

    def version(path: str) -> float:
        try:
            return float(Path(path).parent.name)
        except ValueError:
            return 0.0

    for candidate in sorted(glob.glob(BINARIES_GLOB), key=version, reverse=True):
        path = Path(candidate)
        if all((path / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres", "psql")):
            return path
    return None


@dataclass(frozen=True)
class PostgresServer:
    bin: Path
    data_dir: Path
    port: int
    host: str = "127.0.0.1"

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy async URL of `database` on this server, as the bridge's role."""
        return f"postgresql+asyncpg://{ROLE}@{self.host}:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the bridge's role (a superuser of this throwaway server); its output."""
        result = subprocess.run(
            [str(self.bin / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
            + ["-h", self.host, "-p", str(self.port), "-U", ROLE, "-d", database, "-c", sql],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def create_database(self, name: str) -> str:
        """A new, empty database; its URL."""
        if not _SAFE_NAME.match(name):
            raise ValueError(f"not a plain database name: {name!r}")
        self.psql(f"CREATE DATABASE {name}")
        return self.url(name)

    def postmaster_pid(self) -> int:
        return int((self.data_dir / "postmaster.pid").read_text().split()[0])

    def processes(self) -> list[int]:
        """The postmaster and its children (backends, checkpointer, …)."""
        root = self.postmaster_pid()
        found = [root]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError):
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == root:
                    found.append(int(stat.parent.name))
        return found

    def cpu_seconds(self) -> float:
        """CPU time of the whole server so far: live processes, and exited children's."""
        ticks = 0
        root = self.postmaster_pid()
        for pid in self.processes():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
                if pid == root:
                    ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
        return ticks / os.sysconf("SC_CLK_TCK")


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", SYSTEM_USER, "--", *argv]


def _run(argv: list[str], *, timeout: float) -> None:
    result = subprocess.run(
        _as_server_user(argv), capture_output=True, text=True, timeout=timeout, cwd="/"
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{Path(argv[0]).name} failed ({result.returncode}): "
            f"{(result.stderr or result.stdout).strip()[-2000:]}"
        )


@contextlib.contextmanager
def postgres_server(bin_dir: Path) -> Iterator[PostgresServer]:
    """Start a fresh server from `bin_dir` (`find_binaries`), yield it, then stop it and delete
    its files."""
    root = Path(tempfile.mkdtemp(prefix="bridge-pg-"))
    data_dir = root / "data"
    log_file = root / "server.log"
    if os.geteuid() == 0:
        # The server's user must own its directory; nothing else of the root user's is shared.
        account = pwd.getpwnam(SYSTEM_USER)
        os.chown(root, account.pw_uid, account.pw_gid)
    port = free_port()
    server = PostgresServer(bin=bin_dir, data_dir=data_dir, port=port)
    try:
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                ROLE,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            timeout=120,
        )
        # The server runs in the foreground as our child (through runuser, which waits for it),
        # so that it is reaped when it stops instead of left a zombie of a daemonizing pg_ctl.
        argv = [
            str(bin_dir / "postgres"),
            "-D",
            str(data_dir),
            "-p",
            str(port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={root}",
            "-c",
            "max_connections=200",
            # Durability is worth nothing for a database deleted after the run.
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ]
        with open(log_file, "wb") as log:
            process = subprocess.Popen(
                _as_server_user(argv), stdout=log, stderr=subprocess.STDOUT, cwd="/"
            )
        try:
            _wait_until_accepting(server, process, log_file)
            yield server
        finally:
            with contextlib.suppress(Exception):
                _run(
                    [str(bin_dir / "pg_ctl"), "stop", "-D", str(data_dir), "-m", "fast", "-w"],
                    timeout=60,
                )
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _wait_until_accepting(
    server: PostgresServer, process: subprocess.Popen[bytes], log_file: Path, timeout: float = 60.0
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"postgres exited with {process.returncode}: "
                f"{log_file.read_text(errors='replace')[-2000:]}"
            )
        try:
            server.psql("SELECT 1")
            return
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
