"""Links between admin pages, by the `kind:id` cause strings the apps write (payment:<id>, ...)."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

# The prefix of a cause → the admin change page it names (app_label_modelname).
CAUSE_PAGES = {
    "payment": "payments_payment",
    "refund": "payments_refund",
    "transfer": "ledger_transfer",
    "hold": "ledger_transfer",
    "adjustment": "ledger_adjustment",
    "discrepancy": "reconciliation_discrepancy",
    "settlement": "reconciliation_settlementreport",
    "dead_letter": "payments_deadletter",
}


def admin_link(page: str, pk: object, label: object | None = None) -> SafeString | str:
    """A link to an object's admin page, or its plain label when the page is not registered."""
    text = str(label if label is not None else pk)
    try:
        url = reverse(f"admin:{page}_change", args=[pk])
    except NoReverseMatch:
        return text
    return format_html('<a href="{}">{}</a>', url, text)


def cause_link(cause: str) -> SafeString | str:
    """`payment:<uuid>` → a link to that payment; `refund:<uuid>:direct` → the refund; else the text."""
    kind, _, rest = cause.partition(":")
    pk = rest.split(":", 1)[0]
    page = CAUSE_PAGES.get(kind)
    if not page or not pk:
        return cause
    return format_html("{} {}", kind, admin_link(page, pk, pk))
