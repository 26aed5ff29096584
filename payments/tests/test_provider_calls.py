"""The worker's provider calls against a real sandbox process: a refused request."""

import pytest

from ledger.tests.factories import AccountFactory
from payments import services
from payments.models import CaptureMethod, PaymentEvent, PaymentStatus
from payments.providers import get_provider

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


@pytest.fixture
def provider(sandbox_server, settings):
    settings.PAYMENT_PROVIDERS = {
        **settings.PAYMENT_PROVIDERS,
        "sandbox": {
            **settings.PAYMENT_PROVIDERS["sandbox"],
            "base_url": sandbox_server.base_url,
            "api_key": sandbox_server.api_key,
            "webhook_secret": sandbox_server.webhook_secret,
        },
    }
    settings.PAYMENTS_PRIMARY_PROVIDER, settings.PAYMENTS_SECONDARY_PROVIDER = "sandbox", ""
    return sandbox_server


def test_a_capture_the_provider_refuses_is_recorded_and_the_client_may_ask_again(provider, user):
    account = AccountFactory(owner=user)
    payment = services.payment_create(
        user=user,
        account_id=account.pk,
        amount=5_000,
        currency="USD",
        payment_method="pm_card_visa",
        capture_method=CaptureMethod.MANUAL,
    )
    services.payment_authorize(payment_id=payment.pk, message_id="m-authorize")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REQUIRES_CAPTURE
    services.payment_capture_request(user=user, payment_id=payment.pk, amount=5_000)
    # Someone voids the authorization at the provider in the meantime: our capture will be refused.
    get_provider("sandbox").cancel(charge_id=payment.provider_charge_id, idempotency_key="can_elsewhere")

    services.payment_capture(payment_id=payment.pk, message_id="m-capture")

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REQUIRES_CAPTURE and payment.capture_requested_amount is None
    refused = PaymentEvent.objects.get(payment=payment, type="capture_refused")
    assert refused.causation_id == "m-capture" and refused.data["code"] == "charge_not_capturable"
    assert provider.charge_count(reference=str(payment.pk)) == 1
    assert not PaymentEvent.objects.filter(payment=payment, type="ledger_posted").exists()
