"""Fixtures for reconciliation: a real sandbox processor (the provider whose report we reconcile) with
LedgerPay's settings pointed at it, real payments through the payments services, staff users, and the
commands run as from a shell (exit status, stdout, stderr)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import ManagementUtility
from django.db import connections
from django.utils import timezone

from accounts.models import FINANCE_APPROVER_GROUP, FINANCE_GROUP, User
from accounts.tests.factories import UserFactory
from core.testing import wait_until
from ledger.models import Account
from ledger.tests.factories import AccountFactory
from payments import services as payments
from payments.models import CaptureMethod, Payment, PaymentStatus, Refund
from payments.tests.conftest import SandboxProcess, sandbox_factory, sandbox_server, webhook_receiver  # noqa: F401


@pytest.fixture
def provider(sandbox_server: SandboxProcess, settings: Any) -> SandboxProcess:  # noqa: F811
    """The sandbox, as LedgerPay's provider `sandbox` (the only one: no failover in these tests)."""
    settings.PAYMENT_PROVIDERS = {
        "sandbox": {
            **settings.PAYMENT_PROVIDERS["sandbox"],
            "base_url": sandbox_server.base_url,
            "api_key": sandbox_server.api_key,
            "webhook_secret": sandbox_server.webhook_secret,
        },
    }
    settings.PAYMENTS_PRIMARY_PROVIDER, settings.PAYMENTS_SECONDARY_PROVIDER = "sandbox", ""
    settings.RECONCILIATION_PROVIDERS = ["sandbox"]
    settings.RECONCILIATION_MISSING_AFTER_DAYS = 0  # the day is today: a capture not in it is missing
    return sandbox_server


@dataclass
class Shop:
    """A client with an account, paying through the real payments services and the sandbox."""

    user: User
    account: Account
    sandbox: SandboxProcess

    def pay(self, amount: int, *, method: str = "pm_card_visa") -> Payment:
        payment = payments.payment_create(
            user=self.user,
            account_id=self.account.pk,
            amount=amount,
            currency="USD",
            payment_method=method,
            capture_method=CaptureMethod.AUTOMATIC,
        )
        payments.payment_authorize(payment_id=payment.pk, message_id=f"m-{payment.pk}")
        payment.refresh_from_db()
        return payment

    def refund(self, payment: Payment, amount: int) -> Refund:
        refund = payments.refund_create(user=self.user, payment_id=payment.pk, amount=amount)
        payments.refund_execute(payment_id=payment.pk, refund_id=refund.pk, message_id=f"m-{refund.pk}")
        refund.refresh_from_db()
        return refund

    def wait_settled_at_provider(self, payment: Payment) -> None:
        wait_until(
            lambda: self.sandbox.charges(reference=str(payment.pk))[0]["status"] == "succeeded",
            what="the provider's charge to succeed",
        )


@pytest.fixture
def shop(provider: SandboxProcess) -> Shop:
    account = AccountFactory()
    return Shop(user=account.owner, account=account, sandbox=provider)


def paid(shop: Shop, amounts: list[int]) -> list[Payment]:
    found = [shop.pay(amount) for amount in amounts]
    assert all(p.status == PaymentStatus.SUCCEEDED for p in found)
    return found


def staff(group: str) -> User:
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def finance() -> User:
    return staff(FINANCE_GROUP)


@pytest.fixture
def approver() -> User:
    return staff(FINANCE_APPROVER_GROUP)


def today() -> date:
    return timezone.now().date()


@dataclass
class Cli:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Cli]:
    """Run `manage.py <args>` in this process as the shell would: the exit status, stdout and stderr.

    (A command run from the command line closes every database connection when it ends; here that
    would end the test's own transaction, so it is left open.)"""
    monkeypatch.setattr(connections, "close_all", lambda: None)

    def run(*args: str) -> Cli:
        capsys.readouterr()
        try:
            ManagementUtility(["manage.py", *args]).execute()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return Cli(code, captured.out, captured.err)

    return run
