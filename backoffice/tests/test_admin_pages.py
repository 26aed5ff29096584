"""The finance pages: search, statement, cause links, timeline, CSV export, overview, CSP."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from ledger import services as ledger
from ledger.tests.factories import AccountFactory, fund

pytestmark = pytest.mark.django_db


def test_a_payment_is_found_by_reference_and_shows_its_timeline_and_transfer(
    admin_client_for, captured_payment
):
    client = admin_client_for("finance")
    found = client.get(reverse("admin:payments_payment_changelist"), {"q": "ORDER-1001"})
    assert str(captured_payment.pk) in found.content.decode()
    page = client.get(reverse("admin:payments_payment_change", args=[captured_payment.pk])).content.decode()
    assert "ledger_posted" in page and captured_payment.correlation_id in page
    transfer_url = reverse("admin:ledger_transfer_change", args=[captured_payment.capture_transfer_id])
    assert transfer_url in page
    transfer_page = client.get(transfer_url).content.decode()
    assert reverse("admin:payments_payment_change", args=[captured_payment.pk]) in transfer_page
    assert reverse("admin:ledger_account_change", args=[captured_payment.account_id]) in transfer_page


def test_transfers_are_found_by_id_cause_and_metadata_value(admin_client_for):
    account = AccountFactory(currency="EUR")
    other = AccountFactory(currency="EUR")
    fund(account, 5_000)
    moved = ledger.transfer_create(
        source_id=account.pk,
        destination_id=other.pk,
        amount=1_234,
        currency="EUR",
        metadata={"invoice": "INV-77"},
        cause="manual:42",
    ).transfer
    client = admin_client_for("finance")
    url = reverse("admin:ledger_transfer_changelist")
    for term in (str(moved.pk), "manual:42", "invoice=INV-77"):
        body = client.get(url, {"q": term}).content.decode()
        assert str(moved.pk) in body, term
    assert str(moved.pk) not in client.get(url, {"q": "invoice=INV-78"}).content.decode()


def test_the_account_statement_shows_running_balances_paged_and_by_date(admin_client_for):
    account = AccountFactory(currency="USD")
    for amount in range(1, 56):  # 55 entries: two pages of 50
        fund(account, amount * 100)
    client = admin_client_for("finance")
    url = reverse("admin:ledger_account_change", args=[account.pk])
    first = client.get(url).content.decode()
    assert "Running balance" in first and "older \u203a" in first
    assert "1540.00" in first  # the balance after all 55 deposits: 100 * (1 + ... + 55) cents
    second = client.get(url, {"page": 2}).content.decode()
    assert "1.00" in second and "\u2039 newer" in second and "older \u203a" not in second
    empty = client.get(url, {"from": "2001-01-01", "to": "2001-01-02"}).content.decode()
    assert "No entries in these dates" in empty


def _csv(response) -> list[list[str]]:
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_csv_export_streams_the_filtered_list_and_defuses_formulas(admin_client_for):
    account = AccountFactory(currency="USD", name='=HYPERLINK("http://evil")')
    AccountFactory(currency="EUR", name="@SUM(A1)")
    AccountFactory(currency="EUR", name="plain")
    client = admin_client_for("finance")
    response = client.get(reverse("admin:ledger_account_export_csv"), {"currency": "EUR"})
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    header, body = rows[0], rows[1:]
    names = {row[header.index("name")] for row in body}
    assert names == {"'@SUM(A1)", "plain"}  # the USD account is filtered out
    everything = _csv(client.get(reverse("admin:ledger_account_export_csv"), {"q": str(account.pk)}))
    assert everything[1][everything[0].index("name")] == '\'=HYPERLINK("http://evil")'


def test_csv_export_of_payments_leaves_personal_data_out_for_operators(admin_client_for, captured_payment):
    url = reverse("admin:payments_payment_export_csv")
    finance = _csv(admin_client_for("finance").get(url))
    operator = _csv(admin_client_for("operator").get(url))
    assert "reference" in finance[0] and "ORDER-1001" in finance[1]
    assert "reference" not in operator[0] and "user_id" not in operator[0]
    assert str(captured_payment.pk) in operator[1]


def test_the_csv_link_keeps_the_list_filters(admin_client_for):
    page = admin_client_for("finance").get(reverse("admin:ledger_account_changelist"), {"currency": "EUR"})
    assert reverse("admin:ledger_account_export_csv") + "?currency=EUR" in page.content.decode()


def test_the_overview_draws_volumes_and_alerts_as_svg(admin_client_for, captured_payment):
    response = admin_client_for("operator").get(reverse("admin:overview"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in body and "25.00" in body and "Dead letters waiting" in body
    assert "<script" not in body.split('id="content-main"')[1]


def test_admin_pages_carry_a_csp_without_unsafe_inline(admin_client_for):
    response = admin_client_for("finance").get(reverse("admin:index"))
    policy = response["Content-Security-Policy"]
    assert (
        "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    )
