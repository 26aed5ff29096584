"""The command line of every LedgerPay process, in one place.

`make run` / `make dev` (ledgerpay.stack), the benchmarks (bench/) and the end-to-end tests start the API,
the Celery worker and beat, the outbox relay and the sandbox card processors with these argument lists, so
a flag changed here changes for all of them. Nothing here starts anything: each function returns argv.
docker-compose.yml writes the same commands for containers (a YAML file cannot import this module).
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MANAGE = [PYTHON, str(PROJECT_DIR / "manage.py")]
WSGI_APPLICATION = "ledgerpay.wsgi:application"
# The sandbox card processor's entry point (`python -m <module>`).
SANDBOX_MODULE = "sandbox"

# Secrets the settings refuse to run without when DEBUG is off (see ledgerpay/settings/base/).
SECRET_VARIABLES = (
    "SECRET_KEY",
    "JWT_SIGNING_KEY",
    "PAYMENTS_SANDBOX_API_KEY",
    "PAYMENTS_SANDBOX_WEBHOOK_SECRET",
    "PAYMENTS_SANDBOX_SECONDARY_API_KEY",
    "PAYMENTS_SANDBOX_SECONDARY_WEBHOOK_SECRET",
)


def secrets_generate() -> dict[str, str]:
    """A fresh random value for every secret the settings require (local runs, benchmarks, tests)."""
    return {name: secrets.token_urlsafe(48) for name in SECRET_VARIABLES}


def web_concurrency_default() -> int:
    """gunicorn sync workers: WEB_CONCURRENCY, else two per core (the usual rule for I/O-bound Django)."""
    configured = os.environ.get("WEB_CONCURRENCY", "").strip()
    if configured:
        return int(configured)
    return 2 * (os.cpu_count() or 1)


def gunicorn_command(
    *,
    bind: str,
    workers: int | None = None,
    worker_class: str = "sync",
    threads: int = 1,
    timeout: int = 30,
    graceful_timeout: int = 10,
    backlog: int = 2048,
    log_level: str = "info",
    access_log: bool = False,
    app: str = WSGI_APPLICATION,
) -> list[str]:
    """The API and admin under gunicorn. `timeout` kills a worker stuck on one request; `backlog` is the
    listen queue that absorbs a burst while every worker is busy (instead of refusing connections)."""
    args = [
        PYTHON,
        "-m",
        "gunicorn",
        app,
        "--bind",
        bind,
        "--workers",
        str(workers if workers is not None else web_concurrency_default()),
        "--worker-class",
        worker_class,
        "--timeout",
        str(timeout),
        "--graceful-timeout",
        str(graceful_timeout),
        "--backlog",
        str(backlog),
        "--log-level",
        log_level,
        "--error-logfile",
        "-",
    ]
    if worker_class == "gthread":
        args += ["--threads", str(threads)]
    if access_log:
        args += ["--access-logfile", "-"]
    return args


def runserver_command(*, host: str, port: int, reload: bool = True) -> list[str]:
    """Django's development server (`make dev`): autoreload, DEBUG pages. Never for production."""
    args = [*MANAGE, "runserver", f"{host}:{port}"]
    if not reload:
        args.append("--noreload")
    return args


def celery_worker_command(
    *,
    queues: Sequence[str],
    concurrency: int | None = None,
    pool: str | None = None,
    name: str | None = None,
    loglevel: str = "INFO",
    quiet: bool = False,
    extra: Sequence[str] = (),
) -> list[str]:
    """A Celery worker consuming `queues`. `quiet` drops gossip, mingle and heartbeat (short-lived test
    and benchmark workers that must not talk to each other)."""
    args = [PYTHON, "-m", "celery", "-A", "ledgerpay", "worker", "-Q", ",".join(queues)]
    if pool:
        args += ["-P", pool]
    if concurrency is not None:
        args += ["-c", str(concurrency)]
    if name:
        args += ["-n", name]
    if quiet:
        args += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return [*args, *extra, "--loglevel", loglevel]


def celery_beat_command(*, schedule: Path, loglevel: str = "INFO") -> list[str]:
    return [
        PYTHON,
        "-m",
        "celery",
        "-A",
        "ledgerpay",
        "beat",
        "--loglevel",
        loglevel,
        "--schedule",
        str(schedule),
    ]


def outbox_relay_command(*, poll: float | None = None) -> list[str]:
    args = [*MANAGE, "run_outbox_relay"]
    if poll is not None:
        args += ["--poll", str(poll)]
    return args


def sandbox_command(
    *,
    name: str,
    port: int,
    api_key: str,
    webhook_secret: str,
    webhook_url: str | None,
    db: Path,
    host: str = "127.0.0.1",
    port_file: Path | None = None,
    log_level: str = "INFO",
    options: Mapping[str, object] | None = None,
) -> list[str]:
    """The sandbox card processor, a separate HTTP service with its own SQLite store. `options` are its
    behaviour knobs by option name (latency_ms, flaky_failures, ...); `port` 0 picks a free port, written
    to `port_file` once listening."""
    flags: dict[str, object] = {
        "host": host,
        "port": port,
        "name": name,
        "db": db,
        "api_key": api_key,
        "webhook_secret": webhook_secret,
        "webhook_url": webhook_url,
        "port_file": port_file,
        "log_level": log_level,
        **(options or {}),
    }
    args = [PYTHON, "-m", SANDBOX_MODULE]
    for flag, value in flags.items():
        if value is not None:
            # --flag=value: a value starting with "-" (a random secret may) is not read as an option.
            args.append(f"--{flag.replace('_', '-')}={value}")
    return args
