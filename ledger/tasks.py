"""Periodic ledger jobs, run by Celery beat. Thin: each calls one service."""

from celery import shared_task

from . import idempotency, services


@shared_task(ignore_result=True)
def hold_expire_due() -> int:
    return services.hold_expire_due()


@shared_task(ignore_result=True)
def idempotency_key_purge() -> int:
    return idempotency.idempotency_key_purge()
