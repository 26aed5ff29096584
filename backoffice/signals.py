"""Staff logins and failed admin logins go to the audit log, with the client's address."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest
from django.urls import reverse

from accounts.models import User
from core.audit import audit_record
from core.http import client_ip
from core.models import AuditAction


def _is_admin_login(request: HttpRequest | None) -> bool:
    return request is not None and request.path.startswith(reverse("admin:login"))


@receiver(user_logged_in, dispatch_uid="backoffice.audit_staff_login")
def audit_staff_login(sender: type, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if not user.is_staff:
        return
    audit_record(
        actor=user,
        action=AuditAction.STAFF_LOGIN,
        target_type="user",
        target_id=user.pk,
        ip=client_ip(request) if request is not None else None,
        after={"path": request.path if request is not None else ""},
    )


@receiver(user_login_failed, dispatch_uid="backoffice.audit_failed_login")
def audit_failed_login(
    sender: str, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    """Failed admin logins only: the API's failed logins are throttled, not audited (they are clients')."""
    if not _is_admin_login(request):
        return
    assert request is not None  # noqa: S101 — _is_admin_login checked it
    username = str(credentials.get("username", ""))[:254]
    audit_record(
        actor=None,
        actor_label=username,
        action=AuditAction.STAFF_LOGIN_FAILED,
        target_type="user",
        target_id=User.objects.filter(email__iexact=username).values_list("pk", flat=True).first() or "",
        ip=client_ip(request),
        after={"path": request.path},
    )
