"""The sandbox card processor: a stand-alone HTTP server that plays an external payment provider.

It runs in its own process (`python -m payments.sandbox` or `manage.py run_sandbox_provider`), keeps
its state in its own SQLite file and imports nothing from Django or from payments.providers, so it can
never touch LedgerPay's tables and a bug in our client code cannot be mirrored by the "provider".
"""
