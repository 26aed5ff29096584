"""Celery tasks of the payments app: thin; each loads by id and calls one service.

Provider tasks (routed to the provider queue) own the retry policy: transient provider
failures retry with exponential backoff and jitter; when retries run out the task is
recorded as a dead letter for an operator to replay. acks_late with
reject_on_worker_lost means a worker killed mid-call leaves the message to be
redelivered, and the services make the redelivery harmless.
"""

from typing import Any

from billiard.einfo import ExceptionInfo
from celery import Task, shared_task
from django.conf import settings

from . import services
from .outbox import outbox_relay_once
from .providers import ProviderTimeout, ProviderUnavailable
from .task_names import OUTBOX_RELAY, PAYMENTS_RECOVER_STUCK, PaymentTask


class ProviderTask(Task):
    autoretry_for = (ProviderUnavailable, ProviderTimeout)
    retry_backoff = 1
    retry_backoff_max = settings.PAYMENTS_RETRY_BACKOFF_MAX
    retry_jitter = True
    max_retries = settings.PAYMENTS_TASK_MAX_RETRIES
    acks_late = True
    reject_on_worker_lost = True

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
