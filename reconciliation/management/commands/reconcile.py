"""`manage.py reconcile`: match a provider's settlement report to the ledger and report the differences.

Exit status: 0 everything matched (pending captures allowed), 1 discrepancies, 2 bad input or usage.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ...errors import ReconciliationError
from ...models import Verdict
from ...presentation import ProgressBar, result_json, result_text
from ...services import reconcile_day, reconcile_range
from ._common import EXIT_DISCREPANCIES, EXIT_OK, dumps, failed, iso_date, schedule, usage_error


class Command(BaseCommand):
    help = "Reconcile a provider's settlement report for a day (or a range of days) against the ledger."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--provider", required=True, help="A name from PAYMENT_PROVIDERS.")
        parser.add_argument("--date", type=iso_date, help="The day, YYYY-MM-DD (UTC).")
        parser.add_argument("--from", dest="first", type=iso_date, help="First day of a range, YYYY-MM-DD.")
        parser.add_argument("--to", dest="last", type=iso_date, help="Last day of a range, YYYY-MM-DD.")
        parser.add_argument(
            "--file", type=Path, help="The report as a CSV file instead of the provider's API."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Write nothing: show what a run would find."
        )
        parser.add_argument("--format", choices=("text", "json"), default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        day, first, last = options["date"], options["first"], options["last"]
        if day is not None and (first is not None or last is not None):
            raise usage_error("give either --date or --from and --to, not both")
        if day is None and (first is None or last is None):
            raise usage_error("give --date, or both --from and --to")
        if options["file"] is not None and day is None:
            raise usage_error("--file goes with --date (a file is one day's report)")
        progress = ProgressBar(label=f"reconcile {options['provider']}")
        try:
            if day is not None:
                results = [
                    reconcile_day(
                        provider=options["provider"],
                        day=day,
                        file=options["file"],
                        dry_run=options["dry_run"],
                        schedule=schedule(),
                        progress=progress,
                    )
                ]
            else:
                results = reconcile_range(
                    provider=options["provider"],
                    first=first,
                    last=last,
                    dry_run=options["dry_run"],
                    schedule=schedule(),
                    progress=progress,
                )
        except ReconciliationError as exc:
            raise failed(exc) from None
        finally:
            progress.close()
        if options["format"] == "json":
            if day is not None:
                self.stdout.write(dumps(result_json(results[0])))
            else:
                verdicts = [r.verdict for r in results]
                severity = [Verdict.RECONCILED, Verdict.RECONCILED_WITH_PENDING, Verdict.BREAKS]
                worst = max(verdicts, key=lambda verdict: severity.index(Verdict(verdict)))
                self.stdout.write(
                    dumps(
                        {
                            "provider": options["provider"],
                            "from": first.isoformat(),
                            "to": last.isoformat(),
                            "verdict": worst,
                            "days": [result_json(r) for r in results],
                        }
                    )
                )
        else:
            for i, result in enumerate(results):
                if i:
                    self.stdout.write("")
                self.stdout.write("\n".join(result_text(result)))
        code = EXIT_DISCREPANCIES if any(r.verdict == Verdict.BREAKS for r in results) else EXIT_OK
        if code:
            sys.exit(code)
