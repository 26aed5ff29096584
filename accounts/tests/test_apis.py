"""The auth API: registration, login, refresh rotation, logout and failed-login throttling."""

from datetime import timedelta

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register"
TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/token/refresh"
LOGOUT = "/api/v1/auth/logout"
ACCOUNTS = "/api/v1/accounts"

STRONG_PASSWORD = "violet-tangerine-harbour-42"
LOGIN_FAILURES_ALLOWED = 5  # the test settings' rate: 5/min


def assert_problem(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code
        assert body["type"] == f"/problems/{code}"
    return body


def login(client, email: str, password: str, **extra):
    return client.post(TOKEN, {"email": email, "password": password}, format="json", **extra)


def fail_login(client, email: str, times: int, **extra) -> None:
    for _ in range(times):
        response = login(client, email, "not the password", **extra)
        assert response.status_code == 401, response.content


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


# --- Registration --------------------------------------------------------------------------------


def test_register_returns_201_with_id_and_email_only(api_client):
    response = api_client.post(
        REGISTER, {"email": "ada@example.com", "password": STRONG_PASSWORD}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "email"}
    user = User.objects.get(pk=body["id"])
    assert body["email"] == user.email == "ada@example.com"
    assert user.check_password(STRONG_PASSWORD)
    assert not user.is_staff
    assert not user.is_superuser


def test_register_normalises_email_to_lower_case(api_client):
    response = api_client.post(
        REGISTER, {"email": "  Grace.Hopper@Example.COM ", "password": STRONG_PASSWORD}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["email"] == "grace.hopper@example.com"
    assert User.objects.get().email == "grace.hopper@example.com"


def test_registered_user_can_log_in(api_client):
    api_client.post(REGISTER, {"email": "Linus@Example.com", "password": STRONG_PASSWORD}, format="json")

    response = login(api_client, "linus@example.com", STRONG_PASSWORD)

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


@pytest.mark.parametrize("email", ["taken@example.com", "TAKEN@example.com", "Taken@Example.COM"])
def test_register_taken_email_is_409_email_taken_whatever_the_case(api_client, email):
    UserFactory(email="taken@example.com")

    response = api_client.post(REGISTER, {"email": email, "password": STRONG_PASSWORD}, format="json")

    body = assert_problem(response, 409, "email_taken")
    assert body["errors"]["email"]
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("password", "common"),
        ("qwerty123", "common"),
        ("Xy7!ab", "short"),
        ("83920174659281", "numeric"),
        ("jane.doe@example.com", "same as the email"),
    ],
)
def test_register_refuses_weak_password_with_400_errors_password(api_client, password, why):
    response = api_client.post(
        REGISTER, {"email": "jane.doe@example.com", "password": password}, format="json"
    )

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"]["password"], why
    assert not User.objects.exists()


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", "a b@example.com", ""])
def test_register_refuses_bad_email_with_400_errors_email(api_client, email):
    response = api_client.post(REGISTER, {"email": email, "password": STRONG_PASSWORD}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert body["errors"]["email"]
    assert not User.objects.exists()


def test_register_without_fields_names_each_missing_field(api_client):
    response = api_client.post(REGISTER, {}, format="json")

    body = assert_problem(response, 400, "validation_error")
    assert set(body["errors"]) == {"email", "password"}


# --- Login ---------------------------------------------------------------------------------------


def test_login_returns_access_and_refresh_tokens(api_client, user):
    response = login(api_client, user.email, PASSWORD)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["access"] != body["refresh"]


def test_access_token_from_login_authenticates_api_calls(api_client, user):
    access = login(api_client, user.email, PASSWORD).json()["access"]

    response = bearer(access).get(ACCOUNTS)

    assert response.status_code == 200


def test_refresh_token_is_not_accepted_as_an_access_token(api_client, user):
    refresh = login(api_client, user.email, PASSWORD).json()["refresh"]

    response = bearer(refresh).get(ACCOUNTS)

    assert_problem(response, 401, "token_not_valid")


def test_login_with_wrong_password_is_refused_with_a_problem_and_no_tokens(api_client, user):
    response = login(api_client, user.email, "not the password")

    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "authentication_failed"
    assert "access" not in body
    assert "refresh" not in body


def test_login_with_wrong_password_is_401(api_client, user):
    assert_problem(login(api_client, user.email, "not the password"), 401, "authentication_failed")


def test_login_with_unknown_email_is_refused_like_a_wrong_password(api_client, user):
    unknown = login(api_client, "nobody@example.com", PASSWORD)
    wrong = login(api_client, user.email, "not the password")

    assert unknown.status_code == wrong.status_code
    assert unknown.json()["detail"] == wrong.json()["detail"]  # no user enumeration


def test_login_of_inactive_user_is_refused(api_client):
    inactive = UserFactory(is_active=False)

    response = login(api_client, inactive.email, PASSWORD)

    assert response.status_code in (401, 403)
    assert response.json()["code"] == "authentication_failed"


def test_login_email_is_case_insensitive(api_client, user):
    response = login(api_client, user.email.upper(), PASSWORD)

    assert response.status_code == 200


def test_access_token_lifetime_is_at_most_15_minutes():
    assert settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] <= timedelta(minutes=15)


def test_refresh_tokens_rotate_and_blacklist_after_rotation():
    assert settings.SIMPLE_JWT["ROTATE_REFRESH_TOKENS"] is True
    assert settings.SIMPLE_JWT["BLACKLIST_AFTER_ROTATION"] is True


# --- Refresh rotation ----------------------------------------------------------------------------


def test_refresh_returns_a_new_access_and_a_new_refresh(api_client, user):
    first = login(api_client, user.email, PASSWORD).json()

    response = api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json")

    assert response.status_code == 200
    rotated = response.json()
    assert set(rotated) == {"access", "refresh"}
    assert rotated["refresh"] != first["refresh"]
    assert rotated["access"] != first["access"]
    assert bearer(rotated["access"]).get(ACCOUNTS).status_code == 200


def test_rotated_refresh_token_can_itself_be_refreshed(api_client, user):
    first = login(api_client, user.email, PASSWORD).json()
    second = api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json").json()

    response = api_client.post(REFRESH, {"refresh": second["refresh"]}, format="json")

    assert response.status_code == 200


def test_refresh_token_cannot_be_used_twice(api_client, user):
    refresh = login(api_client, user.email, PASSWORD).json()["refresh"]
    assert api_client.post(REFRESH, {"refresh": refresh}, format="json").status_code == 200

    response = api_client.post(REFRESH, {"refresh": refresh}, format="json")

    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "token_not_valid"
    assert "blacklisted" in body["detail"].lower()
    assert "access" not in body


def test_refresh_token_used_twice_is_401(api_client, user):
    refresh = login(api_client, user.email, PASSWORD).json()["refresh"]
    api_client.post(REFRESH, {"refresh": refresh}, format="json")

    assert_problem(api_client.post(REFRESH, {"refresh": refresh}, format="json"), 401, "token_not_valid")


def test_refresh_with_garbage_token_is_401(api_client):
    assert_problem(api_client.post(REFRESH, {"refresh": "garbage"}, format="json"), 401, "token_not_valid")


def test_refresh_without_token_is_400_errors_refresh(api_client):
    body = assert_problem(api_client.post(REFRESH, {}, format="json"), 400, "validation_error")

    assert body["errors"]["refresh"]


# --- Logout --------------------------------------------------------------------------------------


def test_logout_returns_204_and_the_refresh_token_is_revoked(api_client, user):
    refresh = login(api_client, user.email, PASSWORD).json()["refresh"]

    response = api_client.post(LOGOUT, {"refresh": refresh}, format="json")

    assert response.status_code == 204
    assert response.content == b""
    again = api_client.post(REFRESH, {"refresh": refresh}, format="json")
    assert again.status_code in (401, 403)  # 401 expected: see test_refresh_token_used_twice_is_401
    assert again.json()["code"] == "token_not_valid"


def test_logout_twice_with_the_same_refresh_token_is_401(api_client, user):
    refresh = login(api_client, user.email, PASSWORD).json()["refresh"]
    api_client.post(LOGOUT, {"refresh": refresh}, format="json")

    assert_problem(api_client.post(LOGOUT, {"refresh": refresh}, format="json"), 401, "token_not_valid")


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.invalid-signature"])
def test_logout_with_garbage_token_is_401_problem(api_client, token):
    assert_problem(api_client.post(LOGOUT, {"refresh": token}, format="json"), 401, "token_not_valid")


def test_logout_with_an_access_token_is_401(api_client, user):
    access = login(api_client, user.email, PASSWORD).json()["access"]

    assert_problem(api_client.post(LOGOUT, {"refresh": access}, format="json"), 401, "token_not_valid")


def test_logout_without_token_is_400_errors_refresh(api_client):
    body = assert_problem(api_client.post(LOGOUT, {}, format="json"), 400, "validation_error")

    assert body["errors"]["refresh"]


# --- Failed-login throttling ---------------------------------------------------------------------


def test_failed_login_rate_in_test_settings_is_5_per_minute():
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login_failures"] == "5/min"


def test_sixth_login_after_five_failures_is_429_even_with_the_right_password(api_client, user):
    fail_login(api_client, user.email, LOGIN_FAILURES_ALLOWED)

    response = login(api_client, user.email, PASSWORD)

    body = assert_problem(response, 429, "throttled")
    assert "access" not in body
    assert 1 <= int(response["Retry-After"]) <= 61


def test_login_throttle_counts_the_email_case_insensitively(api_client, user):
    fail_login(api_client, user.email.upper(), LOGIN_FAILURES_ALLOWED)

    assert_problem(login(api_client, user.email, PASSWORD), 429, "throttled")


def test_four_failures_do_not_throttle(api_client, user):
    fail_login(api_client, user.email, LOGIN_FAILURES_ALLOWED - 1)

    assert login(api_client, user.email, PASSWORD).status_code == 200


def test_login_throttle_does_not_affect_another_email(api_client, user):
    other = UserFactory()
    fail_login(api_client, user.email, LOGIN_FAILURES_ALLOWED)

    assert login(api_client, other.email, PASSWORD).status_code == 200


def test_login_throttle_does_not_affect_another_client_address(api_client, user):
    fail_login(api_client, user.email, LOGIN_FAILURES_ALLOWED, REMOTE_ADDR="198.51.100.1")

    assert login(api_client, user.email, PASSWORD, REMOTE_ADDR="198.51.100.2").status_code == 200
    assert login(api_client, user.email, PASSWORD, REMOTE_ADDR="198.51.100.1").status_code == 429


def test_successful_logins_do_not_count_towards_the_throttle(api_client, user):
    fail_login(api_client, user.email, LOGIN_FAILURES_ALLOWED - 1)
    for _ in range(LOGIN_FAILURES_ALLOWED + 1):
        assert login(api_client, user.email, PASSWORD).status_code == 200

    fail_login(api_client, user.email, 1)

    assert login(api_client, user.email, PASSWORD).status_code == 429


def test_login_throttle_cannot_be_bypassed_by_forging_x_forwarded_for(api_client, user):
    # As through one reverse proxy: the client's forged value, then the address the proxy appended.
    for attempt in range(LOGIN_FAILURES_ALLOWED):
        login(
            api_client,
            user.email,
            "not the password",
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{attempt}, 203.0.113.7",
        )

    response = login(
        api_client,
        user.email,
        PASSWORD,
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.7",
    )

    assert response.status_code == 429


@pytest.mark.parametrize("body", ["[]", '"email"', "1"])
def test_login_with_non_object_json_body_is_400(body):
    client = APIClient(raise_request_exception=False)

    response = client.post(TOKEN, data=body, content_type="application/json")

    assert_problem(response, 400, "validation_error")
