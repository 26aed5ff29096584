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
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from ledgerpay import processes

from . import cpu, db, load, rawsql, report, wrk
from .server import Gunicorn, ServerConfig

MIXES = ("uniform", "hot")
PATHS = ("api", "batch", "minimal", "open", "inproc")
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
    parser.add_argument(
        "--paths",
        nargs="+",
        choices=PATHS,
        default=list(PATHS),
        help="what to measure besides the SQL ceilings: api (POST /transfers), batch (100 a request), "
        "minimal (the minimal DRF endpoint), open (open loop at half the API's capacity), inproc "
        "(transfer_create in threads, and the drain probe)",
    )
    parser.add_argument("--batch-size", type=int, default=100, help="transfers per batch request (100)")
    parser.add_argument(
        "--loadgen", choices=["wrk", "httpx"], default="wrk", help="HTTP load generator (wrk)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each phase; the median is kept (1)")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for every Django process (to measure a lever), e.g. DB_SERVER_SIDE_BINDING=1",
    )
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
    for assignment in args.env:
        name, _, value = assignment.partition("=")
        env[name] = value
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


def ledger_checked(env: dict[str, str]) -> bool:
    """check_ledger on the bench database after a phase, its report printed; True when consistent."""
    ok, output = db.check_ledger(env)
    print("  check_ledger: " + output.replace("\n", "\n  "))
    return ok


def fmt_counts(counter) -> str:
    return ", ".join(f"{key}x{count}" for key, count in sorted(counter.items(), key=str)) or "none"


class Runner:
    def __init__(
        self,
        args: argparse.Namespace,
        fixture: dict,
        conninfo: str,
        trees: dict[str, int | None],
        workdir: Path,
    ):
        self.args = args
        self.fixture = fixture
        self.conninfo = conninfo
        self.trees = trees
        self.workdir = workdir
        self.currency = fixture["currency"]
        self.all_accounts = [account for user in fixture["users"] for account in user["accounts"]]
        self.rows: list[report.Row] = []
        self.notes: list[str] = []
        self.when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")

    def _measure(self, phase) -> tuple[load.Outcome, cpu.CpuUsage, int, list[float]]:
        """Warm up, then run `phase(duration, on_finish)` --repeat times and keep the median run.

        CPU is sampled by on_finish (or right after); a load generator that reports its own CPU
        (wrk, a child process) is moved from `other` to the load-generator column."""
        phase(self.args.warmup, None)
        runs = []
        for _ in range(max(1, self.args.repeat)):
            commits_before = commits(self.conninfo)
            before = cpu.sample(self.trees)
            samples = []
            outcome = phase(
                self.args.duration, lambda samples=samples: samples.append(cpu.sample(self.trees))
            )
            after = samples[0] if samples else cpu.sample(self.trees)
            used = cpu.usage(before, after)
            loadgen = getattr(outcome, "cpu_seconds", None)
            if loadgen is not None and used.wall:
                share = loadgen / used.wall
                used.cores["bench"] = used.cores.get("bench", 0.0) + share
                used.cores["other"] = max(0.0, used.cores["other"] - share)
            runs.append((outcome, used, commits(self.conninfo) - commits_before))
        runs.sort(key=lambda run: run[0].rate)
        outcome, used, n_commits = runs[len(runs) // 2]
        return outcome, used, n_commits, [run[0].rate for run in runs]

    def _record(self, *, clients, path, server, mix, outcome, used, n_commits, rates=None) -> report.Row:
        ms = used.per_op_ms(outcome.created)
        names = ("gunicorn", "postgres", "bench", "other")
        if path in ("SQL", "SQL+idem"):
            names = ("-", "postgres", "bench", "other")
        if path == "in-proc":
            names = ("bench", "postgres", "-", "other")
        cpu_cell = " · ".join(
            "-" if name == "-" else f"{ms[name]:.2f}" if name in ms else "?" for name in names
        )
        ok_status = 200 if path == "batch" else 201
        not_ok = {key: count for key, count in outcome.statuses.items() if key not in (201, ok_status)}
        problems = fmt_counts(outcome.problems) if outcome.problems else fmt_counts(not_ok)
        if isinstance(outcome, wrk.WrkOutcome):
            p50, p95, p99 = outcome.p50, outcome.p95, outcome.p99
        else:
            p50, p95, p99 = (load.percentile(outcome.latencies, q) for q in (50, 95, 99))
        rates = rates or [outcome.rate]
        row = report.Row(
            clients=clients,
            path=path,
            server=server,
            mix=mix,
            rate=outcome.rate,
            p50=p50 * 1000,
            p95=p95 * 1000,
            p99=p99 * 1000,
            ratio="",
            cpu=cpu_cell,
            cores=f"{used.cores['machine']:.2f}",
            commits=f"{n_commits / outcome.created:.2f}" if outcome.created and n_commits >= 0 else "-",
            errors=problems if not_ok else "0",
            when=self.when,
            runs=f"{len(rates)}: {min(rates):.0f}-{max(rates):.0f}" if len(rates) > 1 else "1",
        )
        self.rows.append(row)
        print(
            f"  {path:10} {server:12} {mix:7} c={clients:<3} {row.rate:7.0f} transfers/s  "
            f"p50 {row.p50:6.1f}  p95 {row.p95:6.1f}  p99 {row.p99:6.1f} ms  "
            f"(statuses: {fmt_counts(outcome.statuses)}; errors: {fmt_counts(outcome.problems)}; runs {row.runs})"
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

        outcome, used, n_commits, rates = self._measure(phase)
        self._record(
            clients=clients,
            path=CEILINGS[variant],
            server="-",
            mix=mix,
            outcome=outcome,
            used=used,
            n_commits=n_commits,
            rates=rates,
        )

    def _wrk_script(self, clients: int, mix: str, mode: str, url_path: str) -> wrk.Script:
        plan = {user_id: (token, sources) for user_id, token, sources in self._plan(min(clients, 100), mix)}
        users = [{"token": token, "accounts": sources} for token, sources in plan.values()]
        return wrk.Script.write(
            self.workdir / f"wrk-{mode}-{mix}-{clients}.lua",
            users=users,
            destinations=self.all_accounts,
            mode=mode,
            url_path=url_path,
            currency=self.currency,
            batch=self.args.batch_size,
        )

    def http(self, gunicorn: Gunicorn, clients: int, mix: str, env: dict, path: str) -> bool:
        """A closed loop of `clients` connections: path API (POST /transfers), batch or minimal."""
        mode, url_path = {
            "API": ("single", "/api/v1/transfers"),
            "batch": ("batch", "/api/v1/transfers/batch"),
            "minimal": ("single", "/api/v1/minimal"),
        }[path]
        if self.args.loadgen == "wrk":
            script = self._wrk_script(clients, mix, mode, url_path)

            # A batch keeps a sync worker busy for about a second: more connections than workers only
            # queue whole batches (and those left by the warm-up) in front of the measured ones.
            connections = (
                min(clients, gunicorn.config.workers * gunicorn.config.threads)
                if path == "batch"
                else clients
            )

            def phase(duration: float, on_finish) -> load.Outcome:
                return wrk.run(gunicorn.base_url, script, connections=connections, duration=duration)

        else:
            if path != "API":
                raise SystemExit(f"--loadgen httpx measures only the API path, not {path}")
            plan = [
                load.Client(token=token, sources=sources, destinations=self.all_accounts)
                for _, token, sources in self._plan(clients, mix)
            ]

            def phase(duration: float, on_finish) -> load.Outcome:
                return load.run(
                    gunicorn.base_url, plan, currency=self.currency, duration=duration, seed=self.args.seed
                )

        outcome, used, n_commits, rates = self._measure(phase)
        self._record(
            clients=clients,
            path=path,
            server=gunicorn.label,
            mix=mix,
            outcome=outcome,
            used=used,
            n_commits=n_commits if path != "minimal" else -1,
            rates=rates,
        )
        if any(isinstance(key, int) and key >= 500 for key in outcome.statuses):
            tail = gunicorn.log_path.read_text()[-3000:]
            print(f"  server errors; end of {gunicorn.log_path}:\n{tail}")
        if path == "minimal":
            return True
        return ledger_checked(env)

    def open_loop(self, gunicorn: Gunicorn, clients: int, env: dict) -> bool:
        """Single transfers arriving at half the API's measured uniform capacity, whatever the answers."""
        measured = self._row(clients, "API", gunicorn.label, "uniform")
        if measured is None or not measured.rate:
            print("  open loop skipped: no API uniform rate measured first")
            return True
        rate = measured.rate / 2
        plan = [
            load.Client(token=token, sources=sources, destinations=self.all_accounts)
            for _, token, sources in self._plan(100, "uniform")
        ]

        def phase(duration: float, on_finish) -> load.Outcome:
            return load.run_open(
                gunicorn.base_url,
                plan,
                currency=self.currency,
                rate=rate,
                duration=duration,
                seed=self.args.seed,
            )

        outcome, used, n_commits, rates = self._measure(phase)
        self._record(
            clients=clients,
            path=f"open@{rate:.0f}/s",
            server=gunicorn.label,
            mix="uniform",
            outcome=outcome,
            used=used,
            n_commits=n_commits,
            rates=rates,
        )
        return ledger_checked(env)

    def _inprocess(self, env: dict, mix: str, threads: int, duration: float, warmup: float) -> dict:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.inprocess",
                "--fixture",
                str(self.workdir / "fixture.json"),
                "--mix",
                mix,
                "--threads",
                str(threads),
                "--duration",
                str(duration),
                "--warmup",
                str(warmup),
                "--seed",
                str(self.args.seed),
            ],
            cwd=db.PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            raise SystemExit(f"bench.inprocess failed:\n{result.stdout}\n{result.stderr}")
        return json.loads(result.stdout.strip().splitlines()[-1])

    def inprocess(self, clients: int, mix: str, env: dict) -> bool:
        """`transfer_create` from `clients` threads of one Django process (no HTTP), as an embedding app."""

        def phase(duration: float, on_finish) -> load.Outcome:
            data = self._inprocess(env, mix, clients, duration, warmup=1.0)
            outcome = InProcessOutcome(elapsed=data["elapsed"], latencies=data["latencies"])
            outcome.statuses[201] += data["created"]
            for code, count in data["codes"].items():
                if code != "created":
                    outcome.statuses[code] += count
                    outcome.problems[code] += count
            outcome.cpu_seconds = data["cpu_seconds"]
            return outcome

        outcome, used, n_commits, rates = self._measure(phase)
        # The child's own CPU is its window's only; the tree's delta (child exited) is not sampled here.
        self._record(
            clients=clients,
            path="in-proc",
            server="-",
            mix=mix,
            outcome=outcome,
            used=used,
            n_commits=n_commits,
            rates=rates,
        )
        return ledger_checked(env)

    def drain(self, clients: int, env: dict) -> bool:
        data = self._inprocess(env, "drain", clients, 0, 0)
        exact = data["balance"] == 0 and data["created"] == data["funded"] // data["amount"]
        verdict = (
            f"c={clients}: drain probe: {clients} threads moving {data['amount']} out of a {data['funded']}-unit "
            f"account: {data['created']} transfers, final balance {data['balance']} "
            f"(goal: exactly 0, never below): {'met' if exact else 'NOT met'}; codes {data['codes']}"
        )
        print("  " + verdict)
        self.notes.append(verdict)
        return exact

    def _row(self, clients: int, path: str, server: str, mix: str) -> report.Row | None:
        for row in self.rows:
            if (row.clients, row.path, row.server, row.mix) == (clients, path, server, mix):
                return row
        return None

    def ratios(self) -> list[str]:
        """Fill each row's `vs ceiling` and print every goal of issue 10 against its ceiling."""
        verdicts = []
        for row in self.rows:
            ceiling = self._row(row.clients, "SQL", "-", row.mix)
            parts = []
            if row.path not in ("SQL", "minimal") and ceiling and ceiling.rate:
                parts.append(f"{row.rate / ceiling.rate:.0%} of SQL")
            minimal = self._row(row.clients, "minimal", row.server, "uniform")
            if row.path == "API" and minimal and minimal.rate:
                parts.append(f"{row.rate / minimal.rate:.0%} of minimal")
            uniform = self._row(row.clients, row.path, row.server, "uniform")
            if row.mix == "hot" and uniform and uniform.rate:
                parts.append(f"{row.rate / uniform.rate:.0%} of uniform")
            row.ratio = ", ".join(parts) or "-"

        def goal(text: str, value: float, target: float, *, below: bool = False) -> None:
            met = value < target if below else value >= target
            verdicts.append(f"{text}: {'met' if met else 'NOT met'}")

        for row in self.rows:
            sql = self._row(row.clients, "SQL", "-", "uniform")
            sql_same_mix = self._row(row.clients, "SQL", "-", row.mix)
            uniform = self._row(row.clients, row.path, row.server, "uniform")
            c = f"c={row.clients} {row.server}"
            if row.path == "API" and row.mix == "uniform" and sql and sql.rate:
                goal(
                    f"{c}: API = {row.rate / sql.rate:.0%} of the SQL ceiling (goal ≥ 25 %)",
                    row.rate / sql.rate,
                    0.25,
                )
            if row.path == "batch" and row.mix == "uniform" and sql and sql.rate:
                goal(
                    f"{c}: batch of {self.args.batch_size} = {row.rate / sql.rate:.0%} of the SQL single-transfer "
                    f"ceiling (goal ≥ 100 %)",
                    row.rate / sql.rate,
                    1.0,
                )
            if row.path in ("API", "batch") and row.mix == "hot" and uniform and uniform.rate:
                goal(
                    f"{c}: {row.path} hot = {row.rate / uniform.rate:.0%} of its uniform rate (goal ≥ 70 %)",
                    row.rate / uniform.rate,
                    0.70,
                )
            if row.path.startswith("open@"):
                goal(
                    f"{c}: {row.path} single transfers p99 = {row.p99:.1f} ms (goal < 50 ms)",
                    row.p99,
                    50,
                    below=True,
                )
            if row.path == "API" and row.mix == "uniform":
                minimal = self._row(row.clients, "minimal", row.server, "uniform")
                if minimal and minimal.rate:
                    goal(
                        f"{c}: API = {row.rate / minimal.rate:.0%} of the minimal DRF endpoint "
                        f"({minimal.rate:.0f}/s) (goal ≥ 50 %)",
                        row.rate / minimal.rate,
                        0.5,
                    )
            if row.path == "in-proc" and sql_same_mix and sql_same_mix.rate:
                goal(
                    f"c={row.clients}: in-process transfer_create {row.mix} = {row.rate:.0f}/s, "
                    f"{row.rate / sql_same_mix.rate:.0%} of the psycopg-threads ceiling {sql_same_mix.rate:.0f}/s "
                    f"(goal ≥ 70 %)",
                    row.rate / sql_same_mix.rate,
                    0.70,
                )
        return verdicts + self.notes


class InProcessOutcome(load.Outcome):
    cpu_seconds: float = 0.0


def server_wait(conninfo: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(conninfo, autocommit=True, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
                return
        except psycopg.Error:
            time.sleep(2)
    raise SystemExit("PostgreSQL did not come back")


def resilient(conninfo: str, label: str, phase, *args, **kwargs):
    """Run a phase; if PostgreSQL went away meanwhile (the machine is shared: someone restarted it),
    wait for it and run the phase once more, saying so."""
    try:
        return phase(*args, **kwargs)
    except (psycopg.OperationalError, SystemExit, OSError) as exc:
        print(
            f"  {label} failed ({str(exc).splitlines()[0][:200]}); waiting for PostgreSQL and retrying once"
        )
        server_wait(conninfo)
        return phase(*args, **kwargs)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    command = ".venv/bin/python -m bench.transfers " + shlex.join(sys.argv[1:] if argv is None else argv)
    workdir = Path(tempfile.mkdtemp(prefix="ledgerpay-bench-"))
    print(f"bench.transfers (logs in {workdir})")
    if args.loadgen == "wrk" and set(args.paths) & {"api", "batch", "minimal"}:
        print(f"  load generator: {wrk.ensure_installed()}")

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
    db.analyze(server)
    n_accounts = sum(len(user["accounts"]) for user in fixture["users"])
    print(
        f"  seeded {len(fixture['users'])} users, {n_accounts} funded accounts and one hot account "
        f"in {time.monotonic() - started:.1f} s, then ANALYZE"
    )
    ok, output = db.check_ledger(env)
    print("  check_ledger before the run: " + output.replace("\n", "\n  "))
    if not ok:
        return 1
    redis_flush(args.redis_url)

    trees = {"postgres": db.postmaster_pid(server), "gunicorn": None}
    runner = Runner(args, fixture, conninfo, trees, workdir)
    all_ok = True
    for clients in args.clients:
        print(f"\n== {clients} client(s), {args.duration:.0f} s per phase after {args.warmup:.0f} s warm-up")
        for mix in args.mixes:
            for variant in args.ceilings:
                resilient(conninfo, f"SQL {mix}", runner.ceiling, clients, mix, variant)
        ok, output = db.check_ledger(env)
        all_ok &= ok
        print("  check_ledger after the SQL ceiling: " + output.splitlines()[-1])
        if "inproc" in args.paths:
            for mix in args.mixes:
                all_ok &= resilient(conninfo, f"in-proc {mix}", runner.inprocess, clients, mix, env)
            all_ok &= resilient(conninfo, "drain", runner.drain, clients, env)
        for config in args.servers:
            if "minimal" in args.paths:
                log = workdir / f"gunicorn-minimal-{config}-{clients}.log"
                with Gunicorn(config, env, log, app="bench.minimal:application") as gunicorn:
                    gunicorn.wait_ready()
                    trees["gunicorn"] = gunicorn.pid
                    resilient(conninfo, "minimal", runner.http, gunicorn, clients, "uniform", env, "minimal")
                trees["gunicorn"] = None
            log = workdir / f"gunicorn-{config}-{clients}.log"
            with Gunicorn(config, env, log) as gunicorn:
                gunicorn.wait_ready()
                trees["gunicorn"] = gunicorn.pid
                for path, name in (("api", "API"), ("batch", "batch")):
                    if path in args.paths:
                        for mix in args.mixes:
                            all_ok &= resilient(
                                conninfo, f"{name} {mix}", runner.http, gunicorn, clients, mix, env, name
                            )
                if "open" in args.paths:
                    all_ok &= resilient(conninfo, "open loop", runner.open_loop, gunicorn, clients, env)
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
        report.doc_update(info=info, command=command, rows=runner.rows, verdicts=verdicts)
        print(f"\nResults merged into {report.DOC.relative_to(db.PROJECT_DIR)}.")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
