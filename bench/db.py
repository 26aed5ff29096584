"""The bench database: where the server is, (re)creating `ledgerpay_bench`, migrating and seeding it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import psycopg
from psycopg.conninfo import make_conninfo

PROJECT_DIR = Path(__file__).resolve().parent.parent
BENCH_DB = "ledgerpay_bench"


@dataclass(frozen=True)
class Server:
    """One PostgreSQL server, as psycopg connection parameters (without dbname)."""

    params: dict
    embedded_data_dir: Path | None = None  # set when it is the project's embedded server

    def conninfo(self, dbname: str) -> str:
        return make_conninfo(**self.params, dbname=dbname)

    def django_url(self, dbname: str) -> str:
        """A DATABASE_URL for django-environ (a Unix-socket host goes in the query string, as
        `python -m ledgerpay.embedded_db start` prints it)."""
        p = self.params
        auth = quote(p.get("user", ""), safe="")
        if p.get("password"):
            auth += ":" + quote(p["password"], safe="")
        host, port = str(p.get("host", "")), p.get("port")
        if host.startswith("/"):
            query = f"?host={quote(host)}" + (f"&port={port}" if port else "")
            return f"postgresql://{auth}@/{dbname}{query}"
        return f"postgresql://{auth}@{host}{f':{port}' if port else ''}/{dbname}"


def server_resolve() -> Server:
    """The server of DATABASE_URL when it is set, else the embedded one (started if need be)."""
    url = os.environ.get("DATABASE_URL", "")
    if url:
        parts = urlsplit(url)
        params = psycopg.conninfo.conninfo_to_dict(url)
        params.pop("dbname", None)
        if not parts.hostname and "host" not in params:
            params["host"] = "127.0.0.1"
        return Server(params=params)
    from ledgerpay.embedded_db import DEFAULT_DATA_DIR, ensure_running

    embedded = ensure_running()
    return Server(
        params={"host": embedded.host, "port": embedded.port, "user": embedded.user},
        embedded_data_dir=DEFAULT_DATA_DIR,
    )


def server_version(server: Server) -> str:
    with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def postmaster_pid(server: Server) -> int | None:
    """The server's main process id, when its data folder is readable here (for CPU accounting)."""
    try:
        with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
            data_dir = Path(conn.execute("SHOW data_directory").fetchone()[0])
        return int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError, psycopg.Error):
        return None


def database_recreate(server: Server, dbname: str = BENCH_DB) -> None:
    with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')


def manage(env: dict, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run `manage.py <args>` against the bench database; output captured."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=check,
    )


def migrate(env: dict) -> None:
    result = manage(env, "migrate", "--noinput", check=False)
    if result.returncode:
        raise SystemExit(f"migrate failed:\n{result.stdout}\n{result.stderr}")


def seed(env: dict, *, users: int, accounts_per_user: int, out: Path) -> dict:
    """Users, accounts and funding, written by bench.seed inside Django; returns the fixture."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.seed",
            "--users",
            str(users),
            "--accounts-per-user",
            str(accounts_per_user),
            "--out",
            str(out),
        ],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        raise SystemExit(f"seeding failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(out.read_text())


def check_ledger(env: dict) -> tuple[bool, str]:
    """`manage.py check_ledger` on the bench database: (passed, its output)."""
    result = manage(env, "check_ledger", check=False)
    return result.returncode == 0, (result.stdout + result.stderr).strip()


def analyze(server: Server, dbname: str = BENCH_DB) -> None:
    """Collect statistics after the bulk seed, as an operator would after a load or a restore."""
    with psycopg.connect(server.conninfo(dbname), autocommit=True) as conn:
        conn.execute("ANALYZE")
