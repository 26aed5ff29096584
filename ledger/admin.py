"""Read-only back-office views of the ledger: finance staff browse, nobody edits history here."""

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from core.admin import ReadOnlyAdmin, money

from .models import Account, Entry, Transfer


class EntryInline(admin.TabularInline):
    model = Entry
    fields = ("account", "amount", "balance_after", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
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
        "version",
        "created_at",
    )
    list_filter = ("currency", "kind", "status", "allow_negative")
    search_fields = ("id", "name", "owner__email", "system_code")
    list_select_related = ("owner",)
    date_hierarchy = "created_at"


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "status",
        money("amount", "amount"),
        money("posted_amount", "posted"),
        "source",
        "destination",
        "cause",
        "created_at",
    )
    list_filter = ("kind", "status", "currency")
    search_fields = ("id", "cause", "description", "source__id", "destination__id")
    list_select_related = ("source", "destination")
    date_hierarchy = "created_at"
    inlines = [EntryInline]


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "transfer", "account", "amount", "balance_after", "currency", "created_at")
    list_filter = ("currency",)
    search_fields = ("transfer__id", "account__id")
    list_select_related = ("transfer", "account")
    date_hierarchy = "created_at"
