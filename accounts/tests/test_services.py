"""The accounts services, called directly: user_register, staff_user_ensure, and the staff groups."""

import pytest
from django.contrib.auth.models import Group

from accounts.models import FINANCE_APPROVER_GROUP, FINANCE_GROUP, OPERATORS_GROUP, STAFF_GROUPS, User
from accounts.services import staff_user_ensure, user_register
from accounts.tests.factories import PASSWORD, UserFactory
from core.errors import ApiError

pytestmark = pytest.mark.django_db

STRONG_PASSWORD = "violet-tangerine-harbour-42"


# --- user_register -------------------------------------------------------------------------------


def test_user_register_creates_an_active_client_user_with_a_hashed_password():
    user = user_register(email="ada@example.com", password=STRONG_PASSWORD)

    user.refresh_from_db()
    assert user.email == "ada@example.com"
    assert user.is_active
    assert not user.is_staff
    assert not user.is_superuser
    assert user.password != STRONG_PASSWORD
    assert user.check_password(STRONG_PASSWORD)
    assert not user.groups.exists()


def test_user_register_lower_cases_the_whole_email():
    user = user_register(email="Ada.Lovelace@EXAMPLE.com", password=STRONG_PASSWORD)

    assert user.email == "ada.lovelace@example.com"


@pytest.mark.parametrize("email", ["taken@example.com", "TAKEN@EXAMPLE.COM", "Taken@example.com"])
def test_user_register_taken_email_raises_email_taken_409(email):
    UserFactory(email="taken@example.com")

    with pytest.raises(ApiError) as caught:
        user_register(email=email, password=STRONG_PASSWORD)

    assert caught.value.code == "email_taken"
    assert caught.value.status == 409
    assert caught.value.errors == {"email": ["A user with this email already exists."]}
    assert User.objects.count() == 1


@pytest.mark.parametrize("password", ["password", "short1", "1234567890123", "ada@example.com"])
def test_user_register_weak_password_raises_validation_error_on_password(password):
    with pytest.raises(ApiError) as caught:
        user_register(email="ada@example.com", password=password)

    assert caught.value.code == "validation_error"
    assert caught.value.status == 400
    assert set(caught.value.errors) == {"password"}
    assert caught.value.errors["password"]
    assert not User.objects.exists()


def test_user_register_reports_every_password_problem():
    with pytest.raises(ApiError) as caught:
        user_register(email="ada@example.com", password="1234")

    messages = " ".join(caught.value.errors["password"])
    assert "too short" in messages
    assert "too common" in messages
    assert "entirely numeric" in messages


# --- staff groups and staff_user_ensure ----------------------------------------------------------


def test_data_migration_created_the_staff_groups():
    assert set(STAFF_GROUPS) == {"finance", "finance_approver", "operators"}
    assert set(Group.objects.filter(name__in=STAFF_GROUPS).values_list("name", flat=True)) == set(
        STAFF_GROUPS
    )


@pytest.mark.parametrize("group", [FINANCE_GROUP, FINANCE_APPROVER_GROUP, OPERATORS_GROUP])
def test_staff_user_ensure_creates_a_staff_user_in_the_group(group):
    user = staff_user_ensure(email="staff@example.com", password=PASSWORD, group=group)

    user.refresh_from_db()
    assert user.is_staff
    assert not user.is_superuser
    assert user.is_active
    assert user.check_password(PASSWORD)
    assert list(user.groups.values_list("name", flat=True)) == [group]


def test_staff_user_ensure_can_create_a_superuser():
    user = staff_user_ensure(
        email="root@example.com", password=PASSWORD, group=OPERATORS_GROUP, superuser=True
    )

    user.refresh_from_db()
    assert user.is_staff
    assert user.is_superuser


def test_staff_user_ensure_is_idempotent_and_resets_the_password():
    first = staff_user_ensure(email="fin@example.com", password=PASSWORD, group=FINANCE_GROUP)

    second = staff_user_ensure(
        email="fin@example.com", password="another-long-passphrase", group=FINANCE_GROUP
    )

    assert second.pk == first.pk
    assert User.objects.filter(email="fin@example.com").count() == 1
    second.refresh_from_db()
    assert second.check_password("another-long-passphrase")
    assert not second.check_password(PASSWORD)
    assert second.groups.count() == 1


def test_staff_user_ensure_promotes_an_existing_client_user():
    client = UserFactory(email="promote@example.com")

    user = staff_user_ensure(email="promote@example.com", password=PASSWORD, group=OPERATORS_GROUP)

    assert user.pk == client.pk
    user.refresh_from_db()
    assert user.is_staff
    assert user.groups.filter(name=OPERATORS_GROUP).exists()


def test_staff_user_ensure_can_remove_superuser():
    staff_user_ensure(email="root@example.com", password=PASSWORD, group=OPERATORS_GROUP, superuser=True)

    user = staff_user_ensure(email="root@example.com", password=PASSWORD, group=OPERATORS_GROUP)

    user.refresh_from_db()
    assert not user.is_superuser


def test_staff_user_ensure_adds_groups_without_removing_others():
    staff_user_ensure(email="multi@example.com", password=PASSWORD, group=FINANCE_GROUP)

    user = staff_user_ensure(email="multi@example.com", password=PASSWORD, group=FINANCE_APPROVER_GROUP)

    assert set(user.groups.values_list("name", flat=True)) == {FINANCE_GROUP, FINANCE_APPROVER_GROUP}


def test_staff_user_ensure_unknown_group_raises():
    with pytest.raises(Group.DoesNotExist):
        staff_user_ensure(email="ghost@example.com", password=PASSWORD, group="no-such-group")


def test_staff_user_ensure_unknown_group_leaves_no_user_behind():
    with pytest.raises(Group.DoesNotExist):
        staff_user_ensure(email="ghost@example.com", password=PASSWORD, group="no-such-group")

    assert not User.objects.filter(email__iexact="ghost@example.com").exists()


def test_staff_user_ensure_matches_the_email_case_insensitively():
    first = staff_user_ensure(email="Fin@Example.com", password=PASSWORD, group=FINANCE_GROUP)

    second = staff_user_ensure(email="fin@example.com", password=PASSWORD, group=FINANCE_GROUP)

    assert second.pk == first.pk
    assert second.email == "fin@example.com"
