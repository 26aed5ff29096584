"""The payments API without a worker: bad input changes nothing, retries create nothing twice, and
concurrent refunds never exceed what was captured."""

import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from core.testing import run_in_threads
from ledger.models import Account
from ledger.tests.factories import AccountFactory
from payments import services
from payments.models import OutboxMessage, Payment, Refund
from payments.providers import ProviderCharge
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db


def create(client, data, key=None):
    return client.post("/api/v1/payments", data, format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex)


@pytest.fixture
def account(auth_client):
    return AccountFactory(owner=auth_client.user)


def valid(account, /, **change):
    return {
        "account": str(account.pk),
        "amount": "10.00",
        "currency": "USD",
        "payment_method": "pm_card_visa",
        **change,
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "10.001"}, "amount"),
        ({"amount": "0"}, "amount"),
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "1e2"}, "amount"),
        ({"currency": "usd"}, "currency"),
        ({"capture_method": "later"}, "capture_method"),
        ({"payment_method": ""}, "payment_method"),
        ({"account": "not-a-uuid"}, "account"),
        ({"metadata": {"k": {"nested": 1}}}, "metadata.k"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_creates_nothing(auth_client, account, change, field):
    response = create(auth_client, valid(account, **change))
    assert response.status_code == 400 and field in response.json()["errors"], response.content
    assert not Payment.objects.exists() and not OutboxMessage.objects.exists()


def test_a_mismatched_or_foreign_account_is_refused(auth_client, account):
    eur = AccountFactory(owner=auth_client.user, currency="EUR")
    assert create(auth_client, valid(eur)).json()["code"] == "currency_mismatch"
    assert create(auth_client, valid(AccountFactory())).status_code == 404
    assert not Payment.objects.exists()


def test_a_retried_create_makes_one_payment_and_one_message(auth_client, account):
    first = create(auth_client, valid(account), key="pay-1")
    again = create(auth_client, valid(account), key="pay-1")
    assert first.status_code == again.status_code == 202
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1 and OutboxMessage.objects.count() == 1
    other = create(auth_client, valid(account, amount="11.00"), key="pay-1")
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"


def test_a_create_without_a_key_is_refused(auth_client, account):
    response = auth_client.post("/api/v1/payments", valid(account), format="json")
    assert response.status_code == 400 and response.json()["code"] == "idempotency_key_missing"


def test_list_filters_by_status_and_refuses_an_unknown_one(auth_client, account):
    PaymentFactory(user=auth_client.user, account=account)
    assert auth_client.get("/api/v1/payments", {"status": "processing"}).json()["count"] == 1
    assert auth_client.get("/api/v1/payments", {"status": "succeeded"}).json()["count"] == 0
    assert auth_client.get("/api/v1/payments", {"status": "lost"}).status_code == 400


@pytest.mark.parametrize("amount", ["0", "1.001", "abc"])
def test_a_bad_refund_amount_is_a_400(auth_client, account, amount):
    payment = PaymentFactory(user=auth_client.user, account=account)
    response = auth_client.post(
        f"/api/v1/payments/{payment.pk}/refunds", {"amount": amount}, format="json", HTTP_IDEMPOTENCY_KEY="r"
    )
    assert response.status_code == 400 and "amount" in response.json()["errors"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_never_exceed_what_was_captured(settings):
    settings.PAYMENTS_FEE_BPS, settings.PAYMENTS_FEE_FIXED = 0, {}
    payment = PaymentFactory(amount=10_000)
    services.payment_apply_charge(
        payment_id=payment.pk,
        causation_id="t",
        source="test",
        charge=ProviderCharge(
            id="ch_concurrent",
            status="succeeded",
            amount=10_000,
            amount_captured=10_000,
            amount_refunded=0,
            currency="USD",
            failure_code=None,
            failure_message=None,
            created=datetime.now(UTC),
        ),
    )
    token = str(AccessToken.for_user(payment.user))

    def refund(_):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        response = client.post(
            f"/api/v1/payments/{payment.pk}/refunds",
            {"amount": "30.00"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
        )
        return response.status_code, response.json().get("code")

    # Ten clients ask for 30.00 each out of 100.00 at once: three fit, the rest are refused.
    outcomes = Counter(run_in_threads(10, refund))
    assert outcomes == {(202, None): 3, (422, "amount_exceeds_refundable"): 7}
    assert sum(Refund.objects.values_list("amount", flat=True)) == 9_000
    account = Account.objects.get(pk=payment.account_id)
    assert (account.pending_debits, account.available) == (9_000, 1_000)
