"""`make run` (python -m ledgerpay.stack) for real: the API, admin and a card payment through the worker,
then Ctrl-C stops every process it started. It runs on its own database of the test server."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from django.conf import settings

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASE = "http://127.0.0.1:8000"


def wait_for(check, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def stack_database():
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


def test_make_run_serves_api_admin_and_a_card_payment_then_stops_everything(stack_database, tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"CELERY_BROKER_URL", "REDIS_URL", "CELERY_QUEUE_PREFIX", "TEST_WORKER"}
    }
    # The embedded broker and local-memory cache, as on a fresh machine; our own database.
    env.update(
        DJANGO_SETTINGS_MODULE="ledgerpay.settings.base",
        DEBUG="true",
        DATABASE_URL=stack_database,
        SECRET_KEY="stack-test-secret-key-long-enough-for-hs256-signing",
        PYTHONUNBUFFERED="1",
    )
    log_path = tmp_path / "stack.log"
    with log_path.open("wb") as log:
        stack = subprocess.Popen(
            [sys.executable, "-m", "ledgerpay.stack"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: httpx.get(f"{BASE}/healthz").status_code == 200, timeout=90, what="the API")
        assert httpx.get(f"{BASE}/api/docs/").status_code == 200
        assert httpx.get(f"{BASE}/admin/login/").status_code == 200
        output = log_path.read_text()
        assert "demo@ledgerpay.local" in output and "finance@ledgerpay.local" in output

        token = httpx.post(
            f"{BASE}/api/v1/auth/token", json={"email": "demo@ledgerpay.local", "password": "ledgerpay-demo"}
        ).json()["access"]
        auth = {"Authorization": f"Bearer {token}"}
        accounts = httpx.get(f"{BASE}/api/v1/accounts", headers=auth).json()["results"]
        usd = next(a for a in accounts if a["currency"] == "USD")
        created = httpx.post(
            f"{BASE}/api/v1/payments",
            headers={**auth, "Idempotency-Key": "stack-test-1"},
            json={
                "account": usd["id"],
                "amount": "25.00",
                "currency": "USD",
                "payment_method": "pm_card_visa",
            },
        )
        assert created.status_code == 202, created.text
        url = f"{BASE}/api/v1/payments/{created.json()['id']}"
        payment = wait_for(
            lambda: (p := httpx.get(url, headers=auth).json())["status"] == "succeeded" and p,
            timeout=60,
            what="the payment to succeed through relay, worker and sandbox",
        )
        assert payment["amount_captured"] == "25.00"
    finally:
        stack.send_signal(signal.SIGINT)
        code = stack.wait(60)
    output = log_path.read_text()
    assert code == 0, output[-3000:]
    assert "All processes stopped." in output
    pids = [int(pid) for pid in re.findall(r"\(pid (\d+)\)", output)]
    assert len(pids) == 6
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
