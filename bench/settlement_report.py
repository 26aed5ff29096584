"""Settlement report file format at scale: write a day of N lines, then parse it, timed, with peak memory.

    .venv/bin/python -m bench.settlement_report --lines 1000000 [--keep PATH]

Writes the report with payments.providers.settlement.settlement_lines_write (three currencies, one batch
each, closed by its payout), then parses it in a fresh child process with settlement_lines_read, so the
child's peak RSS is the parser's alone. The same writer makes the 1,000,000-line day of the
reconciliation benchmark. No database needed.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

DAY = date(2026, 11, 30)
CURRENCIES = ("EUR", "USD", "JPY")


def day_of_lines(count: int, *, day: date = DAY) -> Iterator:
    """count charge lines over the day, three batches (one per currency), each closed by its payout."""
    from payments.providers.base import SettlementLine, SettlementLineType

    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    available_on = day + timedelta(days=2)
    for c, currency in enumerate(CURRENCIES):
        batch, payout = f"ba_{day:%Y%m%d}_{currency.lower()}", f"po_{day:%Y%m%d}_{currency.lower()}"
        share = count // len(CURRENCIES) + (1 if c < count % len(CURRENCIES) else 0)
        total = 0
        for i in range(share):
            gross = 500 + (i * 7919) % 100_000
            fee = 30 + (gross * 290 + 5_000) // 10_000
            total += gross - fee
            yield SettlementLine(
                line_number=0,
                line_id=f"sl_{c}_{i:09d}",
                line_type=SettlementLineType.CHARGE,
                psp_reference=f"ch_{c}_{i:09d}",
                merchant_reference=f"00000000-0000-4000-8000-{c:03d}{i:09d}",
                batch_id=batch,
                payout_id=payout,
                created_at=start + timedelta(seconds=(i * 86_399) // max(share, 1)),
                available_on=available_on,
                currency=currency,
                gross=gross,
                fee=fee,
                net=gross - fee,
            )
        yield SettlementLine(
            line_number=0,
            line_id=f"sl_payout_{c}",
            line_type=SettlementLineType.PAYOUT,
            psp_reference=payout,
            merchant_reference="",
            batch_id=batch,
            payout_id=payout,
            created_at=start + timedelta(seconds=86_399),
            available_on=available_on,
            currency=currency,
            gross=total,
            fee=0,
            net=total,
        )


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parse_child(path: str) -> None:
    from payments.providers.settlement import settlement_lines_read

    started, cpu = time.perf_counter(), time.process_time()
    count = 0
    for _ in settlement_lines_read(path, day=DAY):
        count += 1
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(json.dumps({"lines": count, "seconds": seconds, "cpu": cpu, "peak_mb": _peak_mb()}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--keep", help="write the report here and keep it")
    parser.add_argument("--parse-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.parse_child:
        parse_child(args.parse_child)
        return 0
    from payments.providers.settlement import settlement_lines_write

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep or Path(tmp) / "report.csv")
        started, cpu = time.perf_counter(), time.process_time()
        written = settlement_lines_write(path, day_of_lines(args.lines))
        write_s, write_cpu = time.perf_counter() - started, time.process_time() - cpu
        result = subprocess.run(
            [sys.executable, "-m", "bench.settlement_report", "--parse-child", str(path)],
            check=True,
            capture_output=True,
            text=True,
        )
        parsed = json.loads(result.stdout)
        size_mb = path.stat().st_size / 1e6
    # Wall time depends on what else runs on the machine; CPU seconds are the code's own cost.
    print(
        "| lines | file MB | write s (CPU s) | write peak MB | parse s (CPU s) | parse lines/CPU s | parse peak MB |"
    )
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {written:,} | {size_mb:.0f} | {write_s:.1f} ({write_cpu:.1f}) | {_peak_mb():.0f} "
        f"| {parsed['seconds']:.1f} ({parsed['cpu']:.1f}) | {parsed['lines'] / parsed['cpu']:,.0f} "
        f"| {parsed['peak_mb']:.0f} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
