"""Page load times of the back office's main admin pages over a ledger of 1,000,000 entries.

`python -m bench.admin_pages [--transfers 500000] [--payments 200000] [--repeat 5] [--keep]`

Creates its own database (`ledgerpay_bench_admin`, on DATABASE_URL's server or the embedded one),
migrates it, seeds it set-based in SQL (generate_series: customer accounts, N transfers of two
entries each, payments with a timeline event each; triggers off for the seed only, then every cached
balance and balance_after computed by one UPDATE each, and check_ledger run), then renders each page
in-process with Django's test client as a finance user (DEBUG off), `--repeat` times after one warm-up,
and writes the median, the slowest and the query count into docs/performance.md (its own section).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

from bench.db import PROJECT_DIR, database_recreate, manage, migrate, server_resolve, server_version

DBNAME = "ledgerpay_bench_admin"
DOC = PROJECT_DIR / "docs" / "performance.md"
SECTION = "## Back-office admin pages"
CUSTOMERS = 10_000

SEED_SQL = """
SET session_replication_role = replica;  -- the seed writes history directly: triggers off for it only
INSERT INTO accounts_user (email, password, is_active, is_staff, is_superuser, date_joined)
SELECT 'customer-' || g || '@bench.invalid', '!', true, false, false, now() FROM generate_series(1, %(customers)s) g;
INSERT INTO ledger_account (id, owner_id, name, currency, kind, status, allow_negative, system_code, balance,
                            pending_debits, pending_credits, version, created_at, accepts_external_transfers)
SELECT gen_random_uuid(), u.id, 'Customer ' || u.id, 'USD', 'liability', 'active', false, NULL, 0, 0, 0, 0, now(), false
  FROM accounts_user u WHERE u.email LIKE 'customer-%%';
INSERT INTO ledger_account (id, owner_id, name, currency, kind, status, allow_negative, system_code, balance,
                            pending_debits, pending_credits, version, created_at, accepts_external_transfers)
VALUES (gen_random_uuid(), NULL, 'World', 'USD', 'asset', 'active', true, 'bench_world', 0, 0, 0, 0, now(), false);
CREATE TEMP TABLE bench_accounts AS
SELECT row_number() OVER (ORDER BY id) AS n, id, owner_id FROM ledger_account WHERE owner_id IS NOT NULL;
CREATE UNIQUE INDEX ON bench_accounts (n);
ANALYZE bench_accounts;
CREATE TEMP TABLE bench_transfers AS
SELECT g AS n, gen_random_uuid() AS id, 100 + (g %% 9900) AS amount,
       now() - make_interval(secs => (%(transfers)s - g) * 60.0 * 24 * 60 / %(transfers)s) AS at,
       w.id AS world, a.id AS customer
  FROM generate_series(1, %(transfers)s) g
  JOIN bench_accounts a ON a.n = 1 + (g %% %(customers)s)
 CROSS JOIN (SELECT id FROM ledger_account WHERE system_code = 'bench_world') w;
INSERT INTO ledger_transfer (id, kind, status, amount, posted_amount, currency, source_id, destination_id,
                             description, metadata, cause, created_at, posted_at)
SELECT id, 'deposit', 'posted', amount, amount, 'USD', world, customer, 'bench deposit ' || n,
       jsonb_build_object('invoice', 'INV-' || n), 'bench:' || n, at, at
  FROM bench_transfers;
INSERT INTO ledger_entry (transfer_id, account_id, amount, currency, balance_after, created_at)
SELECT id, world, amount, 'USD', 0, at FROM bench_transfers
UNION ALL
SELECT id, customer, -amount, 'USD', 0, at FROM bench_transfers
ORDER BY 6;
UPDATE ledger_entry e SET balance_after = r.running
  FROM (SELECT e2.id, SUM(e2.amount) OVER (PARTITION BY e2.account_id ORDER BY e2.id)
               * CASE WHEN a.kind IN ('asset', 'expense') THEN 1 ELSE -1 END AS running
          FROM ledger_entry e2 JOIN ledger_account a ON a.id = e2.account_id) r
 WHERE r.id = e.id;
UPDATE ledger_account a SET balance = s.total * CASE WHEN a.kind IN ('asset', 'expense') THEN 1 ELSE -1 END
  FROM (SELECT account_id, SUM(amount) total FROM ledger_entry GROUP BY account_id) s
 WHERE s.account_id = a.id;
INSERT INTO payments_payment (id, user_id, account_id, amount, currency, payment_method, capture_method, status,
                              amount_captured, amount_refunded, fee, cancel_requested, failure_code,
                              failure_message, provider, provider_charge_id, description, reference, metadata,
                              correlation_id, created_at, updated_at)
SELECT gen_random_uuid(), a.owner_id, a.id, 1000 + g %% 5000, 'USD', 'pm_card_visa', 'automatic',
       (ARRAY['succeeded','succeeded','succeeded','failed','processing','requires_capture','canceled'])[1 + g %% 7],
       0, 0, 0, false, CASE WHEN g %% 7 = 3 THEN 'card_declined' ELSE '' END, '', 'sandbox', '', '',
       'BENCH-' || g, '{}', md5(g::text), now() - make_interval(mins => g %% 43200), now()
  FROM generate_series(1, %(payments)s) g JOIN bench_accounts a ON a.n = 1 + (g %% %(customers)s);
INSERT INTO payments_paymentevent (id, payment_id, type, data, request_id, correlation_id, causation_id, created_at)
SELECT gen_random_uuid(), id, 'created', '{}', '', correlation_id, '', created_at FROM payments_payment;
SET session_replication_role = origin;
ANALYZE;
"""


def _pages(ids: dict[str, str]) -> list[tuple[str, str]]:
    return [
        ("index", "/admin/"),
        ("overview", "/admin/overview/"),
        ("accounts list", "/admin/ledger/account/"),
        ("accounts search by email", "/admin/ledger/account/?q=customer-77%40bench.invalid"),
        ("account with statement (customer)", f"/admin/ledger/account/{ids['customer']}/change/"),
        (
            "account with statement (500k-entry system account)",
            f"/admin/ledger/account/{ids['world']}/change/",
        ),
        ("statement page 200 (system account)", f"/admin/ledger/account/{ids['world']}/change/?page=200"),
        ("transfers list", "/admin/ledger/transfer/"),
        (
            "transfers: kind + date range",
            "/admin/ledger/transfer/?kind=deposit&created_at__range__gte=2020-01-01",
        ),
        ("transfers search by cause", "/admin/ledger/transfer/?q=bench%3A4242"),
        ("transfers search by metadata", "/admin/ledger/transfer/?q=invoice%3DINV-4242"),
        ("transfer page", f"/admin/ledger/transfer/{ids['transfer']}/change/"),
        ("entries list", "/admin/ledger/entry/"),
        ("payments list", "/admin/payments/payment/"),
        (
            "payments: status failed + failure code",
            "/admin/payments/payment/?status=failed&failure_code=card_declined",
        ),
        ("payments search by reference", "/admin/payments/payment/?q=BENCH-4242"),
        ("payment page", f"/admin/payments/payment/{ids['payment']}/change/"),
        (
            "CSV export, failed payments (streamed, all rows)",
            "/admin/payments/payment/export.csv?status=failed",
        ),
    ]


def _measure(get: Callable[[str], object], url: str, repeat: int) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    get(url)  # warm-up
    times = []
    queries = status = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = get(url)
            if getattr(response, "streaming", False):
                for _chunk in response.streaming_content:  # type: ignore[attr-defined]
                    pass
            times.append((time.perf_counter() - start) * 1000)
        queries, status = len(captured), response.status_code  # type: ignore[attr-defined]
    return statistics.median(times), max(times), queries, status


def _write(rows: list[list[str]], header: str) -> None:
    table = ["| page | median ms | slowest ms | queries | status |", "|---|---:|---:|---:|---:|"]
    table += ["| " + " | ".join(row) + " |" for row in rows]
    section = f"{SECTION}\n\n{header}\n\n" + "\n".join(table) + "\n"
    text = DOC.read_text()
    if SECTION in text:
        start = text.index(SECTION)
        rest = text[start + len(SECTION) :]
        end = rest.find("\n## ")
        text = text[:start] + section + ("" if end < 0 else rest[end:])
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--transfers", type=int, default=500_000, help="two entries each (default: 1M entries)"
    )
    parser.add_argument("--payments", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print the table, leave docs/ alone")
    args = parser.parse_args(argv)

    server = server_resolve()
    database_recreate(server, DBNAME)
    env = {
        **os.environ,
        "DATABASE_URL": server.django_url(DBNAME),
        "DJANGO_SETTINGS_MODULE": "ledgerpay.settings.test",
    }
    migrate(env)
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(server.conninfo(DBNAME), autocommit=True) as conn:
        conn.execute(
            SEED_SQL % {"customers": CUSTOMERS, "transfers": args.transfers, "payments": args.payments}
        )
    seed_seconds = time.perf_counter() - started
    checked = manage(env, "check_ledger", check=False)
    if checked.returncode:
        raise SystemExit(f"check_ledger failed on the seeded ledger:\n{checked.stdout}{checked.stderr}")
    print(f"seeded in {seed_seconds:.0f} s; check_ledger passed", file=sys.stderr)

    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from accounts.models import FINANCE_GROUP
    from accounts.services import staff_user_ensure
    from ledger.models import Account, Entry, Transfer
    from payments.models import Payment

    settings.ALLOWED_HOSTS = ["testserver"]
    finance = staff_user_ensure(
        email="finance@bench.invalid",
        password="bench-password-1",  # noqa: S106 — a throwaway bench database
        group=FINANCE_GROUP,
    )
    client = Client()
    client.force_login(finance)
    ids = {
        "world": str(Account.objects.get(system_code="bench_world").pk),
        "customer": str(Account.objects.filter(owner__isnull=False).order_by("pk").first().pk),
        "transfer": str(Transfer.objects.order_by("-created_at").first().pk),
        "payment": str(Payment.objects.order_by("-created_at").first().pk),
    }
    entries = Entry.objects.count()
    rows = []
    for name, url in _pages(ids):
        median, slowest, queries, status = _measure(client.get, url, args.repeat)
        rows.append([name, f"{median:.0f}", f"{slowest:.0f}", str(queries), str(status)])
        print(f"{name:<55} {median:8.0f} ms  {queries:3d} queries  {status}", file=sys.stderr)
    header = (
        f"`python -m bench.admin_pages --transfers {args.transfers} --payments {args.payments} --repeat {args.repeat}`: "
        f"{entries:,} entries, {args.transfers:,} transfers, {args.payments:,} payments (and as many timeline "
        f"events), {CUSTOMERS:,} customer accounts; PostgreSQL {server_version(server)}, {os.cpu_count()} cores "
        f"shared with other work. Server-side time of each page (Django's test client, in process, DEBUG off, "
        f"a finance user), median of {args.repeat} after a warm-up; the seed took {seed_seconds:.0f} s."
    )
    if not args.no_write:
        _write(rows, header)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
