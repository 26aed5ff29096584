"""Ledger transfer throughput: the API under gunicorn against a raw-SQL ceiling, on a fresh database.

    .venv/bin/python -m bench.transfers --clients 16 --duration 20

Recreates `ledgerpay_bench` on the project's PostgreSQL server (the embedded one unless
DATABASE_URL is set), migrates and seeds it, checks the ledger, then for each client count:
the raw-SQL ceiling (plain, and with the idempotency-key work) and POST /api/v1/transfers under
gunicorn, each for a uniform and a hot-account mix, with check_ledger after each API mix.
Prints a markdown table and merges it into docs/performance.md. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from ledgerpay import processes

from . import cpu, db, load, rawsql, report
from .server import Gunicorn, ServerConfig

MIXES = ("uniform", "hot")
CEILINGS = {"sql": "SQL", "sql+idem": "SQL+idem"}
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.transfers",
        description="Benchmark POST /api/v1/transfers against a raw-SQL ceiling.",
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[16], help="concurrency levels (16)")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds measured per phase (15)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds run and discarded first (2)")
    parser.add_argument(
        "--servers",
        type=ServerConfig.parse,
        nargs="+",
        default=[ServerConfig("sync", 4)],
        metavar="CONFIG",
        help="gunicorn configs: sync:W or gthread:WxT (sync:4)",
    )
    parser.add_argument("--mixes", nargs="+", choices=MIXES, default=list(MIXES))
    parser.add_argument(
        "--ceilings",
        nargs="*",
        choices=list(CEILINGS),
        default=list(CEILINGS),
        help="raw-SQL variants to run (sql sql+idem); none skips the ceiling",
    )
    parser.add_argument("--users", type=int, default=100, help="client users (100)")
    parser.add_argument("--accounts-per-user", type=int, default=100, help="accounts per user (100)")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--broker-url", default=DEFAULT_BROKER_URL)
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/performance.md")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the request mix")
    return parser.parse_args(argv)


def bench_env(server: db.Server, args: argparse.Namespace) -> dict[str, str]:
    """Production-like settings for every Django process of the run (seed, migrate, gunicorn, checks)."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="ledgerpay.settings.base",
        DATABASE_URL=server.django_url(db.BENCH_DB),
        **processes.secrets_generate(),
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        JWT_ACCESS_MINUTES="1440",
        DB_CONN_MAX_AGE="60",
        REDIS_URL=args.redis_url,
        CELERY_BROKER_URL=args.broker_url,
        LOG_LEVEL="WARNING",
    )
    return env


def redis_flush(url: str) -> None:
    """Empty the bench's own Redis database (idempotency replays cached by earlier runs)."""
    try:
        import redis

        redis.Redis.from_url(url, socket_timeout=2).flushdb()
    except Exception as exc:  # the API works without its cache; say so and go on
        print(f"  (could not flush {url}: {exc})")


def commits(conninfo: str) -> int:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_force_next_flush()")
        time.sleep(0.6)  # other backends flush their counters within about a second of going idle
        row = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0])


def fmt_counts(counter) -> str:
    return ", ".join(f"{key}x{count}" for key, count in sorted(counter.items(), key=str)) or "none"


class Runner:
    def __init__(self, args: argparse.Namespace, fixture: dict, conninfo: str, trees: dict[str, int | None]):
        self.args = args
        self.fixture = fixture
        self.conninfo = conninfo
        self.trees = trees
        self.currency = fixture["currency"]
        self.all_accounts = [account for user in fixture["users"] for account in user["accounts"]]
        self.rows: list[report.Row] = []
        self.when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")

    def _measure(self, phase) -> tuple[load.Outcome, cpu.CpuUsage, int]:
        """Warm up, then run `phase(duration, on_finish)`; CPU is sampled by on_finish (or right after)."""
        phase(self.args.warmup, None)
        commits_before = commits(self.conninfo)
        before = cpu.sample(self.trees)
        samples = []
        outcome = phase(self.args.duration, lambda: samples.append(cpu.sample(self.trees)))
        after = samples[0] if samples else cpu.sample(self.trees)
        return outcome, cpu.usage(before, after), commits(self.conninfo) - commits_before

    def _record(self, *, clients, path, server, mix, outcome, used, n_commits) -> report.Row:
        ms = used.per_op_ms(outcome.created)
        cpu_cell = " · ".join(
            f"{ms[name]:.2f}" if name in ms else "?" for name in ("gunicorn", "postgres", "bench", "other")
        )
        if path != "API":
            cpu_cell = "- · " + " · ".join(
                f"{ms[name]:.2f}" if name in ms else "?" for name in ("postgres", "bench", "other")
            )
        not_ok = {key: count for key, count in outcome.statuses.items() if key != 201}
        problems = fmt_counts(outcome.problems) if outcome.problems else fmt_counts(not_ok)
        row = report.Row(
            clients=clients,
            path=path,
            server=server,
            mix=mix,
            rate=outcome.rate,
            p50=load.percentile(outcome.latencies, 50) * 1000,
            p95=load.percentile(outcome.latencies, 95) * 1000,
            p99=load.percentile(outcome.latencies, 99) * 1000,
            ratio="",
            cpu=cpu_cell,
            cores=f"{used.cores['machine']:.2f}",
            commits=f"{n_commits / outcome.created:.2f}" if outcome.created else "-",
            errors=problems if not_ok else "0",
            when=self.when,
        )
        self.rows.append(row)
        print(
            f"  {path:8} {server:12} {mix:7} c={clients:<3} {row.rate:7.0f} transfers/s  "
            f"p50 {row.p50:6.1f}  p95 {row.p95:6.1f}  p99 {row.p99:6.1f} ms  "
            f"(statuses: {fmt_counts(outcome.statuses)}; errors: {fmt_counts(outcome.problems)})"
        )
        print(
            "           CPU ms per transfer: "
            + ", ".join(f"{name} {value:.2f}" for name, value in ms.items() if name != "machine")
            + f"; machine busy {used.cores['machine']:.2f} of {os.cpu_count()} cores; "
            f"{row.commits} DB transactions/transfer"
        )
        return row

    def _plan(self, clients: int, mix: str) -> list[tuple[int, str, list[str]]]:
        """(user id, token, sources) per client: its own user's accounts, or all share the hot account."""
        users, hot = self.fixture["users"], self.fixture["hot"]
        if mix == "hot":
            return [(hot["id"], hot["token"], [hot["account"]])] * clients
        return [
            (user["id"], user["token"], user["accounts"])
            for user in (users[i % len(users)] for i in range(clients))
        ]

    def ceiling(self, clients: int, mix: str, variant: str) -> None:
        plan = [(user_id, sources, self.all_accounts) for user_id, _, sources in self._plan(clients, mix)]

        def phase(duration: float, on_finish) -> load.Outcome:
            return rawsql.run(
                self.conninfo,
                plan,
                currency=self.currency,
                duration=duration,
                idempotency=variant == "sql+idem",
                seed=self.args.seed,
                on_finish=on_finish,
            )

        outcome, used, n_commits = self._measure(phase)
        self._record(
            clients=clients,
            path=CEILINGS[variant],
            server="-",
            mix=mix,
            outcome=outcome,
            used=used,
            n_commits=n_commits,
        )

    def api(self, gunicorn: Gunicorn, clients: int, mix: str, env: dict) -> bool:
        plan = [
            load.Client(token=token, sources=sources, destinations=self.all_accounts)
            for _, token, sources in self._plan(clients, mix)
        ]

        def phase(duration: float, on_finish) -> load.Outcome:
            return load.run(
                gunicorn.base_url, plan, currency=self.currency, duration=duration, seed=self.args.seed
            )

        outcome, used, n_commits = self._measure(phase)
        self._record(
            clients=clients,
            path="API",
            server=gunicorn.label,
            mix=mix,
            outcome=outcome,
            used=used,
            n_commits=n_commits,
        )
        if any(isinstance(key, int) and key >= 500 for key in outcome.statuses):
            tail = gunicorn.log_path.read_text()[-3000:]
            print(f"  server errors; end of {gunicorn.log_path}:\n{tail}")
        ok, output = db.check_ledger(env)
        print("  check_ledger: " + output.replace("\n", "\n  "))
        return ok

    def ratios(self) -> list[str]:
        """Fill each row's `vs ceiling` and say which targets were reached, per client count."""
        verdicts = []
        by_key = {(row.clients, row.path, row.server, row.mix): row for row in self.rows}
        for row in self.rows:
            ceiling = by_key.get((row.clients, "SQL", "-", row.mix))
            parts = []
            if row.path != "SQL" and ceiling and ceiling.rate:
                parts.append(f"{row.rate / ceiling.rate:.0%} of SQL")
            uniform = by_key.get((row.clients, row.path, row.server, "uniform"))
            if row.mix == "hot" and uniform and uniform.rate:
                parts.append(f"{row.rate / uniform.rate:.0%} of uniform")
            row.ratio = ", ".join(parts) or "-"
        for row in self.rows:
            if row.path != "API":
                continue
            ceiling = by_key.get((row.clients, "SQL", "-", row.mix))
            if row.mix == "uniform" and ceiling and ceiling.rate:
                share = row.rate / ceiling.rate
                verdicts.append(
                    f"c={row.clients} {row.server}: uniform API = {share:.0%} of the SQL ceiling "
                    f"(target ≥ 25 %): {'reached' if share >= 0.25 else 'NOT reached'}"
                )
            uniform = by_key.get((row.clients, "API", row.server, "uniform"))
            if row.mix == "hot" and uniform and uniform.rate:
                share = row.rate / uniform.rate
                verdicts.append(
                    f"c={row.clients} {row.server}: hot API = {share:.0%} of uniform API "
                    f"(target ≥ 50 %): {'reached' if share >= 0.5 else 'NOT reached'}"
                )
            if row.clients == 16:
                verdicts.append(
                    f"c=16 {row.server} {row.mix}: API p99 = {row.p99:.1f} ms "
                    f"(target < 50 ms): {'reached' if row.p99 < 50 else 'NOT reached'}"
                )
        return verdicts


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = ".venv/bin/python -m bench.transfers " + shlex.join(sys.argv[1:] if argv is None else argv)
    workdir = Path(tempfile.mkdtemp(prefix="ledgerpay-bench-"))
    print(f"bench.transfers (logs in {workdir})")

    server = db.server_resolve()
    version = db.server_version(server)
    where = "embedded, Unix socket" if server.embedded_data_dir else "DATABASE_URL's server"
    env = bench_env(server, args)
    conninfo = server.conninfo(db.BENCH_DB)

    started = time.monotonic()
    db.database_recreate(server)
    db.migrate(env)
    print(
        f"  {db.BENCH_DB} recreated and migrated on PostgreSQL {version} in {time.monotonic() - started:.1f} s"
    )
    started = time.monotonic()
    fixture = db.seed(
        env, users=args.users, accounts_per_user=args.accounts_per_user, out=workdir / "fixture.json"
    )
    n_accounts = sum(len(user["accounts"]) for user in fixture["users"])
    print(
        f"  seeded {len(fixture['users'])} users, {n_accounts} funded accounts and one hot account "
        f"in {time.monotonic() - started:.1f} s"
    )
    ok, output = db.check_ledger(env)
    print("  check_ledger before the run: " + output.replace("\n", "\n  "))
    if not ok:
        return 1
    redis_flush(args.redis_url)

    trees = {"postgres": db.postmaster_pid(server), "gunicorn": None}
    runner = Runner(args, fixture, conninfo, trees)
    all_ok = True
    for clients in args.clients:
        print(f"\n== {clients} client(s), {args.duration:.0f} s per phase after {args.warmup:.0f} s warm-up")
        for mix in args.mixes:
            for variant in args.ceilings:
                runner.ceiling(clients, mix, variant)
        ok, output = db.check_ledger(env)
        all_ok &= ok
        print("  check_ledger after the SQL ceiling: " + output.splitlines()[-1])
        for config in args.servers:
            log = workdir / f"gunicorn-{config}-{clients}.log"
            with Gunicorn(config, env, log) as gunicorn:
                gunicorn.wait_ready()
                trees["gunicorn"] = gunicorn.pid
                for mix in args.mixes:
                    all_ok &= runner.api(gunicorn, clients, mix, env)
            trees["gunicorn"] = None
    redis_flush(args.redis_url)

    verdicts = runner.ratios()
    info = {**report.machine(), "postgres": version, "postgres_where": where}
    print("\n" + report.table([row.cells() for row in runner.rows]) + "\n")
    for verdict in verdicts:
        print(verdict)
    if not all_ok:
        print("check_ledger FAILED after a phase: see above.")
    if not args.no_doc:
        report.doc_update(info=info, command=command, rows=runner.rows)
        print(f"\nResults merged into {report.DOC.relative_to(db.PROJECT_DIR)}.")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
