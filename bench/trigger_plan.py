"""The balanced-transfer trigger's cost per commit before statistics exist, old plan against new.

    .venv/bin/python -m bench.trigger_plan [--accounts 10000] [--transfers 200]

Creates `ledgerpay_bench_trigger` on the project's PostgreSQL server, migrates it, inserts
--accounts customer accounts with one SQL statement and removes what ANALYZE or autovacuum may have
recorded about the ledger's tables (as right after a bulk load or a restore). Then, one transfer a
transaction (lock, transfer, two entries, balances; the deferred triggers fire at COMMIT), it times
COMMIT with the trigger function of migration 0002 (a join of entries and accounts) and with 0005's
(index lookups only), alternating, and again after ANALYZE. Prints the median COMMIT time of each.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

import psycopg

from . import db

DBNAME = "ledgerpay_bench_trigger"
SQL_DIR = Path(__file__).resolve().parent.parent / "ledger" / "migrations" / "sql"
OLD = (SQL_DIR / "0008_balanced_trigger_index_lookups.reverse.sql").read_text()
NEW = (SQL_DIR / "0008_balanced_trigger_index_lookups.sql").read_text()
TABLES = ("ledger_account", "ledger_entry", "ledger_transfer")


def forget_statistics(conn: psycopg.Connection) -> None:
    for table in TABLES:
        conn.execute("DELETE FROM pg_statistic WHERE starelid = %s::regclass", [table])
        conn.execute("UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE oid = %s::regclass", [table])


def commits(conn: psycopg.Connection, accounts: list[uuid.UUID], n: int) -> list[float]:
    times = []
    for i in range(n):
        source, destination = sorted(
            (accounts[(7 * i) % len(accounts)], accounts[(7 * i + 1) % len(accounts)])
        )
        transfer = uuid.uuid4()
        conn.execute("BEGIN")
        conn.execute(
            "SELECT id FROM ledger_account WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [[source, destination]]
        )
        conn.execute(
            "INSERT INTO ledger_transfer (id, kind, status, amount, posted_amount, currency, source_id, "
            "destination_id, description, metadata, cause, created_at, posted_at) "
            "VALUES (%s, 'transfer', 'posted', 1, 1, 'USD', %s, %s, '', '{}', '', now(), now())",
            [transfer, source, destination],
        )
        conn.execute(
            "INSERT INTO ledger_entry (transfer_id, account_id, amount, currency, balance_after, created_at) "
            "VALUES (%s, %s, 1, 'USD', 0, now()), (%s, %s, -1, 'USD', 0, now())",
            [transfer, source, transfer, destination],
        )
        conn.execute(
            "UPDATE ledger_account SET version = version + 1 WHERE id = ANY(%s)", [[source, destination]]
        )
        started = time.perf_counter()
        conn.execute("COMMIT")
        times.append(time.perf_counter() - started)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.trigger_plan", description=__doc__)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--transfers", type=int, default=200)
    args = parser.parse_args(argv)

    import secrets
    import types

    from .transfers import DEFAULT_BROKER_URL, DEFAULT_REDIS_URL, bench_env

    server = db.server_resolve()
    db.database_recreate(server, DBNAME)
    env = bench_env(
        server, types.SimpleNamespace(redis_url=DEFAULT_REDIS_URL, broker_url=DEFAULT_BROKER_URL, env=[])
    )
    env["DATABASE_URL"] = server.django_url(DBNAME)
    env["SECRET_KEY"] = secrets.token_urlsafe(50)
    db.migrate(env)
    with psycopg.connect(server.conninfo(DBNAME), autocommit=True) as conn:
        conn.execute("ALTER TABLE ledger_account SET (autovacuum_enabled = false)")
        conn.execute("ALTER TABLE ledger_entry SET (autovacuum_enabled = false)")
        conn.execute("ALTER TABLE ledger_transfer SET (autovacuum_enabled = false)")
        conn.execute(
            "INSERT INTO ledger_account (id, name, currency, kind, status, allow_negative, balance, pending_debits, "
            "pending_credits, version, created_at) SELECT gen_random_uuid(), 'a' || i, 'USD', 'liability', "
            "'active', true, 0, 0, 0, 0, now() FROM generate_series(1, %s) AS i",
            [args.accounts],
        )
        accounts = [row[0] for row in conn.execute("SELECT id FROM ledger_account WHERE system_code IS NULL")]
        # One entry per account, as the bench's seed leaves them (one funding deposit per account),
        # written with triggers off: a check of a 10,000-entry transfer per row would take minutes.
        seed = uuid.uuid4()
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "INSERT INTO ledger_transfer (id, kind, status, amount, posted_amount, currency, source_id, "
            "destination_id, description, metadata, cause, created_at, posted_at) "
            "VALUES (%s, 'deposit', 'posted', %s, %s, 'USD', %s, %s, '', '{}', '', now(), now())",
            [seed, len(accounts), len(accounts), accounts[0], accounts[1]],
        )
        conn.execute(
            "INSERT INTO ledger_entry (transfer_id, account_id, amount, currency, balance_after, created_at) "
            "SELECT %s, id, -1, 'USD', 0, now() FROM ledger_account WHERE system_code IS NULL",
            [seed],
        )
        conn.execute("SET session_replication_role = origin")
        results: dict[str, list[float]] = {}
        for stats in ("no statistics", "after ANALYZE"):
            for _ in range(3):
                for name, sql in (("0002 (join)", OLD), ("0005 (index lookups)", NEW)):
                    conn.execute(sql)
                    if stats == "no statistics":
                        forget_statistics(conn)
                    else:
                        conn.execute("ANALYZE")
                    conn.execute("DISCARD PLANS")
                    results.setdefault(f"{name}, {stats}", []).extend(commits(conn, accounts, args.transfers))
        conn.execute(NEW)
    for label, times in results.items():
        print(
            f"{label:45} COMMIT median {statistics.median(times) * 1000:6.2f} ms  p90 "
            f"{statistics.quantiles(times, n=10)[-1] * 1000:6.2f} ms  ({len(times)} transfers)"
        )
    with psycopg.connect(server.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DBNAME}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
