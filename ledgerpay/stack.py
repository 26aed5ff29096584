"""`make run`: the whole service on one machine, in the foreground, stopped by Ctrl-C.

Prepares .env (DEBUG on, a random SECRET_KEY) on first use, starts the embedded
PostgreSQL when DATABASE_URL is unset, migrates, seeds the demo data, then runs
the API and admin, a Celery worker, Celery beat and the other processes below,
each in its own process group. Ctrl-C (or SIGTERM) stops every one of them and
then the embedded database it started.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
ENV_FILE = PROJECT_DIR / ".env"
PYTHON = sys.executable
HOST, PORT = "127.0.0.1", 8000


def env_file_ensure() -> None:
    """A local .env so that manage.py in another terminal sees the same settings as `make run`."""
    if ENV_FILE.exists():
        return
    ENV_FILE.write_text(
        "# Written by `make run` for local development; see .env.example for every variable.\n"
        "DEBUG=true\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
    )
    print(f"Wrote {ENV_FILE.name} (DEBUG on, a fresh SECRET_KEY) for local development.")


def processes() -> dict[str, list[str]]:
    manage = [PYTHON, str(PROJECT_DIR / "manage.py")]
    celery = [PYTHON, "-m", "celery", "-A", "ledgerpay"]
    beat_schedule = PROJECT_DIR / ".data" / "celerybeat-schedule"
    return {
        "api": [*manage, "runserver", f"{HOST}:{PORT}", "--noreload"],
        "worker": [*celery, "worker", "--loglevel=INFO", "--concurrency=2", "-Q", "celery,provider"],
        "beat": [*celery, "beat", "--loglevel=INFO", f"--schedule={beat_schedule}"],
        "relay": [*manage, "run_outbox_relay"],
        "sandbox": [*manage, "run_sandbox_provider", "--name", "sandbox"],
        "sandbox2": [*manage, "run_sandbox_provider", "--name", "sandbox_secondary"],
    }


def run_step(args: list[str]) -> None:
    result = subprocess.run([PYTHON, str(PROJECT_DIR / "manage.py"), *args], cwd=PROJECT_DIR, check=False)
    if result.returncode:
        sys.exit(f"`manage.py {' '.join(args)}` failed with exit code {result.returncode}.")


def main() -> int:
    started = time.monotonic()
    os.chdir(PROJECT_DIR)
    env_file_ensure()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerpay.settings.base")
    import environ

    environ.Env.read_env(ENV_FILE, overwrite=False)
    embedded = not os.environ.get("DATABASE_URL")
    if embedded:
        from ledgerpay.embedded_db import ensure_running

        server = ensure_running()
        print(f"Embedded PostgreSQL running at {server.url}")
    run_step(["migrate", "--no-input"])
    run_step(["seed_demo"])

    children: dict[str, subprocess.Popen] = {}
    for name, command in processes().items():
        children[name] = subprocess.Popen(command, cwd=PROJECT_DIR, start_new_session=True)
    print(
        f"\nLedgerPay is up after {time.monotonic() - started:.1f} s:\n"
        f"  API docs  http://{HOST}:{PORT}/api/docs/\n"
        f"  Admin     http://{HOST}:{PORT}/admin/\n"
        f"  Processes {', '.join(f'{n} (pid {p.pid})' for n, p in children.items())}\n"
        "Ctrl-C stops everything.\n",
        flush=True,
    )

    stopping = False

    def stop(signum, frame):
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

    shutdown(children)
    if embedded:
        from ledgerpay.embedded_db import stop as stop_database

        stop_database()
        print("Embedded PostgreSQL stopped.")
    return exit_code


def shutdown(children: dict[str, subprocess.Popen], timeout: float = 15) -> None:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)  # each process shuts down its own children (Celery pool)
    deadline = time.monotonic() + timeout
    for name, child in children.items():
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{name} did not stop in time; killing it.", file=sys.stderr)
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    print("All processes stopped.")


if __name__ == "__main__":
    sys.exit(main())
