"""A/B of the transfer path's levers, in-process: CPU and wall time per POST /api/v1/transfers.

    .venv/bin/python -m bench.levers --n 200 --rounds 3 --variant base --variant DB_CONN_HEALTH_CHECKS=0

Runs against `ledgerpay_bench` as `python -m bench.transfers` left it. Each variant (a set of
environment assignments, `base` for none) runs in its own process: N requests through the whole
WSGI handler (middleware, JWT, DRF, idempotency, posting), one at a time; the rounds alternate
between variants so that a burst of load from elsewhere hits all of them alike. CPU time is the
process's own (time.process_time), so it is robust to other load; wall time is not. Prints the
median per variant and the statements of one request.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import types
import uuid


def child(n: int, batch: int) -> dict:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from ledger.models import Account

    user = User.objects.filter(email="bench-0@bench.invalid").first()
    if user is None:
        raise SystemExit("ledgerpay_bench is not seeded: run `python -m bench.transfers` first.")
    sources = [str(pk) for pk in Account.objects.filter(owner=user).values_list("pk", flat=True)]
    destinations = [
        str(pk) for pk in Account.objects.filter(owner__isnull=False).values_list("pk", flat=True)
    ]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}", HTTP_HOST="127.0.0.1")
    rng = random.Random(os.getpid())
    path = "/api/v1/transfers/batch" if batch else "/api/v1/transfers"

    def body() -> str:
        def one() -> dict:
            return {
                "source": rng.choice(sources),
                "destination": rng.choice(destinations),
                "amount": "0.01",
                "currency": "USD",
            }

        return json.dumps({"transfers": [one() for _ in range(batch)]} if batch else one())

    def post() -> int:
        response = client.post(
            path, body(), content_type="application/json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex
        )
        return response.status_code

    for _ in range(20):  # warm: imports, connection, prepared statements
        post()
    with CaptureQueriesContext(connection) as captured:
        post()
    statements = [q["sql"][:90] for q in captured.captured_queries]
    cpu, wall = time.process_time(), time.perf_counter()
    statuses = [post() for _ in range(n)]
    return {
        "cpu_ms": (time.process_time() - cpu) * 1000 / n,
        "wall_ms": (time.perf_counter() - wall) * 1000 / n,
        "statuses": {str(s): statuses.count(s) for s in set(statuses)},
        "statements": statements,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.levers", description=__doc__)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=0, help="POST batches of this many instead")
    parser.add_argument("--variant", action="append", default=[], help="base, or NAME=VALUE[,NAME=VALUE]")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.n, args.batch)))
        return 0

    from . import db
    from .transfers import DEFAULT_BROKER_URL, DEFAULT_REDIS_URL, bench_env

    server = db.server_resolve()
    options = types.SimpleNamespace(redis_url=DEFAULT_REDIS_URL, broker_url=DEFAULT_BROKER_URL, env=[])
    base_env = bench_env(server, options)
    variants = args.variant or ["base"]
    results: dict[str, list[dict]] = {v: [] for v in variants}
    for _ in range(args.rounds):
        for variant in variants:
            env = dict(base_env)
            if variant != "base":
                env.update(dict(item.split("=", 1) for item in variant.split(",")))
            out = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.levers",
                    "--child",
                    "--n",
                    str(args.n),
                    "--batch",
                    str(args.batch),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if out.returncode:
                raise SystemExit(out.stderr[-3000:])
            results[variant].append(json.loads(out.stdout.strip().splitlines()[-1]))
    per = f"per request of {args.batch} transfers" if args.batch else "per request"
    for variant, runs in results.items():
        cpu = statistics.median(r["cpu_ms"] for r in runs)
        wall = statistics.median(r["wall_ms"] for r in runs)
        rounds = ", ".join(f"{r['cpu_ms']:.2f}" for r in runs)
        print(
            f"{variant:60} CPU {cpu:6.2f} ms, wall {wall:6.2f} ms {per} (rounds: CPU {rounds}); "
            f"statements {len(runs[0]['statements'])}; statuses {runs[0]['statuses']}"
        )
    for variant, runs in results.items():
        print(f"\n{variant}: statements of one request")
        for sql in runs[0]["statements"]:
            print("   ", sql.replace("\n", " "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
