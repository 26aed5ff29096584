"""Writes of the accounts app: registration and the staff users of the demo data."""

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.errors import ApiError

from .models import User


def user_register(*, email: str, password: str) -> User:
    """Create a client user. Raises ApiError(email_taken, 409) when the email is in use."""
    email = User.objects.normalize_email(email).lower()
    candidate = User(email=email)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise ApiError(
            "validation_error",
            "The password is not acceptable.",
            status=400,
            errors={"password": list(exc.messages)},
        ) from exc
    if User.objects.filter(email__iexact=email).exists():
        raise ApiError(
            "email_taken",
            "A user with this email already exists.",
            status=409,
            errors={"email": ["A user with this email already exists."]},
        )
    try:
        with transaction.atomic():
            return User.objects.create_user(email=email, password=password)
    except IntegrityError as exc:  # lost a race with a concurrent registration
        raise ApiError(
            "email_taken",
            "A user with this email already exists.",
            status=409,
            errors={"email": ["A user with this email already exists."]},
        ) from exc


@transaction.atomic
def staff_user_ensure(*, email: str, password: str, group: str, superuser: bool = False) -> User:
    """Create (or reset) a back-office user in one of the staff groups."""
    group_obj = Group.objects.get(name=group)
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email__iexact=email).first() or User(email=email)
    user.is_staff = True
    user.is_superuser = superuser
    user.set_password(password)
    user.save()
    user.groups.add(group_obj)
    return user
