"""`make run` (python -m ledgerpay.stack) for real: gunicorn with DEBUG off answers a burst of concurrent
requests, serves the admin's CSS, answers unknown routes with problems, takes a card payment through
relay, worker and sandbox; then Ctrl-C stops every process it started and the tree is as it was.

It runs on its own database of the test server, on free ports (SERVER_PORT and the sandboxes' URLs) and
with its own local-state folder (DATA_DIR), so a developer's running stack is left alone.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from django.conf import settings

from ledgerpay.processes import SECRET_VARIABLES

PROJECT_DIR = Path(__file__).resolve().parent.parent
BURST = 64


def wait_for(check: Callable[[], Any], *, timeout: float, what: str, process: subprocess.Popen[bytes]) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the stack exited with {process.returncode} while waiting for {what}"
        try:
            result = check()
            if result:
                return result
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    ).stdout


@pytest.fixture
def stack_database() -> Iterator[str]:
    db = settings.DATABASES["default"]
    name = f"ledgerpay_stack_{os.getpid()}"
    params = {
        "host": db["HOST"] or db["OPTIONS"].get("host"),
        "port": db["PORT"] or db["OPTIONS"].get("port"),
        "user": db["USER"],
        "password": db.get("PASSWORD") or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**params) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    password = f":{params['password']}" if params["password"] else ""
    yield f"postgresql://{params['user']}{password}@/{name}?host={params['host']}&port={params['port']}"
    with psycopg.connect(**params) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def burst(url: str, headers: dict[str, str], count: int) -> list[int | str]:
    """`count` requests released at once, each on its own connection: status codes, or the error."""
    barrier = threading.Barrier(count)
    results: list[int | str] = ["not run"] * count

    def one(index: int) -> None:
        with httpx.Client(timeout=120) as client:
            barrier.wait()
            try:
                results[index] = client.get(url, headers=headers).status_code
            except httpx.HTTPError as exc:
                results[index] = f"{type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def stack_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of a stack under test: the embedded broker and local-memory cache, as on a fresh
    machine; its own database, free ports, queues and local-state folder; every secret given, so the
    stack writes no .env."""
    api_port, sandbox_port, sandbox2_port = free_ports(3)
    skip = {"CELERY_BROKER_URL", "REDIS_URL", "TEST_WORKER", "DEBUG", "STATIC_ROOT"}
    skip |= {"PAYMENTS_SANDBOX_WEBHOOK_URL", "PAYMENTS_SANDBOX_SECONDARY_WEBHOOK_URL"}
    env = {k: v for k, v in os.environ.items() if k not in skip}
    env.update(
        DJANGO_SETTINGS_MODULE="ledgerpay.settings.base",
        DATABASE_URL=database_url,
        DATA_DIR=str(tmp_path / "data"),
        SERVER_PORT=str(api_port),
        PAYMENTS_SANDBOX_URL=f"http://127.0.0.1:{sandbox_port}",
        PAYMENTS_SANDBOX_SECONDARY_URL=f"http://127.0.0.1:{sandbox2_port}",
        CELERY_QUEUE_PREFIX=f"stack-test-{os.getpid()}.",
        PYTHONUNBUFFERED="1",
        **{name: f"stack-test-{name.lower()}-long-enough-for-hs256-signing" for name in SECRET_VARIABLES},
    )
    return env


def start_stack(env: dict[str, str], log_path: Path, *args: str) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "ledgerpay.stack", *args],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_stack_and_check_everything_stopped(stack: subprocess.Popen[bytes], log_path: Path) -> None:
    """Ctrl-C: the stack exits 0 and neither its six processes nor anything they started is left."""
    stack.send_signal(signal.SIGINT)
    code = stack.wait(60)
    output = log_path.read_text()
    assert code == 0, output[-3000:]
    assert "All processes stopped." in output
    pids = [int(pid) for pid in re.findall(r"\(pid (\d+)\)", output)]
    assert len(pids) == 6
    for pid in pids:  # each process and everything it started (gunicorn's and Celery's workers)
        with pytest.raises(ProcessLookupError):
            os.killpg(pid, 0)


def test_make_run_serves_like_production_then_stops_everything(stack_database, tmp_path):
    env = stack_env(stack_database, tmp_path)
    base = f"http://127.0.0.1:{env['SERVER_PORT']}"
    status_before = git_status()
    log_path = tmp_path / "stack.log"
    stack = start_stack(env, log_path)
    try:
        wait_for(
            lambda: httpx.get(f"{base}/healthz").status_code == 200,
            timeout=120,
            what="the API",
            process=stack,
        )
        output = log_path.read_text()
        assert "gunicorn" in output and "DEBUG off" in output
        assert "demo@ledgerpay.local" in output and "finance@ledgerpay.local" in output
        assert httpx.get(f"{base}/api/docs/").status_code == 200

        # The admin is styled with DEBUG off: its stylesheet (hashed by the manifest) is served by WhiteNoise.
        login = httpx.get(f"{base}/admin/login/")
        assert login.status_code == 200
        css_paths = re.findall(r'href="(/static/admin/css/[^"]+\.css)"', login.text)
        assert css_paths, login.text[:2000]
        for css_path in css_paths:
            assert re.search(r"\.[0-9a-f]{12}\.css$", css_path), css_path
            css = httpx.get(f"{base}{css_path}")
            assert css.status_code == 200, css_path
            assert css.headers["content-type"].startswith("text/css")
            assert len(css.content) > 100

        # Unknown routes and wrong methods under /api/ are problems.
        for response, status in (
            (httpx.get(f"{base}/api/v1/no-such-route"), 404),
            (httpx.get(f"{base}/api/v1/accounts/not-a-uuid"), 404),
            (httpx.delete(f"{base}/api/v1/auth/register"), 405),
        ):
            assert response.status_code == status
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["status"] == status

        token = httpx.post(
            f"{base}/api/v1/auth/token", json={"email": "demo@ledgerpay.local", "password": "ledgerpay-demo"}
        ).json()["access"]
        auth = {"Authorization": f"Bearer {token}"}

        # A burst of concurrent requests, each reading the database: every one is answered.
        results = burst(f"{base}/api/v1/accounts", auth, BURST)
        assert results == [200] * BURST, sorted(map(str, results))

        accounts = httpx.get(f"{base}/api/v1/accounts", headers=auth).json()["results"]
        usd = next(a for a in accounts if a["currency"] == "USD")
        created = httpx.post(
            f"{base}/api/v1/payments",
            headers={**auth, "Idempotency-Key": "stack-test-1"},
            json={
                "account": usd["id"],
                "amount": "25.00",
                "currency": "USD",
                "payment_method": "pm_card_visa",
            },
        )
        assert created.status_code == 202, created.text
        url = f"{base}/api/v1/payments/{created.json()['id']}"
        payment = wait_for(
            lambda: (p := httpx.get(url, headers=auth).json())["status"] == "succeeded" and p,
            timeout=60,
            what="the payment to succeed through relay, worker and sandbox",
            process=stack,
        )
        assert payment["amount_captured"] == "25.00"
    finally:
        stop_stack_and_check_everything_stopped(stack, log_path)
    # Nothing outside the ignored local state: no control/ folder, no new or changed file.
    assert not (PROJECT_DIR / "control").exists()
    assert (tmp_path / "data" / "broker" / "control").is_dir()
    assert git_status() == status_before


def test_make_dev_runs_runserver_with_debug_on_and_api_problems_then_stops_everything(
    stack_database, tmp_path
):
    env = stack_env(stack_database, tmp_path)
    base = f"http://127.0.0.1:{env['SERVER_PORT']}"
    log_path = tmp_path / "dev.log"
    stack = start_stack(env, log_path, "--dev")
    try:
        wait_for(
            lambda: httpx.get(f"{base}/healthz").status_code == 200,
            timeout=120,
            what="the API",
            process=stack,
        )
        assert "runserver, DEBUG on" in log_path.read_text()
        # DEBUG is on: outside /api/ Django's debug page answers...
        page = httpx.get(f"{base}/no-such-page")
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        assert "DEBUG = True" in page.text
        # ...but under /api/ a problem still does.
        problem = httpx.get(f"{base}/api/v1/no-such-route")
        assert problem.status_code == 404
        assert problem.headers["content-type"].startswith("application/problem+json")
        assert httpx.get(f"{base}/static/admin/css/base.css").status_code == 200
    finally:
        stop_stack_and_check_everything_stopped(stack, log_path)
