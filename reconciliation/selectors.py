"""Reads of reconciliation: runs, discrepancies and what a run found, for commands and screens."""

from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from .models import Discrepancy, DiscrepancyStatus, ReconciliationRun


def discrepancy_list(
    *, provider: str | None = None, day: date | None = None, status: DiscrepancyStatus | None = None
) -> QuerySet[Discrepancy]:
    queryset = Discrepancy.objects.select_related("line", "adjustment", "resolved_by").order_by(
        "-day", "cls", "key"
    )
    if provider is not None:
        queryset = queryset.filter(provider=provider)
    if day is not None:
        queryset = queryset.filter(day=day)
    if status is not None:
        queryset = queryset.filter(status=status)
    return queryset


def run_list(*, provider: str | None = None, day: date | None = None) -> QuerySet[ReconciliationRun]:
    queryset = ReconciliationRun.objects.order_by("-started_at")
    if provider is not None:
        queryset = queryset.filter(provider=provider)
    if day is not None:
        queryset = queryset.filter(day=day)
    return queryset


def run_latest(*, provider: str, day: date) -> ReconciliationRun | None:
    return run_list(provider=provider, day=day).first()
