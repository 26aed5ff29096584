"""`make run` and `make dev`: the whole service on one machine, in the foreground, stopped by Ctrl-C.

`make run` (python -m ledgerpay.stack) runs like production: DEBUG off, the API and admin under gunicorn
(sync workers, WEB_CONCURRENCY, 2 per core by default), static files collected first and served by
WhiteNoise. `make dev` (--dev) is the developer variant: DEBUG on, Django's runserver with autoreload.
Both also run a Celery worker, Celery beat, the outbox relay and the two sandbox card processors, each
in its own process group, with the command lines of ledgerpay.processes.

On first use it writes .env with a random value for every secret the settings require (SECRET_KEY,
JWT_SIGNING_KEY, the sandbox providers' API keys and webhook secrets), and adds any that an older .env
lacks. When DATABASE_URL is unset it starts the embedded PostgreSQL and exports its URL. Ctrl-C (or
SIGTERM) stops every process, then the embedded database it started. Ports: SERVER_PORT for the API,
PAYMENTS_SANDBOX_URL and PAYMENTS_SANDBOX_SECONDARY_URL for the sandboxes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from ledgerpay import processes

PROJECT_DIR = processes.PROJECT_DIR
ENV_FILE = PROJECT_DIR / ".env"


def env_file_secrets_ensure(env_file: Path = ENV_FILE) -> list[str]:
    """Generate into .env every required secret that neither the environment nor .env sets; returns their
    names. manage.py in another terminal reads the same .env, so it signs and verifies alike."""
    import environ

    present = _names(env_file) if env_file.exists() else set()
    missing = [n for n in processes.SECRET_VARIABLES if not os.environ.get(n) and n not in present]
    if missing:
        generated = processes.secrets_generate()
        with env_file.open("a") as out:
            if not present:
                out.write(
                    "# Written by `make run` for this machine (see .env.example for every variable).\n"
                    "# Random secrets, generated once; never commit this file.\n"
                )
            out.writelines(f"{name}={generated[name]}\n" for name in missing)
    environ.Env.read_env(env_file, overwrite=False)
    return missing


def _names(env_file: Path) -> set[str]:
    """The variable names an env file sets."""
    names: set[str] = set()
    for line in env_file.read_text().splitlines():
        name, sep, _ = line.strip().removeprefix("export ").partition("=")
        if sep and not name.startswith("#"):
            names.add(name.strip())
    return names


def processes_build(*, dev: bool) -> dict[str, list[str]]:
    """Every process of the stack by name, from the settings (ports, queues, provider secrets)."""
    from django.conf import settings

    host, port = settings.SERVER_HOST, settings.SERVER_PORT
    if dev:
        api = processes.runserver_command(host=host, port=port, reload=True)
    else:
        api = processes.gunicorn_command(
            bind=f"{host}:{port}",
            workers=settings.WEB_CONCURRENCY,
            timeout=settings.GUNICORN_TIMEOUT,
            backlog=settings.GUNICORN_BACKLOG,
        )
    data_dir = Path(settings.DATA_DIR)
    commands = {
        "api": api,
        "worker": processes.celery_worker_command(
            queues=[settings.CELERY_TASK_DEFAULT_QUEUE, settings.PAYMENTS_QUEUE], concurrency=2
        ),
        "beat": processes.celery_beat_command(schedule=data_dir / "celerybeat-schedule"),
        "relay": processes.outbox_relay_command(),
    }
    for label, name in (("sandbox", "sandbox"), ("sandbox2", "sandbox_secondary")):
        provider = settings.PAYMENT_PROVIDERS[name]
        commands[label] = processes.sandbox_command(
            name=name,
            port=urlsplit(provider["base_url"]).port or 80,
            api_key=provider["api_key"],
            webhook_secret=provider["webhook_secret"],
            webhook_url=provider["webhook_url"],
            db=data_dir / f"sandbox-{name}.sqlite3",
        )
    return commands


def run_step(args: list[str]) -> None:
    result = subprocess.run([*processes.MANAGE, *args], cwd=PROJECT_DIR, check=False)
    if result.returncode:
        sys.exit(f"`manage.py {' '.join(args)}` failed with exit code {result.returncode}.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ledgerpay.stack", description=__doc__.split("\n")[0])
    parser.add_argument("--dev", action="store_true", help="DEBUG on, runserver with autoreload")
    dev = parser.parse_args(argv).dev

    started = time.monotonic()
    os.chdir(PROJECT_DIR)
    # The mode decides DEBUG, whatever .env says (an older `make run` wrote DEBUG=true there).
    os.environ["DEBUG"] = "true" if dev else "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerpay.settings.base")
    written = env_file_secrets_ensure()
    if written:
        print(f"Generated {', '.join(written)} into {ENV_FILE.name}.")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    from ledgerpay.embedded_db import database_url_export

    embedded = database_url_export() is not None
    if embedded:
        print("Embedded PostgreSQL running (.data/postgres).")
    from django.conf import settings

    run_step(["migrate", "--no-input"])
    run_step(["seed_demo"])
    run_step(["collectstatic", "--no-input", "--verbosity", "0"])
    prepared = time.monotonic()

    # Recent gunicorn opens a control socket in XDG_RUNTIME_DIR, else ~/.gunicorn/: one of its own, so
    # that two stacks (a developer's and the tests') never share one.
    runtime_dir = Path(settings.DATA_DIR) / "run"
    runtime_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    api_env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime_dir)}
    children: dict[str, subprocess.Popen[bytes]] = {}
    for name, command in processes_build(dev=dev).items():
        children[name] = subprocess.Popen(
            command, cwd=PROJECT_DIR, start_new_session=True, env=api_env if name == "api" else None
        )
    base = f"http://{settings.SERVER_HOST}:{settings.SERVER_PORT}"
    server = "runserver, DEBUG on" if dev else f"gunicorn x{settings.WEB_CONCURRENCY}, DEBUG off"
    print(
        f"\nLedgerPay is up ({server}) after {prepared - started:.1f} s of preparation:\n"
        f"  API docs  {base}/api/docs/\n"
        f"  Admin     {base}/admin/\n"
        f"  Processes {', '.join(f'{n} (pid {p.pid})' for n, p in children.items())}\n"
        "Ctrl-C stops everything.\n",
        flush=True,
    )

    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"{name} exited with code {child.returncode}; stopping everything.", file=sys.stderr)
                stopping, exit_code = True, 1
                break
        time.sleep(0.5)

    stop_started = time.monotonic()
    shutdown(children)
    if embedded:
        from ledgerpay.embedded_db import stop as stop_database

        stop_database()
        print("Embedded PostgreSQL stopped.")
    print(f"Stopped in {time.monotonic() - stop_started:.1f} s.", flush=True)
    return exit_code


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def shutdown(children: dict[str, subprocess.Popen[bytes]], timeout: float = 15) -> None:
    """SIGTERM to each process (each stops its own children: gunicorn and Celery workers, runserver's
    reloaded child), then whatever is left of a process group is killed."""
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for name, child in children.items():
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop in time; killing it.", file=sys.stderr)
    for child in children.values():
        if _group_alive(child.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while any(_group_alive(c.pid) for c in children.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    for child in children.values():
        if _group_alive(child.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    print("All processes stopped.")


if __name__ == "__main__":
    sys.exit(main())
