"""The sandbox processor's HTTP front: routing, bearer auth, injected latency and failures, and
SandboxServer (HTTP server plus background workers). The command line is in cli.py.

API (JSON; errors are {"error": {"code", "message"}}; every POST under /v1 needs an Idempotency-Key):
  POST /v1/charges                 {amount, currency, payment_method, capture?, reference?, metadata?}
  POST /v1/charges/{id}/capture    {amount?}     partial capture allowed, only from requires_capture
  POST /v1/charges/{id}/cancel     {}            only from requires_capture
  POST /v1/refunds                 {charge, amount?}
  GET  /v1/charges/{id}            GET /v1/charges?idempotency_key=...&reference=...
  GET  /v1/refunds/{id}
  GET  /v1/settlement_reports/{YYYY-MM-DD}.csv[?version=N]   the itemized report (text/csv; the latest
       version unless asked; header Settlement-Report-Version); see settlement.py for the format
  GET  /v1/settlement_reports/{YYYY-MM-DD}                   the day's published versions (JSON)
Test control (same bearer key): GET /_sandbox/charges, GET /_sandbox/refunds, GET /_sandbox/events,
POST /_sandbox/events/{id}/redeliver, POST /_sandbox/reset, GET|POST /_sandbox/config,
POST /_sandbox/settlement_reports/{day} (publish the next version), GET /_sandbox/settlement_reports/{day}
(versions and the faults injected into each); GET /_sandbox/health needs no key.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .config import SandboxConfig
from .processor import ApiError, Processor, Reply, error_body

logger = logging.getLogger("sandbox")

MAX_BODY_BYTES = 1 << 20

_ID = r"(?P<id>[A-Za-z0-9_%.\-]+)"
_DAY = r"(?P<day>[0-9]{4}-[0-9]{2}-[0-9]{2})"


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
    _Route("GET", rf"/v1/settlement_reports/{_DAY}\.csv", "get_settlement_csv", kind="api"),
    _Route("GET", rf"/v1/settlement_reports/{_DAY}", "get_settlement_versions", kind="api"),
    _Route("GET", r"/_sandbox/health", "control_health", kind="public"),
    _Route("GET", r"/_sandbox/charges", "control_charges", kind="control"),
    _Route("GET", r"/_sandbox/refunds", "control_refunds", kind="control"),
    _Route("GET", r"/_sandbox/events", "control_events", kind="control"),
    _Route("POST", rf"/_sandbox/events/{_ID}/redeliver", "control_redeliver", kind="control"),
    _Route("POST", r"/_sandbox/reset", "control_reset", kind="control"),
    _Route("GET", r"/_sandbox/config", "control_get_config", kind="control"),
    _Route("POST", rf"/_sandbox/settlement_reports/{_DAY}", "control_publish_report", kind="control"),
    _Route("GET", rf"/_sandbox/settlement_reports/{_DAY}", "control_report_faults", kind="control"),
    _Route("POST", r"/_sandbox/config", "control_set_config", kind="control"),
]


def _fingerprint(method: str, path: str, body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ApiError(400, "parameter_invalid", f"{text!r} is not a date.") from None


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
        data = reply.raw if reply.raw is not None else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
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
        candidates = [(r, r.regex.match(url.path)) for r in ROUTES]
        matched = [(r, m) for r, m in candidates if m]
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
        key = self.headers.get("Idempotency-Key", "").strip()
        return self._idempotent(path, body, lambda _: self.server.processor.create_refund(body, key))

    def get_charges(self, *, body: dict[str, Any], path: str) -> Reply:
        charges = self.server.processor.list_charges(
            idempotency_key=self.query.get("idempotency_key"), reference=self.query.get("reference")
        )
        return Reply(200, {"object": "list", "data": charges})

    def get_charge(self, *, body: dict[str, Any], path: str, id: str) -> Reply:
        return Reply(200, self.server.processor.get_charge(id))

    def get_refund(self, *, body: dict[str, Any], path: str, id: str) -> Reply:
        return Reply(200, self.server.processor.get_refund(id))

    def get_settlement_csv(self, *, body: dict[str, Any], path: str, day: str) -> Reply:
        version = self._version()
        number, csv_bytes = self.server.processor.settlement_report(_day(day), version)
        return Reply(
            200,
            {},
            raw=csv_bytes,
            content_type="text/csv; charset=utf-8",
            headers={
                "Settlement-Report-Version": str(number),
                "Settlement-Report-Day": day,
                "Content-Disposition": f'attachment; filename="{self.server.processor.name}-{day}-v{number}.csv"',
            },
        )

    def get_settlement_versions(self, *, body: dict[str, Any], path: str, day: str) -> Reply:
        versions = self.server.processor.settlement_report_versions(_day(day))
        data = [{"version": v["version"], "created": v["created"]} for v in versions]
        return Reply(200, {"object": "list", "day": day, "data": data})

    def _version(self) -> int | None:
        text = self.query.get("version")
        if text is None:
            return None
        if not text.isdigit() or int(text) < 1:
            raise ApiError(400, "parameter_invalid", "version must be a positive integer.")
        return int(text)

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

    def control_publish_report(self, *, body: dict[str, Any], path: str, day: str) -> Reply:
        return Reply(200, self.server.processor.settlement_report_publish(_day(day)))

    def control_report_faults(self, *, body: dict[str, Any], path: str, day: str) -> Reply:
        versions = self.server.processor.settlement_report_versions(_day(day))
        return Reply(200, {"object": "list", "day": day, "data": versions})

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
        host = str(self.httpd.server_address[0])
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
