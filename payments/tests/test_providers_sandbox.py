"""SandboxProvider against a real sandbox processor process: every test card, idempotency, the failure
modes (flaky, timeout, refused connection, injected 503s), capture/cancel/refund rules, signed
webhooks, settlement, restarts, and get_provider(). No database needed.
"""

import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from payments.providers import get_provider
from payments.providers.base import (
    ChargeRequest,
    PaymentProvider,
    ProviderCharge,
    ProviderRequestError,
    ProviderTimeout,
    ProviderUnavailable,
    WebhookVerificationError,
)
from payments.providers.sandbox import SandboxProvider
from payments.providers.signatures import SIGNATURE_HEADER

from .conftest import PROJECT_DIR, wait_until


def key(prefix: str = "test") -> str:
    return f"{prefix}-{uuid.uuid4()}"


def charge_request(
    payment_method: str = "pm_card_visa",
    *,
    amount: int = 1000,
    capture: bool = True,
    idempotency_key: str | None = None,
    **extra,
) -> ChargeRequest:
    return ChargeRequest(
        idempotency_key=idempotency_key or key("auth"),
        amount=amount,
        currency="EUR",
        payment_method=payment_method,
        capture=capture,
        **extra,
    )


@pytest.fixture
def provider(sandbox_server):
    return sandbox_server.provider()


# --- test cards -------------------------------------------------------------------------------------


def test_visa_authorize_and_capture_in_one_call(sandbox_server, provider, webhook_receiver):
    charge = provider.authorize(charge_request(reference="pay_123", metadata={"order": "42"}))

    assert isinstance(charge, ProviderCharge)
    assert charge.id.startswith("ch_")
    assert (charge.status, charge.amount, charge.amount_captured, charge.amount_refunded) == (
        "succeeded",
        1000,
        1000,
        0,
    )
    assert charge.currency == "EUR"
    assert charge.failure_code is None
    assert charge.reference == "pay_123"
    assert charge.created.tzinfo is not None
    assert abs(charge.created - datetime.now(UTC)) < timedelta(minutes=1)
    assert provider.retrieve_charge(charge_id=charge.id) == charge
    assert [c["id"] for c in sandbox_server.charges()] == [charge.id]
    [hook] = webhook_receiver.wait_for("charge.succeeded", object_id=charge.id)
    assert hook.path == "/api/v1/webhooks/sandbox"
    event = provider.parse_webhook(payload=hook.body, headers=hook.headers)
    assert event.charge == charge


def test_visa_authorize_only(provider, webhook_receiver):
    charge = provider.authorize(charge_request(capture=False))
    assert (charge.status, charge.amount_captured) == ("requires_capture", 0)
    webhook_receiver.wait_for("charge.authorized", object_id=charge.id)


@pytest.mark.parametrize(
    ("payment_method", "failure_code"),
    [("pm_card_declined", "card_declined"), ("pm_card_insufficient_funds", "insufficient_funds")],
)
def test_declines_are_failed_charges_not_errors(
    sandbox_server, provider, webhook_receiver, payment_method, failure_code
):
    charge = provider.authorize(charge_request(payment_method))

    assert charge.status == "failed"
    assert charge.failure_code == failure_code
    assert charge.failure_message
    assert charge.amount_captured == 0
    assert sandbox_server.charge_count() == 1
    [hook] = webhook_receiver.wait_for("charge.failed", object_id=charge.id)
    assert provider.parse_webhook(payload=hook.body, headers=hook.headers).charge.failure_code == failure_code


def test_unknown_payment_method_is_a_request_error(sandbox_server, provider):
    with pytest.raises(ProviderRequestError) as excinfo:
        provider.authorize(charge_request("pm_card_unknown"))
    assert excinfo.value.code == "invalid_payment_method"
    assert excinfo.value.http_status == 400
    assert excinfo.value.transient is False
    assert sandbox_server.charge_count() == 0


def test_async_outcome_arrives_by_signed_webhook(sandbox_server, provider, webhook_receiver):
    charge = provider.authorize(charge_request("pm_card_async"))
    assert charge.status == "pending"
    assert charge.amount_captured == 0

    [hook] = webhook_receiver.wait_for("charge.succeeded", object_id=charge.id)
    assert SIGNATURE_HEADER in hook.headers
    event = provider.parse_webhook(payload=hook.body, headers=hook.headers)
    assert event.id.startswith("evt_")
    assert event.type == "charge.succeeded"
    assert event.refund is None
    assert (event.charge.id, event.charge.status, event.charge.amount_captured) == (
        charge.id,
        "succeeded",
        1000,
    )
    assert provider.retrieve_charge(charge_id=charge.id).status == "succeeded"


def test_async_authorization_then_capture(provider, webhook_receiver):
    charge = provider.authorize(charge_request("pm_card_async", capture=False))
    assert charge.status == "pending"
    with pytest.raises(ProviderRequestError) as excinfo:  # not capturable until authorized
        provider.capture(charge_id=charge.id, amount=None, idempotency_key=key("cap"))
    assert excinfo.value.code == "charge_not_capturable"

    [hook] = webhook_receiver.wait_for("charge.authorized", object_id=charge.id)
    assert provider.parse_webhook(payload=hook.body, headers=hook.headers).charge.status == "requires_capture"
    captured = provider.capture(charge_id=charge.id, amount=None, idempotency_key=key("cap"))
    assert (captured.status, captured.amount_captured) == ("succeeded", 1000)


# --- idempotency ------------------------------------------------------------------------------------


def test_same_key_twice_gives_the_same_charge(sandbox_server, provider):
    request = charge_request()
    first = provider.authorize(request)
    second = provider.authorize(request)

    assert second == first
    assert sandbox_server.charge_count() == 1
    assert provider.find_charge(idempotency_key=request.idempotency_key) == first


def test_concurrent_retries_with_one_key_make_one_charge(sandbox_server, provider):
    request = charge_request()
    with ThreadPoolExecutor(max_workers=8) as pool:
        charges = list(pool.map(lambda _: provider.authorize(request), range(8)))
    assert {c.id for c in charges} == {charges[0].id}
    assert sandbox_server.charge_count() == 1


def test_same_key_with_a_different_body_is_refused(sandbox_server, provider):
    request = charge_request(amount=1000)
    provider.authorize(request)
    with pytest.raises(ProviderRequestError) as excinfo:
        provider.authorize(charge_request(amount=2000, idempotency_key=request.idempotency_key))
    assert excinfo.value.code == "idempotency_key_reused"
    assert excinfo.value.http_status == 409
    assert sandbox_server.charge_count() == 1


def test_find_charge_for_an_unknown_key_is_none(provider):
    assert provider.find_charge(idempotency_key=key("never-used")) is None


def test_post_without_idempotency_key_is_refused(sandbox_server):
    response = sandbox_server.request(
        "POST", "/v1/charges", json={"amount": 100, "currency": "EUR", "payment_method": "pm_card_visa"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_missing"
    assert sandbox_server.charge_count() == 0


def test_capture_cancel_and_refund_replay_under_their_key(sandbox_server, provider):
    charge = provider.authorize(charge_request(capture=False))
    capture_key = key("cap")
    first = provider.capture(charge_id=charge.id, amount=400, idempotency_key=capture_key)
    assert provider.capture(charge_id=charge.id, amount=400, idempotency_key=capture_key) == first

    refund_key = key("ref")
    refund = provider.refund(charge_id=charge.id, amount=100, idempotency_key=refund_key)
    assert provider.refund(charge_id=charge.id, amount=100, idempotency_key=refund_key) == refund
    assert provider.retrieve_charge(charge_id=charge.id).amount_refunded == 100
    assert len(sandbox_server.refunds()) == 1

    other = provider.authorize(charge_request(capture=False))
    cancel_key = key("cancel")
    canceled = provider.cancel(charge_id=other.id, idempotency_key=cancel_key)
    assert provider.cancel(charge_id=other.id, idempotency_key=cancel_key) == canceled


# --- failure modes ----------------------------------------------------------------------------------


def test_flaky_card_is_unavailable_twice_then_succeeds_once(sandbox_server, provider):
    request = charge_request("pm_card_flaky")
    for _ in range(2):
        with pytest.raises(ProviderUnavailable) as excinfo:
            provider.authorize(request)
        assert excinfo.value.transient is True
        assert excinfo.value.http_status == 503
        assert sandbox_server.charge_count() == 0
        assert provider.find_charge(idempotency_key=request.idempotency_key) is None

    charge = provider.authorize(request)
    assert charge.status == "succeeded"
    assert provider.authorize(request) == charge
    assert sandbox_server.charge_count() == 1


def test_timeout_is_ambiguous_and_recoverable_with_the_same_key(sandbox_factory):
    sandbox = sandbox_factory(timeout_delay=1.5)
    provider = sandbox.provider(timeout_seconds=0.3)
    request = charge_request("pm_card_timeout")

    with pytest.raises(ProviderTimeout) as excinfo:
        provider.authorize(request)
    assert excinfo.value.transient is True

    # The provider did create it: recovery finds it rather than charging twice.
    found = provider.find_charge(idempotency_key=request.idempotency_key)
    assert found is not None
    assert found.status == "succeeded"
    started = time.monotonic()
    retried = provider.authorize(request)
    assert time.monotonic() - started < 1.0  # a replay is answered at once, not after timeout_delay
    assert retried == found
    assert sandbox.charge_count() == 1


def test_connection_refused_is_unavailable(sandbox_server):
    sandbox_server.stop()
    provider = SandboxProvider(
        base_url=sandbox_server.base_url, api_key="k", webhook_secret="s", connect_timeout_seconds=1.0
    )
    with provider, pytest.raises(ProviderUnavailable) as excinfo:
        provider.authorize(charge_request())
    assert excinfo.value.code == "connection_failed"
    assert excinfo.value.transient is True


def test_injected_failure_rate_answers_503_before_doing_anything(sandbox_server, provider):
    sandbox_server.configure(failure_rate=1.0)
    request = charge_request()
    with pytest.raises(ProviderUnavailable):
        provider.authorize(request)
    sandbox_server.configure(failure_rate=0.0)
    assert sandbox_server.charge_count() == 0
    assert provider.authorize(request).status == "succeeded"
    assert sandbox_server.charge_count() == 1


def test_latency_knob_slows_every_call(sandbox_server, provider):
    sandbox_server.configure(latency_ms=150)
    started = time.monotonic()
    provider.find_charge(idempotency_key=key())
    assert time.monotonic() - started >= 0.15


def test_wrong_api_key_is_refused(sandbox_server):
    provider = sandbox_server.provider(api_key="sk_wrong")
    with pytest.raises(ProviderRequestError) as excinfo:
        provider.authorize(charge_request())
    assert (excinfo.value.code, excinfo.value.http_status) == ("unauthorized", 401)
    assert sandbox_server.charge_count() == 0


def test_bad_config_knob_is_refused(sandbox_server):
    response = sandbox_server.request("POST", "/_sandbox/config", json={"failure_rate": 2})
    assert response.status_code == 400
    assert sandbox_server.request("POST", "/_sandbox/config", json={"nonsense": 1}).status_code == 400


# --- capture, cancel, refunds -----------------------------------------------------------------------


def test_manual_partial_capture(sandbox_server, provider, webhook_receiver):
    charge = provider.authorize(charge_request(amount=1000, capture=False))
    captured = provider.capture(charge_id=charge.id, amount=600, idempotency_key=key("cap"))

    assert (captured.status, captured.amount, captured.amount_captured) == ("succeeded", 1000, 600)
    [hook] = webhook_receiver.wait_for("charge.captured", object_id=charge.id)
    assert provider.parse_webhook(payload=hook.body, headers=hook.headers).charge.amount_captured == 600
    with pytest.raises(ProviderRequestError) as excinfo:  # one capture per authorization
        provider.capture(charge_id=charge.id, amount=400, idempotency_key=key("cap"))
    assert excinfo.value.code == "charge_not_capturable"


def test_capture_beyond_the_authorization_is_refused(provider):
    charge = provider.authorize(charge_request(amount=1000, capture=False))
    with pytest.raises(ProviderRequestError) as excinfo:
        provider.capture(charge_id=charge.id, amount=1001, idempotency_key=key("cap"))
    assert excinfo.value.code == "amount_too_large"
    assert provider.retrieve_charge(charge_id=charge.id).status == "requires_capture"


def test_capture_of_an_unknown_charge_is_not_found(provider):
    with pytest.raises(ProviderRequestError) as excinfo:
        provider.capture(charge_id="ch_missing", amount=None, idempotency_key=key("cap"))
    assert (excinfo.value.code, excinfo.value.http_status) == ("charge_not_found", 404)
    with pytest.raises(ProviderRequestError):
        provider.retrieve_charge(charge_id="ch_missing")


def test_cancel(provider, webhook_receiver):
    charge = provider.authorize(charge_request(capture=False))
    canceled = provider.cancel(charge_id=charge.id, idempotency_key=key("cancel"))

    assert canceled.status == "canceled"
    webhook_receiver.wait_for("charge.canceled", object_id=charge.id)
    for call in (
        lambda: provider.capture(charge_id=charge.id, amount=None, idempotency_key=key("cap")),
        lambda: provider.refund(charge_id=charge.id, amount=1, idempotency_key=key("ref")),
    ):
        with pytest.raises(ProviderRequestError):
            call()
    captured = provider.authorize(charge_request())
    with pytest.raises(ProviderRequestError) as excinfo:
        provider.cancel(charge_id=captured.id, idempotency_key=key("cancel"))
    assert excinfo.value.code == "charge_not_cancelable"


def test_partial_and_repeated_refunds_never_beyond_captured(sandbox_server, provider, webhook_receiver):
    charge = provider.authorize(charge_request(amount=1000, capture=False))
    provider.capture(charge_id=charge.id, amount=800, idempotency_key=key("cap"))

    first = provider.refund(charge_id=charge.id, amount=300, idempotency_key=key("ref"))
    second = provider.refund(charge_id=charge.id, amount=300, idempotency_key=key("ref"))
    assert first.id != second.id
    assert (first.status, first.amount, first.charge_id, first.currency) == (
        "succeeded",
        300,
        charge.id,
        "EUR",
    )
    assert provider.retrieve_refund(refund_id=second.id) == second
    assert provider.retrieve_charge(charge_id=charge.id).amount_refunded == 600

    with pytest.raises(ProviderRequestError) as excinfo:
        provider.refund(charge_id=charge.id, amount=201, idempotency_key=key("ref"))
    assert excinfo.value.code == "amount_too_large"
    last = provider.refund(charge_id=charge.id, amount=200, idempotency_key=key("ref"))
    with pytest.raises(ProviderRequestError) as excinfo:
        provider.refund(charge_id=charge.id, amount=1, idempotency_key=key("ref"))
    assert excinfo.value.code == "amount_too_large"

    final = provider.retrieve_charge(charge_id=charge.id)
    assert (final.amount_captured, final.amount_refunded, final.amount_refundable) == (800, 800, 0)
    hooks = webhook_receiver.wait_for("refund.succeeded", count=3)
    events = [provider.parse_webhook(payload=h.body, headers=h.headers) for h in hooks]
    assert {e.refund.id for e in events} == {first.id, second.id, last.id}
    assert len(sandbox_server.refunds(charge=charge.id)) == 3


def test_refund_of_an_uncaptured_charge_is_refused(provider):
    charge = provider.authorize(charge_request(capture=False))
    with pytest.raises(ProviderRequestError) as excinfo:
        provider.refund(charge_id=charge.id, amount=100, idempotency_key=key("ref"))
    assert excinfo.value.code == "charge_not_refundable"


def test_refund_failure_arrives_by_webhook_and_releases_the_amount(provider, webhook_receiver):
    charge = provider.authorize(charge_request("pm_card_refund_fail", amount=500))
    refund = provider.refund(charge_id=charge.id, amount=500, idempotency_key=key("ref"))
    assert refund.status == "pending"
    with pytest.raises(ProviderRequestError):  # a pending refund holds its amount
        provider.refund(charge_id=charge.id, amount=1, idempotency_key=key("ref"))

    [hook] = webhook_receiver.wait_for("refund.failed", object_id=refund.id)
    event = provider.parse_webhook(payload=hook.body, headers=hook.headers)
    assert (event.refund.status, event.refund.failure_code) == ("failed", "expired_or_canceled_card")
    assert provider.retrieve_refund(refund_id=refund.id).status == "failed"
    assert provider.retrieve_charge(charge_id=charge.id).amount_refunded == 0


# --- settlement -------------------------------------------------------------------------------------


def test_settlement_report_lists_todays_captures_and_refunds_with_fees(sandbox_server, provider):
    sandbox_server.configure(fee_bps=250, fee_fixed=25)
    paid = provider.authorize(charge_request(amount=10_000, reference="payment-42"))
    held = provider.authorize(charge_request(amount=5_000, capture=False))
    provider.capture(charge_id=held.id, amount=3_333, idempotency_key=key("cap"))
    refund_key = key("ref")
    refund = provider.refund(charge_id=paid.id, amount=4_000, idempotency_key=refund_key)
    provider.authorize(charge_request("pm_card_declined"))  # settles nothing
    provider.authorize(charge_request(capture=False))  # authorized only: settles nothing

    today = datetime.now(UTC).date()
    with provider.settlement_report(day=today) as report:
        assert (report.provider, report.day, report.version) == ("sandbox", today, 1)
        lines = list(report.lines())
    summary = [(x.line_type, x.psp_reference, x.gross, x.fee, x.net) for x in lines]
    assert summary == [
        ("charge", paid.id, 10_000, 25 + 250, 10_000 - 275),
        ("charge", held.id, 3_333, 25 + 83, 3_333 - 108),  # 3333 * 2.5% = 83.325, rounded half up to 83
        ("refund", refund.id, -4_000, 0, -4_000),
        ("payout", lines[-1].payout_id, 9_725 + 3_225 - 4_000, 0, 9_725 + 3_225 - 4_000),
    ]
    assert lines[0].merchant_reference == "payment-42" and lines[2].merchant_reference == refund_key
    assert all(x.currency == "EUR" and x.created_at.date() == today for x in lines)
    assert len({x.line_id for x in lines}) == len(lines)
    assert not report.path.exists()  # the downloaded file is gone once the report is closed
    with provider.settlement_report(day=today - timedelta(days=1)) as empty:
        assert list(empty.lines()) == []


def test_settlement_day_must_be_a_date(sandbox_server):
    assert sandbox_server.request("GET", "/v1/settlement_reports/2025-13-45.csv").status_code == 400


# --- webhooks ---------------------------------------------------------------------------------------


def test_webhooks_are_retried_with_the_same_event_id(sandbox_server, provider, webhook_receiver):
    webhook_receiver.fail_next = 2
    charge = provider.authorize(charge_request())

    deliveries = webhook_receiver.wait_for("charge.succeeded", object_id=charge.id, count=3)
    assert len({d.json["id"] for d in deliveries}) == 1
    assert [d.headers["Sandbox-Delivery-Attempt"] for d in deliveries] == ["1", "2", "3"]
    for delivery in deliveries:
        provider.parse_webhook(payload=delivery.body, headers=delivery.headers)
    wait_until(lambda: sandbox_server.events()[0]["state"] == "delivered", what="delivered state")
    assert sandbox_server.events()[0]["attempts"] == 3


def test_redelivery_on_request_reuses_the_event_id(sandbox_server, provider, webhook_receiver):
    charge = provider.authorize(charge_request())
    [first] = webhook_receiver.wait_for("charge.succeeded", object_id=charge.id)
    response = sandbox_server.request("POST", f"/_sandbox/events/{first.json['id']}/redeliver")
    assert response.status_code == 200
    again = webhook_receiver.wait_for("charge.succeeded", object_id=charge.id, count=2)
    assert again[1].body == first.body


def test_parse_webhook_rejects_tampering_staleness_and_a_missing_header(provider, webhook_receiver):
    charge = provider.authorize(charge_request())
    [hook] = webhook_receiver.wait_for("charge.succeeded", object_id=charge.id)
    headers = {k.lower(): v for k, v in hook.headers.items()}  # header lookup is case-insensitive

    assert provider.parse_webhook(payload=hook.body, headers=headers).charge.id == charge.id
    tampered = hook.body.replace(b'"amount": 1000', b'"amount": 1')
    assert tampered != hook.body
    with pytest.raises(WebhookVerificationError) as excinfo:
        provider.parse_webhook(payload=tampered, headers=headers)
    assert excinfo.value.code == "signature_invalid"
    with pytest.raises(WebhookVerificationError) as excinfo:
        provider.parse_webhook(
            payload=hook.body, headers=headers, now=datetime.now(UTC) + timedelta(minutes=6)
        )
    assert excinfo.value.code == "signature_expired"
    with pytest.raises(WebhookVerificationError) as excinfo:
        provider.parse_webhook(payload=hook.body, headers={})
    assert excinfo.value.code == "signature_missing"
    with pytest.raises(WebhookVerificationError) as excinfo:
        SandboxProvider(
            base_url="http://127.0.0.1:1", api_key="k", webhook_secret="whsec_other"
        ).parse_webhook(payload=hook.body, headers=headers)
    assert excinfo.value.code == "signature_invalid"


def test_parse_webhook_rejects_a_signed_but_unreadable_body(provider):
    from payments.providers.signatures import sign

    body = b'{"id": "evt_1", "type": "charge.succeeded"}'
    headers = {SIGNATURE_HEADER: sign(body, provider.webhook_secret, int(time.time()))}
    with pytest.raises(WebhookVerificationError) as excinfo:
        provider.parse_webhook(payload=body, headers=headers)
    assert excinfo.value.code == "payload_invalid"


# --- persistence and isolation ----------------------------------------------------------------------


def test_charges_and_idempotency_survive_a_restart(sandbox_server, provider):
    request = charge_request(capture=False)
    charge = provider.authorize(request)
    sandbox_server.restart()

    provider = sandbox_server.provider()
    assert provider.retrieve_charge(charge_id=charge.id) == charge
    assert provider.authorize(request) == charge
    assert (
        provider.capture(charge_id=charge.id, amount=None, idempotency_key=key("cap")).status == "succeeded"
    )
    assert sandbox_server.charge_count() == 1


def test_reset_forgets_everything(sandbox_server, provider):
    provider.authorize(charge_request())
    sandbox_server.configure(latency_ms=500)
    sandbox_server.reset()
    assert sandbox_server.charge_count() == 0
    assert sandbox_server.request("GET", "/_sandbox/config").json()["latency_ms"] == 0


def test_the_sandbox_program_imports_no_django_and_no_ledgerpay_app():
    code = (
        "import sys, sandbox.cli, sandbox.server, sandbox.processor, sandbox.settlement, sandbox.__main__\n"
        "apps = ('django', 'payments', 'ledger', 'ledgerpay', 'accounts', 'reconciliation', 'core')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in apps)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, check=True, timeout=30)


# --- value types and factory -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"amount": 10.5},
        {"amount": 0},
        {"amount": True},
        {"currency": "eur"},
        {"currency": "EURO"},
        {"idempotency_key": ""},
        {"metadata": {"n": 1}},
    ],
)
def test_charge_request_validates_its_fields(changes):
    fields = {
        "idempotency_key": "k",
        "amount": 100,
        "currency": "EUR",
        "payment_method": "pm_card_visa",
        "capture": True,
        **changes,
    }
    with pytest.raises((TypeError, ValueError)):
        ChargeRequest(**fields)


def test_get_provider_reads_settings(settings):
    settings.PAYMENT_PROVIDERS = {
        "acme": {
            "class": "payments.providers.sandbox.SandboxProvider",
            "base_url": "http://127.0.0.1:9999",
            "api_key": "sk_acme",
            "webhook_secret": "whsec_acme",
            "timeout_seconds": 3,
            "webhook_url": "http://127.0.0.1:8000/api/v1/webhooks/acme",
        }
    }
    provider = get_provider("acme")
    assert isinstance(provider, SandboxProvider)
    assert isinstance(provider, PaymentProvider)
    assert (provider.name, provider.base_url) == ("acme", "http://127.0.0.1:9999")
    assert get_provider("acme") is provider  # one connection pool per process

    settings.PAYMENT_PROVIDERS = {
        "acme": {**settings.PAYMENT_PROVIDERS["acme"], "base_url": "http://127.0.0.1:9998"}
    }
    assert get_provider("acme").base_url == "http://127.0.0.1:9998"

    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        get_provider("missing")


def test_get_provider_builds_the_providers_the_settings_name(settings):
    settings.PAYMENT_PROVIDERS = {
        **settings.PAYMENT_PROVIDERS,
        "sandbox_secondary": {
            **settings.PAYMENT_PROVIDERS["sandbox_secondary"],
            "base_url": "http://127.0.0.1:9",
        },
    }
    assert get_provider("sandbox").base_url == settings.PAYMENT_PROVIDERS["sandbox"]["base_url"]
    assert get_provider("sandbox_secondary").base_url == "http://127.0.0.1:9"


def test_a_provider_without_a_class_is_improperly_configured(settings):
    from django.core.exceptions import ImproperlyConfigured

    config = {k: v for k, v in settings.PAYMENT_PROVIDERS["sandbox"].items() if k != "class"}
    settings.PAYMENT_PROVIDERS = {**settings.PAYMENT_PROVIDERS, "classless": config}
    with pytest.raises(ImproperlyConfigured, match="class"):
        get_provider("classless")


def test_management_command_runs_the_sandbox_with_the_providers_fee_rule(tmp_path):
    port_file = tmp_path / "port"
    # The fee rule comes from PAYMENT_PROVIDERS (here through its environment variables).
    env = {**os.environ, "PAYMENTS_SANDBOX_FEE_BPS": "150", "PAYMENTS_SANDBOX_FEE_FIXED": "7"}
    with (tmp_path / "log").open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "run_sandbox_provider",
                "--name",
                "sandbox",
                "--port",
                "0",
                "--port-file",
                str(port_file),
                "--db",
                str(tmp_path / "db.sqlite3"),
                "--no-webhooks",
                "--api-key",
                "sk_from_the_command_line",
            ],
            cwd=PROJECT_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        wait_until(lambda: port_file.exists() or process.poll() is not None, timeout=30, what="the command")
        assert process.poll() is None, (tmp_path / "log").read_text()
        with SandboxProvider(
            base_url=f"http://127.0.0.1:{port_file.read_text()}",
            api_key="sk_from_the_command_line",
            webhook_secret="unused",
        ) as provider:
            assert provider.authorize(charge_request(amount=10_000)).status == "succeeded"
            with provider.settlement_report(day=datetime.now(UTC).date()) as report:
                lines = list(report.lines())
            assert [(x.line_type, x.fee) for x in lines] == [("charge", 7 + 150), ("payout", 0)]
    finally:
        process.terminate()
        process.wait(timeout=10)
