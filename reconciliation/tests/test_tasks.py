"""The nightly run: beat's schedule (time from settings), one settle-and-reconcile run of yesterday per
provider, retried on failure and then left as a failed run with its error."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.utils import timezone

from reconciliation import tasks
from reconciliation.errors import ReportInvalid
from reconciliation.models import ReconciliationRun, RunKind, RunStatus
from reconciliation.task_names import RECONCILE_NIGHTLY

pytestmark = pytest.mark.django_db


def test_beat_runs_the_nightly_reconciliation_at_the_configured_time():
    (entry,) = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == RECONCILE_NIGHTLY]
    hour, minute = (int(x) for x in settings.RECONCILIATION_NIGHTLY_AT.split(":"))
    assert entry["schedule"] == crontab(hour=hour, minute=minute)


def test_the_nightly_task_queues_yesterday_for_each_provider(monkeypatch, settings):
    settings.RECONCILIATION_PROVIDERS = ["sandbox", "sandbox_secondary"]
    queued = []
    monkeypatch.setattr(tasks.reconcile_provider_day, "delay", lambda **kwargs: queued.append(kwargs))
    tasks.reconcile_nightly()
    yesterday = (timezone.now() - timedelta(days=1)).date().isoformat()
    assert queued == [
        {"provider": "sandbox", "day": yesterday},
        {"provider": "sandbox_secondary", "day": yesterday},
    ]


def test_a_nightly_run_settles_and_reconciles_the_day(provider):
    day = (timezone.now() - timedelta(days=1)).date().isoformat()
    result = tasks.reconcile_provider_day.apply(kwargs={"provider": "sandbox", "day": day})
    assert result.successful() and result.result == "reconciled"
    run = ReconciliationRun.objects.get()
    assert run.kind == RunKind.SETTLE and run.schedule == "nightly" and run.status == RunStatus.SUCCEEDED


def test_a_failing_nightly_run_is_retried_then_left_failed_with_its_error(settings, monkeypatch):
    settings.PAYMENT_PROVIDERS = {
        "sandbox": {
            **settings.PAYMENT_PROVIDERS["sandbox"],
            "base_url": "http://127.0.0.1:9",
            "timeout_seconds": 1,
        }
    }
    monkeypatch.setattr(tasks.reconcile_provider_day, "max_retries", 2)
    day = (timezone.now() - timedelta(days=1)).date().isoformat()

    result = tasks.reconcile_provider_day.apply(kwargs={"provider": "sandbox", "day": day})

    assert result.failed()
    runs = ReconciliationRun.objects.all()
    assert runs.count() == 3  # the first attempt and two retries
    assert {r.status for r in runs} == {RunStatus.FAILED}
    assert all(r.error.startswith("report_unavailable:") and r.finished_at for r in runs)


def test_bad_input_is_not_retried(monkeypatch):
    calls = []

    def settle_day(**kwargs):
        calls.append(kwargs)
        raise ReportInvalid(7, "bad amount in gross: '1.2'")

    monkeypatch.setattr(tasks, "settle_day", settle_day)
    monkeypatch.setattr(tasks.reconcile_provider_day, "max_retries", 2)
    result = tasks.reconcile_provider_day.apply(kwargs={"provider": "sandbox", "day": "2026-01-01"})
    assert result.failed() and "line 7" in str(result.result)
    assert len(calls) == 1
