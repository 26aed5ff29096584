"""Settlement and reconciliation at scale: a day of N captured payments in the ledger and the provider's
report for it with ~0.1 % faults of every class, then `settle` and `reconcile` timed end to end.

    .venv/bin/python -m bench.reconcile [--payments 1000000] [--fault-every 1000] [--keep-db]

Runs on its own database (ledgerpay_bench_reconcile, recreated): migrates it, seeds the payments, their
capture transfers and entries with set-based SQL (not through the API: the bench measures
reconciliation, not payment intake), writes the report with the project's writer, then runs reconcile
(import by COPY, three-way check, matching, discrepancies and a million matches written) and then settle
of the same day (the same matching again, then the settlement postings), each in a fresh child process
so that its peak RSS is its own. Prints a
Markdown table (docs/performance.md).

Faults, one per `--fault-every` payments of each kind: amount_mismatch, currency_mismatch (the line in
EUR), fee_mismatch, missing_at_provider (the line left out), duplicate_line (a second line), and as many
missing_in_ledger lines (charges unknown here); payouts close batches of `--fault-every` lines, one batch
in `--fault-every` with a payout off by 13 minor units.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench import db

DBNAME = "ledgerpay_bench_reconcile"
FEE_BPS, FEE_FIXED = 290, 30  # the sandbox provider's default fee rule (settings)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _payment_id(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def _gross(i: int) -> int:
    return 500 + (i * 7919) % 100_000


def _fee(gross: int) -> int:
    return FEE_FIXED + (gross * FEE_BPS + 5_000) // 10_000


SEED_SQL = """
INSERT INTO accounts_user (password, is_superuser, email, is_active, is_staff, date_joined)
VALUES ('!', false, 'bench@ledgerpay.local', true, false, now());
INSERT INTO ledger_account (id, owner_id, name, currency, kind, status, allow_negative, system_code, balance,
                            pending_debits, pending_credits, version, created_at)
VALUES ('00000000-0000-4000-a000-000000000001', (SELECT id FROM accounts_user), 'bench', 'USD', 'liability',
        'active', false, NULL, 0, 0, 0, 0, now()),
       ('00000000-0000-4000-a000-000000000002', NULL, 'System: provider clearing', 'USD', 'asset', 'active',
        true, 'provider_clearing', 0, 0, 0, 0, now()),
       ('00000000-0000-4000-a000-000000000003', NULL, 'System: fees revenue', 'USD', 'revenue', 'active',
        true, 'fees_revenue', 0, 0, 0, 0, now());
DROP TABLE IF EXISTS seed;
CREATE UNLOGGED TABLE seed AS
SELECT i, ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid AS payment_id,
       ('00000000-0000-4000-9000-' || lpad(i::text, 12, '0'))::uuid AS transfer_id,
       (500 + (i * 7919) %% 100000)::bigint AS gross,
       %(day)s::timestamptz + (i * interval '86399 seconds') / %(n)s AS at
  FROM generate_series(1::bigint, %(n)s::bigint) AS i;
ALTER TABLE seed ADD COLUMN fee bigint;
UPDATE seed SET fee = 30 + (gross * 290 + 5000) / 10000;
INSERT INTO ledger_transfer (id, kind, status, amount, posted_amount, currency, source_id, destination_id,
                             description, metadata, cause, created_at, posted_at)
SELECT transfer_id, 'payment_capture', 'posted', gross, gross, 'USD', '00000000-0000-4000-a000-000000000002',
       '00000000-0000-4000-a000-000000000001', '', '{}', 'payment:' || payment_id, at, at
  FROM seed;
INSERT INTO ledger_entry (transfer_id, account_id, amount, currency, balance_after, created_at)
SELECT transfer_id, a.account_id, a.amount, 'USD', 0, at
  FROM seed, LATERAL (VALUES ('00000000-0000-4000-a000-000000000002'::uuid, gross),
                             ('00000000-0000-4000-a000-000000000001'::uuid, -(gross - fee)),
                             ('00000000-0000-4000-a000-000000000003'::uuid, -fee)) AS a(account_id, amount);
INSERT INTO payments_payment (id, amount, currency, payment_method, capture_method, status, amount_captured,
                              amount_refunded, fee, cancel_requested, failure_code, failure_message, provider,
                              provider_charge_id, description, reference, metadata, correlation_id, created_at,
                              updated_at, account_id, capture_transfer_id, user_id)
SELECT payment_id, gross, 'USD', 'pm_card_visa', 'automatic', 'succeeded', gross, 0, fee, false, '', '',
       'sandbox', 'ch_' || lpad(i::text, 12, '0'), '', '', '{}', 'bench', at, at,
       '00000000-0000-4000-a000-000000000001', transfer_id, (SELECT id FROM accounts_user)
  FROM seed;
UPDATE ledger_account a
   SET balance = CASE WHEN a.kind IN ('asset', 'expense') THEN s.total ELSE -s.total END, version = %(n)s
  FROM (SELECT account_id, sum(amount) AS total FROM ledger_entry GROUP BY account_id) AS s
 WHERE a.id = s.account_id;
DROP TABLE seed;
"""


def seed(server: db.Server, *, n: int, day: date) -> float:
    """Run the seed statements one commit each; a statement cut off by a server restart (other benches on
    this machine restart PostgreSQL on purpose) is run again on a new connection."""
    import psycopg

    started = time.perf_counter()
    params = {"n": n, "day": datetime(day.year, day.month, day.day, tzinfo=UTC)}
    statements = [x for x in SEED_SQL.split(";\n") if x.strip()]
    done = 0
    for attempt in range(10):
        try:
            with psycopg.connect(server.conninfo(DBNAME)) as conn:
                # A bench seed: session_replication_role = replica skips the ledger's per-row triggers.
                conn.execute("SET session_replication_role = replica")
                while done < len(statements):
                    statement = statements[done]
                    conn.execute(statement, params if "%(" in statement else None)
                    conn.commit()
                    done += 1
            break
        except psycopg.OperationalError as exc:
            print(f"  seed statement {done + 1} cut off ({exc}); again", flush=True)
            time.sleep(5 + attempt * 5)
    with psycopg.connect(server.conninfo(DBNAME), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def report_lines(*, n: int, every: int, day: date) -> Iterator:
    from payments.providers.base import SettlementLine, SettlementLineType

    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    available_on = day + timedelta(days=2)
    stamp = day.strftime("%Y%m%d")
    counter = iter(range(10**12))

    def item(
        i: int, *, currency: str, batch: str, payout: str, gross: int, fee: int, psp: str, ref: str
    ) -> SettlementLine:
        return SettlementLine(
            line_number=0,
            line_id=f"sl_{next(counter):012d}",
            line_type=SettlementLineType.CHARGE,
            psp_reference=psp,
            merchant_reference=ref,
            batch_id=batch,
            payout_id=payout,
            created_at=start + timedelta(seconds=(i * 86_399) // n),
            available_on=available_on,
            currency=currency,
            gross=gross,
            fee=fee,
            net=gross - fee,
        )

    def payout(lines: list, *, currency: str, batch: str, payout_id: str, off_by: int) -> SettlementLine:
        total = sum(x.net for x in lines) + off_by
        return SettlementLine(
            line_number=0,
            line_id=f"sl_{next(counter):012d}",
            line_type=SettlementLineType.PAYOUT,
            psp_reference=payout_id,
            merchant_reference="",
            batch_id=batch,
            payout_id=payout_id,
            created_at=start + timedelta(seconds=86_399),
            available_on=available_on,
            currency=currency,
            gross=total,
            fee=0,
            net=total,
        )

    eur: list = []
    eur_batch, eur_payout = f"ba_{stamp}_eur", f"po_{stamp}_eur"
    for b, first in enumerate(range(1, n + 1, every)):
        batch, payout_id = f"ba_{stamp}_usd_{b:06d}", f"po_{stamp}_usd_{b:06d}"
        lines = []
        for i in range(first, min(first + every, n + 1)):
            kind = i % every
            gross = _gross(i)
            fee = _fee(gross)
            psp, ref = f"ch_{i:012d}", _payment_id(i)
            if kind == 4:  # missing_at_provider: left out
                continue
            if kind == 1:  # amount_mismatch (the fee follows the rule on the wrong gross)
                gross += 1 + i % 100
                fee = _fee(gross)
            if kind == 3:  # fee_mismatch
                fee += 1 + i % 50
            if kind == 2:  # currency_mismatch
                eur.append(
                    item(
                        i,
                        currency="EUR",
                        batch=eur_batch,
                        payout=eur_payout,
                        gross=gross,
                        fee=fee,
                        psp=psp,
                        ref=ref,
                    )
                )
                continue
            line = item(
                i, currency="USD", batch=batch, payout=payout_id, gross=gross, fee=fee, psp=psp, ref=ref
            )
            lines.append(line)
            if kind == 5:  # duplicate_line
                lines.append(
                    item(
                        i,
                        currency="USD",
                        batch=batch,
                        payout=payout_id,
                        gross=gross,
                        fee=fee,
                        psp=psp,
                        ref=ref,
                    )
                )
            if kind == 6:  # missing_in_ledger: a charge nobody here asked for
                lines.append(
                    item(
                        i, currency="USD", batch=batch, payout=payout_id, gross=gross, fee=fee,
                        psp=f"ch_unknown_{i:012d}", ref=f"00000000-0000-4000-b000-{i:012d}",
                    )
                )  # fmt: skip
        yield from lines
        yield payout(
            lines, currency="USD", batch=batch, payout_id=payout_id, off_by=13 if b % every == 7 else 0
        )
    yield from eur
    yield payout(eur, currency="EUR", batch=eur_batch, payout_id=eur_payout, off_by=0)


def child(phase: str, path: str, day: str) -> None:
    """One run in this process (Django set up by the environment); prints its figures as JSON."""
    import django

    django.setup()
    from reconciliation import services

    started, cpu = time.perf_counter(), time.process_time()
    steps: dict[str, float] = {}
    last = [started]

    def progress(step: str) -> None:
        now = time.perf_counter()
        steps[step] = now
        last[0] = now

    run = services.settle_day if phase == "settle" else services.reconcile_day
    result = run(provider="sandbox", day=date.fromisoformat(day), file=Path(path), progress=progress)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    marks = sorted(steps.items(), key=lambda kv: kv[1])
    durations = {
        name: round((marks[k + 1][1] if k + 1 < len(marks) else started + seconds) - at, 2)
        for k, (name, at) in enumerate(marks)
    }
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu": cpu,
                "peak_mb": _peak_mb(),
                "verdict": result.verdict,
                "counts": result.counts,
                "unexplained": {c: t["unexplained"] for c, t in result.totals.items()},
                "settlements": len(result.settlements),
                "unsettled": result.unsettled,
                "steps": durations,
            }
        )
    )


def _child_run(phase: str, path: Path, day: date, env: dict) -> subprocess.CompletedProcess:
    for attempt in range(3):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.reconcile",
                "--child",
                phase,
                "--file",
                str(path),
                "--day",
                day.isoformat(),
            ],
            cwd=db.PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if not result.returncode:
            return result
        print(
            f"  {phase} failed (attempt {attempt + 1}): {result.stderr.strip().splitlines()[-1:]}", flush=True
        )
        time.sleep(10)
    raise SystemExit(f"{phase} failed:\n{result.stdout}\n{result.stderr}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--fault-every", type=int, default=1000)
    parser.add_argument("--child", choices=("settle", "reconcile"), help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    parser.add_argument("--day", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.file, args.day)
        return 0

    server = db.server_resolve()
    day = datetime.now(UTC).date() - timedelta(days=2)
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="ledgerpay.settings.base",
        DATABASE_URL=server.django_url(DBNAME),
        SECRET_KEY=secrets.token_urlsafe(50),
        JWT_SIGNING_KEY=secrets.token_urlsafe(50),
        PAYMENTS_SANDBOX_API_KEY="sk_bench",
        PAYMENTS_SANDBOX_WEBHOOK_SECRET="whsec_bench",  # noqa: S106  (the bench's own throwaway values)
        PAYMENTS_SANDBOX_SECONDARY_API_KEY="sk_bench2",
        PAYMENTS_SANDBOX_SECONDARY_WEBHOOK_SECRET="whsec_bench2",  # noqa: S106
        DEBUG="0",
        LOG_LEVEL="WARNING",
    )
    print(f"database {DBNAME}: recreate and migrate", flush=True)
    db.database_recreate(server, DBNAME)
    db.migrate(env)
    print(f"seeding {args.payments:,} captured payments (SQL)", flush=True)
    seed_s = seed(server, n=args.payments, day=day)
    from payments.providers.settlement import settlement_lines_write

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.csv"
        started = time.perf_counter()
        lines = settlement_lines_write(path, report_lines(n=args.payments, every=args.fault_every, day=day))
        write_s = time.perf_counter() - started
        print(f"seeded in {seed_s:.0f} s; report of {lines:,} lines written in {write_s:.0f} s", flush=True)
        for phase in ("reconcile", "settle"):
            result = _child_run(phase, path, day, env)
            figures = json.loads(result.stdout.strip().splitlines()[-1])
            print(f"{phase}: {json.dumps(figures)}", flush=True)
            rows.append((phase, figures))
    print()
    print(
        "| run | report lines | payments | wall s | CPU s (app) | peak RSS MB | steps (s) | verdict | discrepancies by class | unexplained |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for phase, f in rows:
        counts = ", ".join(
            f"{k} {v:,}" for k, v in f["counts"].items() if v and k not in ("matched", "payouts")
        )
        steps = ", ".join(f"{k} {v}" for k, v in f["steps"].items())
        print(
            f"| {phase} | {lines:,} | {args.payments:,} | {f['seconds']:.1f} | {f['cpu']:.1f} | {f['peak_mb']:.0f} "
            f"| {steps} | {f['verdict']} | {counts} | {f['unexplained']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
