"""The OpenAPI schema: valid, complete, problems documented, Idempotency-Key required where money moves."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from openapi_spec_validator import validate

HTTP_METHODS = {"get", "put", "post", "patch", "delete", "head", "options", "trace"}
PROBLEM_REF = "#/components/schemas/Problem"
PROBLEM_MEDIA_TYPES = {"application/problem+json", "application/json"}
MONEY_MOVING_POSTS = [
    "/api/v1/transfers",
    "/api/v1/transfers/{transfer_id}/post",
    "/api/v1/transfers/{transfer_id}/void",
    "/api/v1/payments",
    "/api/v1/payments/{payment_id}/capture",
    "/api/v1/payments/{payment_id}/cancel",
    "/api/v1/payments/{payment_id}/refunds",
]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200, response.content
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def api_v1_routes() -> set[str]:
    """Every URL pattern under /api/v1/, written as an OpenAPI path (<uuid:account_id> -> {account_id})."""
    routes: set[str] = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
                routes.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))

    walk(get_resolver().url_patterns, "")
    return routes


def test_schema_is_served_as_json(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["openapi"].startswith("3.")


def test_schema_is_served_as_yaml_by_default(api_client):
    import yaml

    response = api_client.get("/api/schema/")

    assert response.status_code == 200
    assert "openapi" in response["Content-Type"]
    assert yaml.safe_load(response.content)["info"]["title"] == "LedgerPay API"


def test_schema_validates_as_openapi(schema):
    validate(schema)


def test_schema_describes_the_api(schema):
    assert schema["info"]["title"] == "LedgerPay API"
    assert schema["info"]["version"]
    assert "jwtAuth" in schema["components"]["securitySchemes"]
    assert schema["components"]["securitySchemes"]["jwtAuth"]["scheme"] == "bearer"


def test_url_walker_finds_the_known_routes():
    routes = api_v1_routes()

    assert {
        "/api/v1/auth/token",
        "/api/v1/accounts/{account_id}",
        "/api/v1/transfers/{transfer_id}/void",
    } <= routes


def test_every_api_v1_route_is_in_the_schema(schema):
    missing = api_v1_routes() - set(schema["paths"])

    assert not missing


def test_schema_documents_only_api_v1_paths(schema):
    assert all(path.startswith("/api/v1/") for path in schema["paths"])


def test_every_operation_documents_a_4xx_problem_response(schema):
    undocumented = []
    for path, method, operation in operations(schema):
        problems = [
            status
            for status, response in operation["responses"].items()
            if status.startswith("4")
            and any(
                media_type in PROBLEM_MEDIA_TYPES and content.get("schema", {}).get("$ref") == PROBLEM_REF
                for media_type, content in response.get("content", {}).items()
            )
        ]
        if not problems:
            undocumented.append(f"{method.upper()} {path}")

    assert not undocumented


def test_every_documented_error_uses_the_problem_schema(schema):
    wrong = []
    for path, method, operation in operations(schema):
        for status, response in operation["responses"].items():
            if status[0] in "45":
                refs = {
                    content.get("schema", {}).get("$ref") for content in response.get("content", {}).values()
                }
                if refs != {PROBLEM_REF}:
                    wrong.append(f"{method.upper()} {path} {status}")

    assert not wrong


def test_authenticated_operations_document_401(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, method, operation in operations(schema)
        if {} not in operation.get("security", [{"jwtAuth": []}]) and "401" not in operation["responses"]
    ]

    assert not missing


def test_problem_responses_are_documented_as_application_problem_json(schema):
    media_types = {
        media_type
        for _path, _method, operation in operations(schema)
        for status, response in operation["responses"].items()
        if status[0] in "45"
        for media_type in response.get("content", {})
    }

    assert media_types == {"application/problem+json"}


def test_every_operation_with_a_request_body_documents_415(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, method, operation in operations(schema)
        if "requestBody" in operation and "415" not in operation["responses"]
    ]

    assert not missing


def test_problem_schema_has_the_rfc_9457_fields(schema):
    problem = schema["components"]["schemas"]["Problem"]

    assert set(problem["properties"]) == {"type", "title", "status", "detail", "code", "errors", "request_id"}
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code", "request_id"}
    assert problem["properties"]["status"]["type"] == "integer"


@pytest.mark.parametrize("path", MONEY_MOVING_POSTS)
def test_money_moving_post_requires_the_idempotency_key_header(schema, path):
    parameters = schema["paths"][path]["post"].get("parameters", [])

    headers = [p for p in parameters if p["in"] == "header" and p["name"].lower() == "idempotency-key"]
    assert len(headers) == 1
    assert headers[0]["required"] is True
    assert headers[0]["schema"]["type"] == "string"


def test_account_creation_accepts_an_optional_idempotency_key(schema):
    parameters = schema["paths"]["/api/v1/accounts"]["post"]["parameters"]

    header = next(p for p in parameters if p["in"] == "header" and p["name"] == "Idempotency-Key")
    assert not header.get("required", False)


def test_no_other_operation_requires_an_idempotency_key(schema):
    requiring = {
        path
        for path, method, operation in operations(schema)
        if method == "post"
        and any(
            p["in"] == "header" and p["name"] == "Idempotency-Key" and p.get("required")
            for p in operation.get("parameters", [])
        )
    }

    assert requiring == set(MONEY_MOVING_POSTS)


def test_amounts_are_documented_as_decimal_strings(schema):
    amount = schema["components"]["schemas"]["TransferCreateInputRequest"]["properties"]["amount"]

    assert amount["type"] == "string"
    assert re.fullmatch(amount["pattern"], "12.50")
    assert not re.fullmatch(amount["pattern"], "1e2")


def test_swagger_ui_is_served_as_html(api_client):
    response = api_client.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"swagger" in response.content.lower()


PAGE_NUMBER_LISTS = [
    "/api/v1/accounts",
    "/api/v1/transfers",
    "/api/v1/payments",
    "/api/v1/payments/{payment_id}/events",
]


def resolve(schema, ref_or_schema: dict) -> dict:
    ref = ref_or_schema.get("$ref")
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else ref_or_schema


@pytest.mark.parametrize("path", PAGE_NUMBER_LISTS)
def test_page_number_lists_are_documented_as_the_pages_they_return(schema, path):
    operation = schema["paths"][path]["get"]
    page = resolve(schema, operation["responses"]["200"]["content"]["application/json"]["schema"])
    assert page["type"] == "object"
    assert set(page["properties"]) == {"count", "next", "previous", "results"}
    assert page["properties"]["results"]["type"] == "array"
    names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert {"page", "page_size"} <= names
    assert "404" in operation["responses"]  # a page past the last


def test_the_statement_is_documented_as_a_cursor_page(schema):
    operation = schema["paths"]["/api/v1/accounts/{account_id}/entries"]["get"]
    page = resolve(schema, operation["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(page["properties"]) == {"next", "previous", "results"}
    assert "cursor" in {p["name"] for p in operation["parameters"]}
    assert "400" in operation["responses"]  # invalid_cursor


def test_operations_that_need_an_idempotency_key_document_400_for_a_missing_one(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, method, operation in operations(schema)
        if any(p["name"] == "Idempotency-Key" and p.get("required") for p in operation.get("parameters", []))
        and "400" not in operation["responses"]
    ]
    assert not missing


def test_every_operation_documents_503_with_retry_after(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, method, operation in operations(schema)
        if "Retry-After" not in operation["responses"].get("503", {}).get("headers", {})
    ]
    assert not missing


def test_the_schema_says_who_may_credit_whom(schema):
    assert "accepts_external_transfers" in schema["info"]["description"]
    transfer_create = schema["paths"]["/api/v1/transfers"]["post"]
    assert "accepts_external_transfers" in transfer_create["description"]
    assert "patch" in schema["paths"]["/api/v1/accounts/{account_id}"]
