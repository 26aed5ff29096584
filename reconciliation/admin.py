"""Read-only back-office views of reconciliation: runs (failed ones with their error), discrepancies,
matches and imported reports. Decisions go through the services, never through these pages."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin, money

from .models import Discrepancy, Match, ReconciliationRun, SettlementLine, SettlementReport


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "provider",
        "day",
        "status",
        "verdict",
        "schedule",
        "triggered_by",
        "started_at",
        "error",
    )
    list_filter = ("status", "verdict", "kind", "provider", "schedule")
    search_fields = ("id", "error")
    date_hierarchy = "started_at"


@admin.register(Discrepancy)
class DiscrepancyAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "provider",
        "day",
        "cls",
        "key",
        "currency",
        money("expected", "expected"),
        money("actual", "actual"),
        "status",
        "auto_resolved",
        "adjustment",
        "resolved_by",
    )
    list_filter = ("status", "cls", "provider", "auto_resolved")
    search_fields = ("id", "key", "payment__id")
    date_hierarchy = "created_at"


@admin.register(Match)
class MatchAdmin(ReadOnlyAdmin):
    list_display = ("id", "provider", "line_key", "transfer", "kind", "settlement", "created_at")
    list_filter = ("kind", "provider")
    search_fields = ("line_key",)


@admin.register(SettlementReport)
class SettlementReportAdmin(ReadOnlyAdmin):
    list_display = ("provider", "day", "version", "source", "line_count", "checksum", "imported_at")
    list_filter = ("provider", "source")


@admin.register(SettlementLine)
class SettlementLineAdmin(ReadOnlyAdmin):
    list_display = (
        "line_id",
        "line_type",
        "psp_reference",
        "merchant_reference",
        "currency",
        money("gross", "gross"),
        money("fee", "fee"),
        money("net", "net"),
        "report",
    )
    list_filter = ("line_type", "currency")
    search_fields = ("line_id", "psp_reference", "merchant_reference")
    list_select_related = ("report",)
