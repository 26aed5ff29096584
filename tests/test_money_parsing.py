"""Amounts: decimal strings (or exact JSON numbers) to integer minor units and back, never through floats."""

from decimal import Decimal

import pytest

from core.money import MAX_AMOUNT_MINOR, AmountError, format_amount, parse_amount, validate_currency

# --- parse_amount: accepted ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency", "minor"),
    [
        ("199.99", "USD", 19999),
        ("12.50", "USD", 1250),
        ("12.5", "USD", 1250),
        ("12", "USD", 1200),
        ("0.01", "USD", 1),
        ("500", "JPY", 500),
        ("1.000", "BHD", 1000),
        ("0.001", "BHD", 1),
        ("1.5", "BHD", 1500),
        (Decimal("1.50"), "USD", 150),
        (Decimal("12.5"), "USD", 1250),
        (Decimal("100"), "USD", 10000),
        (5, "USD", 500),
        (5, "JPY", 5),
        (5, "BHD", 5000),
        ("9999999999999.99", "USD", MAX_AMOUNT_MINOR),
        ("999999999999999", "JPY", MAX_AMOUNT_MINOR),
    ],
)
def test_parse_amount_accepts(value, currency, minor):
    result = parse_amount(value, currency)

    assert result == minor
    assert type(result) is int


@pytest.mark.parametrize("value", ["0", "0.00", "0.0", Decimal("0.00"), 0])
def test_parse_amount_accepts_zero_only_when_allowed(value):
    with pytest.raises(AmountError, match="greater than zero"):
        parse_amount(value, "USD")

    assert parse_amount(value, "USD", allow_zero=True) == 0


def test_parse_amount_round_trips_through_format_amount():
    for currency, text in [
        ("USD", "199.99"),
        ("JPY", "500"),
        ("BHD", "1.000"),
        ("USD", "0.05"),
        ("EUR", "1234.56"),
    ]:
        assert format_amount(parse_amount(text, currency), currency) == text


# --- parse_amount: refused -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency", "message"),
    [
        ("1.5", "JPY", "no decimal places"),
        ("500.0", "JPY", "no decimal places"),
        ("0.001", "USD", "at most 2 decimal places"),
        ("12.505", "USD", "at most 2 decimal places"),
        ("1.500", "USD", "at most 2 decimal places"),
        (Decimal("1.500"), "USD", "at most 2 decimal places"),
        ("0.0001", "BHD", "at most 3 decimal places"),
        ("0.30000000000000004", "USD", "at most 2 decimal places"),
        (Decimal("0.30000000000000004"), "USD", "at most 2 decimal places"),
    ],
)
def test_parse_amount_refuses_more_digits_than_the_currency_has(value, currency, message):
    with pytest.raises(AmountError, match=message):
        parse_amount(value, currency)


@pytest.mark.parametrize(
    "value",
    [
        "-1",
        "-0.01",
        "+1",
        " 1",
        "1 ",
        "1e2",
        "1E2",
        "1e-2",
        "NaN",
        "nan",
        "Infinity",
        "inf",
        "-Infinity",
        "",
        "1.",
        ".5",
        "1,00",
        "1,000.00",
        "1_000",
        "0x10",
        "1.2.3",
        "one",
        "12.50 USD",
        "$12.50",
    ],
)
def test_parse_amount_refuses_strings_that_are_not_plain_decimals(value):
    with pytest.raises(AmountError):
        parse_amount(value, "USD")


@pytest.mark.parametrize(
    "value",
    [
        Decimal("-1"),
        Decimal("-0"),
        Decimal("1E+2"),
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        Decimal("-Infinity"),
        Decimal("0E-10"),
    ],
)
def test_parse_amount_refuses_decimals_that_are_not_plain_positive_amounts(value):
    with pytest.raises(AmountError):
        parse_amount(value, "USD")


@pytest.mark.parametrize("value", [1.5, 1.0, 0.1 + 0.2, float("nan"), float("inf")])
def test_parse_amount_refuses_floats(value):
    with pytest.raises(AmountError, match="decimal string"):
        parse_amount(value, "USD")


@pytest.mark.parametrize("value", [True, False])
def test_parse_amount_refuses_booleans(value):
    with pytest.raises(AmountError):
        parse_amount(value, "USD")


@pytest.mark.parametrize("value", [None, [1], {"amount": 1}, b"1", object()])
def test_parse_amount_refuses_other_types(value):
    with pytest.raises(AmountError):
        parse_amount(value, "USD")


@pytest.mark.parametrize("value", [-5, -1])
def test_parse_amount_refuses_negative_ints(value):
    with pytest.raises(AmountError, match="positive"):
        parse_amount(value, "USD")


@pytest.mark.parametrize(
    ("value", "currency"),
    [
        ("1" + "0" * 30, "USD"),
        (10**30, "USD"),
        (Decimal("1" + "0" * 30), "USD"),
        ("10000000000000.00", "USD"),
        ("10000000000000", "USD"),
        ("1000000000000000", "JPY"),
        ("1000000000000.000", "BHD"),
        ("9" * 20, "JPY"),
        ("1" * 20 + "." + "1" * 21, "USD"),
    ],
)
def test_parse_amount_refuses_huge_amounts(value, currency):
    with pytest.raises(AmountError):
        parse_amount(value, currency)


@pytest.mark.parametrize(
    ("currency", "message"),
    [
        ("ABC", "not an ISO 4217"),
        ("usd", "not an ISO 4217"),
        ("US", "not an ISO 4217"),
        ("", "not an ISO 4217"),
        ("XAU", "no minor unit"),
        ("XXX", "no minor unit"),
        ("XTS", "no minor unit"),
    ],
)
def test_parse_amount_refuses_currencies_that_are_not_money(currency, message):
    with pytest.raises(AmountError, match=message):
        parse_amount("1", currency)


@pytest.mark.parametrize("code", ["usd", "Usd", "ABC", "XAU", "US", "USDD", " USD", 840, None])
def test_validate_currency_refuses(code):
    with pytest.raises(AmountError):
        validate_currency(code)


@pytest.mark.parametrize("code", ["USD", "EUR", "JPY", "BHD", "GBP"])
def test_validate_currency_accepts_iso_codes_with_minor_units(code):
    assert validate_currency(code) == code


@pytest.mark.parametrize("value", ["1\n", "12.5\n"])
def test_parse_amount_refuses_trailing_newline(value):
    with pytest.raises(AmountError):
        parse_amount(value, "USD")


@pytest.mark.parametrize("value", ["\uff11\uff12.\uff15\uff10", "\u0661\u0662", "\u0967\u0968"])
def test_parse_amount_refuses_non_ascii_digits(value):
    with pytest.raises(AmountError):
        parse_amount(value, "USD")


# --- format_amount -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (5, "USD", "0.05"),
        (-5, "USD", "-0.05"),
        (0, "USD", "0.00"),
        (19999, "USD", "199.99"),
        (-19999, "USD", "-199.99"),
        (100, "USD", "1.00"),
        (1000, "BHD", "1.000"),
        (1, "BHD", "0.001"),
        (500, "JPY", "500"),
        (-500, "JPY", "-500"),
        (0, "JPY", "0"),
        (MAX_AMOUNT_MINOR, "USD", "9999999999999.99"),
    ],
)
def test_format_amount(minor, currency, text):
    assert format_amount(minor, currency) == text


def test_format_amount_refuses_unknown_currency():
    with pytest.raises(AmountError):
        format_amount(5, "ABC")


# --- Through the API: POST /api/v1/transfers -----------------------------------------------------


@pytest.fixture
def two_accounts(auth_client):
    accounts = []
    for _ in range(2):
        response = auth_client.post("/api/v1/accounts", {"currency": "USD"}, format="json")
        assert response.status_code == 201, response.content
        accounts.append(response.json()["id"])
    return accounts


@pytest.fixture
def post_transfer(auth_client, two_accounts):
    """POST a transfer whose amount is written verbatim into the JSON text (a number or a quoted string)."""
    source, destination = two_accounts
    counter = iter(range(1_000_000))

    def post(amount_json: str):
        body = (
            f'{{"source": "{source}", "destination": "{destination}", '
            f'"currency": "USD", "amount": {amount_json}}}'
        )
        return auth_client.post(
            "/api/v1/transfers",
            data=body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"money-parsing-{next(counter)}",
        )

    return post


@pytest.fixture
def funded_source(two_accounts):
    from ledger.models import Account
    from ledger.tests.factories import fund

    fund(Account.objects.get(pk=two_accounts[0]), 10_000)
    return two_accounts[0]


@pytest.mark.django_db
@pytest.mark.parametrize("amount_json", ["12.5", '"12.50"', "12.50", '"12.5"'])
def test_amount_as_json_number_or_string_moves_the_same_exact_amount(
    post_transfer, funded_source, amount_json
):
    response = post_transfer(amount_json)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == "12.50"
    assert sorted(entry["amount"] for entry in body["entries"]) == ["12.50", "12.50"]


@pytest.mark.django_db
def test_amount_as_json_number_and_as_string_pass_validation_alike_without_funds(post_transfer):
    number, string = post_transfer("12.5"), post_transfer('"12.50"')

    assert number.status_code == string.status_code == 422  # validated, then refused for lack of funds
    assert number.json()["code"] == string.json()["code"] == "insufficient_funds"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount_json", "message"),
    [
        ("1e2", "plain decimal"),
        ("1E2", "plain decimal"),
        ("1.0e2", "plain decimal"),
        ("0.30000000000000004", "at most 2 decimal places"),
        ("12.505", "at most 2 decimal places"),
        ('"0.001"', "at most 2 decimal places"),
        ("-1", "positive"),
        ('"-1"', "positive"),
        ("0", "greater than zero"),
        ('"0.00"', "greater than zero"),
        ('"1e2"', "plain decimal"),
        ('" 12.50"', "plain decimal"),
        ("1" + "0" * 30, "plain decimal"),
        ('"10000000000000.00"', "too large"),
        ("true", "decimal string"),
        ("[12.5]", "decimal string"),
        ('{"value": "12.50"}', "decimal string"),
        ('"' + "1" * 41 + '"', "too long"),
    ],
)
def test_invalid_amount_is_400_with_errors_amount(post_transfer, amount_json, message):
    response = post_transfer(amount_json)

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_error"
    assert list(body["errors"]) == ["amount"]
    assert message in " ".join(body["errors"]["amount"])


@pytest.mark.django_db
@pytest.mark.parametrize("amount_json", ['"1\\n"', '"12.5\\n"', '"\uff11\uff12.\uff15\uff10"'])
def test_amount_with_newline_or_non_ascii_digits_is_400(post_transfer, amount_json):
    response = post_transfer(amount_json)

    assert response.status_code == 400, response.content
    assert list(response.json()["errors"]) == ["amount"]


@pytest.mark.django_db
def test_invalid_amount_moves_no_money(post_transfer, funded_source, auth_client):
    from ledger.models import Transfer

    before = Transfer.objects.count()

    response = post_transfer("0.30000000000000004")

    assert response.status_code == 400
    assert Transfer.objects.count() == before
    assert auth_client.get(f"/api/v1/accounts/{funded_source}").json()["balance"] == "100.00"


@pytest.mark.django_db
@pytest.mark.parametrize("constant", ["NaN", "Infinity"])
def test_nan_or_infinity_amount_is_400_malformed_request(post_transfer, constant):
    response = post_transfer(constant)

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_exact_json_parser_keeps_fractions_as_decimal():
    from io import BytesIO

    from core.api.parsers import ExactJSONParser

    data = ExactJSONParser().parse(BytesIO(b'{"a": 0.1, "b": 3}'))

    assert data == {"a": Decimal("0.1"), "b": 3}
    assert type(data["a"]) is Decimal
    assert type(data["b"]) is int
