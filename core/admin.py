"""The admin bases every app's back office uses (read-only, estimated counts, streamed CSV export,
personal data hidden from operators), money display helpers, and the audit-log and idempotency-key
views."""

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.functional import cached_property

from .csv_export import csv_streaming_response
from .models import AuditLog, IdempotencyKey
from .money import format_amount


class ReadOnlyAdmin(admin.ModelAdmin):
    """No add, change or delete for anyone, superusers included: a crafted POST is refused too."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class EstimatedCountPaginator(Paginator):
    """A paginator that never counts millions of rows on a page load.

    Unfiltered: the planner's estimate (pg_class.reltuples), exact below ESTIMATE_ABOVE rows.
    Filtered or searched: an exact count capped at COUNT_CAP (counting stops there), so the page
    says "10000" for "10000 or more" and pages beyond are reached by narrowing the filter.
    """

    ESTIMATE_ABOVE = 100_000
    COUNT_CAP = 10_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return len(queryset)
        if not queryset.query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] > self.ESTIMATE_ABOVE:
                return int(row[0])
            return queryset.count()
        return queryset[: self.COUNT_CAP].count()


def sees_personal_data(user: Any) -> bool:
    """Finance staff see customers' personal data; operators see ids only (accounts.view_user)."""
    return bool(user.is_superuser or user.has_perm("accounts.view_user"))


class BackOfficeAdmin(admin.ModelAdmin):
    """What every back-office list shares: no full COUNT(*), estimated page counts, a streamed CSV
    export of the filtered list, and personal-data fields hidden from staff who may not see them.

    `personal_fields` names list columns, fields and search fields that carry customers' personal
    data (emails, references, free text); `csv_fields` the exported columns (default: every
    concrete field, foreign keys as ids).
    """

    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # facet counts are a COUNT per filter choice
    paginator = EstimatedCountPaginator
    list_per_page = 50
    personal_fields: tuple[str, ...] = ()
    csv_fields: tuple[str, ...] | None = None
    csv_export = True  # read by templates/admin/change_list.html to show the Export CSV link

    def _without_personal(self, request: HttpRequest, names: Any) -> Any:
        if sees_personal_data(request.user):
            return names
        hidden = set(self.personal_fields)
        return type(names)(
            name
            for name in names
            if not (isinstance(name, str) and (name in hidden or name.split("__")[0] in hidden))
        )

    def get_list_display(self, request: HttpRequest) -> Any:
        return self._without_personal(request, super().get_list_display(request))

    def get_search_fields(self, request: HttpRequest) -> Any:
        return self._without_personal(request, super().get_search_fields(request))

    def get_exclude(self, request: HttpRequest, obj: Model | None = None) -> Any:
        excluded = tuple(super().get_exclude(request, obj) or ())
        if sees_personal_data(request.user):
            return excluded or None
        return excluded + self.personal_fields

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        return self._without_personal(request, list(super().get_fields(request, obj)))

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        return self._without_personal(request, tuple(super().get_readonly_fields(request, obj)))

    # --- CSV export of the filtered list -------------------------------------------------------
    def get_csv_fields(self, request: HttpRequest) -> list[str]:
        names = list(self.csv_fields or (f.attname for f in self.model._meta.concrete_fields))
        if sees_personal_data(request.user):
            return names
        hidden = set(self.personal_fields)
        return [n for n in names if n not in hidden and n.removesuffix("_id") not in hidden]

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.csv_export_view),
            name="{}_{}_export_csv".format(*info),
        )
        return [export, *super().get_urls()]

    def csv_export_view(self, request: HttpRequest) -> HttpResponseBase:  # streamed
        """The changelist's own filters, search and ordering, streamed as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        fields = self.get_csv_fields(request)
        rows = changelist.get_queryset(request).values_list(*fields).iterator(chunk_size=2000)
        filename = f"{self.opts.app_label}-{self.opts.model_name}-{timezone.now():%Y%m%d-%H%M%S}.csv"
        return csv_streaming_response(filename=filename, header=fields, rows=rows)


def money(field: str, label: str) -> Callable[[Any], str]:
    """A list column showing an amount in minor units as "12.34 EUR" (the object has `currency`)."""

    @admin.display(description=label, ordering=field)
    def show(obj: Any) -> str:
        value = getattr(obj, field)
        return "" if value is None else f"{format_amount(value, obj.currency)} {obj.currency}"

    return show


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin, BackOfficeAdmin):
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


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin, BackOfficeAdmin):
    list_display = ("id", "created_at", "action", "actor_label", "ip", "target_type", "target_id", "reason")
    list_filter = ("action", "target_type")
    search_fields = ("=actor_label", "=target_id", "=ip")
    date_hierarchy = "created_at"
    personal_fields = ("actor_label", "ip", "before", "after")
