"""`manage.py settle`: import a provider's settlement report for a day and post the settlement of what
matched (one balanced transfer per payout and currency). Running it again posts nothing new.

Exit status: 0 every matched line settled and none left over, 1 lines left unsettled because they are
discrepancies, 2 bad input or usage.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ...errors import ReconciliationError
from ...presentation import ProgressBar, result_text
from ...services import settle_day
from ._common import EXIT_DISCREPANCIES, failed, iso_date, schedule


class Command(BaseCommand):
    help = "Import a provider's settlement report for a day and post the settlement of the matched lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--provider", required=True, help="A name from PAYMENT_PROVIDERS.")
        parser.add_argument("--date", type=iso_date, required=True, help="The day, YYYY-MM-DD (UTC).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Write nothing: show what would be settled."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        progress = ProgressBar(label=f"settle {options['provider']}")
        try:
            result = settle_day(
                provider=options["provider"],
                day=options["date"],
                dry_run=options["dry_run"],
                schedule=schedule(),
                progress=progress,
            )
        except ReconciliationError as exc:
            raise failed(exc) from None
        finally:
            progress.close()
        self.stdout.write("\n".join(result_text(result)))
        if result.unsettled:
            sys.exit(EXIT_DISCREPANCIES)
