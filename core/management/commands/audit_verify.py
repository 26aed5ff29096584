"""`manage.py audit_verify`: walk the audit log's hash chain; exit 1 naming the first broken row."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from core.audit import audit_verify


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; exits with status 1 and the first broken row otherwise."

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_verify()
        if result.broken is not None:
            raise CommandError(
                f"Audit chain broken at row {result.broken.row_id}: {result.broken.reason} "
                f"({result.rows} rows read).",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {result.rows} rows."))
