"""How settle and reconcile results are shown to operators: text tables and the JSON contract.

JSON keys (stable): provider, date, report_version, run, kind, dry_run, verdict, counts (per class),
totals (per currency: provider, ledger, explained, unexplained, decimal strings), by_class, discrepancies,
recovered; settle adds settlements and unsettled. Amounts are decimal strings in the currency's major
units, as everywhere in LedgerPay's API.
"""

from __future__ import annotations

import sys
from typing import IO, Any

from core.money import format_amount

from .models import Discrepancy
from .services import STEPS, RunResult


def _amount(minor: int | None, currency: str) -> str | None:
    if minor is None or not currency:
        return None
    try:
        return format_amount(minor, currency)
    except Exception:
        return str(minor)


def discrepancy_json(d: Discrepancy) -> dict[str, Any]:
    expected_currency = d.expected_currency or d.currency
    return {
        "id": str(d.pk),
        "class": d.cls,
        "key": d.key,
        "status": d.status,
        "auto_resolved": d.auto_resolved,
        "currency": d.currency,
        "expected": _amount(d.expected, expected_currency),
        "expected_currency": expected_currency,
        "actual": _amount(d.actual, d.currency),
        "difference": _amount(d.difference, d.currency) if expected_currency == d.currency else None,
        "line_id": d.line.line_id if d.line else None,
        "line_number": d.line.line_number if d.line else None,
        "psp_reference": d.line.psp_reference if d.line else None,
        "payment": str(d.payment_id) if d.payment_id else None,
        "transfer": str(d.transfer_id) if d.transfer_id else None,
        "adjustment": str(d.adjustment_id) if d.adjustment_id else None,
        "resolution_note": d.resolution_note,
        "detail": d.detail,
    }


def result_json(result: RunResult) -> dict[str, Any]:
    data: dict[str, Any] = {
        "provider": result.provider,
        "date": result.day.isoformat(),
        "report_version": result.report.version,
        "report_source": result.report.source,
        "run": None if result.dry_run else str(result.run.pk),
        "kind": result.run.kind,
        "dry_run": result.dry_run,
        "verdict": result.verdict,
        "counts": result.counts,
        "totals": {
            currency: {name: _amount(value, currency) for name, value in values.items()}
            for currency, values in result.totals.items()
        },
        "by_class": [
            {"class": cls, "currency": currency, "count": n, "amount": _amount(total, currency)}
            for cls, currency, n, total in result.by_class
        ],
        "discrepancies": [discrepancy_json(d) for d in result.discrepancies],
        "recovered": result.recovered,
    }
    if result.run.kind == "settle":
        data["settlements"] = [
            {
                "payout_id": s.payout_id,
                "currency": s.currency,
                "transfer": s.transfer_id,
                "lines": s.lines,
                "gross": _amount(s.gross, s.currency),
                "fee": _amount(s.fee, s.currency),
                "net": _amount(s.net, s.currency),
            }
            for s in result.settlements
        ]
        data["unsettled"] = result.unsettled
    return data


def _table(rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(row)
        ).rstrip()
        for row in rows
    ]


def result_text(result: RunResult) -> list[str]:
    what = "Settlement" if result.run.kind == "settle" else "Reconciliation"
    run = "dry run, nothing written" if result.dry_run else f"run {result.run.pk}"
    lines = [
        f"{what} of {result.provider} for {result.day.isoformat()}: report version {result.report.version}"
        f" ({result.report.source}), {run}",
        f"Verdict: {result.verdict}",
        "",
    ]
    rows = [["class", "currency", "count", "amount"]]
    rows += [[cls, cur, str(n), _amount(total, cur) or ""] for cls, cur, n, total in result.by_class]
    lines += _table(rows, {2, 3}) if len(rows) > 1 else ["(no lines)"]
    lines.append("")
    rows = [["currency", "provider", "ledger", "explained", "unexplained"]]
    for currency, t in result.totals.items():
        rows.append(
            [currency]
            + [_amount(t[k], currency) or "" for k in ("provider", "ledger", "explained", "unexplained")]
        )
    if len(rows) > 1:
        lines += _table(rows, {1, 2, 3, 4})
        lines.append("")
    if result.recovered:
        lines.append(
            f"Recovered from the provider's API (lost outcomes applied): {', '.join(result.recovered)}"
        )
    if result.run.kind == "settle":
        if result.settlements:
            rows = [["payout", "currency", "lines", "gross", "fees", "net", "transfer"]]
            for s in result.settlements:
                rows.append(
                    [s.payout_id, s.currency, str(s.lines)]
                    + [_amount(v, s.currency) or "" for v in (s.gross, s.fee, s.net)]
                    + [s.transfer_id]
                )
            lines += ["Settlement transfers posted:", *_table(rows, {2, 3, 4, 5}), ""]
        else:
            lines.append("Nothing new to settle.")
        lines.append(f"Unsettled lines (discrepancies): {result.unsettled}")
    open_items = result.open_discrepancies
    lines.append(f"Open items: {len(open_items)}")
    for d in open_items:
        j = discrepancy_json(d)
        ref = j["line_id"] or j["transfer"]
        actual = "nothing" if j["actual"] is None else f"{j['actual']} {d.currency}"
        detail = f"expected {j['expected']} {j['expected_currency']}, actual {actual}"
        payment = f" payment {j['payment']}" if j["payment"] else ""
        lines.append(f"  {d.cls:<20} {ref}{payment}: {detail} [{d.pk}]")
    return lines


class ProgressBar:
    """Steps of a run as a bar on stderr, only when stderr is a terminal."""

    def __init__(self, stream: IO[str] | None = None, *, label: str = "") -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.label = label
        self.done = 0

    def __call__(self, step: str) -> None:
        if not self.enabled:
            return
        self.done = min(self.done + 1, len(STEPS))
        filled = int(30 * self.done / len(STEPS))
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {step:<8}")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.done:
            self.stream.write("\r" + " " * (len(self.label) + 45) + "\r")
            self.stream.flush()
