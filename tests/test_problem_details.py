"""Every kind of error is an RFC 9457 problem: application/problem+json with one fixed set of keys.

The module doubles as a test-only URLconf (used with `pytest.mark.urls`): the project's URLs
plus views that fail unexpectedly, to see the 500 handler answer with a problem.
"""

from datetime import timedelta

import pytest
from django.urls import include, path
from rest_framework.test import APIClient
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import AccessToken

from ledgerpay import urls as project_urls

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "request_id"}
REGISTER = "/api/v1/auth/register"
ACCOUNTS = "/api/v1/accounts"


# --- Test-only URLconf ---------------------------------------------------------------------------


def _django_view_that_crashes(request):
    raise RuntimeError("boom in a plain Django view")


class _ApiViewThatCrashes(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        raise RuntimeError("boom in a DRF view")


urlpatterns = [
    path("test-only/crash", _django_view_that_crashes),
    path("api/v1/test-only/crash", _ApiViewThatCrashes.as_view()),
    path("", include("ledgerpay.urls")),
]
handler400 = project_urls.handler400
handler403 = project_urls.handler403
handler404 = project_urls.handler404
handler500 = project_urls.handler500


# --- Helpers -------------------------------------------------------------------------------------


def assert_problem(response, status: int, code: str, *, errors: bool = False) -> dict:
    """The response is a problem with exactly the RFC 9457 keys we promise (+ errors for validation)."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert set(body) == (PROBLEM_KEYS | {"errors"} if errors else PROBLEM_KEYS)
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"/problems/{code}"
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert body["request_id"] == response["X-Request-ID"]
    if errors:
        assert isinstance(body["errors"], dict)
        assert body["errors"]
        for field, messages in body["errors"].items():
            assert isinstance(field, str)
            assert messages
            assert all(isinstance(message, str) and message for message in messages)
    return body


def post_raw(client, url: str, body, content_type: str = "application/json"):
    return client.post(url, data=body, content_type=content_type)


@pytest.fixture
def lenient_client():
    """A client that receives the 500 response instead of re-raising the view's exception."""
    return APIClient(raise_request_exception=False)


# --- Validation ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_validation_error_is_400_problem_with_errors_per_field(api_client):
    response = api_client.post(REGISTER, {"email": "not-an-email"}, format="json")

    body = assert_problem(response, 400, "validation_error", errors=True)
    assert set(body["errors"]) == {"email", "password"}
    assert "email" in body["detail"]
    assert "password" in body["detail"]


@pytest.mark.django_db
def test_nested_validation_errors_are_flattened_with_dotted_field_names(auth_client):
    response = auth_client.post(
        "/api/v1/transfers",
        {
            "source": "not-a-uuid",
            "destination": "00000000-0000-0000-0000-000000000000",
            "amount": "1",
            "currency": "USD",
            "metadata": {"k": "x" * 501},
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="nested-errors",
    )

    body = assert_problem(response, 400, "validation_error", errors=True)
    assert "source" in body["errors"]
    assert "metadata.k" in body["errors"]


@pytest.mark.django_db
def test_json_that_is_not_an_object_is_400_validation_problem(api_client):
    body = assert_problem(post_raw(api_client, REGISTER, "[1, 2]"), 400, "validation_error", errors=True)

    assert body["errors"]["non_field_errors"]


# --- Authentication ------------------------------------------------------------------------------


def test_unauthenticated_is_401_not_authenticated(api_client):
    response = api_client.get(ACCOUNTS)

    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer garbage", "Bearer a.b.c", "Bearer "])
def test_invalid_token_is_401_problem(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(ACCOUNTS)

    assert response.status_code == 401
    assert_problem(response, 401, response.json()["code"])
    assert response.json()["code"] in {"token_not_valid", "authentication_failed"}
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_garbage_bearer_token_is_token_not_valid(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer garbage")

    assert_problem(api_client.get(ACCOUNTS), 401, "token_not_valid")


@pytest.mark.django_db
def test_expired_access_token_is_401_token_not_valid(user):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert_problem(client.get(ACCOUNTS), 401, "token_not_valid")


# --- Not found -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/no-such-thing", "/api/v1/accounts/not-a-uuid", "/api/v2/accounts"])
def test_unknown_route_under_api_is_404_problem(api_client, url):
    body = assert_problem(api_client.get(url), 404, "not_found")

    assert url in body["detail"]


@pytest.mark.parametrize("url", ["/no-such-page", "/", "/static/nothing.css"])
def test_unknown_route_outside_api_is_404_problem_never_html(api_client, url):
    response = api_client.get(url, HTTP_ACCEPT="text/html")

    assert_problem(response, 404, "not_found")
    assert b"<html" not in response.content.lower()


@pytest.mark.django_db
def test_unknown_resource_is_404_problem(auth_client):
    response = auth_client.get(f"{ACCOUNTS}/00000000-0000-0000-0000-000000000000")

    assert_problem(response, 404, "not_found")


def test_unknown_problem_type_page_is_404_problem(api_client):
    assert_problem(api_client.get("/problems/no_such_code"), 404, "not_found")


# --- Method, media type, body --------------------------------------------------------------------


def test_method_not_allowed_is_405_problem(api_client):
    response = api_client.delete(REGISTER)

    body = assert_problem(response, 405, "method_not_allowed")
    assert "DELETE" in body["detail"]
    assert "POST" in response["Allow"]


@pytest.mark.django_db
def test_method_not_allowed_on_authenticated_endpoint_is_405_problem(auth_client):
    assert_problem(auth_client.put(ACCOUNTS, {}, format="json"), 405, "method_not_allowed")


@pytest.mark.parametrize("url", ["/healthz", "/readyz", "/problems/not_found"])
def test_method_not_allowed_outside_drf_is_405_problem(api_client, url):
    assert_problem(api_client.post(url), 405, "method_not_allowed")


@pytest.mark.parametrize(
    "body",
    ['{"email": "a@example.com",', "{bad", "'single quotes'", '{"email": "a@example.com"} trailing', "\x00"],
)
def test_malformed_json_is_400_malformed_request(api_client, body):
    body = assert_problem(post_raw(api_client, REGISTER, body), 400, "malformed_request")

    assert "JSON" in body["detail"]


def test_invalid_utf8_body_is_400_malformed_request(api_client):
    assert_problem(post_raw(api_client, REGISTER, b"\xff\xfe{}"), 400, "malformed_request")


@pytest.mark.parametrize("body", ["   ", "\n\t\n"])
def test_whitespace_only_body_is_400_malformed_request(api_client, body):
    body = assert_problem(post_raw(api_client, REGISTER, body), 400, "malformed_request")

    assert "empty" in body["detail"]


@pytest.mark.django_db
def test_empty_body_is_400_problem_naming_the_required_fields(api_client):
    # DRF does not call the parser for a body of length 0: the fields are reported as missing.
    body = assert_problem(post_raw(api_client, REGISTER, ""), 400, "validation_error", errors=True)

    assert set(body["errors"]) == {"email", "password"}


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("hello", "text/plain"),
        ('{"email": "a@example.com"}', "text/plain"),
        ("email=a%40example.com&password=x", "application/x-www-form-urlencoded"),
        ("<user/>", "application/xml"),
    ],
)
def test_body_in_unsupported_media_type_is_415_problem(api_client, body, content_type):
    response = post_raw(api_client, REGISTER, body, content_type)

    problem = assert_problem(response, 415, "unsupported_media_type")
    assert content_type in problem["detail"]


def test_multipart_form_data_is_415_problem(api_client):
    response = api_client.post(REGISTER, {"email": "a@example.com", "password": "x"})  # multipart by default

    assert_problem(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_json_are_400_malformed_request(api_client, constant):
    body = f'{{"email": "a@example.com", "password": {constant}}}'

    problem = assert_problem(post_raw(api_client, REGISTER, body), 400, "malformed_request")

    assert constant.lstrip("-") in problem["detail"]


def test_deeply_nested_json_is_400_malformed_request(lenient_client):
    response = post_raw(lenient_client, REGISTER, "[" * 100_000)

    assert_problem(response, 400, "malformed_request")


def test_unsatisfiable_accept_header_is_406_problem(api_client):
    assert_problem(api_client.get(ACCOUNTS, HTTP_ACCEPT="text/html"), 406, "not_acceptable")


def test_disallowed_host_is_400_problem(lenient_client):
    assert_problem(lenient_client.get("/healthz", HTTP_HOST="evil.example"), 400, "malformed_request")


# --- Problem type documentation ------------------------------------------------------------------


@pytest.mark.parametrize("code", ["validation_error", "not_found", "insufficient_funds", "throttled"])
def test_problem_type_page_is_200_text(api_client, code):
    response = api_client.get(f"/problems/{code}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert code in response.content.decode()


@pytest.mark.django_db
def test_problem_type_of_an_error_resolves_to_its_documentation_page(api_client):
    problem = api_client.get(ACCOUNTS).json()

    page = api_client.get(problem["type"])

    assert page.status_code == 200
    assert problem["title"] in page.content.decode()


# --- Server errors -------------------------------------------------------------------------------


@pytest.mark.urls("tests.test_problem_details")
@pytest.mark.parametrize("url", ["/test-only/crash", "/api/v1/test-only/crash"])
def test_unexpected_exception_is_500_problem_and_logged(lenient_client, caplog, url):
    with caplog.at_level("ERROR", logger="django.request"):
        response = lenient_client.get(url, HTTP_X_REQUEST_ID="crash-request-1")

    body = assert_problem(response, 500, "server_error")
    assert body["request_id"] == "crash-request-1"
    assert "boom" not in response.content.decode()  # no internals leak to the client
    errors = [record for record in caplog.records if record.name == "django.request" and record.exc_info]
    assert errors
    assert isinstance(errors[0].exc_info[1], RuntimeError)


@pytest.mark.urls("tests.test_problem_details")
def test_project_urls_still_work_under_the_test_urlconf(api_client):
    assert api_client.get("/healthz").status_code == 200
    assert_problem(api_client.get("/no-such-page"), 404, "not_found")
