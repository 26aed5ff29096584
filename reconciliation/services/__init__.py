"""Every write of the reconciliation app: report import, settle and reconcile runs, the three-way
recovery of lost outcomes, and the resolution of discrepancies through the ledger's four-eyes
adjustments. Callers import from `reconciliation.services`.
"""

from .discrepancies import (
    discrepancy_adjustment_propose,
    discrepancy_adjustment_reject,
    discrepancy_ignore,
    discrepancy_resolve,
)
from .recovery import lost_outcomes_recover
from .reports import report_fetch, report_import
from .runs import STEPS, RunResult, reconcile_day, reconcile_range, settle_day
from .settlement import SettlementPosted

__all__ = [
    "STEPS",
    "RunResult",
    "SettlementPosted",
    "discrepancy_adjustment_propose",
    "discrepancy_adjustment_reject",
    "discrepancy_ignore",
    "discrepancy_resolve",
    "lost_outcomes_recover",
    "reconcile_day",
    "reconcile_range",
    "report_fetch",
    "report_import",
    "settle_day",
]
