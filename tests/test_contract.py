"""Contract test: the API answers what its OpenAPI schema says, for every operation.

schemathesis generates requests from the schema (bounded examples, a fixed seed) and calls the WSGI app
as an authenticated user who owns a funded account, with DEBUG off and on. Every response must be no
server error, with a documented status code, content type, headers and body shape. A violation is fixed
in the code or in what the schema documents, never by dropping a check.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 25


@pytest.fixture
def keep_connection() -> Iterator[None]:
    """The WSGI app closes the database connection after each request, which would end the test's
    transaction: keep it open, as Django's test client does."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def auth_headers(db) -> dict[str, str]:
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.tests.factories import UserFactory
    from ledger.tests.factories import AccountFactory, fund

    user = UserFactory()
    fund(AccountFactory(owner=user), 100_000)
    return {"Authorization": f"Bearer {AccessToken.for_user(user)}"}


def _load_schema(*modes: str) -> schemathesis.BaseSchema:
    """Loaded at collection, through the app itself (the schema view needs no database)."""
    from ledgerpay.wsgi import application

    loaded = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    loaded.config.generation.update(
        modes=list(modes), max_examples=MAX_EXAMPLES, deterministic=True, no_shrink=True
    )
    return loaded


HYPOTHESIS = hypothesis_settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,  # a fixed seed: the same requests on every run
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# DEBUG off, as in production: what a generated client sends (positive) and what it must be refused
# (negative: wrong types, missing fields, malformed path parameters).
production_schema = _load_schema("positive", "negative")
# DEBUG on: positive data. Malformed path parameters never reach a view: Django's URL resolver answers
# them, with an HTML page in DEBUG until the DEBUG 404/405 problems land (the `make run` work).
debug_schema = _load_schema("positive")


@production_schema.parametrize()
@HYPOTHESIS
def test_every_operation_answers_as_documented(
    case, auth_headers: dict[str, str], keep_connection: None, settings
) -> None:
    settings.DEBUG = False
    case.call_and_validate(headers=auth_headers, checks=CHECKS)


@debug_schema.parametrize()
@HYPOTHESIS
def test_every_operation_answers_as_documented_with_debug_on(
    case, auth_headers: dict[str, str], keep_connection: None, settings
) -> None:
    settings.DEBUG = True
    case.call_and_validate(headers=auth_headers, checks=CHECKS)
