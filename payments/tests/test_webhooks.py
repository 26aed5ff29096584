"""Signed webhooks through the API: bad, stale and replayed ones change nothing; late ones never go back."""

import json
import time

import pytest

from ledger.models import Transfer
from payments.models import PaymentStatus, ProviderWebhook
from payments.providers.signatures import SIGNATURE_HEADER, sign
from payments.tests.factories import PaymentFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/webhooks/sandbox"


def secret(settings) -> str:
    return settings.PAYMENT_PROVIDERS["sandbox"]["webhook_secret"]


def event(payment, type_, status, *, event_id="evt_1", captured=None):
    return {
        "id": event_id,
        "type": type_,
        "created": int(time.time()),
        "data": {
            "object": {
                "object": "charge",
                "id": f"ch_{payment.pk.hex[:12]}",
                "status": status,
                "amount": payment.amount,
                "amount_captured": payment.amount if captured is None else captured,
                "amount_refunded": 0,
                "currency": payment.currency,
                "failure_code": None,
                "failure_message": None,
                "created": int(time.time()),
                "reference": str(payment.pk),
                "idempotency_key": payment.provider_idempotency_key,
                "metadata": {},
                "payment_method": payment.payment_method,
                "capture": True,
            }
        },
    }


def deliver(api_client, settings, body: dict, *, timestamp=None, key=None):
    payload = json.dumps(body).encode()
    header = sign(payload, key or secret(settings), int(timestamp or time.time()))
    return api_client.post(
        URL,
        payload,
        content_type="application/json",
        **{f"HTTP_{SIGNATURE_HEADER.upper().replace('-', '_')}": header},
    )


def test_a_signed_webhook_moves_the_payment(api_client, settings):
    payment = PaymentFactory()
    response = deliver(api_client, settings, event(payment, "charge.succeeded", "succeeded"))
    assert response.status_code == 200 and response.json() == {"outcome": "applied"}
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.events.filter(type="webhook_received", causation_id="evt_1").exists()


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        ("body", "webhook_signature_invalid"),
        ("secret", "webhook_signature_invalid"),
        ("stale", "webhook_signature_expired"),
        ("missing", "webhook_signature_missing"),
    ],
)
def test_bad_or_stale_signatures_are_400_and_change_nothing(api_client, settings, tamper, code):
    payment = PaymentFactory()
    body = event(payment, "charge.succeeded", "succeeded")
    payload = json.dumps(body).encode()
    header = sign(
        payload,
        "whsec_wrong" if tamper == "secret" else secret(settings),
        int(time.time()) - (301 if tamper == "stale" else 0),
    )
    if tamper == "body":
        payload = payload.replace(b'"succeeded"', b'"failed"', 1)
    headers = {} if tamper == "missing" else {f"HTTP_{SIGNATURE_HEADER.upper().replace('-', '_')}": header}
    response = api_client.post(URL, payload, content_type="application/json", **headers)
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PROCESSING and not ProviderWebhook.objects.exists()


def test_a_replayed_webhook_is_200_with_no_second_effect(api_client, settings):
    payment = PaymentFactory()
    body = event(payment, "charge.succeeded", "succeeded")
    assert deliver(api_client, settings, body).json()["outcome"] == "applied"
    again = deliver(api_client, settings, body)
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert Transfer.objects.filter(kind="payment_capture").count() == 1
    assert ProviderWebhook.objects.count() == 1


def test_out_of_order_webhooks_never_move_a_payment_backwards(api_client, settings):
    payment = PaymentFactory(capture_method="manual")
    deliver(api_client, settings, event(payment, "charge.captured", "succeeded", event_id="evt_2"))
    late = deliver(
        api_client,
        settings,
        event(payment, "charge.authorized", "requires_capture", event_id="evt_1", captured=0),
    )
    assert late.status_code == 200
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED and payment.amount_captured == payment.amount
    assert payment.events.filter(type="stale_update_ignored").count() == 1


def test_a_webhook_for_an_unknown_provider_is_404(api_client, settings):
    payment = PaymentFactory()
    response = api_client.post(
        "/api/v1/webhooks/nope",
        json.dumps(event(payment, "charge.succeeded", "succeeded")),
        content_type="application/json",
    )
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_a_webhook_for_a_payment_we_do_not_know_is_acknowledged(api_client, settings):
    payment = PaymentFactory()
    body = event(payment, "charge.succeeded", "succeeded")
    body["data"]["object"]["reference"] = "not-ours"
    body["data"]["object"]["id"] = "ch_unknown"
    response = deliver(api_client, settings, body)
    assert response.status_code == 200 and response.json()["outcome"] == "unknown_payment"


# --- content checks: a signed webhook must still describe our payment ------------------------------


def _mismatched(payment, how: str) -> dict:
    body = event(payment, "charge.succeeded", "succeeded")
    charge = body["data"]["object"]
    if how == "currency":
        charge["currency"] = "JPY" if payment.currency != "JPY" else "EUR"
    elif how == "amount":
        charge["amount"] = charge["amount_captured"] = payment.amount + 1
    elif how == "captured":
        charge["amount_captured"] = payment.amount * 10
    elif how == "reference":
        payment.provider_charge_id = charge["id"]
        payment.save(update_fields=["provider_charge_id"])
        charge["reference"] = str(PaymentFactory().pk)
    return body


@pytest.mark.parametrize("how", ["currency", "amount", "captured", "reference"])
def test_a_signed_webhook_that_does_not_match_the_payment_is_422_and_changes_nothing(
    api_client, settings, how, caplog
):
    payment = PaymentFactory()
    response = deliver(api_client, settings, _mismatched(payment, how))
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "webhook_payload_mismatch"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PROCESSING and payment.amount_captured == 0
    assert not Transfer.objects.filter(kind="payment_capture").exists()
    assert not ProviderWebhook.objects.exists()
    assert payment.events.filter(type="webhook_payload_mismatch", causation_id="evt_1").exists()
    assert any("webhook_payload_mismatch" in record.getMessage() for record in caplog.records)


def test_a_charge_webhook_naming_another_charge_of_the_payment_is_422(api_client, settings):
    payment = PaymentFactory(provider="sandbox", provider_charge_id="ch_the_real_one")
    body = event(payment, "charge.succeeded", "succeeded")  # found by its reference, another charge id
    response = deliver(api_client, settings, body)
    assert response.status_code == 422 and response.json()["code"] == "webhook_payload_mismatch"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PROCESSING


def test_a_webhook_signed_with_any_other_secret_is_refused_end_to_end(api_client, settings):
    """Whatever secret an attacker guesses (the sandbox default, the test one, an empty one), only the
    configured secret is accepted: nothing is recorded and the payment does not move."""
    settings.PAYMENT_PROVIDERS = {
        **settings.PAYMENT_PROVIDERS,
        "sandbox": {**settings.PAYMENT_PROVIDERS["sandbox"], "webhook_secret": "whsec_configured_only"},
    }
    payment = PaymentFactory()
    body = event(payment, "charge.succeeded", "succeeded")
    for guess in ("whsec_test_sandbox", "whsec_sandbox", "whsec_", "x", "whsec_configured_only "):
        response = deliver(api_client, settings, body, key=guess)
        assert response.status_code == 400 and response.json()["code"] == "webhook_signature_invalid"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PROCESSING and not ProviderWebhook.objects.exists()
    assert deliver(api_client, settings, body, key="whsec_configured_only").json()["outcome"] == "applied"


# --- failures to apply are not duplicates -----------------------------------------------------------


def test_only_the_unique_event_conflict_is_a_duplicate(api_client, settings, monkeypatch, caplog):
    """Another integrity failure while applying (here a broken ledger posting) is a 5xx the provider
    retries, logged and recorded, never a 200 "duplicate"."""
    from django.db import IntegrityError

    from payments.services import outcomes

    def broken(*args, **kwargs):
        raise IntegrityError('new row violates check constraint "ledger_account_no_overdraft"')

    monkeypatch.setattr(outcomes.ledger, "transfer_split_create", broken)
    payment = PaymentFactory()
    response = deliver(api_client, settings, event(payment, "charge.succeeded", "succeeded"))
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "webhook_not_applied" and response["Retry-After"]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PROCESSING and not ProviderWebhook.objects.exists()
    assert payment.events.filter(type="webhook_apply_failed", causation_id="evt_1").exists()
    assert any("webhook_apply_failed" in record.getMessage() for record in caplog.records)

    monkeypatch.undo()  # the provider's retry then applies it
    again = deliver(api_client, settings, event(payment, "charge.succeeded", "succeeded"))
    assert again.status_code == 200 and again.json()["outcome"] == "applied"


def refund_event(payment, refund_id: str, *, amount: int, currency: str, event_id: str) -> dict:
    return {
        "id": event_id,
        "type": "refund.succeeded",
        "created": int(time.time()),
        "data": {
            "object": {
                "object": "refund",
                "id": refund_id,
                "charge": payment.provider_charge_id,
                "amount": amount,
                "currency": currency,
                "status": "succeeded",
                "failure_code": None,
                "failure_message": None,
                "created": int(time.time()),
            }
        },
    }


@pytest.mark.parametrize("how", ["amount", "currency", "other_payments_refund"])
def test_a_refund_webhook_that_does_not_match_the_refund_is_422_and_posts_nothing(api_client, settings, how):
    from payments import services
    from payments.models import RefundStatus

    payment = PaymentFactory()
    assert deliver(api_client, settings, event(payment, "charge.succeeded", "succeeded")).status_code == 200
    payment.refresh_from_db()
    refund = services.refund_create(user=payment.user, payment_id=payment.pk, amount=payment.amount // 2)
    refund.provider_refund_id = "re_1"
    refund.save(update_fields=["provider_refund_id"])
    amount, currency, target = refund.amount, payment.currency, payment
    if how == "amount":
        amount = refund.amount + 1
    elif how == "currency":
        currency = "JPY" if payment.currency != "JPY" else "EUR"
    else:  # a refund of this payment named in a webhook about another payment's charge
        target = PaymentFactory(provider_charge_id="ch_other", amount_captured=0)
        target.status, target.amount_captured = PaymentStatus.SUCCEEDED, target.amount
        target.save(update_fields=["status", "amount_captured"])
    body = refund_event(target, "re_1", amount=amount, currency=currency, event_id="evt_r")
    response = deliver(api_client, settings, body)
    assert response.status_code == 422 and response.json()["code"] == "webhook_payload_mismatch"
    refund.refresh_from_db()
    payment.refresh_from_db()
    assert refund.status == RefundStatus.PENDING and payment.amount_refunded == 0
    assert not ProviderWebhook.objects.filter(event_id="evt_r").exists()
    # The right content is applied.
    good = refund_event(payment, "re_1", amount=refund.amount, currency=payment.currency, event_id="evt_r2")
    assert deliver(api_client, settings, good).json()["outcome"] == "applied"
