"""Settlement: what the sandbox pays out, as an itemized report like a real processor's (Stripe's payout
reconciliation report, Adyen's settlement details).

Every capture and refund writes a settlement line for its UTC day (Store._settle). A day's report is
published as an immutable CSV version: the first fetch of a day publishes version 1, and
POST /_sandbox/settlement_reports/{day} publishes a correction as the next version; older versions stay
retrievable byte for byte.

CSV columns (header row first, UTF-8, comma-separated):
  line_id, line_type, psp_reference, merchant_reference, batch_id, payout_id, created_at, available_on,
  currency, gross, fee, net
- line_type: charge (gross = captured amount, fee per the fee rule), refund (gross and net negative,
  fee 0), payout (one per batch, closing it: gross = net = the batch's Σ net, fee 0).
- psp_reference: the charge id (ch_...), refund id (re_...) or payout id (po_...);
  merchant_reference: the client's reference of the charge (LedgerPay's payment id) or the refund's
  Idempotency-Key (LedgerPay's `ref_<refund id hex>`).
- one batch (and one payout) per currency and day; available_on = day + payout_delay_days.
- created_at is ISO 8601 UTC (`2026-12-01T10:00:00Z`); amounts are decimal major units with exactly the
  currency's digits, negative with a leading '-'.

Faults (run-time config `settlement_faults` {kind: count} for every day, or `settlement_faults_by_day`
{day: {kind: count}}), chosen by a generator seeded with (seed, day), so the same config gives the same
report: amount_mismatch (gross differs from the captured amount by 1..100 minor units; fee follows the
rule on the wrong gross), currency_mismatch (the charge line carries another currency with the same
digits), fee_mismatch (fee 1..50 minor units above the rule), missing_in_ledger (a charge line for a
charge nobody asked for: unknown psp and merchant references), missing_at_provider (a captured charge
left out), duplicate_line (a charge line repeated with a new line_id), payout_mismatch (a batch's payout
differs from its Σ net by 1..100 minor units). Every line a fault touched gets a new line_id; the faults
of a version are listed by GET /_sandbox/settlement_reports/{day}?version=N.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from iso4217 import Currency

from .protocol import ApiError
from .store import Store

COLUMNS = (
    "line_id",
    "line_type",
    "psp_reference",
    "merchant_reference",
    "batch_id",
    "payout_id",
    "created_at",
    "available_on",
    "currency",
    "gross",
    "fee",
    "net",
)
_SWAP_CURRENCIES = ("EUR", "USD", "GBP", "CHF", "JPY", "KRW", "BHD", "KWD")
_VICTIM_FAULTS = (
    "amount_mismatch",
    "currency_mismatch",
    "fee_mismatch",
    "missing_at_provider",
    "duplicate_line",
)


@cache
def exponent(currency: str) -> int:
    try:
        digits = Currency(currency).exponent
    except ValueError:
        digits = None
    return 2 if digits is None else digits


def format_amount(minor: int, currency: str) -> str:
    digits = exponent(currency)
    sign = "-" if minor < 0 else ""
    if digits == 0:
        return f"{sign}{abs(minor)}"
    whole, fraction = divmod(abs(minor), 10**digits)
    return f"{sign}{whole}.{fraction:0{digits}d}"


@dataclass(frozen=True)
class Line:
    line_id: str
    line_type: str
    psp_reference: str
    merchant_reference: str
    currency: str
    gross: int
    fee: int
    created_at: int  # unix seconds

    @property
    def net(self) -> int:
        return self.gross - self.fee


class SettlementReports(Store):
    """Publishing and serving the itemized settlement reports."""

    # --- reads -----------------------------------------------------------------------------------

    def settlement_report(self, day: date, version: int | None = None) -> tuple[int, bytes]:
        """(version, CSV bytes) of one version of a day's report; the latest when version is None,
        publishing version 1 if the day has none yet."""
        with self.lock:
            if version is None:
                (latest,) = self.conn.execute(
                    "SELECT MAX(version) FROM settlement_reports WHERE day = ?", (day.isoformat(),)
                ).fetchone()
                version = latest if latest is not None else self.settlement_report_publish(day)["version"]
            row = self.conn.execute(
                "SELECT body FROM settlement_reports WHERE day = ? AND version = ?",
                (day.isoformat(), version),
            ).fetchone()
        if row is None:
            raise ApiError(404, "report_not_found", f"No settlement report {day} version {version}.")
        return version, bytes(row["body"])

    def settlement_report_versions(self, day: date) -> list[dict[str, Any]]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT version, created, faults FROM settlement_reports WHERE day = ? ORDER BY version",
                (day.isoformat(),),
            ).fetchall()
        return [
            {"version": r["version"], "created": r["created"], "faults": json.loads(r["faults"])}
            for r in rows
        ]

    # --- publishing ------------------------------------------------------------------------------

    def settlement_report_publish(self, day: date) -> dict[str, Any]:
        """Freeze the day's lines, with the configured faults, as the next version of its report."""
        with self.lock, self.conn:
            (latest,) = self.conn.execute(
                "SELECT MAX(version) FROM settlement_reports WHERE day = ?", (day.isoformat(),)
            ).fetchone()
            version = (latest or 0) + 1
            body, faults = self._build_report(day)
            self.conn.execute(
                "INSERT INTO settlement_reports (day, version, created, faults, body) VALUES (?, ?, ?, ?, ?)",
                (day.isoformat(), version, int(self.clock()), json.dumps(faults), body),
            )
        return {"day": day.isoformat(), "version": version, "faults": faults}

    def _base_lines(self, day: date) -> list[Line]:
        rows = self.conn.execute(
            "SELECT * FROM settlement_lines WHERE day = ? ORDER BY seq", (day.isoformat(),)
        ).fetchall()
        lines = []
        for r in rows:
            refund = r["type"] == "refund"
            lines.append(
                Line(
                    line_id=r["line_id"] or f"sl_{r['seq']:024d}",
                    line_type="refund" if refund else "charge",
                    psp_reference=r["refund_id"] if refund else r["charge_id"],
                    merchant_reference=r["reference"] or "",
                    currency=r["currency"],
                    gross=-r["amount"] if refund else r["amount"],
                    fee=r["fee"],
                    created_at=r["occurred_at"],
                )
            )
        return lines

    def _build_report(self, day: date) -> tuple[bytes, list[dict[str, Any]]]:
        config = self.config
        rng = random.Random(f"{config.seed}:{day.isoformat()}")  # noqa: S311  (reproducible faults)

        def fresh_id(prefix: str) -> str:
            return f"{prefix}_{rng.getrandbits(96):024x}"

        lines = self._base_lines(day)
        counts = config.faults_for(day.isoformat())
        faults: list[dict[str, Any]] = []
        pool = [i for i, line in enumerate(lines) if line.line_type == "charge"]
        changed: dict[int, Line] = {}
        dropped: set[int] = set()
        duplicated: dict[int, Line] = {}
        for kind in _VICTIM_FAULTS:
            wanted = counts.get(kind, 0)
            victims = rng.sample(pool, min(wanted, len(pool)))
            pool = [i for i in pool if i not in victims]
            for i in sorted(victims):
                line = lines[i]
                if kind == "amount_mismatch":
                    gross = line.gross + rng.randint(1, 100)
                    new = replace(
                        line, line_id=fresh_id("sl"), gross=gross, fee=config.fee(gross, line.currency)
                    )
                elif kind == "currency_mismatch":
                    same_digits = [
                        c
                        for c in _SWAP_CURRENCIES
                        if c != line.currency and exponent(c) == exponent(line.currency)
                    ]
                    new = replace(line, line_id=fresh_id("sl"), currency=(same_digits or ["EUR"])[0])
                elif kind == "fee_mismatch":
                    new = replace(line, line_id=fresh_id("sl"), fee=line.fee + rng.randint(1, 50))
                elif kind == "missing_at_provider":
                    dropped.add(i)
                    new = line
                else:  # duplicate_line
                    new = replace(line, line_id=fresh_id("sl"))
                    duplicated[i] = new
                if kind in ("amount_mismatch", "currency_mismatch", "fee_mismatch"):
                    changed[i] = new
                faults.append(
                    {
                        "kind": kind,
                        "line_id": new.line_id,
                        "psp_reference": line.psp_reference,
                        "merchant_reference": line.merchant_reference,
                    }
                )
            if wanted > len(victims):
                faults.append(
                    {"kind": kind, "skipped": wanted - len(victims), "reason": "not enough charges"}
                )
        out: list[Line] = []
        for i, line in enumerate(lines):
            if i in dropped:
                continue
            out.append(changed.get(i, line))
            if i in duplicated:
                out.append(duplicated[i])
        start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
        usual = Counter(line.currency for line in lines).most_common(1)
        for _ in range(counts.get("missing_in_ledger", 0)):
            currency = usual[0][0] if usual else "EUR"
            gross = rng.randint(100, 100_000)
            line = Line(
                line_id=fresh_id("sl"),
                line_type="charge",
                psp_reference=fresh_id("ch"),
                merchant_reference=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                currency=currency,
                gross=gross,
                fee=config.fee(gross, currency),
                created_at=start + rng.randrange(86_400 - 1),
            )
            out.append(line)
            faults.append(
                {
                    "kind": "missing_in_ledger",
                    "line_id": line.line_id,
                    "psp_reference": line.psp_reference,
                    "merchant_reference": line.merchant_reference,
                }
            )
        currencies = sorted({line.currency for line in out})
        off_by: dict[str, int] = {}
        wanted = counts.get("payout_mismatch", 0)
        for currency in rng.sample(currencies, min(wanted, len(currencies))):
            off_by[currency] = rng.choice((-1, 1)) * rng.randint(1, 100)
        if wanted > len(currencies):
            faults.append(
                {
                    "kind": "payout_mismatch",
                    "skipped": wanted - len(currencies),
                    "reason": "not enough batches",
                }
            )
        return self._csv(day, out, currencies, off_by, faults), faults

    def _csv(
        self,
        day: date,
        lines: list[Line],
        currencies: list[str],
        off_by: dict[str, int],
        faults: list[dict[str, Any]],
    ) -> bytes:
        stamp = day.strftime("%Y%m%d")
        available_on = (day + timedelta(days=self.config.payout_delay_days)).isoformat()
        closing = int(datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC).timestamp())
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        for currency in currencies:
            batch_id = f"ba_{self.name}_{stamp}_{currency.lower()}"
            payout_id = f"po_{self.name}_{stamp}_{currency.lower()}"
            batch = sorted((x for x in lines if x.currency == currency), key=lambda x: x.created_at)
            for line in batch:
                writer.writerow(self._row(line, batch_id, payout_id, available_on))
            total = sum(line.net for line in batch) + off_by.get(currency, 0)
            digest = hashlib.sha256(f"{batch_id}:{total}".encode()).hexdigest()[:24]
            payout = Line(f"sl_{digest}", "payout", payout_id, "", currency, total, 0, closing)
            writer.writerow(self._row(payout, batch_id, payout_id, available_on))
            if currency in off_by:
                faults.append(
                    {
                        "kind": "payout_mismatch",
                        "line_id": payout.line_id,
                        "psp_reference": payout_id,
                        "batch_id": batch_id,
                        "off_by": off_by[currency],
                    }
                )
        return buffer.getvalue().encode()

    @staticmethod
    def _row(line: Line, batch_id: str, payout_id: str, available_on: str) -> list[str]:
        created = datetime.fromtimestamp(line.created_at, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return [
            line.line_id,
            line.line_type,
            line.psp_reference,
            line.merchant_reference,
            batch_id,
            payout_id,
            created,
            available_on,
            line.currency,
            format_amount(line.gross, line.currency),
            format_amount(line.fee, line.currency),
            format_amount(line.net, line.currency),
        ]
