"""django.contrib.admin on LedgerPay's site: listed in INSTALLED_APPS instead of "django.contrib.admin".

Its own module, importing nothing else: INSTALLED_APPS loads it before any model exists."""

from django.contrib.admin.apps import AdminConfig


class BackofficeAdminConfig(AdminConfig):
    default_site = "backoffice.sites.LedgerPayAdminSite"
