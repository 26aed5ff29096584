"""Read-only back-office views of the ledger: finance staff follow any amount to its cause, nobody
edits history here (the triggers stand behind it). Adjustments, which are decided by people, have
their pages in backoffice/admin.py (they link to reconciliation, which the ledger does not know)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html
from rangefilter.filters import DateRangeFilter

from core.admin import BackOfficeAdmin, ReadOnlyAdmin, money, sees_personal_data
from core.admin_links import admin_link, cause_link
from core.money import format_amount

from .models import Account, Entry, Transfer
from .selectors import account_entries

STATEMENT_PAGE_SIZE = 50


def _as_uuid(term: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(term.strip())
    except ValueError:
        return None


class CurrencyFilter(admin.SimpleListFilter):
    """Currencies in use, read from the (small) accounts table, never a DISTINCT over history."""

    title = "currency"
    parameter_name = "currency"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        codes = Account.objects.order_by("currency").values_list("currency", flat=True).distinct()
        return [(code, code) for code in codes]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(currency=self.value()) if self.value() else queryset


class AccountTypeFilter(admin.SimpleListFilter):
    title = "system or customer"
    parameter_name = "type"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("system", "System"), ("customer", "Customer")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Account]) -> QuerySet[Account]:
        if self.value() == "system":
            return queryset.filter(system_code__isnull=False)
        if self.value() == "customer":
            return queryset.filter(system_code__isnull=True)
        return queryset


class EntryInline(admin.TabularInline):
    model = Entry
    fields = ("account", "amount_shown", "balance_shown", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="amount (+debit / -credit)")
    def amount_shown(self, entry: Entry) -> str:
        return f"{format_amount(entry.amount, entry.currency)} {entry.currency}"

    @admin.display(description="balance after")
    def balance_shown(self, entry: Entry) -> str:
        return f"{format_amount(entry.balance_after, entry.currency)} {entry.currency}"


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin, BackOfficeAdmin):
    list_display = (
        "id",
        "name",
        "owner",
        "system_code",
        "currency",
        "kind",
        "status",
        money("balance", "balance"),
        money("pending_debits", "pending debits"),
        "created_at",
    )
    list_filter = ("kind", CurrencyFilter, "status", AccountTypeFilter)
    search_fields = ("name", "owner__email")
    search_help_text = "An account id, an owner's email, or part of a name or system code."
    list_select_related = ("owner",)
    personal_fields = ("owner",)
    change_form_template = "admin/ledger/account/change_form.html"
    fields = (
        "id",
        "name",
        "owner",
        "system_code",
        "currency",
        "kind",
        "status",
        "allow_negative",
        "accepts_external_transfers",
        "balance_shown",
        "pending_debits_shown",
        "pending_credits_shown",
        "version",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="balance")
    def balance_shown(self, account: Account) -> str:
        return f"{format_amount(account.balance, account.currency)} {account.currency}"

    @admin.display(description="pending debits")
    def pending_debits_shown(self, account: Account) -> str:
        return f"{format_amount(account.pending_debits, account.currency)} {account.currency}"

    @admin.display(description="pending credits")
    def pending_credits_shown(self, account: Account) -> str:
        return f"{format_amount(account.pending_credits, account.currency)} {account.currency}"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Account], search_term: str
    ) -> tuple[QuerySet[Account], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        if (pk := _as_uuid(term)) is not None:
            return queryset.filter(pk=pk), False
        query = Q(name__icontains=term) | Q(system_code__icontains=term)
        if "@" in term and sees_personal_data(request.user):
            query |= Q(owner__email__iexact=term)
        return queryset.filter(query), False

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        account = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if account is not None and request.method == "GET":
            context["statement"] = self._statement(request, account)
        return super().change_view(request, object_id, form_url, context)

    def _statement(self, request: HttpRequest, account: Account) -> dict[str, Any]:
        """One page of the statement, newest first; no COUNT over the account's entries."""
        start, end = _day(request.GET.get("from")), _day(request.GET.get("to"))
        try:
            page = max(int(request.GET.get("page", "1")), 1)
        except ValueError:
            page = 1
        tz = timezone.get_current_timezone()
        entries = account_entries(
            account=account,
            created_after=datetime.combine(start, time.min, tz) if start else None,
            created_before=datetime.combine(end + timedelta(days=1), time.min, tz) if end else None,
        )
        offset = (page - 1) * STATEMENT_PAGE_SIZE
        rows = list(entries[offset : offset + STATEMENT_PAGE_SIZE + 1])
        sign = account.normal_sign
        lines = [
            {
                "entry": entry,
                "when": entry.created_at,
                "transfer": admin_link("ledger_transfer", entry.transfer_id, entry.transfer.kind),
                "cause": cause_link(entry.transfer.cause) if entry.transfer.cause else "",
                "description": entry.transfer.description,
                "debit": format_amount(entry.amount, entry.currency) if entry.amount > 0 else "",
                "credit": format_amount(-entry.amount, entry.currency) if entry.amount < 0 else "",
                "change": format_amount(entry.amount * sign, entry.currency),
                "balance": format_amount(entry.balance_after, entry.currency),
            }
            for entry in rows[:STATEMENT_PAGE_SIZE]
        ]
        return {
            "lines": lines,
            "page": page,
            "has_next": len(rows) > STATEMENT_PAGE_SIZE,
            "has_previous": page > 1,
            "from": start.isoformat() if start else "",
            "to": end.isoformat() if end else "",
            "currency": account.currency,
        }


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin, BackOfficeAdmin):
    list_display = (
        "id",
        "kind",
        "status",
        money("amount", "amount"),
        money("posted_amount", "posted"),
        "source",
        "destination",
        "cause_shown",
        "created_at",
    )
    list_filter = ("kind", "status", CurrencyFilter, ("created_at", DateRangeFilter))
    search_fields = ("cause",)
    search_help_text = "A transfer id, a cause such as payment:<id>, or a metadata value as key=value."
    list_select_related = ("source", "destination")
    ordering = ("-created_at",)
    inlines = [EntryInline]
    fields = (
        "id",
        "kind",
        "status",
        "amount_shown",
        "posted_shown",
        "source_link",
        "destination_link",
        "description",
        "cause_shown",
        "caused_by",
        "metadata",
        "reverses",
        "created_by",
        "approved_by",
        "created_at",
        "posted_at",
        "finalized_at",
        "expires_at",
    )
    readonly_fields = fields
    personal_fields = ("description", "metadata", "created_by", "approved_by")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Transfer], search_term: str
    ) -> tuple[QuerySet[Transfer], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        if (pk := _as_uuid(term)) is not None:
            return queryset.filter(pk=pk), False
        key, equals, value = term.partition("=")
        if equals and key.strip():
            return queryset.filter(metadata__contains={key.strip(): value.strip()}), False
        return queryset.filter(cause=term), False

    @admin.display(description="amount")
    def amount_shown(self, transfer: Transfer) -> str:
        return f"{format_amount(transfer.amount, transfer.currency)} {transfer.currency}"

    @admin.display(description="posted")
    def posted_shown(self, transfer: Transfer) -> str:
        if transfer.posted_amount is None:
            return "—"
        return f"{format_amount(transfer.posted_amount, transfer.currency)} {transfer.currency}"

    @admin.display(description="source (debited)")
    def source_link(self, transfer: Transfer) -> Any:
        return admin_link("ledger_account", transfer.source_id, transfer.source)

    @admin.display(description="destination (credited)")
    def destination_link(self, transfer: Transfer) -> Any:
        return admin_link("ledger_account", transfer.destination_id, transfer.destination)

    @admin.display(description="cause", ordering="cause")
    def cause_shown(self, transfer: Transfer) -> Any:
        return cause_link(transfer.cause) if transfer.cause else "—"

    @admin.display(description="caused by")
    def caused_by(self, transfer: Transfer) -> Any:
        """What this transfer belongs to, found from the other side: a captured payment, a refund."""
        links = []
        payment = getattr(transfer, "captured_payment", None)
        if payment is not None:
            links.append(format_html("payment {}", admin_link("payments_payment", payment.pk)))
        refund = getattr(transfer, "refund", None)
        if refund is not None:
            links.append(format_html("refund {}", admin_link("payments_refund", refund.pk)))
        reversal = getattr(transfer, "reversed_by", None)
        if reversal is not None:
            links.append(format_html("reversed by {}", admin_link("ledger_transfer", reversal.pk)))
        adjustment = getattr(transfer, "adjustment", None)
        if adjustment is not None:
            links.append(format_html("adjustment {}", admin_link("ledger_adjustment", adjustment.pk)))
        if not links:
            return "—"
        return format_html("{}", format_html(", ".join(["{}"] * len(links)), *links))

    @admin.display(description="approved by")
    def approved_by(self, transfer: Transfer) -> str:
        adjustment = getattr(transfer, "adjustment", None)
        decided_by = getattr(adjustment, "decided_by", None)
        return str(decided_by) if decided_by is not None else "—"


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin, BackOfficeAdmin):
    list_display = ("id", "transfer", "account", "amount", "balance_after", "currency", "created_at")
    list_filter = (CurrencyFilter, ("created_at", DateRangeFilter))
    search_fields = ("=transfer__id", "=account__id")
    search_help_text = "A transfer id or an account id."
    list_select_related = ("transfer", "account")
    ordering = ("-id",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Entry], search_term: str
    ) -> tuple[QuerySet[Entry], bool]:
        pk = _as_uuid(search_term)
        if not search_term.strip():
            return queryset, False
        if pk is None:
            return queryset.none(), False
        return queryset.filter(Q(transfer_id=pk) | Q(account_id=pk)), False
