"""The sandbox processor's HTTP front: routing, bearer auth, injected latency and failures, and the
process entry points `serve()` and `main()` (`python -m payments.sandbox --port 8100 ...`).

API (JSON; errors are {"error": {"code", "message"}}; every POST under /v1 needs an Idempotency-Key):
  POST /v1/charges                 {amount, currency, payment_method, capture?, reference?, metadata?}
  POST /v1/charges/{id}/capture    {amount?}     partial capture allowed, only from requires_capture
  POST /v1/charges/{id}/cancel     {}            only from requires_capture
  POST /v1/refunds                 {charge, amount?}
  GET  /v1/charges/{id}            GET /v1/charges?idempotency_key=...&reference=...
  GET  /v1/refunds/{id}            GET /v1/settlements/{YYYY-MM-DD}
Test control (same bearer key): GET /_sandbox/charges, GET /_sandbox/refunds, GET /_sandbox/events,
POST /_sandbox/events/{id}/redeliver, POST /_sandbox/reset, GET|POST /_sandbox/config;
GET /_sandbox/health needs no key.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Sequence
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .processor import ApiError, Processor, Reply, SandboxConfig, error_body

logger = logging.getLogger("payments.sandbox")

MAX_BODY_BYTES = 1 << 20

_ID = r"(?P<id>[A-Za-z0-9_%.\-]+)"


class _Route:
    def __init__(self, method: str, pattern: str, handler: str, *, kind: str):
        self.method = method
        self.regex = re.compile(f"^{pattern}$")
        self.handler = handler
        self.kind = kind  # "api": auth, latency, failures; "control": auth only; "public"


ROUTES = [
    _Route("POST", r"/v1/charges", "post_charge", kind="api"),
    _Route("POST", rf"/v1/charges/{_ID}/capture", "post_capture", kind="api"),
    _Route("POST", rf"/v1/charges/{_ID}/cancel", "post_cancel", kind="api"),
    _Route("POST", r"/v1/refunds", "post_refund", kind="api"),
    _Route("GET", r"/v1/charges", "get_charges", kind="api"),
    _Route("GET", rf"/v1/charges/{_ID}", "get_charge", kind="api"),
    _Route("GET", rf"/v1/refunds/{_ID}", "get_refund", kind="api"),
    _Route("GET", r"/v1/settlements/(?P<day>[0-9]{4}-[0-9]{2}-[0-9]{2})", "get_settlement", kind="api"),
    _Route("GET", r"/_sandbox/health", "control_health", kind="public"),
    _Route("GET", r"/_sandbox/charges", "control_charges", kind="control"),
    _Route("GET", r"/_sandbox/refunds", "control_refunds", kind="control"),
    _Route("GET", r"/_sandbox/events", "control_events", kind="control"),
    _Route("POST", rf"/_sandbox/events/{_ID}/redeliver", "control_redeliver", kind="control"),
    _Route("POST", r"/_sandbox/reset", "control_reset", kind="control"),
    _Route("GET", r"/_sandbox/config", "control_get_config", kind="control"),
    _Route("POST", r"/_sandbox/config", "control_set_config", kind="control"),
]


def _fingerprint(method: str, path: str, body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    processor: Processor
    api_key: str


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, as the client pools connections
    server_version = "LedgerPaySandbox/1.0"
    timeout = 60  # seconds an idle keep-alive connection may hold a thread
    disable_nagle_algorithm = True  # headers and body are separate writes; Nagle would hold the body ~40 ms

    # --- plumbing --------------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _send(self, reply: Reply) -> None:
        if reply.delay > 0:
            time.sleep(reply.delay)
        data = json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if reply.replayed:
                self.send_header("Idempotent-Replayed", "true")
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up waiting (pm_card_timeout); what it asked for is done all the same.
            self.close_connection = True

    def _error(self, status: int, code: str, message: str) -> Reply:
        return Reply(status, error_body(code, message))

    def _read_body(self) -> dict[str, Any]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True  # the rest of the stream cannot be framed
            raise ApiError(400, "invalid_request", "The Content-Length header is not a length.")
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise ApiError(413, "payload_too_large", "The body is too large.")
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError(400, "invalid_json", "The body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise ApiError(400, "invalid_json", "The body must be a JSON object.")
        return body

    def _authorized(self) -> bool:
        given = self.headers.get("Authorization", "")
        expected = f"Bearer {self.server.api_key}"
        return hmac.compare_digest(given.encode(), expected.encode())

    def _dispatch(self, method: str) -> None:
        processor = self.server.processor
        url = urlsplit(self.path)
        self.query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            # Always drain the body, so the next request on this keep-alive connection parses cleanly.
            body = self._read_body() if method in ("POST", "PUT", "PATCH") else {}
        except ApiError as exc:
            self._send(exc.reply())
            return
        matched = [(r, r.regex.match(url.path)) for r in ROUTES]
        matched = [(r, m) for r, m in matched if m]
        route_match = next(((r, m) for r, m in matched if r.method == method), None)
        if route_match is None:
            reply = (
                self._error(405, "method_not_allowed", f"{method} is not allowed on {url.path}.")
                if matched
                else self._error(404, "not_found", f"No route {url.path}.")
            )
            self._send(reply)
            return
        route, match = route_match
        if route.kind != "public" and not self._authorized():
            self._send(self._error(401, "unauthorized", "Missing or wrong API key."))
            return
        if route.kind == "api":
            latency = processor.config.latency_ms
            if latency:
                time.sleep(latency / 1000)
            if processor.should_fail():
                self._send(self._error(503, "service_unavailable", "Injected failure (failure_rate)."))
                return
        params = {k: unquote(v) for k, v in match.groupdict().items()}
        try:
            reply = getattr(self, route.handler)(body=body, path=url.path, **params)
        except ApiError as exc:
            reply = exc.reply()
        except Exception:
            logger.exception("sandbox: %s %s failed", method, url.path)
            reply = self._error(500, "internal_error", "The sandbox failed; see its log.")
        logger.info("%s %s -> %s%s", method, self.path, reply.status, " (replayed)" if reply.replayed else "")
        self._send(reply)

    def _idempotent(self, path: str, body: dict[str, Any], operation: Callable[[int], Reply]) -> Reply:
        key = self.headers.get("Idempotency-Key", "").strip()
        if not key:
            return self._error(400, "idempotency_key_missing", "An Idempotency-Key header is required.")
        if len(key) > 255:
            return self._error(400, "idempotency_key_invalid", "The Idempotency-Key is longer than 255.")
        fingerprint = _fingerprint("POST", path, body)
        return self.server.processor.idempotent(key, fingerprint, operation)

    # --- /v1 -------------------------------------------------------------------------------------

    def post_charge(self, *, body: dict[str, Any], path: str) -> Reply:
        key = self.headers.get("Idempotency-Key", "").strip()
        return self._idempotent(
            path, body, lambda failures: self.server.processor.create_charge(body, key, failures)
        )

    def post_capture(self, *, body: dict[str, Any], path: str, id: str) -> Reply:
        return self._idempotent(path, body, lambda _: self.server.processor.capture_charge(id, body))

    def post_cancel(self, *, body: dict[str, Any], path: str, id: str) -> Reply:
        return self._idempotent(path, body, lambda _: self.server.processor.cancel_charge(id, body))

    def post_refund(self, *, body: dict[str, Any], path: str) -> Reply:
        return self._idempotent(path, body, lambda _: self.server.processor.create_refund(body))

    def get_charges(self, *, body: dict[str, Any], path: str) -> Reply:
        charges = self.server.processor.list_charges(
            idempotency_key=self.query.get("idempotency_key"), reference=self.query.get("reference")
        )
        return Reply(200, {"object": "list", "data": charges})

    def get_charge(self, *, body: dict[str, Any], path: str, id: str) -> Reply:
        return Reply(200, self.server.processor.get_charge(id))

    def get_refund(self, *, body: dict[str, Any], path: str, id: str) -> Reply:
        return Reply(200, self.server.processor.get_refund(id))

    def get_settlement(self, *, body: dict[str, Any], path: str, day: str) -> Reply:
        try:
            parsed = date.fromisoformat(day)
        except ValueError:
            raise ApiError(400, "parameter_invalid", f"{day!r} is not a date.") from None
        processor = self.server.processor
        return Reply(
            200,
            {
                "object": "settlement_report",
                "provider": processor.name,
                "day": parsed.isoformat(),
                "lines": processor.settlement(parsed),
            },
        )

    # --- /_sandbox -------------------------------------------------------------------------------

    def control_health(self, *, body: dict[str, Any], path: str) -> Reply:
        return Reply(200, {"ok": True, "name": self.server.processor.name, "pid": os.getpid()})

    def control_charges(self, *, body: dict[str, Any], path: str) -> Reply:
        charges = self.server.processor.list_charges(
            idempotency_key=self.query.get("idempotency_key"), reference=self.query.get("reference")
        )
        return Reply(200, {"object": "list", "count": len(charges), "data": charges})

    def control_refunds(self, *, body: dict[str, Any], path: str) -> Reply:
        refunds = self.server.processor.list_refunds(charge_id=self.query.get("charge"))
        return Reply(200, {"object": "list", "count": len(refunds), "data": refunds})

    def control_events(self, *, body: dict[str, Any], path: str) -> Reply:
        events = self.server.processor.list_events()
        return Reply(200, {"object": "list", "count": len(events), "data": events})

    def control_redeliver(self, *, body: dict[str, Any], path: str, id: str) -> Reply:
        self.server.processor.redeliver(id)
        return Reply(200, {"ok": True})

    def control_reset(self, *, body: dict[str, Any], path: str) -> Reply:
        self.server.processor.reset()
        return Reply(200, {"ok": True, "config": self.server.processor.config.public()})

    def control_get_config(self, *, body: dict[str, Any], path: str) -> Reply:
        return Reply(200, self.server.processor.config.public())

    def control_set_config(self, *, body: dict[str, Any], path: str) -> Reply:
        try:
            config = self.server.processor.configure(body)
        except (ValueError, TypeError) as exc:
            raise ApiError(400, "parameter_invalid", str(exc)) from None
        logger.info("sandbox config changed: %s", sorted(body))
        return Reply(200, config.public())


class SandboxServer:
    """One sandbox processor: HTTP server plus background workers. start() runs it in a thread;
    serve_forever() runs it in the calling thread."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        db_path: str | os.PathLike,
        name: str,
        api_key: str,
        config: SandboxConfig,
    ):
        if not api_key:
            raise ValueError("api_key is required")
        Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        self.processor = Processor(str(db_path), name=name, config=config)
        self.httpd = _HTTPServer((host, port), _Handler)
        self.httpd.processor = self.processor
        self.httpd.api_key = api_key
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        host = self.httpd.server_address[0]
        return f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        self.processor.start()
        try:
            self.httpd.serve_forever(poll_interval=0.05)
        finally:
            self.close()

    def start(self) -> SandboxServer:
        self.processor.start()
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.httpd.server_close()
        self.processor.stop()


def serve(
    host: str,
    port: int,
    *,
    db_path: str | os.PathLike,
    name: str = "sandbox",
    api_key: str,
    webhook_url: str | None = None,
    webhook_secret: str | Sequence[str] = (),
    latency_ms: int = 0,
    failure_rate: float = 0.0,
    seed: int | None = None,
    async_delay: float = 0.5,
    timeout_delay: float = 5.0,
    flaky_failures: int = 2,
    fee_bps: int = 290,
    fee_fixed: int = 30,
    webhook_max_attempts: int = 6,
    webhook_retry_base: float = 0.5,
    webhook_timeout: float = 5.0,
    port_file: str | os.PathLike | None = None,
) -> None:
    """Run a sandbox processor until SIGTERM/SIGINT. port=0 picks a free port; port_file receives it."""
    secrets = [webhook_secret] if isinstance(webhook_secret, str) else list(webhook_secret)
    config = SandboxConfig(
        latency_ms=latency_ms,
        failure_rate=failure_rate,
        seed=seed,
        async_delay=async_delay,
        timeout_delay=timeout_delay,
        flaky_failures=flaky_failures,
        fee_bps=fee_bps,
        fee_fixed=fee_fixed,
        webhook_url=webhook_url or None,
        webhook_secrets=tuple(s for s in secrets if s),
        webhook_max_attempts=webhook_max_attempts,
        webhook_retry_base=webhook_retry_base,
        webhook_timeout=webhook_timeout,
    )
    if config.webhook_url and not config.webhook_secrets:
        raise ValueError("a webhook secret is required when a webhook url is set")
    server = SandboxServer(host, port, db_path=db_path, name=name, api_key=api_key, config=config)
    if threading.current_thread() is threading.main_thread():
        # SIGTERM (the test fixture, process managers) stops as cleanly as Ctrl-C.
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.httpd.shutdown).start())
    if port_file:
        tmp = Path(f"{port_file}.tmp")
        tmp.write_text(str(server.port))
        tmp.replace(port_file)  # atomic: a reader never sees a half-written port
    logger.warning(
        "sandbox %r listening on %s (db %s, webhooks -> %s)",
        name,
        server.url,
        db_path,
        config.webhook_url or "nowhere",
    )
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m payments.sandbox", description="Sandbox card processor.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100, help="0 picks a free port (see --port-file)")
    parser.add_argument("--name", default="sandbox")
    parser.add_argument("--db", help="SQLite file (default .data/sandbox-<name>.sqlite3)")
    parser.add_argument("--api-key", default=os.environ.get("SANDBOX_API_KEY", "sk_sandbox_primary"))
    parser.add_argument("--webhook-url", default=None)
    parser.add_argument(
        "--webhook-secret",
        action="append",
        default=None,
        help="repeat to sign with several secrets (rotation)",
    )
    add_knob_arguments(parser)
    parser.add_argument("--port-file", help="write the bound port to this file once listening")
    parser.add_argument("--log-level", default="INFO")
    return parser


def add_knob_arguments(parser: Any) -> None:
    """The behaviour knobs, shared with the run_sandbox_provider management command."""
    d = SandboxConfig()
    knobs = [
        ("--latency-ms", int, d.latency_ms, "milliseconds added to every /v1 call"),
        ("--failure-rate", float, d.failure_rate, "probability (0..1) of a 503 before doing anything"),
        ("--seed", int, d.seed, "seed of the failure-rate dice, for reproducible runs"),
        ("--async-delay", float, d.async_delay, "seconds until pm_card_async (and refund failures) resolve"),
        ("--timeout-delay", float, d.timeout_delay, "seconds pm_card_timeout holds its answer back"),
        ("--flaky-failures", int, d.flaky_failures, "503s pm_card_flaky answers per idempotency key"),
        ("--fee-bps", int, d.fee_bps, "capture fee, basis points of the amount"),
        ("--fee-fixed", int, d.fee_fixed, "capture fee, fixed minor units"),
        ("--webhook-max-attempts", int, d.webhook_max_attempts, "delivery attempts before giving up"),
        (
            "--webhook-retry-base",
            float,
            d.webhook_retry_base,
            "seconds before the 1st retry; doubles each time",
        ),
        ("--webhook-timeout", float, d.webhook_timeout, "seconds to wait for the webhook endpoint"),
    ]
    for flag, kind, default, text in knobs:
        parser.add_argument(flag, type=kind, default=default, help=f"{text} (default {default})")


KNOB_OPTIONS = (
    "latency_ms",
    "failure_rate",
    "seed",
    "async_delay",
    "timeout_delay",
    "flaky_failures",
    "fee_bps",
    "fee_fixed",
    "webhook_max_attempts",
    "webhook_retry_base",
    "webhook_timeout",
)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    db = args.db or str(Path.cwd() / ".data" / f"sandbox-{args.name}.sqlite3")
    secrets = args.webhook_secret or [os.environ.get("SANDBOX_WEBHOOK_SECRET", "whsec_sandbox_primary")]
    try:
        serve(
            args.host,
            args.port,
            db_path=db,
            name=args.name,
            api_key=args.api_key,
            webhook_url=args.webhook_url,
            webhook_secret=secrets,
            port_file=args.port_file,
            **{k: getattr(args, k) for k in KNOB_OPTIONS},
        )
    except ValueError as exc:
        logger.error("sandbox: %s", exc)
        return 2
    return 0
