"""Every unknown route, bad path and wrong method under /api/ is an RFC 9457 problem, with DEBUG on
as with DEBUG off (core.api.middleware.ApiProblemMiddleware).

The module doubles as a test-only URLconf: the project's URLs plus plain Django views under /api/,
which DRF's exception handler never sees.
"""

import pytest
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_GET

PROBLEM = "application/problem+json"


@require_GET
def _plain_get_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def _plain_not_found(request: HttpRequest) -> HttpResponse:
    raise Http404("nothing here")


urlpatterns = [
    path("api/v1/test-only/get-only", _plain_get_only),
    path("api/v1/test-only/missing", _plain_not_found),
    path("", include("ledgerpay.urls")),
]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


@pytest.fixture(params=[True, False], ids=["debug-on", "debug-off"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith(PROBLEM), response["Content-Type"]
    body = response.json()
    assert body["status"] == status and body["code"] == code
    assert body["request_id"] == response["X-Request-ID"]
    return body


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/no-such-route",
        "/api/",
        "/api/v2/accounts",
        "/api/v1/accounts/not-a-uuid",  # the uuid converter does not match: a resolver 404
        "/api/v1/transfers/123/post",
        "/api/v1/test-only/missing",  # Http404 raised by a plain Django view
    ],
)
def test_unknown_routes_and_bad_paths_under_api_are_404_problems(client, debug, url):
    body = assert_problem(client.get(url), 404, "not_found")
    assert url in body["detail"]


def test_a_wrong_method_on_an_api_view_is_a_405_problem(client, debug):
    response = client.delete("/api/v1/auth/register")
    assert_problem(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


def test_a_wrong_method_on_a_plain_django_view_under_api_is_a_405_problem_that_keeps_allow(client, debug):
    response = client.post("/api/v1/test-only/get-only")
    body = assert_problem(response, 405, "method_not_allowed")
    assert "POST" in body["detail"]
    assert response["Allow"] == "GET"


def test_a_missing_trailing_slash_still_redirects(client, debug):
    response = client.get("/api/docs")
    assert response.status_code == 301
    assert response["Location"] == "/api/docs/"


def test_outside_api_debug_keeps_djangos_page(client, settings):
    """The middleware is scoped to /api/: the admin and the rest keep Django's debug page."""
    settings.DEBUG = True
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
