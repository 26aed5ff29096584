"""Read-only back-office views of payments, their timelines, the outbox, webhooks and dead letters.

Payments show their whole story on one page: the event timeline (state changes, provider calls,
webhooks, retries, dead letters, with request and correlation ids), refunds and the ledger transfers
they caused. Dead letters carry the one action here, Replay, through backoffice.services (audited).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django_object_actions import DjangoObjectActions, action
from rangefilter.filters import DateRangeFilter

from core.admin import BackOfficeAdmin, ReadOnlyAdmin, money, sees_personal_data
from core.admin_links import admin_link
from core.http import client_ip
from core.money import format_amount
from ledger.admin import CurrencyFilter
from ledger.models import Transfer

from .models import DeadLetter, OutboxMessage, Payment, PaymentEvent, PaymentStatus, ProviderWebhook, Refund


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PaymentEventInline(_ReadOnlyInline):
    model = PaymentEvent
    verbose_name_plural = "timeline"
    fields = ("created_at", "type", "data", "request_id", "correlation_id", "causation_id")
    readonly_fields = fields
    ordering = ("created_at",)


class RefundInline(_ReadOnlyInline):
    model = Refund
    fields = ("refund_link", "amount_shown", "status", "failure_code", "hold_link", "created_at")
    readonly_fields = fields

    @admin.display(description="refund")
    def refund_link(self, refund: Refund) -> Any:
        return admin_link("payments_refund", refund.pk)

    @admin.display(description="amount")
    def amount_shown(self, refund: Refund) -> str:
        return f"{format_amount(refund.amount, refund.currency)} {refund.currency}"

    @admin.display(description="ledger hold")
    def hold_link(self, refund: Refund) -> Any:
        return admin_link("ledger_transfer", refund.hold_id, refund.hold_id)


class FailureCodeFilter(admin.SimpleListFilter):
    title = "failure code"
    parameter_name = "failure_code"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        codes = (
            Payment.objects.filter(status=PaymentStatus.FAILED)
            .exclude(failure_code="")
            .order_by("failure_code")
            .values_list("failure_code", flat=True)
            .distinct()[:50]
        )
        return [(code, code) for code in codes]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Payment]) -> QuerySet[Payment]:
        return queryset.filter(failure_code=self.value()) if self.value() else queryset


class StuckFilter(admin.SimpleListFilter):
    """Payments still processing after PAYMENTS_STUCK_AFTER_SECONDS: what the recovery sweep chases."""

    title = "stuck"
    parameter_name = "stuck"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Stuck in processing")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Payment]) -> QuerySet[Payment]:
        if self.value() != "yes":
            return queryset
        cutoff = timezone.now() - timedelta(seconds=settings.PAYMENTS_STUCK_AFTER_SECONDS)
        return queryset.filter(status=PaymentStatus.PROCESSING, updated_at__lt=cutoff)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin, BackOfficeAdmin):
    list_display = (
        "id",
        "reference",
        "user",
        "status",
        money("amount", "amount"),
        money("amount_captured", "captured"),
        money("amount_refunded", "refunded"),
        "provider",
        "failure_code",
        "created_at",
    )
    list_filter = (
        "status",
        StuckFilter,
        "provider",
        CurrencyFilter,
        ("created_at", DateRangeFilter),
        FailureCodeFilter,
    )
    search_fields = ("reference",)
    search_help_text = "A payment reference, id, provider charge id, correlation id or customer email."
    list_select_related = ("user",)
    ordering = ("-created_at",)
    inlines = [RefundInline, PaymentEventInline]
    fields = (
        "id",
        "status",
        "reference",
        "user",
        "account_link",
        "amount_shown",
        "captured_shown",
        "refunded_shown",
        "fee_shown",
        "capture_method",
        "provider",
        "provider_charge_id",
        "failure_code",
        "failure_message",
        "payment_method",
        "description",
        "metadata",
        "correlation_id",
        "transfers",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    personal_fields = ("reference", "user", "payment_method", "description", "metadata")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Payment], search_term: str
    ) -> tuple[QuerySet[Payment], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(pk=uuid.UUID(term)), False
        except ValueError:
            pass
        query = Q(provider_charge_id=term) | Q(correlation_id=term)
        if sees_personal_data(request.user):
            query |= Q(reference=term)
            if "@" in term:
                query |= Q(user__email__iexact=term)
        return queryset.filter(query), False

    def _amount(self, payment: Payment, field: str) -> str:
        return f"{format_amount(getattr(payment, field), payment.currency)} {payment.currency}"

    @admin.display(description="amount")
    def amount_shown(self, payment: Payment) -> str:
        return self._amount(payment, "amount")

    @admin.display(description="captured")
    def captured_shown(self, payment: Payment) -> str:
        return self._amount(payment, "amount_captured")

    @admin.display(description="refunded")
    def refunded_shown(self, payment: Payment) -> str:
        return self._amount(payment, "amount_refunded")

    @admin.display(description="platform fee")
    def fee_shown(self, payment: Payment) -> str:
        return self._amount(payment, "fee")

    @admin.display(description="account")
    def account_link(self, payment: Payment) -> Any:
        return admin_link("ledger_account", payment.account_id, payment.account_id)

    @admin.display(description="ledger transfers")
    def transfers(self, payment: Payment) -> Any:
        """The capture and every refund's transfers (the hold and what moved the money)."""
        refund_ids = [str(pk) for pk in payment.refunds.values_list("pk", flat=True)]
        causes = Q(cause=f"payment:{payment.pk}") | Q(pk=payment.capture_transfer_id)
        for refund_id in refund_ids:
            causes |= Q(cause=f"refund:{refund_id}") | Q(cause__startswith=f"refund:{refund_id}:")
        found = Transfer.objects.filter(causes).order_by("created_at")
        if not found:
            return "—"
        return format_html_join(
            mark_safe("<br>"),
            "{} · {} · {} {} · {}",
            (
                (
                    admin_link("ledger_transfer", t.pk, t.pk),
                    t.kind,
                    format_amount(t.posted_amount or t.amount, t.currency),
                    t.currency,
                    t.status,
                )
                for t in found
            ),
        )


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin, BackOfficeAdmin):
    list_display = ("id", "payment", money("amount", "amount"), "status", "failure_code", "created_at")
    list_filter = ("status", CurrencyFilter, ("created_at", DateRangeFilter))
    search_fields = ("=provider_refund_id",)
    list_select_related = ("payment",)
    ordering = ("-created_at",)


@admin.register(PaymentEvent)
class PaymentEventAdmin(ReadOnlyAdmin, BackOfficeAdmin):
    list_display = ("created_at", "payment", "type", "request_id", "correlation_id", "causation_id")
    list_filter = ("type",)
    search_fields = ("=payment__id", "=correlation_id")
    list_select_related = ("payment",)
    ordering = ("-created_at",)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin, BackOfficeAdmin):
    list_display = ("id", "task", "created_at", "available_at", "published_at", "attempts", "last_error")
    list_filter = ("task", ("created_at", DateRangeFilter))
    search_fields = ("=correlation_id",)
    ordering = ("-created_at",)


@admin.register(ProviderWebhook)
class ProviderWebhookAdmin(ReadOnlyAdmin, BackOfficeAdmin):
    list_display = ("received_at", "provider", "event_id", "type", "payment", "outcome")
    list_filter = ("provider", "type", "outcome")
    search_fields = ("=event_id", "=payment__id")
    personal_fields = ("payload",)


@admin.register(DeadLetter)
class DeadLetterAdmin(DjangoObjectActions, ReadOnlyAdmin, BackOfficeAdmin):
    list_display = ("id", "task", "created_at", "retries", "error", "replayed_at")
    list_filter = ("task",)
    search_fields = ("=message_id", "=correlation_id")
    change_actions = ("replay",)

    def get_change_actions(self, request: HttpRequest, object_id: str, form_url: str) -> list[str]:
        letter = self.get_object(request, object_id)
        if letter is None or letter.replayed_at is not None or not self.may_replay(request):
            return []
        return ["replay"]

    def may_replay(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("payments.change_deadletter"))

    @action(
        label="Replay",
        description="Send this task again through the outbox",
        methods=("POST",),
        button_type="form",
    )
    def replay(self, request: HttpRequest, letter: DeadLetter) -> HttpResponse:
        from backoffice.services import staff_dead_letter_replay

        if not self.may_replay(request):
            self.message_user(request, "You may not replay dead letters.", messages.ERROR)
        else:
            try:
                message = staff_dead_letter_replay(
                    actor=request.user,  # type: ignore[arg-type]  # admin views have a logged-in User
                    ip=client_ip(request),
                    dead_letter_id=letter.pk,
                )
            except ValueError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, f"Replayed as outbox message {message.pk}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:payments_deadletter_change", args=[letter.pk]))
