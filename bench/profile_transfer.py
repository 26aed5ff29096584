"""Where one API transfer spends its time: each layer measured alone, in-process, one at a time.

    .venv/bin/python -m bench.profile_transfer [--n 300] [--cprofile 40]

Runs against `ledgerpay_bench` as `python -m bench.transfers` left it (run that first), with the
same production-like settings, and calls each layer of POST /api/v1/transfers directly, with no
HTTP server and no concurrency, so CPU time is the process's own (time.process_time) and wall
time includes the database and Redis round trips. Every write goes through the real services,
so check_ledger stays green. Needs no profiler; --cprofile adds cProfile's top functions of the
full request.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import sys
import time
import types
import uuid

from . import db
from .transfers import DEFAULT_BROKER_URL, DEFAULT_REDIS_URL, bench_env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_transfer", description=__doc__)
    parser.add_argument("--n", type=int, default=300, help="iterations per layer (300)")
    parser.add_argument("--cprofile", type=int, default=0, metavar="TOP", help="also cProfile the request")
    args = parser.parse_args(argv)

    server = db.server_resolve()
    options = types.SimpleNamespace(redis_url=DEFAULT_REDIS_URL, broker_url=DEFAULT_BROKER_URL, env=[])
    os.environ.update(bench_env(server, options))
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application
    from django.db import connection, transaction
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext
    from rest_framework.renderers import JSONRenderer
    from rest_framework.request import Request
    from rest_framework_simplejwt.authentication import JWTAuthentication
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from core import idempotency
    from core.api.parsers import ExactJSONParser
    from ledger import services
    from ledger.models import Account
    from ledger.serializers import TransferCreateInputSerializer, transfer_output

    user = User.objects.filter(email="bench-0@bench.invalid").first()
    if user is None:
        raise SystemExit("ledgerpay_bench is not seeded: run `python -m bench.transfers` first.")
    token = str(AccessToken.for_user(user))
    sources = [str(pk) for pk in Account.objects.filter(owner=user).values_list("pk", flat=True)]
    destinations = [
        str(pk)
        for pk in Account.objects.filter(owner__email__startswith="bench-")
        .exclude(owner=user)
        .values_list("pk", flat=True)
    ]
    rng = random.Random(1)
    app = get_wsgi_application()
    factory = RequestFactory()

    def payload() -> dict:
        return {
            "source": rng.choice(sources),
            "destination": rng.choice(destinations),
            "amount": "0.01",
            "currency": "USD",
        }

    def full_request():
        body = json.dumps(payload()).encode()
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/v1/transfers",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "CONTENT_LENGTH": str(len(body)),
            "CONTENT_TYPE": "application/json",
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex,
        }
        statuses = []
        b"".join(app(environ, lambda status, headers, *_: statuses.append(status)))
        assert statuses[0].startswith("201"), statuses

    def healthz():
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/healthz",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
        }
        b"".join(app(environ, lambda *_: None))

    def jwt_authenticate():
        request = factory.get("/", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert JWTAuthentication().authenticate(request) is not None

    def jwt_decode_only():
        JWTAuthentication().get_validated_token(token.encode())

    def parse_and_validate():
        body = json.dumps(payload()).encode()
        request = Request(
            factory.post("/", body, content_type="application/json"), parsers=[ExactJSONParser()]
        )
        serializer = TransferCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)

    def service_only():
        data = payload()
        with transaction.atomic():
            services.transfer_create(
                source_id=uuid.UUID(data["source"]),
                destination_id=uuid.UUID(data["destination"]),
                amount=1,
                currency="USD",
                actor=user,
            )

    transfer_holder = {}

    def output_render():
        if "t" not in transfer_holder:
            data = payload()
            transfer_holder["t"] = services.transfer_create(
                source_id=uuid.UUID(data["source"]),
                destination_id=uuid.UUID(data["destination"]),
                amount=1,
                currency="USD",
                actor=user,
            )
        posting = transfer_holder["t"]
        JSONRenderer().render(transfer_output(posting.transfer, posting.entries))

    def idempotency_only():
        idempotency.idempotent_run(
            user=user,
            key=uuid.uuid4().hex,
            fingerprint="f" * 64,
            method="POST",
            path="/api/v1/transfers",
            operation=lambda: (201, {"ok": True}),
        )

    layers = [
        ("full POST /api/v1/transfers (WSGI app, no server)", full_request),
        ("  Django + middleware baseline: GET /healthz", healthz),
        ("  JWT authentication (decode + user SELECT)", jwt_authenticate),
        ("    of which JWT decode/verify only", jwt_decode_only),
        ("  JSON parse + TransferCreateInputSerializer", parse_and_validate),
        ("  idempotency wrapper alone (claim, lock, store)", idempotency_only),
        ("  services.transfer_create in its own transaction", service_only),
        ("  transfer_output + JSONRenderer", output_render),
    ]
    print(f"{args.n} iterations per layer, sequential, in-process (PostgreSQL {db.server_version(server)})\n")
    print("| layer | CPU ms | wall ms | SQL statements |\n|---|---|---|---|")
    for name, func in layers:
        for _ in range(20):
            func()
        connection.force_debug_cursor = True
        with CaptureQueriesContext(connection) as queries:
            func()
        statements = len(queries.captured_queries)  # now: later requests reset the query log
        connection.force_debug_cursor = False
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for _ in range(args.n):
            func()
        cpu_ms = (time.process_time() - cpu0) * 1000 / args.n
        wall_ms = (time.perf_counter() - wall0) * 1000 / args.n
        print(f"| {name} | {cpu_ms:.2f} | {wall_ms:.2f} | {statements} |")

    print("\nStatements of one full request:")
    connection.force_debug_cursor = True
    with CaptureQueriesContext(connection) as queries:
        full_request()
    connection.force_debug_cursor = False
    for query in queries.captured_queries:
        print("  " + query["sql"][:110])

    if args.cprofile:
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.n):
            full_request()
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(
            args.cprofile
        )
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
