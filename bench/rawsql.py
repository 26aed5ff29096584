"""The ceiling: the same transfer as one hand-written SQL transaction, N psycopg connections in threads.

Per transfer (the API path's ledger work, without Django, DRF, HTTP or JSON):
  BEGIN
  SELECT … FROM ledger_account WHERE id = ANY(a, b) ORDER BY id FOR UPDATE   -- lock in id order
  INSERT INTO ledger_transfer …
  INSERT INTO ledger_entry … (2 rows, balance_after computed from the locked balances)
  UPDATE ledger_account … (both rows in one statement, as bulk_update does)
  COMMIT                                                                       -- deferred triggers fire
The `idem` variant adds what core.idempotency does around it: the key claimed by
INSERT … ON CONFLICT DO NOTHING in its own commit, then locked FOR UPDATE NOWAIT inside the
transaction and marked completed with a stored response before COMMIT. Statements are
prepared by psycopg after their fifth use, as any tuned client would.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter

import psycopg

from .load import Outcome

LOCK = """SELECT id, owner_id, currency, status, balance, pending_debits, allow_negative
            FROM ledger_account WHERE id = ANY(%s) ORDER BY id FOR UPDATE"""
INSERT_TRANSFER = """INSERT INTO ledger_transfer
    (id, kind, status, amount, posted_amount, currency, source_id, destination_id, description,
     metadata, cause, created_by_id, created_at, posted_at)
    VALUES (%s, 'transfer', 'posted', %s, %s, %s, %s, %s, '', '{}', '', %s, now(), now())"""
INSERT_ENTRIES = """INSERT INTO ledger_entry (transfer_id, account_id, amount, currency, balance_after, created_at)
    VALUES (%s, %s, %s, %s, %s, now()), (%s, %s, %s, %s, %s, now())"""
UPDATE_ACCOUNTS = """UPDATE ledger_account a SET balance = v.balance, version = a.version + 1
    FROM (VALUES (%s::uuid, %s::bigint), (%s::uuid, %s::bigint)) AS v(id, balance) WHERE a.id = v.id"""
CLAIM_KEY = """INSERT INTO ledger_idempotencykey
    (user_id, key, fingerprint, request_method, request_path, status, response_content_type,
     created_at, expires_at)
    VALUES (%s, %s, %s, 'POST', '/api/v1/transfers', 'in_progress', '', now(), now() + interval '24 hours')
    ON CONFLICT DO NOTHING"""
LOCK_KEY = """SELECT id, fingerprint, status, expires_at FROM ledger_idempotencykey
    WHERE user_id = %s AND key = %s FOR UPDATE NOWAIT"""
COMPLETE_KEY = """UPDATE ledger_idempotencykey SET status = 'completed', locked_at = now(), response_status = 201,
    response_body = %s, response_content_type = 'application/json' WHERE id = %s"""
RESPONSE_BODY = b"x" * 760  # about the size of the API's transfer response


class Refused(Exception):
    pass


def _transfer(cur, *, user_id: int, source: str, destination: str, amount: int, currency: str) -> None:
    accounts = {row[0]: row for row in cur.execute(LOCK, ([source, destination],)).fetchall()}
    src, dst = accounts.get(uuid.UUID(source)), accounts.get(uuid.UUID(destination))
    if src is None or dst is None or src[1] != user_id or src[3] != "active" or dst[3] != "active":
        raise Refused("not_found")
    if src[2] != currency or dst[2] != currency:
        raise Refused("currency_mismatch")
    src_balance, dst_balance = src[4] - amount, dst[4] + amount  # customer accounts are credit-normal
    if not src[6] and src_balance - src[5] < 0:
        raise Refused("insufficient_funds")
    transfer_id = uuid.uuid4()
    cur.execute(INSERT_TRANSFER, (transfer_id, amount, amount, currency, source, destination, user_id))
    cur.execute(
        INSERT_ENTRIES,
        (
            transfer_id,
            source,
            amount,
            currency,
            src_balance,
            transfer_id,
            destination,
            -amount,
            currency,
            dst_balance,
        ),
    )
    cur.execute(UPDATE_ACCOUNTS, (source, src_balance, destination, dst_balance))


def _worker(
    conninfo: str,
    *,
    user_id: int,
    sources: list[str],
    destinations: list[str],
    currency: str,
    idempotency: bool,
    start: threading.Barrier,
    finish: threading.Barrier,
    closing: threading.Event,
    duration: float,
    rng: random.Random,
    results: list,
) -> None:
    latencies: list[float] = []
    statuses: Counter = Counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        cur = conn.cursor()
        start.wait(timeout=120)
        deadline = time.perf_counter() + duration
        while time.perf_counter() < deadline:
            source = rng.choice(sources)
            destination = rng.choice(destinations)
            while destination == source:
                destination = rng.choice(destinations)
            started = time.perf_counter()
            try:
                key = uuid.uuid4().hex
                if idempotency:
                    cur.execute(CLAIM_KEY, (user_id, key, "f" * 64))
                with conn.transaction():
                    if idempotency:
                        key_id = cur.execute(LOCK_KEY, (user_id, key)).fetchone()[0]
                    _transfer(
                        cur,
                        user_id=user_id,
                        source=source,
                        destination=destination,
                        amount=1,
                        currency=currency,
                    )
                    if idempotency:
                        cur.execute(COMPLETE_KEY, (RESPONSE_BODY, key_id))
            except Refused as exc:
                statuses[f"refused:{exc}"] += 1
                continue
            except psycopg.Error as exc:
                statuses[f"sqlstate:{exc.sqlstate}"] += 1
                continue
            latencies.append(time.perf_counter() - started)
            statuses["committed"] += 1
        results.append((latencies, statuses))
        finish.wait(timeout=120)
        closing.wait(timeout=120)  # keep the backend alive until the caller has sampled its CPU


def run(
    conninfo: str,
    plan: list[tuple[int, list[str], list[str]]],
    *,
    currency: str,
    duration: float,
    idempotency: bool = False,
    seed: int = 1,
    on_finish=None,
) -> Outcome:
    """One connection per (user_id, sources, destinations) of `plan`, all started together.

    `on_finish()` runs when every worker is done but before the connections close (so that CPU
    samples see the server's backends alive, not exiting)."""
    start, finish = threading.Barrier(len(plan) + 1), threading.Barrier(len(plan) + 1)
    closing = threading.Event()
    results: list = []
    threads = [
        threading.Thread(
            target=_worker,
            args=(conninfo,),
            kwargs={
                "user_id": user_id,
                "sources": sources,
                "destinations": destinations,
                "currency": currency,
                "idempotency": idempotency,
                "start": start,
                "finish": finish,
                "closing": closing,
                "duration": duration,
                "rng": random.Random(seed * 1000 + i),
                "results": results,
            },
            daemon=True,
        )
        for i, (user_id, sources, destinations) in enumerate(plan)
    ]
    for thread in threads:
        thread.start()
    start.wait(timeout=120)
    started = time.perf_counter()
    finish.wait(timeout=duration + 120)
    outcome = Outcome(elapsed=time.perf_counter() - started)
    if on_finish is not None:
        on_finish()
    closing.set()
    for thread in threads:
        thread.join()
    for latencies, statuses in results:
        outcome.latencies.extend(latencies)
        for status, count in statuses.items():
            outcome.statuses[201 if status == "committed" else status] += count
            if status != "committed":
                outcome.problems[status] += count
    return outcome
