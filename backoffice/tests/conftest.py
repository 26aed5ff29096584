"""Back-office fixtures: a staff user of each group, an admin client for each, and a captured payment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.test import Client

from accounts.models import FINANCE_APPROVER_GROUP, FINANCE_GROUP, OPERATORS_GROUP, User
from accounts.services import staff_user_ensure

STAFF_PASSWORD = "a-staff-password-for-tests"
ROLES = ("finance", "approver", "operator", "superuser")
_GROUPS = {
    "finance": FINANCE_GROUP,
    "approver": FINANCE_APPROVER_GROUP,
    "operator": OPERATORS_GROUP,
    "superuser": FINANCE_GROUP,
}


@pytest.fixture
def staff(db: None) -> dict[str, User]:
    """One user per back-office role (the superuser is also in finance, as the demo admin is)."""
    return {
        role: staff_user_ensure(
            email=f"{role}@bo.test",
            password=STAFF_PASSWORD,
            group=_GROUPS[role],
            superuser=role == "superuser",
        )
        for role in ROLES
    }


@pytest.fixture
def admin_client_for(staff: dict[str, User]) -> Callable[[str], Client]:
    def make(role: str) -> Client:
        client = Client()
        client.force_login(staff[role])
        return client

    return make


@pytest.fixture
def captured_payment(db: None):
    """A payment the provider captured, posted to the ledger through the payments outcome door."""
    from payments.providers.base import ProviderCharge
    from payments.services import payment_apply_charge
    from payments.tests.factories import PaymentFactory

    payment = PaymentFactory(reference="ORDER-1001", amount=2_500)
    charge = ProviderCharge(
        id="ch_test_1",
        status="succeeded",
        amount=2_500,
        amount_captured=2_500,
        amount_refunded=0,
        currency="USD",
        failure_code=None,
        failure_message=None,
        created=datetime(2026, 1, 1, tzinfo=UTC),
    )
    payment_apply_charge(payment_id=payment.pk, charge=charge, causation_id="test", source="worker")
    payment.refresh_from_db()
    assert payment.capture_transfer_id is not None
    return payment
