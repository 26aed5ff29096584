"""Read-only back-office views of reconciliation: runs (failed ones with their error), discrepancies,
matches and imported reports. Decisions go through the services, never through these pages."""

from typing import Any

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from core.admin import BackOfficeAdmin, ReadOnlyAdmin, money
from core.admin_links import admin_link

from .models import Discrepancy, Match, ReconciliationRun, SettlementLine, SettlementReport


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin, BackOfficeAdmin):
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
class DiscrepancyAdmin(ReadOnlyAdmin, BackOfficeAdmin):
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
    list_select_related = ("adjustment", "resolved_by")
    readonly_fields = ("links", "propose_adjustment")

    @admin.display(description="report line, payment, adjustment")
    def links(self, discrepancy: Discrepancy) -> Any:
        return format_html(
            "line {} · payment {} · adjustment {}",
            admin_link("reconciliation_settlementline", discrepancy.line_id) if discrepancy.line_id else "—",
            admin_link("payments_payment", discrepancy.payment_id) if discrepancy.payment_id else "—",
            admin_link("ledger_adjustment", discrepancy.adjustment_id) if discrepancy.adjustment_id else "—",
        )

    @admin.display(description="resolve")
    def propose_adjustment(self, discrepancy: Discrepancy) -> Any:
        """The way to resolve an open discrepancy: propose its adjustment (four eyes decide it)."""
        if discrepancy.status != "open" or discrepancy.adjustment_id is not None:
            return "—"
        url = reverse("admin:ledger_adjustment_add") + f"?discrepancy={discrepancy.pk}"
        return format_html('<a class="button" id="propose-adjustment" href="{}">Propose adjustment</a>', url)


@admin.register(Match)
class MatchAdmin(ReadOnlyAdmin, BackOfficeAdmin):
    list_display = ("id", "provider", "line_key", "transfer", "kind", "settlement", "created_at")
    list_filter = ("kind", "provider")
    search_fields = ("line_key",)


@admin.register(SettlementReport)
class SettlementReportAdmin(ReadOnlyAdmin, BackOfficeAdmin):
    list_display = ("provider", "day", "version", "source", "line_count", "checksum", "imported_at")
    list_filter = ("provider", "source")


@admin.register(SettlementLine)
class SettlementLineAdmin(ReadOnlyAdmin, BackOfficeAdmin):
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
