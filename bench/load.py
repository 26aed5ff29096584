"""Python HTTP load generators: N asyncio clients POSTing transfers for a fixed time (httpx), and the
open loop at a fixed arrival rate (raw sockets). The closed-loop rows use wrk (bench/wrk.py)."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

AMOUNT = "0.01"


@dataclass
class Client:
    """What one simulated client sends: its token, the sources it may debit, where it sends money."""

    token: str
    sources: list[str]
    destinations: list[str]


@dataclass
class Outcome:
    """What a phase measured: completions, latencies in seconds, statuses and problem codes."""

    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    problems: Counter = field(default_factory=Counter)

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def created(self) -> int:
        return self.statuses.get(201, 0)

    @property
    def rate(self) -> float:
        """Successful transfers (201) per second."""
        return self.created / self.elapsed if self.elapsed else 0.0


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def transfer_body(client: Client, currency: str, rng: random.Random) -> str:
    """A transfer of AMOUNT from one of the client's sources to another account, as JSON."""
    source = rng.choice(client.sources)
    destination = rng.choice(client.destinations)
    while destination == source:
        destination = rng.choice(client.destinations)
    return json.dumps({"source": source, "destination": destination, "amount": AMOUNT, "currency": currency})


async def _client_loop(
    http: httpx.AsyncClient, client: Client, currency: str, deadline: float, outcome: Outcome, rng
) -> None:
    headers = {"Authorization": f"Bearer {client.token}", "Content-Type": "application/json"}
    while time.perf_counter() < deadline:
        body = transfer_body(client, currency, rng)
        started = time.perf_counter()
        try:
            response = await http.post(
                "/api/v1/transfers",
                content=body,
                headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
            )
        except httpx.HTTPError as exc:
            outcome.statuses[f"error:{type(exc).__name__}"] += 1
            await asyncio.sleep(0.05)
            continue
        outcome.latencies.append(time.perf_counter() - started)
        outcome.statuses[response.status_code] += 1
        if response.status_code >= 400:
            try:
                code = response.json().get("code", "?")
            except ValueError:
                code = "unparseable"
            outcome.problems[f"{response.status_code} {code}"] += 1


async def _run(base_url: str, clients: list[Client], currency: str, duration: float, seed: int) -> Outcome:
    outcome = Outcome()
    limits = httpx.Limits(max_connections=len(clients), max_keepalive_connections=len(clients))
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60.0) as http:
        started = time.perf_counter()
        deadline = started + duration
        await asyncio.gather(
            *(
                _client_loop(http, client, currency, deadline, outcome, random.Random(seed * 1000 + i))
                for i, client in enumerate(clients)
            )
        )
        outcome.elapsed = time.perf_counter() - started
    return outcome


def run(base_url: str, clients: list[Client], *, currency: str, duration: float, seed: int = 1) -> Outcome:
    """Drive `clients` concurrently for `duration` seconds (each stops starting requests at the deadline)."""
    return asyncio.run(_run(base_url, clients, currency, duration, seed))


async def _open_loop(
    base_url: str, clients: list[Client], currency: str, rate: float, duration: float, seed: int
) -> Outcome:
    """Each request on its own connection (sync gunicorn closes it after the answer), written and read as
    raw bytes: about a tenth of httpx's CPU per request, so the generator takes little from the server."""
    outcome = Outcome()
    rng = random.Random(seed)
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80

    async def one(scheduled: float, client: Client) -> None:
        body = transfer_body(client, currency, rng).encode()
        head = (
            f"POST /api/v1/transfers HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {client.token}\r\nContent-Type: application/json\r\n"
            f"Idempotency-Key: {uuid.uuid4().hex}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        try:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(head + body)
            answer = await reader.read()  # to EOF: the server closes the connection after its answer
            writer.close()
            status = int(answer.split(b" ", 2)[1])
        except (OSError, IndexError, ValueError) as exc:
            outcome.statuses[f"error:{type(exc).__name__}"] += 1
            return
        # From the moment it was due, not when it was sent: no coordinated omission.
        outcome.latencies.append(time.perf_counter() - scheduled)
        outcome.statuses[status] += 1
        if status >= 400:
            outcome.problems[f"{status}"] += 1

    started = time.perf_counter()
    tasks = []
    n = int(rate * duration)
    for i in range(n):
        due = started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due, clients[i % len(clients)])))
    await asyncio.gather(*tasks)
    outcome.elapsed = time.perf_counter() - started
    return outcome


def run_open(
    base_url: str, clients: list[Client], *, currency: str, rate: float, duration: float, seed: int = 1
) -> Outcome:
    """Open loop: requests start at a fixed arrival rate whatever the answers, latency from their due time."""
    return asyncio.run(_open_loop(base_url, clients, currency, rate, duration, seed))
