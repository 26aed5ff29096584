"""The back office's own admin pages: adjustments under four eyes (proposed by finance, decided by a
different finance_approver with POST buttons), linked to the reconciliation discrepancy they resolve.

Here rather than in ledger/admin.py because it knows reconciliation, which the ledger must not import.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import reverse
from django_object_actions import DjangoObjectActions, action
from rangefilter.filters import DateRangeFilter

from accounts.models import FINANCE_APPROVER_GROUP, FINANCE_GROUP
from accounts.permissions import is_in_group
from core.admin import BackOfficeAdmin, money
from core.admin_links import admin_link, cause_link
from core.errors import ApiError
from core.http import client_ip
from core.money import AmountError, format_amount, parse_amount
from ledger.admin import CurrencyFilter
from ledger.models import Adjustment, AdjustmentStatus

from .services import staff_adjustment_approve, staff_adjustment_propose, staff_adjustment_reject


def _as_uuid(term: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(term.strip())
    except ValueError:
        return None


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
        initial: dict[str, Any] = dict(super().get_changeform_initial_data(request))
        discrepancy_id = _as_uuid(str(request.GET.get("discrepancy", "")))
        if discrepancy_id is not None and apps.is_installed("reconciliation"):
            from reconciliation.models import Discrepancy
            from reconciliation.services.discrepancies import discrepancy_adjustment_default

            discrepancy = Discrepancy.objects.filter(pk=discrepancy_id).first()
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

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        try:
            return super().add_view(request, form_url, extra_context)
        except ApiError as exc:  # refused by the service: say why, keep nothing
            self.message_user(request, f"Not proposed: {exc.detail}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    # --- the decision buttons ----------------------------------------------------------------
    def _decide(self, request: HttpRequest, adjustment: Adjustment, decision: str) -> HttpResponseBase:
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
