"""Ledger endpoints, thin: validate, call one service or selector, serialize.

Split the way the API divides: accounts (and their statements and balances), transfers and holds, and the
batch endpoint. The URLconf imports from `ledger.apis`.
"""

from .accounts import AccountBalanceApi, AccountDetailApi, AccountEntriesApi, AccountListCreateApi
from .batches import TransferBatchApi
from .transfers import HoldPostApi, HoldVoidApi, TransferDetailApi, TransferListCreateApi

__all__ = [
    "AccountBalanceApi",
    "AccountDetailApi",
    "AccountEntriesApi",
    "AccountListCreateApi",
    "HoldPostApi",
    "HoldVoidApi",
    "TransferBatchApi",
    "TransferDetailApi",
    "TransferListCreateApi",
]
