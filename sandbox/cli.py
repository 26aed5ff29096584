"""The sandbox's command line: `python -m sandbox --port 8100 ...` (and the knob flags that
`manage.py run_sandbox_provider` shares). Faults and other knobs can also be changed at run time
through POST /_sandbox/config (see config.py and settlement.py).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .config import SandboxConfig, parse_fee_fixed
from .server import SandboxServer

logger = logging.getLogger("sandbox")


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
    fee_fixed: int | dict[str, int] = 30,
    payout_delay_days: int = 2,
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
        payout_delay_days=payout_delay_days,
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
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Sandbox card processor.")
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
        ("--fee-fixed", parse_fee_fixed, d.fee_fixed, "capture fee, fixed minor units: 30, or USD=30,EUR=25"),
        ("--payout-delay-days", int, d.payout_delay_days, "days from a settlement day to its payout"),
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
    "payout_delay_days",
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
