"""The sandbox card processor: a stand-alone program (an HTTP server) that plays an external payment
provider, with itemized settlement reports and fault injection for reconciliation.

It runs in its own process (`python -m sandbox` or `manage.py run_sandbox_provider`), keeps its state
in its own SQLite file and imports nothing from Django or from LedgerPay's apps, so it can never touch
LedgerPay's tables and a bug in LedgerPay's client code cannot be mirrored by the "provider". It is not
part of the production app code (not packaged with ledgerpay).
"""
