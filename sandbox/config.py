"""The sandbox's run-time configuration: every knob, its validation, and the provider's fee rule.

Knobs are set at launch (command-line flags) and changed at run time (POST /_sandbox/config); a bad
value is refused as a whole and changes nothing.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# The faults the settlement report can carry on purpose (see settlement.py for what each one does).
FAULT_KINDS = (
    "amount_mismatch",
    "currency_mismatch",
    "fee_mismatch",
    "missing_in_ledger",
    "missing_at_provider",
    "duplicate_line",
    "payout_mismatch",
)
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fee_fixed(value: Any) -> bool:
    if _integer(value):
        return value >= 0
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and len(k) == 3 and k.isupper() and _integer(v) and v >= 0
        for k, v in value.items()
    )


def _fault_counts(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        k in FAULT_KINDS and _integer(v) and v >= 0 for k, v in value.items()
    )


def _faults_by_day(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and _DAY.match(k) and _fault_counts(v) for k, v in value.items()
    )


# Knobs settable at run time: name -> (validator, description of what is accepted).
_KNOBS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "latency_ms": (lambda v: _integer(v) and v >= 0, "an integer >= 0"),
    "failure_rate": (lambda v: _number(v) and 0 <= v <= 1, "a number in [0, 1]"),
    "seed": (lambda v: v is None or _integer(v), "an integer or null"),
    "async_delay": (lambda v: _number(v) and v >= 0, "a number of seconds >= 0"),
    "timeout_delay": (lambda v: _number(v) and v >= 0, "a number of seconds >= 0"),
    "flaky_failures": (lambda v: _integer(v) and v >= 0, "an integer >= 0"),
    "fee_bps": (lambda v: _integer(v) and 0 <= v <= 10_000, "an integer in [0, 10000]"),
    "fee_fixed": (_fee_fixed, "an integer >= 0 or an object of currency -> integer >= 0"),
    "payout_delay_days": (lambda v: _integer(v) and 0 <= v <= 30, "an integer in [0, 30]"),
    "settlement_faults": (_fault_counts, f"an object of fault -> count, faults: {', '.join(FAULT_KINDS)}"),
    "settlement_faults_by_day": (_faults_by_day, "an object of YYYY-MM-DD -> {fault: count}"),
    "lost_webhooks": (lambda v: _integer(v) and v >= 0, "an integer >= 0"),
    "webhook_url": (
        lambda v: v is None or (isinstance(v, str) and v.startswith(("http://", "https://"))),
        "an http(s) URL or null",
    ),
    "webhook_secrets": (
        lambda v: isinstance(v, list | tuple) and all(isinstance(s, str) and s for s in v),
        "a list of non-empty strings",
    ),
    "webhook_max_attempts": (lambda v: _integer(v) and v >= 1, "an integer >= 1"),
    "webhook_retry_base": (lambda v: _number(v) and v >= 0, "a number of seconds >= 0"),
    "webhook_timeout": (lambda v: _number(v) and v > 0, "a number of seconds > 0"),
}


@dataclass(frozen=True)
class SandboxConfig:
    latency_ms: int = 0
    failure_rate: float = 0.0
    seed: int | None = None
    async_delay: float = 0.5
    timeout_delay: float = 5.0
    flaky_failures: int = 2
    fee_bps: int = 290
    # Fixed part of the capture fee in minor units: one value for every currency, or per currency
    # (a currency not listed then pays no fixed part).
    fee_fixed: int | Mapping[str, int] = 30
    payout_delay_days: int = 2
    settlement_faults: Mapping[str, int] = field(default_factory=dict)
    settlement_faults_by_day: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    lost_webhooks: int = 0
    webhook_url: str | None = None
    webhook_secrets: tuple[str, ...] = field(default_factory=tuple)
    webhook_max_attempts: int = 6
    webhook_retry_base: float = 0.5
    webhook_timeout: float = 5.0

    def __post_init__(self) -> None:
        for name, (valid, accepted) in _KNOBS.items():
            if not valid(getattr(self, name)):
                raise ValueError(f"{name} must be {accepted}")
        object.__setattr__(self, "webhook_secrets", tuple(self.webhook_secrets))

    def updated(self, changes: dict[str, Any]) -> SandboxConfig:
        changes = dict(changes)
        if "webhook_secret" in changes:  # the singular form, as on the command line
            secret = changes.pop("webhook_secret")
            changes["webhook_secrets"] = [secret] if isinstance(secret, str) else secret
        unknown = set(changes) - set(_KNOBS)
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def public(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["webhook_secrets"] = [f"{s[:6]}..." for s in self.webhook_secrets]
        return data

    def fee(self, amount: int, currency: str) -> int:
        # Integer basis points, rounded half up: money never goes through a float.
        fixed = self.fee_fixed if isinstance(self.fee_fixed, int) else self.fee_fixed.get(currency, 0)
        return fixed + (amount * self.fee_bps + 5_000) // 10_000

    def faults_for(self, day: str) -> dict[str, int]:
        """The fault counts for one day's report: the day's own entry, else the every-day one."""
        counts = self.settlement_faults_by_day.get(day, self.settlement_faults)
        return {kind: n for kind, n in counts.items() if n}


def parse_fee_fixed(text: str) -> int | dict[str, int]:
    """The --fee-fixed flag: `30` for every currency, or `USD=30,EUR=25` per currency."""
    if "=" not in text:
        return int(text)
    result: dict[str, int] = {}
    for part in text.split(","):
        code, _, value = part.partition("=")
        result[code.strip().upper()] = int(value)
    return result
