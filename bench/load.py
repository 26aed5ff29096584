"""The HTTP load generator: N asyncio clients POSTing transfers for a fixed time (httpx)."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

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


async def _client_loop(
    http: httpx.AsyncClient, client: Client, currency: str, deadline: float, outcome: Outcome, rng
) -> None:
    headers = {"Authorization": f"Bearer {client.token}", "Content-Type": "application/json"}
    while time.perf_counter() < deadline:
        source = rng.choice(client.sources)
        destination = rng.choice(client.destinations)
        while destination == source:
            destination = rng.choice(client.destinations)
        body = json.dumps(
            {"source": source, "destination": destination, "amount": AMOUNT, "currency": currency}
        )
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
    outcome = Outcome()
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60.0) as http:

        async def one(scheduled: float, client: Client) -> None:
            source = rng.choice(client.sources)
            destination = rng.choice(client.destinations)
            while destination == source:
                destination = rng.choice(client.destinations)
            body = json.dumps(
                {"source": source, "destination": destination, "amount": AMOUNT, "currency": currency}
            )
            headers = {
                "Authorization": f"Bearer {client.token}",
                "Content-Type": "application/json",
                "Idempotency-Key": uuid.uuid4().hex,
            }
            try:
                response = await http.post("/api/v1/transfers", content=body, headers=headers)
            except httpx.HTTPError as exc:
                outcome.statuses[f"error:{type(exc).__name__}"] += 1
                return
            # From the moment it was due, not when it was sent: no coordinated omission.
            outcome.latencies.append(time.perf_counter() - scheduled)
            outcome.statuses[response.status_code] += 1
            if response.status_code >= 400:
                outcome.problems[f"{response.status_code}"] += 1

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
