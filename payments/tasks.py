"""Celery tasks of the payments app: thin; each loads by id and calls one service.

Provider tasks (routed to the provider queue) own the retry policy: transient provider
failures (and a database that is briefly unreachable) retry with exponential backoff and jitter; when retries run out the task is
recorded as a dead letter for an operator to replay. A call refused by the provider's open
circuit breaker (CircuitOpen) retries at the breaker's reset time instead, so a payment never
spends its retries inside one cool-down; it may wait PAYMENTS_BREAKER_MAX_WAITS times on top of
its retries. acks_late with
reject_on_worker_lost means a worker killed mid-call leaves the message to be
redelivered, and the services make the redelivery harmless.
"""

import random
from typing import Any

from billiard.einfo import ExceptionInfo
from celery import Task, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from . import services
from .breaker import CircuitOpen
from .outbox import outbox_relay_once
from .providers import ProviderTimeout, ProviderUnavailable
from .task_names import OUTBOX_RELAY, PAYMENTS_RECOVER_STUCK, PaymentTask


class ProviderTask(Task):
    # A database that is restarting or out of connections is as transient as a provider outage, and the
    # services make a repeated delivery harmless: retry rather than fail (and dead-letter into a database
    # that is not there).
    autoretry_for = (ProviderUnavailable, ProviderTimeout, OperationalError, InterfaceError)
    retry_backoff = 1
    retry_backoff_max = settings.PAYMENTS_RETRY_BACKOFF_MAX
    retry_jitter = True
    max_retries = settings.PAYMENTS_TASK_MAX_RETRIES
    acks_late = True
    reject_on_worker_lost = True

    def retry(
        self,
        args: Any = None,
        kwargs: Any = None,
        exc: Exception | None = None,
        throw: bool = True,
        eta: Any = None,
        countdown: float | None = None,
        max_retries: int | None = None,
        **options: Any,
    ) -> Any:
        if isinstance(exc, CircuitOpen):
            countdown = breaker_wait_countdown(exc)
            max_retries = (self.max_retries or 0) + settings.PAYMENTS_BREAKER_MAX_WAITS
        try:
            return super().retry(args, kwargs, exc, throw, eta, countdown, max_retries, **options)
        finally:
            # Celery keeps an overridden max_retries on the (shared) task object when retry raises:
            # it must not carry over to the next message this worker runs.
            self.__dict__.pop("override_max_retries", None)

    def on_failure(
        self,
        exc: Exception,
        task_id: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        einfo: ExceptionInfo,
    ) -> None:
        services.dead_letter_record(
            task=self.name,
            kwargs=kwargs,
            message_id=task_id or "",
            error=f"{type(exc).__name__}: {exc}",
            retries=self.request.retries,
        )


def breaker_wait_countdown(exc: CircuitOpen) -> float:
    """When to retry a call the breaker refused: when it lets calls through again, spread over a tenth
    of a cool-down (at least a second) so the waiting tasks do not all come back at the same instant."""
    spread = max(1.0, settings.PAYMENTS_BREAKER_RESET_SECONDS / 10)
    return exc.retry_after + random.uniform(0, spread)  # noqa: S311 - jitter, not security


@shared_task(bind=True, base=ProviderTask, name=PaymentTask.AUTHORIZE.value)
def provider_authorize(self: ProviderTask, payment_id: str) -> None:
    services.payment_authorize(payment_id=payment_id, message_id=self.request.id or "")


@shared_task(bind=True, base=ProviderTask, name=PaymentTask.CAPTURE.value)
def provider_capture(self: ProviderTask, payment_id: str) -> None:
    services.payment_capture(payment_id=payment_id, message_id=self.request.id or "")


@shared_task(bind=True, base=ProviderTask, name=PaymentTask.CANCEL.value)
def provider_cancel(self: ProviderTask, payment_id: str) -> None:
    services.payment_cancel(payment_id=payment_id, message_id=self.request.id or "")


@shared_task(bind=True, base=ProviderTask, name=PaymentTask.REFUND.value)
def provider_refund(self: ProviderTask, payment_id: str, refund_id: str) -> None:
    services.refund_execute(payment_id=payment_id, refund_id=refund_id, message_id=self.request.id or "")


@shared_task(name=PAYMENTS_RECOVER_STUCK, ignore_result=True)
def payments_recover_stuck() -> dict[str, int]:
    return services.payments_recover_stuck()


@shared_task(name=OUTBOX_RELAY, ignore_result=True)
def outbox_relay() -> int:
    """A backstop for deployments without the relay process: publishes what is due."""
    return outbox_relay_once()
