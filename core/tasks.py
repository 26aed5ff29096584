"""Periodic core jobs, run by Celery beat. Thin: each calls one service."""

from celery import shared_task

from . import idempotency
from .task_names import IDEMPOTENCY_KEY_PURGE


@shared_task(name=IDEMPOTENCY_KEY_PURGE, ignore_result=True)
def idempotency_key_purge() -> int:
    return idempotency.idempotency_key_purge()
