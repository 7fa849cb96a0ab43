"""A throwaway PostgreSQL server for the replica benchmark, from Debian's binaries.

The same approach as tests/postgres.py (which the bench does not import: it needs pytest): a
fresh cluster in a temp dir on a free loopback port, trust authentication, no fsync, run as the
`postgres` system user when we are root (initdb and postgres refuse root), deleted afterwards.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.procs import free_port

BINARIES_GLOB = "/usr/lib/postgresql/*/bin"
ROLE = "bridge"
MISSING = f"PostgreSQL binaries not found in {BINARIES_GLOB} (apt-get install postgresql)"


def find_binaries() -> Path | None:
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
class Postgres:
    bin: Path
    data_dir: Path
    port: int

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://{ROLE}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str) -> str:
        result = subprocess.run(
            [str(self.bin / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
            + ["-h", "127.0.0.1", "-p", str(self.port), "-U", ROLE, "-d", "postgres", "-c", sql],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "PGCONNECT_TIMEOUT": "5"},
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout.strip()

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
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@contextlib.contextmanager
def server(bin_dir: Path) -> Iterator[Postgres]:
    root = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(root, account.pw_uid, account.pw_gid)
    db = Postgres(bin_dir, root / "data", free_port())
    try:
        subprocess.run(
            _as_server_user(
                [str(bin_dir / "initdb"), "-D", str(db.data_dir), "-U", ROLE, "--auth=trust"]
                + ["--encoding=UTF8", "--locale=C", "--no-sync"]
            ),
            check=True,
            capture_output=True,
            timeout=120,
            cwd="/",
        )
        settings = {
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(root),
            "max_connections": "200",
            # Durability is worth nothing for a database deleted after the run.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        argv = [str(bin_dir / "postgres"), "-D", str(db.data_dir), "-p", str(db.port)]
        for name, value in settings.items():
            argv += ["-c", f"{name}={value}"]
        with open(root / "server.log", "wb") as log:
            process = subprocess.Popen(
                _as_server_user(argv), stdout=log, stderr=subprocess.STDOUT, cwd="/"
            )
        try:
            _wait(db, process)
            yield db
        finally:
            with contextlib.suppress(Exception):
                subprocess.run(
                    _as_server_user(
                        [str(bin_dir / "pg_ctl"), "stop", "-D", str(db.data_dir), "-m", "fast"]
                        + ["-w"]
                    ),
                    capture_output=True,
                    timeout=60,
                    cwd="/",
                )
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _wait(db: Postgres, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited with {process.returncode}")
        try:
            db.psql("SELECT 1")
            return
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
