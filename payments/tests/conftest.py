"""Fixtures for provider tests: a real sandbox processor in its own process and a webhook receiver.

`sandbox_server` is a fresh `python -m sandbox` process per test (own port, own SQLite file,
webhooks pointed at `webhook_receiver`); `sandbox_factory(**options)` starts more with other options.
Neither needs the database.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.testing import wait_until
from ledgerpay import processes
from payments.providers.sandbox import SandboxProvider

PROJECT_DIR = Path(__file__).resolve().parents[2]
START_TIMEOUT = 15.0
TEST_API_KEY = "sk_test_sandbox"
TEST_WEBHOOK_SECRET = "whsec_test_sandbox"

# Fast defaults so the whole suite stays quick; a test passes its own values to override them.
FAST_OPTIONS: dict[str, Any] = {
    "async_delay": 0.2,
    "timeout_delay": 1.5,
    "flaky_failures": 2,
    "webhook_retry_base": 0.1,
    "webhook_timeout": 2.0,
}


# --- webhook receiver -------------------------------------------------------------------------------


@dataclass
class ReceivedWebhook:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """A stdlib HTTP server thread that records every POST. Set `fail_next` to answer 500 that often."""

    url: str = ""
    requests: list[ReceivedWebhook] = field(default_factory=list)
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, request: ReceivedWebhook) -> int:
        with self.lock:
            self.requests.append(request)
            if self.fail_next > 0:
                self.fail_next -= 1
                return 500
            return 200

    def received(
        self, event_type: str | None = None, *, object_id: str | None = None
    ) -> list[ReceivedWebhook]:
        with self.lock:
            found = list(self.requests)
        if event_type is not None:
            found = [r for r in found if r.json.get("type") == event_type]
        if object_id is not None:
            found = [r for r in found if r.json["data"]["object"]["id"] == object_id]
        return found

    def wait_for(
        self, event_type: str, *, object_id: str | None = None, count: int = 1, timeout: float = 5.0
    ) -> list[ReceivedWebhook]:
        return wait_until(
            lambda: (
                (found := self.received(event_type, object_id=object_id)) and len(found) >= count and found
            ),
            timeout=timeout,
            what=f"{count} x {event_type} webhook",
        )


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = receiver.record(ReceivedWebhook(self.path, dict(self.headers.items()), body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{httpd.server_address[1]}/api/v1/webhooks/sandbox"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield receiver
    httpd.shutdown()
    httpd.server_close()


# --- sandbox process --------------------------------------------------------------------------------


class SandboxProcess:
    """A running `python -m sandbox` and helpers to drive and inspect it."""

    def __init__(
        self, workdir: Path, *, name: str, api_key: str, webhook_secret: str, options: dict[str, Any]
    ):
        self.workdir = workdir
        self.name = name
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.options = options
        self.db_path = workdir / "sandbox.sqlite3"
        self.log_path = workdir / "sandbox.log"
        self.process: subprocess.Popen | None = None
        self.port = 0
        self._providers: list[SandboxProvider] = []
        self._http: httpx.Client | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SandboxProcess:
        port_file = self.workdir / "port"
        port_file.unlink(missing_ok=True)
        args = processes.sandbox_command(
            name=self.name,
            port=self.port,  # 0 the first time; the same port again on restart()
            port_file=port_file,
            db=self.db_path,
            api_key=self.api_key,
            webhook_secret=self.webhook_secret,
            webhook_url=None,  # unless the options give one
            options=self.options,
        )
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                args,
                cwd=PROJECT_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not port_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"the sandbox did not start:\n{self.log_path.read_text()}")
            time.sleep(0.01)
        self.port = int(port_file.read_text())
        self._http = httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {self.api_key}"}, timeout=5.0
        )
        wait_until(lambda: self.request("GET", "/_sandbox/health").status_code == 200, what="sandbox health")
        return self

    def stop(self) -> None:
        for provider in self._providers:
            provider.close()
        self._providers.clear()
        if self._http is not None:
            self._http.close()
            self._http = None
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def restart(self) -> SandboxProcess:
        """Stop and start again on the same port and SQLite file: what survives is what was stored."""
        self.stop()
        return self.start()

    def log(self) -> str:
        return self.log_path.read_text()

    # --- raw HTTP and test-control helpers ---------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        assert self._http is not None, "the sandbox is not running"
        return self._http.request(method, path, **kwargs)

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def charges(self, **filters: str) -> list[dict[str, Any]]:
        return self._json("GET", "/_sandbox/charges", params=filters)["data"]

    def charge_count(self, **filters: str) -> int:
        return self._json("GET", "/_sandbox/charges", params=filters)["count"]

    def refunds(self, **filters: str) -> list[dict[str, Any]]:
        return self._json("GET", "/_sandbox/refunds", params=filters)["data"]

    def events(self) -> list[dict[str, Any]]:
        return self._json("GET", "/_sandbox/events")["data"]

    def configure(self, **knobs: Any) -> dict[str, Any]:
        return self._json("POST", "/_sandbox/config", json=knobs)

    def reset(self) -> None:
        self._json("POST", "/_sandbox/reset")

    def provider(self, **overrides: Any) -> SandboxProvider:
        """A SandboxProvider pointed at this process; closed at teardown."""
        options = {
            "name": self.name,
            "base_url": self.base_url,
            "api_key": self.api_key,
            "webhook_secret": self.webhook_secret,
            "timeout_seconds": 5.0,
            "connect_timeout_seconds": 1.0,
            **overrides,
        }
        provider = SandboxProvider(**options)
        self._providers.append(provider)
        return provider


@pytest.fixture
def sandbox_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., SandboxProcess]]:
    """Start sandbox processes: `sandbox_factory(webhook_url=..., latency_ms=..., ...)`; all stop at teardown."""
    started: list[SandboxProcess] = []

    def start(
        *,
        name: str = "sandbox",
        api_key: str = TEST_API_KEY,
        webhook_secret: str = TEST_WEBHOOK_SECRET,
        **options: Any,
    ) -> SandboxProcess:
        process = SandboxProcess(
            tmp_path_factory.mktemp("sandbox"),
            name=name,
            api_key=api_key,
            webhook_secret=webhook_secret,
            options={**FAST_OPTIONS, **options},
        )
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def sandbox_server(
    sandbox_factory: Callable[..., SandboxProcess], webhook_receiver: WebhookReceiver
) -> SandboxProcess:
    """A fresh sandbox process for this test, delivering webhooks to webhook_receiver."""
    return sandbox_factory(webhook_url=webhook_receiver.url)
