import factory

from accounts.tests.factories import UserFactory
from ledger import services
from ledger.models import Account, AccountKind
from ledger.services import SystemAccount


class AccountFactory(factory.django.DjangoModelFactory):
    """A customer account. Give it money with `fund`, never by setting balance."""

    class Meta:
        model = Account

    owner = factory.SubFactory(UserFactory)
    currency = "USD"
    name = factory.Sequence(lambda n: f"Account {n}")
    kind = AccountKind.LIABILITY
    allow_negative = False


def fund(account: Account, amount: int, *, description: str = "Test deposit"):
    """Deposit `amount` minor units from the outside world, through the ledger service."""
    world = services.system_account_get(code=SystemAccount.WORLD, currency=account.currency)
    return services.transfer_create(
        source_id=world.pk,
        destination_id=account.pk,
        amount=amount,
        currency=account.currency,
        kind="deposit",
        description=description,
    ).transfer
