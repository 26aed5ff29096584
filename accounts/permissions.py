"""What each back-office group may do in the admin, kept in sync after every migrate."""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from .models import FINANCE_APPROVER_GROUP, FINANCE_GROUP, OPERATORS_GROUP

BACK_OFFICE_APPS = ("ledger", "payments", "reconciliation")
# Extra permissions by group, as "app_label.codename"; models declare custom ones in Meta.permissions.
# accounts.view_user is also what lets a back-office user see customers' personal data (emails,
# references) in the admin: operators see ids only (core.admin.sees_personal_data).
EXTRA_PERMISSIONS: dict[str, tuple[str, ...]] = {
    FINANCE_GROUP: ("accounts.view_user", "core.view_auditlog"),
    FINANCE_APPROVER_GROUP: (
        "accounts.view_user",
        "core.view_auditlog",
        "reconciliation.approve_adjustment",
    ),
    # Replaying a dead letter (the admin's Replay button; the row itself stays read-only).
    OPERATORS_GROUP: ("payments.change_deadletter",),
}


def staff_group_permissions_sync(**kwargs: object) -> None:
    """Every staff group views the money apps read-only; approvers and operators get their extras."""
    view = Permission.objects.filter(
        content_type__app_label__in=BACK_OFFICE_APPS, codename__startswith="view_"
    )
    for name, extras in EXTRA_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        query = Q(pk__in=view.values("pk"))
        for dotted in extras:
            app_label, codename = dotted.split(".")
            query |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(query))


def is_in_group(user: object, *groups: str) -> bool:
    """Whether an active user belongs to one of the named staff groups (the four-eyes roles)."""
    if not getattr(user, "is_active", False) or not getattr(user, "pk", None):
        return False
    return user.groups.filter(name__in=groups).exists()  # type: ignore[attr-defined]
