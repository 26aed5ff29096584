"""The read-only admin base and money display helpers every app's back office uses, and the
idempotency-key audit view."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from .models import IdempotencyKey
from .money import format_amount


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


def money(field: str, label: str) -> Callable[[Any], str]:
    """A list column showing an amount in minor units as "12.34 EUR" (the object has `currency`)."""

    @admin.display(description=label, ordering=field)
    def show(obj: Any) -> str:
        value = getattr(obj, field)
        return "" if value is None else f"{format_amount(value, obj.currency)} {obj.currency}"

    return show


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = (
        "key",
        "user",
        "request_method",
        "request_path",
        "status",
        "response_status",
        "created_at",
        "expires_at",
    )
    list_filter = ("status", "response_status")
    search_fields = ("key", "user__email")
    exclude = ("response_body",)
