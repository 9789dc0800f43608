"""A real PostgreSQL server for the tests: Debian's binaries, a cluster in a temp dir, a free port on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

BIN_GLOB = "/usr/lib/postgresql/*/bin"  # Debian keeps initdb and pg_ctl off PATH, one folder per major version
START_TIMEOUT_S = 60


def postgres_bin() -> Path | None:
    """Return the newest installed PostgreSQL's bin folder (Debian's package `postgresql`), or None."""
    found = sorted(Path("/").glob(BIN_GLOB.lstrip("/")), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    found = [p for p in found if (p / "initdb").exists() and (p / "pg_ctl").exists()]
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_owner(args: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; as root, run them as Debian's `postgres` user.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@dataclass
class PostgresServer:
    """One running cluster; `database()` gives each test a database of its own."""

    bin_dir: Path
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="openmodels-pg-")))
    port: int = field(default_factory=_free_port)

    @property
    def data(self) -> Path:
        """Return the cluster's folder."""
        return self.root / "data"

    def start(self) -> PostgresServer:
        """Create the cluster and start the server; raise with its log if it does not come up."""
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.root.chmod(0o700)
        subprocess.run(_as_owner([str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres",
                                  "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"]),
                       check=True, capture_output=True, text=True, timeout=120)
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=on"
        result = subprocess.run(_as_owner([str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l",
                                           str(self.root / "server.log"), "-o", options, "-w", "-t",
                                           str(START_TIMEOUT_S), "start"]),
                                capture_output=True, text=True, timeout=START_TIMEOUT_S + 30)
        if result.returncode != 0:
            log = (self.root / "server.log").read_text(errors="replace") if (self.root / "server.log").exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {result.stdout}{result.stderr}\n{log[-2000:]}")
        return self

    def url(self, database: str = "postgres") -> str:
        """Return the SQLAlchemy URL of one database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (fast mode) and remove the cluster."""
        subprocess.run(_as_owner([str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"]),
                       capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)
