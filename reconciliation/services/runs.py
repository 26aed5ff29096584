"""Settling and reconciling a provider's day: the runs behind the `settle` and `reconcile` commands
and the nightly task.

A run is recorded first (status running, in its own commit) so that a failure leaves it visible as
failed with its error. Then: the report is fetched outside any transaction, imported (once), the
provider's API is asked about lines whose outcome LedgerPay seems to have missed (the three-way check,
each answer applied through payments' one outcome door), and finally, in one transaction under the
(provider, day) lock, the lines are matched and classified in SQL, discrepancies and matches written,
and — when settling — one balanced settlement transfer posted per payout and currency for the matched
lines not yet settled. A dry run does the same inside a transaction it rolls back, asks the provider
nothing and leaves no trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from payments import providers

from ..errors import ReconciliationError
from ..locks import provider_day_lock
from ..models import (
    Discrepancy,
    ReconciliationRun,
    RunKind,
    RunStatus,
    SettlementReport,
    Verdict,
)
from . import matching
from .recovery import lost_outcomes_recover
from .reports import report_fetch, report_import
from .settlement import SettlementPosted, payouts_settle, unsettled_count

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]
STEPS = ("fetch", "import", "recover", "match", "write", "settle")


@dataclass
class RunResult:
    """What a settle or reconcile run found (and, for settle, posted). Amounts in minor units."""

    run: ReconciliationRun
    provider: str
    day: date
    report: SettlementReport
    verdict: str
    counts: dict[str, int]
    totals: dict[str, dict[str, int]]
    discrepancies: list[Discrepancy]
    recovered: list[str] = field(default_factory=list)
    settlements: list[SettlementPosted] = field(default_factory=list)
    unsettled: int = 0
    dry_run: bool = False
    by_class: list[tuple[str, str, int, int]] = field(default_factory=list)

    @property
    def open_discrepancies(self) -> list[Discrepancy]:
        return [d for d in self.discrepancies if d.status == "open"]


def _check_input(*, provider: str, day: date) -> providers.FeeRule:
    try:
        fee_rule = providers.provider_fee_rule(provider)
    except ImproperlyConfigured as exc:
        raise ReconciliationError("unknown_provider", str(exc), status=400) from None
    if day > timezone.now().date():
        raise ReconciliationError("invalid_date", f"{day.isoformat()} is in the future.", status=400)
    return fee_rule


def _run_start(
    *, kind: RunKind, provider: str, day: date, triggered_by: User | None, schedule: str
) -> ReconciliationRun:
    return ReconciliationRun.objects.create(
        kind=kind,
        provider=provider,
        day=day,
        triggered_by=triggered_by,
        schedule=schedule,
        started_at=timezone.now(),
    )


def _run_fail(run: ReconciliationRun, exc: BaseException) -> None:
    """Record the failure in its own commit (the work's transaction has rolled back)."""
    error = (
        f"{exc.code}: {exc.detail}"
        if isinstance(exc, ReconciliationError)
        else f"{type(exc).__name__}: {exc}"
    )
    ReconciliationRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED, error=error[:10_000], finished_at=timezone.now()
    )
    run.status, run.error = RunStatus.FAILED, error


def _verdict(*, open_count: int, counts: dict[str, int], totals: dict[str, dict[str, int]]) -> Verdict:
    if open_count or any(t["unexplained"] for t in totals.values()):
        return Verdict.BREAKS
    if counts.get(matching.PENDING):
        return Verdict.RECONCILED_WITH_PENDING
    return Verdict.RECONCILED


def _reconcile_locked(
    *,
    run: ReconciliationRun,
    report: SettlementReport,
    fee_rule: providers.FeeRule,
    settle: bool,
    recovered: list[str],
    recovery: dict[str, dict[str, Any]],
    step: Progress,
    missing_after_days: int | None,
) -> RunResult:
    """The work under the day's lock, in the caller's transaction."""
    provider, day = run.provider, run.day
    provider_day_lock(provider=provider, day=day)
    if missing_after_days is None:
        missing_after_days = settings.RECONCILIATION_MISSING_AFTER_DAYS
    late = (timezone.now().date() - day).days >= missing_after_days
    step("match")
    matching.classify(provider=provider, report_id=report.pk, day=day, fee_rule=fee_rule, late=late)
    step("write")
    matching.discrepancies_write(
        provider=provider,
        day=day,
        run_id=run.pk,
        tolerance=settings.RECONCILIATION_TOLERANCE,
        recovery=recovery,
        note=f"cleared: not found again by run {run.pk} (report version {report.version})",
    )
    matching.matches_write(provider=provider, day=day, run_id=run.pk, recovered=recovered)
    counts = matching.counts()
    totals = matching.totals()
    by_class = matching.class_totals()
    settlements: list[SettlementPosted] = []
    unsettled = 0
    if settle:
        step("settle")
        settlements = payouts_settle(provider=provider, day=day, run=run)
        unsettled = unsettled_count(provider=provider, day=day)
    open_count = matching.open_discrepancy_count(provider=provider, day=day)
    verdict = _verdict(open_count=open_count, counts=counts, totals=totals)
    ReconciliationRun.objects.filter(pk=run.pk).update(
        report=report,
        status=RunStatus.SUCCEEDED,
        verdict=verdict,
        counts=counts,
        totals=totals,
        finished_at=timezone.now(),
    )
    run.refresh_from_db()
    discrepancies = list(
        Discrepancy.objects.filter(provider=provider, day=day, last_run=run)
        .select_related("line", "adjustment")
        .order_by("cls", "key")
    )
    return RunResult(
        run=run,
        provider=provider,
        day=day,
        report=report,
        verdict=verdict,
        counts=counts,
        totals=totals,
        discrepancies=discrepancies,
        recovered=recovered,
        settlements=settlements,
        unsettled=unsettled,
        by_class=by_class,
    )


def reconcile_day(
    *,
    provider: str,
    day: date,
    file: Path | None = None,
    dry_run: bool = False,
    settle: bool = False,
    triggered_by: User | None = None,
    schedule: str = "manual",
    progress: Progress | None = None,
    missing_after_days: int | None = None,
) -> RunResult:
    """Reconcile (and with settle=True, settle) one provider's day. Raises ReconciliationError (and its
    ReportInvalid) for bad input: a failed run is then left with its error, and nothing else changed."""
    fee_rule = _check_input(provider=provider, day=day)
    step = progress or (lambda name: None)
    kind = RunKind.SETTLE if settle else RunKind.RECONCILE
    if dry_run:
        step("fetch")
        with report_fetch(provider=provider, day=day, file=file) as fetched, transaction.atomic():
            run = _run_start(
                kind=kind, provider=provider, day=day, triggered_by=triggered_by, schedule=schedule
            )
            step("import")
            report, _ = report_import(report=fetched)
            result = _reconcile_locked(
                run=run,
                report=report,
                fee_rule=fee_rule,
                settle=settle,
                recovered=[],
                recovery={},
                step=step,
                missing_after_days=missing_after_days,
            )
            result.dry_run = True
            transaction.set_rollback(True)
            return result
    run = _run_start(kind=kind, provider=provider, day=day, triggered_by=triggered_by, schedule=schedule)
    try:
        step("fetch")
        with report_fetch(provider=provider, day=day, file=file) as fetched:
            step("import")
            report, _ = report_import(report=fetched)
        step("recover")
        recovered, recovery = lost_outcomes_recover(
            provider=provider, report_id=report.pk, limit=settings.RECONCILIATION_RECOVERY_LIMIT
        )
        with transaction.atomic():
            return _reconcile_locked(
                run=run,
                report=report,
                fee_rule=fee_rule,
                settle=settle,
                recovered=recovered,
                recovery=recovery,
                step=step,
                missing_after_days=missing_after_days,
            )
    except BaseException as exc:
        _run_fail(run, exc)
        if not isinstance(exc, ReconciliationError):
            logger.exception("reconciliation run %s failed", run.pk)
        raise


def settle_day(
    *,
    provider: str,
    day: date,
    file: Path | None = None,
    dry_run: bool = False,
    triggered_by: User | None = None,
    schedule: str = "manual",
    progress: Progress | None = None,
    missing_after_days: int | None = None,
) -> RunResult:
    """Settle one provider's day: reconcile it, then post the settlement of what matched."""
    return reconcile_day(
        missing_after_days=missing_after_days,
        provider=provider,
        day=day,
        file=file,
        dry_run=dry_run,
        settle=True,
        triggered_by=triggered_by,
        schedule=schedule,
        progress=progress,
    )


def reconcile_range(
    *,
    provider: str,
    first: date,
    last: date,
    dry_run: bool = False,
    triggered_by: User | None = None,
    schedule: str = "manual",
    progress: Progress | None = None,
) -> list[RunResult]:
    """Reconcile every day from first to last, inclusive, one run each."""
    if last < first:
        raise ReconciliationError("invalid_date", f"--to {last} is before --from {first}.", status=400)
    if (last - first).days > 366:
        raise ReconciliationError("invalid_date", "A range is at most 366 days.", status=400)
    _check_input(provider=provider, day=last)
    return [
        reconcile_day(
            provider=provider,
            day=first + timedelta(days=offset),
            dry_run=dry_run,
            triggered_by=triggered_by,
            schedule=schedule,
            progress=progress,
        )
        for offset in range((last - first).days + 1)
    ]
