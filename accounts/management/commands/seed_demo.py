"""`manage.py seed_demo`: the demo users and accounts that `make run` prints, and a settled and reconciled
day of demo card payments (reconciliation_demo). Safe to run again."""

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import FINANCE_APPROVER_GROUP, FINANCE_GROUP, OPERATORS_GROUP, User
from accounts.services import staff_user_ensure
from ledger import services as ledger
from ledger.models import Account, TransferKind

DEMO_PASSWORD = "ledgerpay-demo"  # noqa: S105 — demo data for a local run only
STAFF = (
    ("admin@ledgerpay.local", None, True),
    ("finance@ledgerpay.local", FINANCE_GROUP, False),
    ("approver@ledgerpay.local", FINANCE_APPROVER_GROUP, False),
    ("operator@ledgerpay.local", OPERATORS_GROUP, False),
)
CLIENT_EMAIL = "demo@ledgerpay.local"


class Command(BaseCommand):
    help = "Create the demo users (staff of each group and a client with funded accounts)."

    def handle(self, *args: object, **options: object) -> None:
        self.users_and_accounts()
        # The reconciliation app's demo day (by command name: nothing imports that app).
        call_command("reconciliation_demo", stdout=self.stdout)
        # The back office's pending adjustment, proposed by the demo finance user for a discrepancy.
        from backoffice.demo import demo_adjustment_propose

        demo_adjustment_propose(finance=User.objects.get(email="finance@ledgerpay.local"))

    @transaction.atomic
    def users_and_accounts(self) -> None:
        for email, group, superuser in STAFF:
            staff_user_ensure(
                email=email, password=DEMO_PASSWORD, group=group or FINANCE_GROUP, superuser=superuser
            )
        client, created = User.objects.get_or_create(email=CLIENT_EMAIL)
        if created:
            client.set_password(DEMO_PASSWORD)
            client.save()
        if not Account.objects.filter(owner=client).exists():
            usd = ledger.account_create(owner=client, currency="USD", name="Demo USD")
            ledger.account_create(owner=client, currency="EUR", name="Demo EUR")
            world = ledger.system_account_get(code=ledger.SystemAccount.WORLD, currency="USD")
            ledger.transfer_create(
                source_id=world.pk,
                destination_id=usd.pk,
                amount=100_000,
                currency="USD",
                kind=TransferKind.DEPOSIT,
                description="Demo opening balance",
            )
        from backoffice.demo import demo_payments_seed

        demo_usd = Account.objects.filter(owner=client, currency="USD").order_by("created_at").first()
        if demo_usd is not None:
            demo_payments_seed(client=client, account=demo_usd)
        self.stdout.write(f"Demo users (password for all: {DEMO_PASSWORD}):")
        for email, group, superuser in STAFF:
            self.stdout.write(f"  {email:<28} {'superuser' if superuser else group} (admin: /admin/)")
        accounts = ", ".join(
            f"{a.currency} {a.pk}" for a in Account.objects.filter(owner=client).order_by("currency")
        )
        self.stdout.write(f"  {CLIENT_EMAIL:<28} API client; accounts: {accounts}")
