"""Back-office views of the ledger: finance staff follow any amount to its cause, nobody edits history
here (the triggers stand behind it); adjustments are proposed and decided under four eyes."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django_object_actions import DjangoObjectActions, action
from rangefilter.filters import DateRangeFilter

from accounts.models import FINANCE_APPROVER_GROUP, FINANCE_GROUP
from accounts.permissions import is_in_group
from core.admin import BackOfficeAdmin, ReadOnlyAdmin, money, sees_personal_data
from core.admin_links import admin_link, cause_link
from core.errors import ApiError
from core.http import client_ip
from core.money import AmountError, format_amount, parse_amount

from .models import Account, Adjustment, AdjustmentStatus, Entry, Transfer
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
    ) -> HttpResponseBase:
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


class AdjustmentProposeForm(forms.ModelForm):
    """A finance user's proposal: two accounts, an amount in the currency's decimals, a reason, and
    optionally the discrepancy it resolves. Nothing moves until someone else approves it."""

    amount_text = forms.CharField(label="Amount", help_text='In the currency\'s decimals, e.g. "12.50".')
    discrepancy = forms.UUIDField(
        required=False, help_text="The discrepancy this adjustment resolves, if any."
    )

    class Meta:
        model = Adjustment
        fields = ("debit_account", "credit_account", "currency", "reason")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        currency, text = cleaned.get("currency"), cleaned.get("amount_text")
        if currency and text:
            try:
                cleaned["amount"] = parse_amount(text.strip(), currency)
            except AmountError as exc:
                self.add_error("amount_text", str(exc))
        return cleaned


@admin.register(Adjustment)
class AdjustmentAdmin(DjangoObjectActions, BackOfficeAdmin):
    """Adjustments under four eyes: finance proposes here; a different finance_approver approves or
    rejects with the buttons on the proposal's page (POST, CSRF). Nothing else changes a proposal."""

    list_display = (
        "id",
        "status",
        money("amount", "amount"),
        "debit_account",
        "credit_account",
        "cause_shown",
        "proposed_by",
        "proposed_at",
        "decided_by",
        "decided_at",
    )
    list_filter = ("status", CurrencyFilter, ("proposed_at", DateRangeFilter))
    search_fields = ("=cause",)
    list_select_related = ("debit_account", "credit_account", "proposed_by", "decided_by")
    ordering = ("-proposed_at",)
    raw_id_fields = ("debit_account", "credit_account")
    change_actions = ("approve", "reject")
    readonly_fields = (
        "id",
        "status",
        "amount_shown",
        "debit_link",
        "credit_link",
        "reason",
        "cause_shown",
        "proposed_by",
        "proposed_at",
        "decided_by",
        "decided_at",
        "decision_note",
        "transfer_link",
    )

    # --- who may do what ---------------------------------------------------------------------
    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_in_group(request.user, FINANCE_GROUP, FINANCE_APPROVER_GROUP)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def may_decide(self, request: HttpRequest, adjustment: Adjustment) -> bool:
        return (
            adjustment.status == AdjustmentStatus.PROPOSED
            and adjustment.proposed_by_id != request.user.pk
            and is_in_group(request.user, FINANCE_APPROVER_GROUP)
        )

    def get_change_actions(self, request: HttpRequest, object_id: str, form_url: str) -> list[str]:
        adjustment = self.get_object(request, object_id)
        return (
            ["approve", "reject"] if adjustment is not None and self.may_decide(request, adjustment) else []
        )

    # --- the proposal form -------------------------------------------------------------------
    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = AdjustmentProposeForm
            kwargs["fields"] = ("debit_account", "credit_account", "currency", "reason")
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("discrepancy", "debit_account", "credit_account", "amount_text", "currency", "reason")
        return self.readonly_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """From a discrepancy's page: its currency, the accounts and amount that explain it."""
        initial = dict(super().get_changeform_initial_data(request))
        discrepancy_id = request.GET.get("discrepancy", "")
        if discrepancy_id and apps.is_installed("reconciliation"):
            from reconciliation.models import Discrepancy
            from reconciliation.services import discrepancy_adjustment_default

            discrepancy = Discrepancy.objects.filter(pk=_as_uuid(discrepancy_id)).first()
            if discrepancy is not None:
                initial.update(discrepancy=discrepancy.pk, currency=discrepancy.currency)
                try:
                    debit, credit, amount = discrepancy_adjustment_default(discrepancy)
                except ApiError:
                    pass
                else:
                    initial.update(
                        debit_account=debit,
                        credit_account=credit,
                        amount_text=format_amount(amount, discrepancy.currency),
                        reason=f"Resolves discrepancy {discrepancy.cls} {discrepancy.key}",
                    )
        return initial

    def save_model(self, request: HttpRequest, obj: Adjustment, form: Any, change: bool) -> None:
        from backoffice.services import staff_adjustment_propose

        data = form.cleaned_data
        created = staff_adjustment_propose(
            actor=request.user,  # type: ignore[arg-type]
            ip=client_ip(request),
            debit_account_id=data["debit_account"].pk,
            credit_account_id=data["credit_account"].pk,
            amount=data["amount"],
            currency=data["currency"],
            reason=data["reason"],
            discrepancy_id=data.get("discrepancy"),
        )
        obj.pk = created.pk
        obj.__dict__.update({k: v for k, v in created.__dict__.items() if not k.startswith("_")})

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponseBase:
        try:
            return super().add_view(request, form_url, extra_context)
        except ApiError as exc:  # refused by the service: say why, keep nothing
            self.message_user(request, f"Not proposed: {exc.detail}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    # --- the decision buttons ----------------------------------------------------------------
    def _decide(self, request: HttpRequest, adjustment: Adjustment, decision: str) -> HttpResponseBase:
        from backoffice.services import staff_adjustment_approve, staff_adjustment_reject

        change_url = reverse("admin:ledger_adjustment_change", args=[adjustment.pk])
        if not self.may_decide(request, adjustment):
            self.message_user(request, "You may not decide this adjustment.", messages.ERROR)
            return HttpResponseRedirect(change_url)
        note = request.POST.get("note", "").strip()
        if "confirm" not in request.POST or (decision == "reject" and not note):
            return TemplateResponse(
                request,
                "admin/ledger/adjustment/decide.html",
                {
                    **self.admin_site.each_context(request),
                    "title": f"{decision.capitalize()} adjustment",
                    "adjustment": adjustment,
                    "decision": decision,
                    "note_required": decision == "reject",
                    "opts": self.opts,
                    "change_url": change_url,
                    "amount": f"{format_amount(adjustment.amount, adjustment.currency)} {adjustment.currency}",
                },
            )
        service = staff_adjustment_approve if decision == "approve" else staff_adjustment_reject
        try:
            decided = service(
                actor=request.user,  # type: ignore[arg-type]
                ip=client_ip(request),
                adjustment_id=adjustment.pk,
                note=note,
            )
        except ApiError as exc:
            self.message_user(request, f"Not {decision}d: {exc.detail}", messages.ERROR)
        else:
            self.message_user(request, f"Adjustment {decided.status}.", messages.SUCCESS)
        return HttpResponseRedirect(change_url)

    @action(
        label="Approve", description="Approve and post this adjustment", methods=("POST",), button_type="form"
    )
    def approve(self, request: HttpRequest, adjustment: Adjustment) -> HttpResponseBase:
        return self._decide(request, adjustment, "approve")

    @action(
        label="Reject",
        description="Reject this adjustment: nothing is posted",
        methods=("POST",),
        button_type="form",
    )
    def reject(self, request: HttpRequest, adjustment: Adjustment) -> HttpResponseBase:
        return self._decide(request, adjustment, "reject")

    # --- display -----------------------------------------------------------------------------
    @admin.display(description="amount")
    def amount_shown(self, adjustment: Adjustment) -> str:
        return f"{format_amount(adjustment.amount, adjustment.currency)} {adjustment.currency}"

    @admin.display(description="debit")
    def debit_link(self, adjustment: Adjustment) -> Any:
        return admin_link("ledger_account", adjustment.debit_account_id, adjustment.debit_account)

    @admin.display(description="credit")
    def credit_link(self, adjustment: Adjustment) -> Any:
        return admin_link("ledger_account", adjustment.credit_account_id, adjustment.credit_account)

    @admin.display(description="cause", ordering="cause")
    def cause_shown(self, adjustment: Adjustment) -> Any:
        return cause_link(adjustment.cause) if adjustment.cause else "—"

    @admin.display(description="posted transfer")
    def transfer_link(self, adjustment: Adjustment) -> Any:
        return admin_link("ledger_transfer", adjustment.transfer_id) if adjustment.transfer_id else "—"
