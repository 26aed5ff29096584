"""Read-only back-office views of payments, their timelines, the outbox, webhooks and dead letters."""

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from core.admin import ReadOnlyAdmin, money

from .models import DeadLetter, OutboxMessage, Payment, PaymentEvent, ProviderWebhook, Refund


class PaymentEventInline(admin.TabularInline):
    model = PaymentEvent
    fields = ("created_at", "type", "data", "request_id", "causation_id")
    readonly_fields = fields
    ordering = ("created_at",)
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class RefundInline(admin.TabularInline):
    model = Refund
    fields = ("id", "amount", "status", "failure_code", "hold", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "user",
        "status",
        money("amount", "amount"),
        money("amount_captured", "captured"),
        money("amount_refunded", "refunded"),
        "provider",
        "failure_code",
        "created_at",
    )
    list_filter = ("status", "provider", "currency", "capture_method")
    search_fields = ("id", "user__email", "provider_charge_id", "reference", "correlation_id")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    inlines = [RefundInline, PaymentEventInline]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ("id", "payment", money("amount", "amount"), "status", "failure_code", "created_at")
    list_filter = ("status", "currency")
    search_fields = ("id", "payment__id", "provider_refund_id")


@admin.register(PaymentEvent)
class PaymentEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "payment", "type", "request_id", "correlation_id", "causation_id")
    list_filter = ("type",)
    search_fields = ("payment__id", "correlation_id", "request_id", "causation_id")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "task", "created_at", "available_at", "published_at", "attempts", "last_error")
    list_filter = ("task",)
    search_fields = ("id", "correlation_id")


@admin.register(ProviderWebhook)
class ProviderWebhookAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "provider", "event_id", "type", "payment", "outcome")
    list_filter = ("provider", "type", "outcome")
    search_fields = ("event_id", "payment__id")


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    list_display = ("id", "task", "created_at", "retries", "error", "replayed_at")
    list_filter = ("task",)
    search_fields = ("message_id", "correlation_id")
