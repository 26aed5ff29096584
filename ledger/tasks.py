"""Periodic ledger jobs, run by Celery beat. Thin: each calls one service."""

from celery import shared_task

from . import services
from .task_names import HOLD_EXPIRE_DUE


@shared_task(name=HOLD_EXPIRE_DUE, ignore_result=True)
def hold_expire_due() -> int:
    return services.hold_expire_due()
