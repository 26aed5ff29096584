"""The finance staff's walk through the back office, in a real headless chromium against a live server
with DEBUG off: find a payment by reference, its timeline, its ledger transfer, the account statement.

Every page's screenshot is written under .data/screenshots/ (see README); every page is checked for
Content-Security-Policy violations in the browser's console.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from accounts.management.commands.seed_demo import DEMO_PASSWORD

from .browser import chromium_browser, screenshots_dir
from .conftest import STAFF_PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


class Walk:
    """One staff member's browser tab: log in, visit, screenshot each page, collect CSP violations."""

    def __init__(self, browser: Any, base_url: str, folder: Any, who: str) -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.base_url, self.folder, self.who = base_url, folder, who
        self.shots = 0
        self.violations: list[str] = []
        self.page.on(
            "console",
            lambda message: (
                self.violations.append(f"{self.page.url}: {message.text}")
                if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text
                else None
            ),
        )

    def shot(self, name: str) -> None:
        """Numbered across every walk of the test, so the folder reads in the order things happened."""
        self.shots += 1
        number = len(list(self.folder.glob("*.png"))) + 1
        self.page.screenshot(path=str(self.folder / f"{number:02d}-{self.who}-{name}.png"), full_page=True)

    def login(self, email: str, password: str = STAFF_PASSWORD) -> None:
        self.page.goto(f"{self.base_url}/admin/login/")
        self.shot("login")
        self.page.fill("#id_username", email)
        self.page.fill("#id_password", password)
        self.page.click("input[type=submit]")
        self.page.wait_for_selector("#site-name")
        assert "/admin/login/" not in self.page.url


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture
def allow_playwright_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Playwright's sync API runs an event loop in the test's thread; the test's own database calls
    there are plain synchronous ones (the live server answers from its own thread)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_finance_follows_a_payment_to_its_transfer_and_statement(
    request, live_server, staff, captured_payment, browser, allow_playwright_loop
):
    assert not settings.DEBUG
    folder = screenshots_dir(request.node.name)
    walk = Walk(browser, live_server.url, folder, "finance")
    page = walk.page
    walk.login("finance@bo.test")
    # The admin's own stylesheet is served and applied (DEBUG off, WhiteNoise).
    assert (
        page.evaluate("getComputedStyle(document.querySelector('#header')).backgroundColor")
        != "rgba(0, 0, 0, 0)"
    )
    walk.shot("index")

    page.click("text=Overview")
    page.wait_for_selector("svg.overview-chart")
    walk.shot("overview")

    page.goto(f"{live_server.url}/admin/payments/payment/")
    page.fill("#searchbar", "ORDER-1001")
    page.press("#searchbar", "Enter")
    page.wait_for_selector("#result_list")
    walk.shot("payments-search")
    page.click(f"#result_list a[href*='{captured_payment.pk}']")
    page.wait_for_selector("text=ledger_posted")
    assert page.is_visible(f"text={captured_payment.correlation_id}")
    walk.shot("payment-timeline")

    page.click(f"a[href*='/admin/ledger/transfer/{captured_payment.capture_transfer_id}/']")
    page.wait_for_selector("text=payment_capture")
    walk.shot("transfer")

    page.click(f"a[href*='/admin/ledger/account/{captured_payment.account_id}/']")
    page.wait_for_selector("#statement")
    statement = page.inner_text("#statement")
    assert "running balance" in statement.lower() and "payment" in statement
    walk.shot("statement")

    page.goto(f"{live_server.url}/admin/ledger/transfer/")
    page.wait_for_selector(
        "#changelist-filter"
    )  # the date-range filter's inline script runs under the CSP nonce
    walk.shot("transfers-list")
    assert walk.violations == []
    assert len(list(folder.glob("*.png"))) == walk.shots  # one screenshot per page visited


def test_finance_proposes_an_adjustment_an_approver_approves_it_and_the_statement_shows_it(
    request, live_server, staff, captured_payment, browser, allow_playwright_loop
):
    from ledger import services as ledger
    from ledger.models import Adjustment, AdjustmentStatus, TransferKind

    suspense = ledger.system_account_get(code=ledger.SystemAccount.SUSPENSE, currency="USD")
    customer = captured_payment.account
    folder = screenshots_dir(request.node.name)

    finance = Walk(browser, live_server.url, folder, "finance")
    finance.login("finance@bo.test")
    page = finance.page
    page.goto(f"{live_server.url}/admin/ledger/adjustment/add/")
    page.fill("#id_debit_account", str(suspense.pk))
    page.fill("#id_credit_account", str(customer.pk))
    page.fill("#id_amount_text", "3.21")
    page.fill("#id_currency", "USD")
    page.fill("#id_reason", "Goodwill credit for a late refund")
    finance.shot("propose-form")
    page.click("input[name=_continue]")  # "Save and view": on to the proposal's page
    page.wait_for_selector(".field-reason >> text=Goodwill credit for a late refund")
    finance.shot("proposed")
    adjustment = Adjustment.objects.get()
    assert adjustment.status == AdjustmentStatus.PROPOSED
    assert not page.is_visible("text=Approve")  # finance proposes, never approves

    approver = Walk(browser, live_server.url, folder, "approver")
    approver.login("approver@bo.test")
    page = approver.page
    page.goto(f"{live_server.url}/admin/ledger/adjustment/{adjustment.pk}/change/")
    approver.shot("proposal")
    page.click("button:has-text('Approve')")
    page.wait_for_selector("#id_note")
    page.fill("#id_note", "Agreed with the customer")
    approver.shot("approve-note")
    page.click("#confirm-approve")
    page.wait_for_selector("text=Adjustment approved.")
    approver.shot("approved")
    adjustment.refresh_from_db()
    assert (
        adjustment.status == AdjustmentStatus.APPROVED and adjustment.transfer.kind == TransferKind.ADJUSTMENT
    )

    page = finance.page
    page.goto(f"{live_server.url}/admin/ledger/account/{customer.pk}/change/")
    page.wait_for_selector("#statement")
    statement = page.inner_text("#statement")
    assert "adjustment" in statement and "3.21" in statement
    finance.shot("statement-with-adjustment")
    assert finance.violations == [] and approver.violations == []


def test_finance_opens_a_discrepancy_proposes_its_adjustment_and_an_approver_approves_it(
    request, live_server, browser, allow_playwright_loop
):
    from django.core.management import call_command

    from ledger.models import Adjustment, AdjustmentStatus
    from reconciliation.models import Discrepancy

    call_command("seed_demo")  # a reconciled day with a discrepancy of every class
    for adjustment in Adjustment.objects.filter(status=AdjustmentStatus.PROPOSED):
        Discrepancy.objects.filter(adjustment=adjustment).update(adjustment=None)  # leave the demo's aside
    # One no adjustment names as its cause (the demo's, set aside above, still do): the one this walk
    # proposes is then the only proposal for it.
    causes = set(Adjustment.objects.values_list("cause", flat=True))
    discrepancy = next(
        (
            d
            for d in Discrepancy.objects.filter(
                status="open", adjustment__isnull=True, cls="amount_mismatch"
            ).order_by("pk")
            if f"discrepancy:{d.pk}" not in causes
        ),
        None,
    )
    assert discrepancy is not None
    folder = screenshots_dir(request.node.name)
    finance = Walk(browser, live_server.url, folder, "finance")
    finance.login("finance@ledgerpay.local", DEMO_PASSWORD)
    page = finance.page
    page.goto(f"{live_server.url}/admin/reconciliation/discrepancy/{discrepancy.pk}/change/")
    finance.shot("discrepancy")
    page.click("#propose-adjustment")
    page.wait_for_selector("#id_amount_text")
    finance.shot("propose-form")
    page.click("input[name=_continue]")
    page.wait_for_selector(".field-reason")
    finance.shot("proposed")
    adjustment = Adjustment.objects.get(
        cause=f"discrepancy:{discrepancy.pk}", status=AdjustmentStatus.PROPOSED
    )

    approver = Walk(browser, live_server.url, folder, "approver")
    approver.login("approver@ledgerpay.local", DEMO_PASSWORD)
    page = approver.page
    page.goto(f"{live_server.url}/admin/ledger/adjustment/{adjustment.pk}/change/")
    page.click("button:has-text('Approve')")
    page.fill("#id_note", "Provider's report is right")
    page.click("#confirm-approve")
    page.wait_for_selector("text=Adjustment approved.")
    approver.shot("approved")
    adjustment.refresh_from_db()
    discrepancy.refresh_from_db()
    assert adjustment.status == AdjustmentStatus.APPROVED and discrepancy.status == "resolved"

    page = finance.page
    page.goto(f"{live_server.url}/admin/ledger/account/{adjustment.credit_account_id}/change/")
    page.wait_for_selector("#statement")
    assert str(adjustment.pk) in page.inner_text("#statement")
    finance.shot("statement-with-adjustment")
    assert finance.violations == [] and approver.violations == []
