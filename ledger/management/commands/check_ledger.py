"""`manage.py check_ledger`: prove every balance equals its entries and every transfer balances."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.audit import audit_verify
from ledger.checks import ledger_check
from ledger.models import Account, Entry, Transfer


class Command(BaseCommand):
    help = "Verify the ledger's invariants; exits with status 1 and a report when any is broken."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=20, help="Violations shown per check (default 20).")

    def handle(self, *args: object, limit: int, **options: object) -> None:
        results = ledger_check(limit=limit)
        counts = (Account.objects.count(), Transfer.objects.count(), Entry.objects.count())
        self.stdout.write(f"Checked {counts[0]} accounts, {counts[1]} transfers, {counts[2]} entries.")
        for result in results:
            if result.ok:
                self.stdout.write(self.style.SUCCESS(f"  ok    {result.name}: {result.description}"))
            else:
                self.stdout.write(self.style.ERROR(f"  FAIL  {result.name}: {result.description}"))
                for row in result.violations:
                    self.stdout.write("        " + ", ".join(str(value) for value in row))
        failed = [r.name for r in results if not r.ok]
        audit = audit_verify()
        if audit.broken is None:
            self.stdout.write(
                self.style.SUCCESS(f"  ok    audit_chain: {audit.rows} audit rows chain unbroken")
            )
        else:
            failed.append("audit_chain")
            self.stdout.write(self.style.ERROR(f"  FAIL  audit_chain: {audit.rows} audit rows read"))
            self.stdout.write(f"        row {audit.broken.row_id}: {audit.broken.reason}")
        if failed:
            raise CommandError(f"Ledger check failed: {', '.join(failed)}.", returncode=1)
        self.stdout.write(self.style.SUCCESS("Ledger is consistent."))
