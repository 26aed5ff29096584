"""The ledger service in-process: N threads calling `transfer_create` in one Django process.

This is how an application embedding LedgerPay would move money (no HTTP, no idempotency): its
ceiling is bench.rawsql's psycopg threads doing the same transfer. Run by bench.transfers as
`python -m bench.inprocess --fixture F --mix uniform|hot|drain --threads 16 --duration S` with the
bench's environment; prints one JSON object (transfers, elapsed, latencies, codes).

`drain` is the probe: a fresh account funded with 200 minor units, N threads moving 10 at a time
out of it until each is refused; it must end at exactly 0 (20 transfers), never below.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from uuid import UUID

DRAIN_FUNDING = 200
DRAIN_AMOUNT = 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fixture", type=Path, required=True)
    parser.add_argument("--mix", choices=["uniform", "hot", "drain"], required=True)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerpay.settings.base")
    import django

    django.setup()
    from django.db import connection

    from accounts.models import User
    from ledger import services
    from ledger.errors import LedgerError
    from ledger.models import Account, TransferKind
    from ledger.services import SystemAccount

    fixture = json.loads(args.fixture.read_text())
    users = {user["id"]: user for user in fixture["users"]}
    all_accounts = [UUID(account) for user in fixture["users"] for account in user["accounts"]]
    actors = {user.pk: user for user in User.objects.filter(pk__in=[*users, fixture["hot"]["id"]])}

    if args.mix == "drain":
        owner = actors[fixture["hot"]["id"]]
        drained = services.account_create(owner=owner, currency=fixture["currency"], name="drain probe")
        world = services.system_account_get(code=SystemAccount.WORLD, currency=fixture["currency"])
        services.transfer_create(
            source_id=world.pk,
            destination_id=drained.pk,
            amount=DRAIN_FUNDING,
            currency=fixture["currency"],
            kind=TransferKind.DEPOSIT,
        )

    start = threading.Barrier(args.threads + 1)
    lock = threading.Lock()
    latencies: list[float] = []
    codes: Counter = Counter()
    window = {"from": 0.0, "to": 0.0}

    def worker(i: int) -> None:
        rng = random.Random(args.seed * 1000 + i)
        if args.mix == "hot":
            actor, sources = actors[fixture["hot"]["id"]], [UUID(fixture["hot"]["account"])]
        elif args.mix == "drain":
            actor, sources = actors[fixture["hot"]["id"]], [drained.pk]
        else:
            user = fixture["users"][i % len(fixture["users"])]
            actor, sources = actors[user["id"]], [UUID(account) for account in user["accounts"]]
        mine: list[float] = []
        mine_codes: Counter = Counter()
        try:
            start.wait()
            while True:
                now = time.perf_counter()
                if args.mix != "drain" and now >= window["to"]:
                    break
                source = rng.choice(sources)
                destination = rng.choice(all_accounts)
                while destination == source:
                    destination = rng.choice(all_accounts)
                try:
                    services.transfer_create(
                        source_id=source,
                        destination_id=destination,
                        amount=DRAIN_AMOUNT if args.mix == "drain" else 1,
                        currency=fixture["currency"],
                        actor=actor,
                    )
                    code = "created"
                except LedgerError as exc:
                    code = exc.code
                done = time.perf_counter()
                if args.mix == "drain":
                    mine_codes[code] += 1
                    if code != "created":
                        break
                elif window["from"] <= now:
                    mine.append(done - now)
                    mine_codes[code] += 1
        finally:
            connection.close()
        with lock:
            latencies.extend(mine)
            codes.update(mine_codes)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.threads)]
    for thread in threads:
        thread.start()
    begin = time.perf_counter()
    window["from"], window["to"] = begin + args.warmup, begin + args.warmup + args.duration
    start.wait()
    cpu = {}
    if args.mix != "drain":  # this process's CPU over the measured window only (all threads)
        time.sleep(max(0.0, window["from"] - time.perf_counter()))
        cpu["from"] = time.process_time()
        time.sleep(max(0.0, window["to"] - time.perf_counter()))
        cpu["to"] = time.process_time()
    for thread in threads:
        thread.join()
    out = {"mix": args.mix, "threads": args.threads, "codes": dict(codes)}
    if args.mix == "drain":
        drained = Account.objects.get(pk=drained.pk)
        out.update(
            balance=drained.balance, created=codes["created"], funded=DRAIN_FUNDING, amount=DRAIN_AMOUNT
        )
    else:
        out.update(
            created=codes["created"],
            elapsed=args.duration,
            latencies=latencies,
            cpu_seconds=cpu["to"] - cpu["from"],
        )
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
