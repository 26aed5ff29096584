"""Staff security: logins audited, admin lockout after repeated failures (django-axes) without touching
the API's login throttle, an optional TOTP second factor enforced for staff who have a device."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import AuditAction, AuditLog

from .conftest import STAFF_PASSWORD

pytestmark = pytest.mark.django_db


def _login(client: Client, email: str, password: str, **extra: str):
    return client.post(reverse("admin:login"), {"username": email, "password": password, **extra})


def _logged_in(client: Client) -> bool:
    return client.get(reverse("admin:index")).status_code == 200


def test_a_staff_login_and_a_failed_login_are_audited_with_the_address(staff):
    client = Client(REMOTE_ADDR="203.0.113.7")
    _login(client, "finance@bo.test", "wrong password")
    failed = AuditLog.objects.get(action=AuditAction.STAFF_LOGIN_FAILED)
    assert failed.actor is None and failed.actor_label == "finance@bo.test"
    assert failed.ip == "203.0.113.7" and failed.target_id == str(staff["finance"].pk)
    response = _login(client, "finance@bo.test", STAFF_PASSWORD)
    assert response.status_code == 302 and _logged_in(client)
    login = AuditLog.objects.get(action=AuditAction.STAFF_LOGIN)
    assert login.actor == staff["finance"] and login.ip == "203.0.113.7"
    assert login.prev_hash == failed.hash


def test_the_admin_login_locks_out_after_repeated_failures(staff):
    client = Client(REMOTE_ADDR="198.51.100.1")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "approver@bo.test", "wrong password")
    locked = _login(client, "approver@bo.test", STAFF_PASSWORD)
    assert locked.status_code == 429
    assert not _logged_in(client)
    # Another staff member at the same address is not locked out by someone else's failures.
    assert _login(Client(REMOTE_ADDR="198.51.100.1"), "finance@bo.test", STAFF_PASSWORD).status_code == 302


def test_api_logins_keep_their_own_throttle_and_are_not_audited(staff, api_client):
    from accounts.tests.factories import PASSWORD, UserFactory

    user = UserFactory()
    url = "/api/v1/auth/token"
    ok = api_client.post(url, {"email": user.email, "password": PASSWORD}, format="json")
    assert ok.status_code == 200 and "access" in ok.json()
    statuses = [
        api_client.post(url, {"email": user.email, "password": "nope"}, format="json").status_code
        for _ in range(6)  # the test settings allow 5 failures a minute
    ]
    assert 401 in statuses and statuses[-1] == 429  # the DRF throttle, not axes
    assert not AuditLog.objects.filter(action=AuditAction.STAFF_LOGIN_FAILED).exists()
    # The admin login of a staff user is not locked by the API's failures.
    assert _login(Client(), "finance@bo.test", STAFF_PASSWORD).status_code == 302


def _device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def _token(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return str(totp.token()).zfill(device.digits)


def test_staff_with_a_totp_device_need_its_token(staff):
    device = _device(staff["approver"])
    client = Client()
    refused = _login(client, "approver@bo.test", STAFF_PASSWORD)
    assert refused.status_code == 200 and not _logged_in(client)
    assert _login(client, "approver@bo.test", STAFF_PASSWORD, otp_token="000000").status_code == 200
    assert not _logged_in(client)
    accepted = _login(
        client, "approver@bo.test", STAFF_PASSWORD, otp_device=device.persistent_id, otp_token=_token(device)
    )
    assert accepted.status_code == 302 and _logged_in(client)


def test_a_session_without_the_second_factor_is_not_let_in(staff):
    _device(staff["finance"])
    client = Client()
    client.force_login(staff["finance"])  # password-level session, never verified by OTP
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_staff_without_a_device_log_in_with_the_password_alone(staff):
    client = Client()
    assert _login(client, "operator@bo.test", STAFF_PASSWORD).status_code == 302 and _logged_in(client)
