import factory

from accounts.tests.factories import UserFactory
from ledger.tests.factories import AccountFactory
from payments.models import Payment


class PaymentFactory(factory.django.DjangoModelFactory):
    """A payment row as payment_create leaves it (processing); drive it on with the services."""

    class Meta:
        model = Payment

    user = factory.SubFactory(UserFactory)
    account = factory.LazyAttribute(lambda o: AccountFactory(owner=o.user, currency=o.currency))
    amount = 10_000
    currency = "USD"
    payment_method = "pm_card_visa"
    provider = "sandbox"
    correlation_id = factory.Faker("hexify", text="^" * 32)
