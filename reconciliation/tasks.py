"""Celery tasks of reconciliation: thin. Beat starts reconcile_nightly, which queues one settle run of
the previous UTC day per provider; each retries on failure (its failed runs stay visible, with their
error) and gives up on bad input, which retrying cannot fix."""

from datetime import date, timedelta

from celery import Task, shared_task
from django.conf import settings
from django.utils import timezone

from .errors import ReconciliationError
from .services import settle_day
from .task_names import RECONCILE_NIGHTLY, RECONCILE_PROVIDER_DAY


class NightlyTask(Task):
    max_retries = settings.RECONCILIATION_NIGHTLY_RETRIES
    default_retry_delay = settings.RECONCILIATION_NIGHTLY_RETRY_SECONDS
    acks_late = True


@shared_task(name=RECONCILE_NIGHTLY, ignore_result=True)
def reconcile_nightly() -> list[str]:
    """Queue the settle and reconcile run of yesterday (UTC) for every configured provider."""
    day = (timezone.now() - timedelta(days=1)).date().isoformat()
    for provider in settings.RECONCILIATION_PROVIDERS:
        reconcile_provider_day.delay(provider=provider, day=day)
    return list(settings.RECONCILIATION_PROVIDERS)


@shared_task(bind=True, base=NightlyTask, name=RECONCILE_PROVIDER_DAY, ignore_result=True)
def reconcile_provider_day(self: Task, provider: str, day: str) -> str:
    try:
        result = settle_day(provider=provider, day=date.fromisoformat(day), schedule="nightly")
    except ReconciliationError as exc:
        if exc.status >= 500:  # the provider's report is unavailable: worth another try
            raise self.retry(exc=exc) from exc
        raise
    except Exception as exc:
        raise self.retry(exc=exc) from exc
    return result.verdict
