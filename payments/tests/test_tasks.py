"""The provider tasks' retry policy, run as a worker runs a delivery (see test_breaker.run_as_worker)."""

from __future__ import annotations

import pytest
from celery.exceptions import Retry
from django.conf import settings
from django.db import InterfaceError, OperationalError

from payments.tests.factories import PaymentFactory
from payments.tests.test_breaker import run_as_worker, sent  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "error",
    [
        OperationalError(
            'connection to server at "127.0.0.1" failed: FATAL: sorry, too many clients already'
        ),
        InterfaceError("connection already closed"),
    ],
    ids=["operational", "interface"],
)
def test_a_database_outage_during_a_provider_task_is_retried_not_failed(error, sent, monkeypatch):  # noqa: F811
    """PostgreSQL restarting (or out of connections) under a worker: the task retries with backoff, as
    for a provider outage, instead of failing and leaving the payment to the recovery sweep."""
    payment = PaymentFactory(provider="sandbox")

    def database_gone(**kwargs: object) -> None:
        raise error

    monkeypatch.setattr("payments.services.payment_authorize", database_gone)
    with pytest.raises(Retry):
        run_as_worker(str(payment.pk), retries=0)
    assert len(sent) == 1
    with pytest.raises(type(error)):  # bounded like any retry
        run_as_worker(str(payment.pk), retries=settings.PAYMENTS_TASK_MAX_RETRIES)
