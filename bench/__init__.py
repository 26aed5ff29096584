"""Benchmarks of LedgerPay. `python -m bench.transfers --help`; results go to docs/performance.md."""
