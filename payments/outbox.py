"""The transactional outbox: tasks are written with the change that needs them and published later.

`outbox_enqueue` runs inside the caller's transaction, so a task exists if and only if
the change committed. The relay claims a batch with a short lease (SKIP LOCKED, so
several relays can run), publishes each message to the broker outside any database
transaction, with publisher confirms, and marks it published. A relay that dies
between publishing and marking leaves the lease to expire and the message is sent
again: consumers are idempotent. With the broker down nothing is lost: messages wait
and are retried with backoff.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .locks import outbox_lock_due
from .models import OutboxMessage, Payment
from .task_names import PaymentTask

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
MAX_BACKOFF = timedelta(seconds=30)


def outbox_enqueue(
    *,
    task: str,
    kwargs: dict,
    correlation_id: str = "",
    causation_id: str = "",
    delay: timedelta | None = None,
) -> OutboxMessage:
    now = timezone.now()
    return OutboxMessage.objects.create(
        task=task,
        kwargs=kwargs,
        correlation_id=correlation_id,
        causation_id=causation_id,
        available_at=now + (delay or timedelta(0)),
    )


def payment_task_enqueue(
    *, payment: Payment, task: PaymentTask, causation_id: str, refund_id: str | None = None
) -> OutboxMessage:
    """Put a provider task for this payment on the outbox, in the caller's transaction, carrying the
    payment's correlation id; causation_id is the timeline event that asked for it."""
    kwargs = {"payment_id": str(payment.pk)}
    if refund_id is not None:
        kwargs["refund_id"] = refund_id
    return outbox_enqueue(
        task=task, kwargs=kwargs, correlation_id=payment.correlation_id, causation_id=causation_id
    )


def _claim(batch_size: int) -> list[OutboxMessage]:
    now = timezone.now()
    with transaction.atomic():
        due = outbox_lock_due(now=now, limit=batch_size)
        if due:
            OutboxMessage.objects.filter(pk__in=[m.pk for m in due]).update(claimed_until=now + LEASE)
    return due


def _publish(message: OutboxMessage) -> None:
    from ledgerpay.celery import app

    app.send_task(
        message.task,
        kwargs=message.kwargs,
        task_id=str(message.id),
        retry=False,
        headers={"correlation_id": message.correlation_id, "causation_id": message.causation_id},
    )


def outbox_relay_once(*, batch_size: int = 100) -> int:
    """Publish what is due. Returns how many were published; stops at the first broker failure."""
    batch = _claim(batch_size)
    published = 0
    for index, message in enumerate(batch):
        try:
            _publish(message)
        except Exception as exc:  # the broker is down or refused: keep the message, back off
            backoff = min(MAX_BACKOFF, timedelta(seconds=2 ** min(message.attempts, 5)))
            OutboxMessage.objects.filter(pk=message.pk).update(
                attempts=message.attempts + 1,
                last_error=f"{type(exc).__name__}: {exc}"[:2000],
                claimed_until=None,
                available_at=timezone.now() + backoff,
            )
            # Give back the rest of the batch now rather than when its lease ends.
            OutboxMessage.objects.filter(pk__in=[m.pk for m in batch[index + 1 :]]).update(claimed_until=None)
            logger.warning(
                "outbox: publishing %s failed (%s); retrying in %ss", message.pk, exc, backoff.seconds
            )
            break
        OutboxMessage.objects.filter(pk=message.pk).update(
            published_at=timezone.now(), claimed_until=None, attempts=message.attempts + 1, last_error=""
        )
        published += 1
    return published


def outbox_relay_run(*, poll_seconds: float, stop: Callable[[], bool] = lambda: False) -> None:
    """The relay loop of `manage.py run_outbox_relay`."""
    while not stop():
        try:
            if outbox_relay_once():
                continue
        except Exception:  # the database went away: log and try again, the relay must outlive outages
            logger.exception("outbox relay iteration failed")
            from django.db import connection

            connection.close()
        time.sleep(poll_seconds)
