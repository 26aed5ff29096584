"""Webhook signatures: payments.providers.signatures, and its agreement with the sandbox's own signer."""

import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from payments.providers.base import WebhookVerificationError
from payments.providers.signatures import SIGNATURE_HEADER, compute_signature, sign, verify
from sandbox.webhooks import signature_header as sandbox_signature_header

SECRET = "whsec_test_signatures"
PAYLOAD = b'{"id": "evt_1", "type": "charge.succeeded"}'
NOW = 1_750_000_000


def _code(excinfo: pytest.ExceptionInfo) -> str:
    return excinfo.value.code


def test_header_name():
    assert SIGNATURE_HEADER == "Sandbox-Signature"


def test_sign_format_matches_an_independent_hmac():
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + PAYLOAD, hashlib.sha256).hexdigest()
    assert sign(PAYLOAD, SECRET, NOW) == f"t={NOW},v1={expected}"


def test_valid_signature_returns_the_timestamp():
    assert verify(PAYLOAD, sign(PAYLOAD, SECRET, NOW), SECRET, now=NOW + 10) == NOW


def test_now_may_be_an_aware_datetime():
    now = datetime.fromtimestamp(NOW + 10, tz=UTC)
    assert verify(PAYLOAD, sign(PAYLOAD, SECRET, NOW), SECRET, now=now) == NOW


def test_tampered_body_is_invalid():
    header = sign(PAYLOAD, SECRET, NOW)
    with pytest.raises(WebhookVerificationError) as excinfo:
        verify(PAYLOAD.replace(b"succeeded", b"failed"), header, SECRET, now=NOW)
    assert _code(excinfo) == "signature_invalid"


def test_tampered_timestamp_is_invalid():
    # Moving t forward to dodge the tolerance breaks the signature, because t is signed too.
    signature = compute_signature(PAYLOAD, SECRET, NOW - 3600)
    with pytest.raises(WebhookVerificationError) as excinfo:
        verify(PAYLOAD, f"t={NOW},v1={signature}", SECRET, now=NOW)
    assert _code(excinfo) == "signature_invalid"


def test_wrong_secret_is_invalid():
    with pytest.raises(WebhookVerificationError) as excinfo:
        verify(PAYLOAD, sign(PAYLOAD, "whsec_someone_else", NOW), SECRET, now=NOW)
    assert _code(excinfo) == "signature_invalid"


@pytest.mark.parametrize("age", [301, 3600, -301])
def test_timestamp_outside_the_tolerance_is_expired(age):
    with pytest.raises(WebhookVerificationError) as excinfo:
        verify(PAYLOAD, sign(PAYLOAD, SECRET, NOW - age), SECRET, now=NOW)
    assert _code(excinfo) == "signature_expired"


def test_timestamp_at_the_tolerance_edge_is_accepted():
    assert verify(PAYLOAD, sign(PAYLOAD, SECRET, NOW - 300), SECRET, now=NOW) == NOW - 300


def test_custom_tolerance():
    header = sign(PAYLOAD, SECRET, NOW - 60)
    with pytest.raises(WebhookVerificationError):
        verify(PAYLOAD, header, SECRET, now=NOW, tolerance=30)
    verify(PAYLOAD, header, SECRET, now=NOW, tolerance=90)


def test_forged_and_stale_reports_invalid_not_expired():
    with pytest.raises(WebhookVerificationError) as excinfo:
        verify(PAYLOAD, sign(PAYLOAD, "wrong", NOW - 3600), SECRET, now=NOW)
    assert _code(excinfo) == "signature_invalid"


@pytest.mark.parametrize("header", [None, ""])
def test_missing_header(header):
    with pytest.raises(WebhookVerificationError) as excinfo:
        verify(PAYLOAD, header, SECRET, now=NOW)
    assert _code(excinfo) == "signature_missing"


@pytest.mark.parametrize(
    "header",
    ["garbage", f"v1={'0' * 64}", f"t={NOW}", f"t=yesterday,v1={'0' * 64}", f"t={NOW},v0=abc"],
)
def test_malformed_header_is_invalid(header):
    with pytest.raises(WebhookVerificationError) as excinfo:
        verify(PAYLOAD, header, SECRET, now=NOW)
    assert _code(excinfo) == "signature_invalid"


def test_several_v1_entries_one_matching_is_enough():
    old = compute_signature(PAYLOAD, "whsec_old", NOW)
    new = compute_signature(PAYLOAD, SECRET, NOW)
    assert verify(PAYLOAD, f"t={NOW},v1={old},v1={new}", SECRET, now=NOW) == NOW
    assert verify(PAYLOAD, f"t={NOW},v1={new},v1={old}", SECRET, now=NOW) == NOW
    assert verify(PAYLOAD, f"t={NOW},v1={old},v1={new}", "whsec_old", now=NOW) == NOW


def test_several_v1_entries_none_matching_is_invalid():
    header = f"t={NOW},v1={compute_signature(PAYLOAD, 'a', NOW)},v1={compute_signature(PAYLOAD, 'b', NOW)}"
    with pytest.raises(WebhookVerificationError) as excinfo:
        verify(PAYLOAD, header, SECRET, now=NOW)
    assert _code(excinfo) == "signature_invalid"


def test_receiver_may_hold_several_secrets_while_rotating():
    header = sign(PAYLOAD, "whsec_previous", NOW)
    assert verify(PAYLOAD, header, [SECRET, "whsec_previous"], now=NOW) == NOW
    with pytest.raises(WebhookVerificationError):
        verify(PAYLOAD, header, [SECRET], now=NOW)


def test_an_empty_secret_is_a_configuration_error():
    with pytest.raises(ValueError):
        verify(PAYLOAD, sign(PAYLOAD, SECRET, NOW), "", now=NOW)


def test_uses_constant_time_comparison(monkeypatch):
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    verify(PAYLOAD, sign(PAYLOAD, SECRET, NOW), SECRET, now=NOW)
    assert calls


def test_sandbox_signer_and_verifier_agree():
    # The sandbox signs with its own implementation; ours must accept it, including with two secrets.
    assert verify(PAYLOAD, sandbox_signature_header(PAYLOAD, [SECRET], NOW), SECRET, now=NOW) == NOW
    rotated = sandbox_signature_header(PAYLOAD, ["whsec_next", SECRET], NOW)
    assert rotated.count("v1=") == 2
    assert verify(PAYLOAD, rotated, SECRET, now=NOW) == NOW
