"""LedgerPay's admin site: a TOTP second factor for staff who have a device, and the overview page."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import URLPattern, URLResolver, path
from django_otp import user_has_device

from .forms import StaffLoginForm


class LedgerPayAdminSite(admin.AdminSite):
    site_header = "LedgerPay back office"
    site_title = "LedgerPay back office"
    index_title = "Books and operations"
    login_form = StaffLoginForm
    login_template = "otp/admin111/login.html"

    def has_permission(self, request: HttpRequest) -> bool:
        """Staff with a TOTP device must have used it in this session; staff without one log in with
        their password alone (the second factor is optional, enforced once set up)."""
        if not super().has_permission(request):
            return False
        user = request.user
        return bool(user.is_verified()) or not user_has_device(user)  # type: ignore[union-attr]

    def get_urls(self) -> list[URLResolver | URLPattern]:
        from .views import overview

        return [path("overview/", self.admin_view(overview), name="overview"), *super().get_urls()]
